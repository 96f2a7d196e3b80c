"""The Applications page's picture of its health data (a shared view, so the page stays a list of
sections)."""

from __future__ import annotations

import streamlit as st

from nnplay.data import domains
from nnplay.plots import applications as plots


def health_data_figure(source: str, ds) -> None:
    """The health data as a picture: the tissue slide with its test blocks, or MedMNIST examples."""
    if source == "ihc_patches":
        ch = domains.ihc_channels()
        st.plotly_chart(plots.slide_figure(ch["rgb"], ch["mask"], ds.extra["test_blocks"],
                                           domains.IHC_BLOCK), key="app_slide_fig")
    elif source == "medmnist":
        titles = [ds.class_names[c] for c in ds.y_train[:8]]
        st.plotly_chart(plots.examples_figure(ds.X_train[:8, 0], titles), key="app_examples_fig")
