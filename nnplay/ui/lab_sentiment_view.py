"""Parts of the sentiment lab's page that hold session state or redraw on their own (so the page
stays a list of sections)."""

from __future__ import annotations

import streamlit as st

from nnplay.lessons import lab_sentiment as lesson
from nnplay.plots import lab_sentiment as plots

INSPECTED = "ls_inspected"


def inspected(entry, sentence: str, steps: int) -> dict:
    """What the model does with one sentence (tokens, prediction, attention, attributions),
    kept for the last sentence only: attention maps are large."""
    key = (entry.name, entry.record.created, sentence, steps)
    kept = st.session_state.setdefault(INSPECTED, {})
    if key not in kept:
        kept.clear()   # one sentence at a time: attention maps are large
        kept[key] = lesson.inspect_sentence(entry.model, sentence, entry.dataset.class_names,
                                            entry.dataset.extra.get("max_len", 64), n_steps=steps)
    return kept[key]


def live_loss(job: dict) -> None:
    """The fine-tuning loss while the job runs, redrawn every second."""
    @st.fragment(run_every=1.0)
    def draw() -> None:
        if not job["worker"].finished and job["history"]:
            st.plotly_chart(plots.loss_curve_figure(list(job["history"])), key="ls_live_loss")

    draw()
