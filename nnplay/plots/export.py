"""Figures for the export lesson: what each download weighs. Pure functions: numbers in,
plotly Figure out."""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go

COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")


def file_sizes_figure(sizes: Mapping[str, int]) -> go.Figure:
    """One bar per downloadable file, its size in kB (the weights alone for comparison)."""
    names = list(sizes)
    kb = [sizes[n] / 1000 for n in names]
    fig = go.Figure(go.Bar(x=names, y=kb, marker_color=list(COLORS * 2)[:len(names)],
                           text=[f"{v:,.1f} kB" for v in kb], textposition="outside",
                           hovertemplate="%{x}<br>%{y:,.1f} kB<extra></extra>"))
    fig.update_layout(title="What each download weighs", height=340,
                      margin={"l": 40, "r": 20, "t": 60, "b": 40}, showlegend=False,
                      yaxis={"title": "kB", "range": [0, max(kb, default=1) * 1.2]})
    return fig
