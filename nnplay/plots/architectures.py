"""Figures for the choosing-an-architecture lesson: the MLP vs CNN race, family by family.
Pure functions: race rows in, plotly Figure out."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

FAMILY_COLORS = {"mlp": "#7f7f7f", "cnn": "#1f77b4"}


def arch_race_figure(rows: list[dict]) -> go.Figure:
    """Parameters, test accuracy and training seconds of each family, one bar group per race.

    rows: dicts with run, family, params, test_accuracy and train_seconds."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=("Parameters", "Test accuracy",
                                                        "Training time (s)"),
                        horizontal_spacing=0.08)
    for family in dict.fromkeys(r["family"] for r in rows):
        mine = [r for r in rows if r["family"] == family]
        runs = [r["run"] for r in mine]
        for col, key, fmt in ((1, "params", "{:,}"), (2, "test_accuracy", "{:.3f}"),
                              (3, "train_seconds", "{:.1f}")):
            values = [r[key] for r in mine]
            fig.add_trace(go.Bar(x=runs, y=values, name=family.upper(), legendgroup=family,
                                 showlegend=col == 1, marker_color=FAMILY_COLORS.get(family),
                                 text=[fmt.format(v) for v in values], textposition="outside"),
                          row=1, col=col)
    fig.update_layout(barmode="group", height=380, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig
