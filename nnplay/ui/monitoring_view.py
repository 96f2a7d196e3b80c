"""The Monitoring page's section on why the drift test switches at 1,000 rows (a shared view,
so the page stays a list of sections)."""

from __future__ import annotations

import streamlit as st

from nnplay.lessons import monitoring as lesson
from nnplay.plots import monitoring as mplots


@st.cache_data(max_entries=4, show_spinner="Running the tests many times...")
def sample_size_demo(shift: float):
    return lesson.sample_size_demo(shift=shift)


def sample_size_section(settings: dict) -> None:
    """The p-value against the distance on a slight shift, by sample size; the chosen shift is
    kept in ``settings``."""
    st.subheader("Why the test switches at 1,000 rows")
    st.markdown(lesson.SAMPLE_SIZE_TEXT)
    shift = st.slider("The slight shift (standard deviations)", 0.02, 0.2, step=0.01,
                      key="mon_set_demo_shift")
    settings["demo_shift"] = shift
    demo = sample_size_demo(shift)
    st.plotly_chart(mplots.sample_size_figure(demo), key="mon_demo")
    st.caption(lesson.demo_sentence(demo))
