"""Figures for the vanishing and exploding gradients lesson: per-layer gradient norms and
activation histograms of a deep network. Pure functions: engine objects in, plotly Figure out."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nnplay.lessons.gradients import GradientFlowReport


def gradient_norms_figure(report: GradientFlowReport) -> go.Figure:
    """Each layer's weight-gradient norm on a log scale, input side on the left."""
    tiny = 1e-30   # an exactly zero gradient cannot sit on a log axis; draw it at the floor
    norms = np.where(report.grad_norms > 0, report.grad_norms, tiny)
    fig = go.Figure(go.Scatter(x=list(report.layer_names), y=norms, mode="lines+markers",
                               marker={"size": 8}, line={"width": 2},
                               customdata=report.grad_norms,
                               hovertemplate="%{x}: %{customdata:.3e}<extra></extra>"))
    positive = norms[norms > tiny]
    decades = np.log10(positive.max() / positive.min()) if len(positive) > 1 else 1.0
    step = max(1, int(np.ceil(decades / 8)))   # at most about 8 labels, whole powers of ten
    fig.update_layout(yaxis={"type": "log", "title": "‖∂L/∂W‖ (log scale)",
                             "exponentformat": "power", "dtick": step},
                      xaxis_title="layer (input → output)", height=360,
                      title=f"{report.activation}, {report.init} init, depth {report.depth}",
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def activation_histograms_figure(report: GradientFlowReport, max_layers: int = 6) -> go.Figure:
    """Histograms of hidden activations for up to ``max_layers`` layers spread over the depth,
    each titled with the layer's mean activation slope f'(z): the factor the gradient gets."""
    n = len(report.activation_samples)
    chosen = sorted(set(np.linspace(0, n - 1, min(n, max_layers)).round().astype(int).tolist()))
    fig = make_subplots(rows=1, cols=len(chosen), shared_yaxes=True,
                        subplot_titles=[f"{report.layer_names[i]}<br>mean slope "
                                        f"{report.mean_slope[i]:.2f}" for i in chosen])
    for col, i in enumerate(chosen, start=1):
        values = report.activation_samples[i]
        fig.add_trace(go.Histogram(x=values, nbinsx=40, histnorm="probability",
                                   marker_color="#1f77b4", showlegend=False,
                                   name=report.layer_names[i]), row=1, col=col)
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 60, "b": 10}, bargap=0.05)
    fig.update_annotations(font_size=12)
    fig.update_yaxes(title_text="share", row=1, col=1)
    return fig
