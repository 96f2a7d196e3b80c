"""Home: what nnplay is, where to start, and every lesson by section, each a link."""

import streamlit as st

from nnplay.ui.pages import SECTIONS, available_lessons, start_here
from nnplay.ui.widgets import device_badge

COLUMNS = 3   # wide enough that the longest lesson title fits on its card


def link(lesson, label: str | None = None) -> None:
    try:
        st.page_link(lesson.page, label=label or lesson.title, icon=lesson.icon)
    except Exception:  # run outside app.py's navigation (e.g. a single-page test)
        st.markdown(f"**{label or lesson.title}**")


def lesson_card(lesson) -> None:
    with st.container(border=True):
        link(lesson)
        st.caption(lesson.teaches)


st.title("nnplay")
st.markdown("An interactive neural-network playground: from what one neuron computes to "
            "training, explaining and auditing real PyTorch models, all in the browser. Models "
            "you train on one page are waiting on the next, under **Your models** in the sidebar.")
device_badge()

st.subheader("Start here")
st.caption("A first path through the app, about an hour: each page opens with something to try.")
for number, lesson in enumerate(start_here(), start=1):
    left, right = st.columns([1, 2], vertical_alignment="center")
    with left:
        link(lesson, f"{number}. {lesson.title}")
    right.caption(lesson.teaches)

st.subheader("Every lesson")
lessons = available_lessons()
for section in SECTIONS:
    members = [lesson for lesson in lessons if lesson.section == section]
    if not members:
        continue
    st.markdown(f"#### {section}")
    for row in range(0, len(members), COLUMNS):
        columns = st.columns(COLUMNS)
        for column, lesson in zip(columns, members[row:row + COLUMNS], strict=False):
            with column:
                lesson_card(lesson)

st.divider()
st.caption("Every number and chart is computed live by the nnplay engine; the same engine works "
           "from a notebook (`import nnplay`) and the command line (`nnplay --help`).")
