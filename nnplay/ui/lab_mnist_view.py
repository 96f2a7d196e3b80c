"""The MNIST lab's draw-a-digit section: the canvas, MNIST's preparation step by step and the
model's probabilities (a shared view, so the page stays a list of sections)."""

from __future__ import annotations

import streamlit as st

from nnplay.data import mnist
from nnplay.lessons import lab_mnist as lab
from nnplay.plots import lab_mnist as plots
from nnplay.ui.draw import draw_digit


def drawing_section(entry) -> None:
    """The canvas, then each preparation step and ``entry``'s answer for the drawn digit."""
    left, right = st.columns([1, 2.2])
    with left:
        grid = draw_digit("labm_draw")
    if grid is None:
        right.info("Draw a digit on the black square (mouse or finger): each preparation step "
                   "and the model's answer appear here.")
        return
    steps = mnist.preprocess_drawing(grid)
    probabilities = lab.digit_probabilities(entry.model, steps.input)
    names = entry.dataset.class_names or [str(d) for d in range(len(probabilities))]
    right.plotly_chart(plots.preprocessing_figure(steps.images(), probabilities, names),
                       key="labm_steps_fig")
    order = probabilities.argsort()[::-1]
    right.markdown(f"**{entry.name}** says **{names[order[0]]}** ({probabilities[order[0]]:.0%});"
                   f" next is {names[order[1]]} ({probabilities[order[1]]:.0%}).")
    right.markdown("\n".join(f"{i}. {text}" for i, text in
                             enumerate(steps.describe().values(), start=1)))
