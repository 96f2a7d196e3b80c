"""nnplay's entry point: `streamlit run app.py`. The navigation follows the learning path."""

import streamlit as st

from nnplay.ui.models_panel import models_panel
from nnplay.ui.owner import workshop_mode
from nnplay.ui.pages import SECTIONS, available_lessons
from nnplay.ui.workspace import show_notice, workspace_names

st.set_page_config(page_title="nnplay", page_icon=":material/psychology:", layout="wide")

home = st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)
sections: dict[str, list] = {"nnplay": [home]}
for lesson in available_lessons():
    page = st.Page(lesson.page, title=lesson.title, icon=lesson.icon)
    sections.setdefault(lesson.section, []).append(page)
ordered = {"nnplay": sections.pop("nnplay")}
ordered.update({name: sections[name] for name in SECTIONS if name in sections})

page = st.navigation(ordered, expanded=True)   # every lesson listed, beside Your models
before = workspace_names()
models_panel()   # "Your models": the session's workspace, visible while the page computes
if workshop_mode() and page.url_path != "instructor":
    from nnplay.ui.workshop import learner_panel

    learner_panel(page.title)   # NNPLAY_WORKSHOP=1: your name, the instructor's messages
try:
    page.run()
finally:
    show_notice()   # what the workspace did on the learner's behalf during this run
if workspace_names() != before:
    st.rerun()      # the page made or dropped a model: once more, so the panel lists it
