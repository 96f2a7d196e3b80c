"""Figures for the Training lab: the planned learning rate per epoch.
Pure functions: numbers in, plotly Figure out (training curves are shared: plots.training)."""

from __future__ import annotations

import plotly.graph_objects as go


def lr_preview_figure(rates: list[float], schedule: str = "") -> go.Figure:
    """The learning rate of each planned epoch, as a step line."""
    fig = go.Figure(go.Scatter(x=list(range(1, len(rates) + 1)), y=rates, mode="lines",
                               line={"shape": "hv", "color": "#7f7f7f"}, name="learning rate",
                               hovertemplate="epoch %{x}: %{y:.4g}<extra></extra>"))
    fig.update_layout(title=f"Learning rate per epoch ({schedule})" if schedule else None,
                      xaxis_title="epoch", yaxis_title="learning rate", height=260,
                      yaxis_rangemode="tozero",
                      margin={"l": 50, "r": 20, "t": 40 if schedule else 10, "b": 40})
    return fig
