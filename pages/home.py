"""Home: what nnplay is, the learning path as a map, and the compute device in use."""

import streamlit as st

from nnplay.plots.home import learning_path_dot
from nnplay.ui.pages import SECTIONS, available_lessons
from nnplay.ui.widgets import device_badge


def lesson_card(lesson) -> None:
    with st.container(border=True):
        try:
            st.page_link(lesson.page, label=lesson.title, icon=lesson.icon)
        except Exception:  # run outside app.py's navigation (e.g. a single-page test)
            st.markdown(f"**{lesson.title}**")
        st.caption(lesson.teaches)


st.title("nnplay")
st.markdown("An interactive neural-network playground: from what one neuron computes to "
            "training, explaining and auditing real PyTorch models, all in the browser.")
device_badge()

lessons = available_lessons()
st.subheader("The learning path")
st.graphviz_chart(learning_path_dot(lessons, SECTIONS))

for section in SECTIONS:
    members = [lesson for lesson in lessons if lesson.section == section]
    if not members:
        continue
    st.markdown(f"#### {section}")
    columns = st.columns(min(len(members), 4))
    for i, lesson in enumerate(members):
        with columns[i % len(columns)]:
            lesson_card(lesson)

st.divider()
st.caption("Every number and chart is computed live by the nnplay engine; the same engine works "
           "from a notebook (`import nnplay`) and the command line (`nnplay --help`).")
