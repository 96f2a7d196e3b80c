"""Figures for the single-neuron lesson: an activation with the neuron's operating point, the
activation gallery with saturating regions shaded, the perceptron's line over its data, and loss
functions with their gradients. Pure functions: arrays in, plotly Figure out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

CLASS_COLORS = ("#1f77b4", "#d62728")
SATURATION_FILL = "rgba(255, 165, 0, 0.18)"
CURVE_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")


def activation_point_figure(z: np.ndarray, f: np.ndarray, name: str, z_point: float,
                            a_point: float) -> go.Figure:
    """The activation f(z) as a line with the neuron's current (z, a) marked."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=z, y=f, mode="lines", name=f"{name}(z)",
                             line={"color": CURVE_COLORS[0], "width": 3}))
    fig.add_trace(go.Scatter(x=[z_point], y=[a_point], mode="markers", name="this neuron",
                             marker={"size": 14, "color": CURVE_COLORS[1],
                                     "line": {"width": 2, "color": "white"}},
                             hovertemplate="z = %{x:.3f}<br>a = %{y:.3f}<extra></extra>"))
    fig.add_vline(x=z_point, line={"dash": "dot", "color": "gray"})
    fig.add_hline(y=a_point, line={"dash": "dot", "color": "gray"})
    fig.update_layout(title=f"Activation {name}: output a against weighted sum z",
                      xaxis_title="z = w·x + b", yaxis_title="a = f(z)", height=380,
                      margin={"l": 40, "r": 20, "t": 50, "b": 40},
                      legend={"orientation": "h", "y": -0.2})
    return fig


def activation_gallery_figure(curves: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
                              regions: Mapping[str, Sequence[tuple[float, float]]],
                              fractions: Mapping[str, float] | None = None,
                              cols: int = 3) -> go.Figure:
    """A grid with one panel per activation: f (solid), f' (dashed), saturating regions shaded.

    ``curves`` maps name -> (z, f, df); ``regions`` maps name -> [(lo, hi), ...];
    ``fractions`` (optional) maps name -> share of the range that saturates, shown in the title.
    """
    names = list(curves)
    rows = max(1, int(np.ceil(len(names) / cols)))
    titles = []
    for name in names:
        share = (fractions or {}).get(name)
        titles.append(name if share is None else f"{name}: {share:.0%} saturated")
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles,
                        horizontal_spacing=0.06, vertical_spacing=0.14)
    for i, name in enumerate(names):
        row, col = i // cols + 1, i % cols + 1
        z, f, df = curves[name]
        first = i == 0
        fig.add_trace(go.Scatter(x=z, y=f, mode="lines", name="f(z)", legendgroup="f",
                                 showlegend=first, line={"color": CURVE_COLORS[0], "width": 2.5}),
                      row=row, col=col)
        fig.add_trace(go.Scatter(x=z, y=df, mode="lines", name="f'(z) (autograd)",
                                 legendgroup="df", showlegend=first,
                                 line={"color": CURVE_COLORS[1], "width": 2, "dash": "dash"}),
                      row=row, col=col)
        for lo, hi in regions.get(name, ()):
            fig.add_vrect(x0=lo, x1=hi, fillcolor=SATURATION_FILL, line_width=0, layer="below",
                          row=row, col=col)
    # A legend entry for the shading, which add_vrect does not make itself.
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="saturating: |f'| small",
                             marker={"size": 12, "symbol": "square", "color": SATURATION_FILL}))
    fig.update_layout(height=300 * rows + 40, margin={"l": 30, "r": 10, "t": 90, "b": 30},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.06, "x": 0})
    return fig


def _line_points(w: Sequence[float], b: float, x_range: tuple[float, float],
                 y_range: tuple[float, float]) -> tuple[np.ndarray, np.ndarray] | None:
    """Points of w1·x + w2·y + b = 0 across the box, solving for whichever axis is steeper."""
    w1, w2 = float(w[0]), float(w[1])
    if w1 == 0 and w2 == 0:
        return None
    if abs(w2) >= abs(w1):
        xs = np.linspace(*x_range, 50)
        return xs, -(w1 * xs + b) / w2
    ys = np.linspace(*y_range, 50)
    return -(w2 * ys + b) / w1, ys


def perceptron_figure(X: np.ndarray, y: np.ndarray, w: Sequence[float], b: float,
                      class_names: Sequence[str] = ("class 0", "class 1"),
                      grid_size: int = 80) -> go.Figure:
    """The two classes as a scatter, the line w·x + b = 0, and the side it calls class 1 shaded."""
    X, y = np.asarray(X), np.asarray(y)
    pad = 0.5
    x_range = (float(X[:, 0].min() - pad), float(X[:, 0].max() + pad))
    y_range = (float(X[:, 1].min() - pad), float(X[:, 1].max() + pad))
    gx, gy = np.linspace(*x_range, grid_size), np.linspace(*y_range, grid_size)
    xx, yy = np.meshgrid(gx, gy)
    positive = (float(w[0]) * xx + float(w[1]) * yy + b > 0).astype(float)
    fig = go.Figure()
    fig.add_trace(go.Heatmap(x=gx, y=gy, z=positive, showscale=False, hoverinfo="skip",
                             zmin=0, zmax=1, opacity=0.18,
                             colorscale=[[0, CLASS_COLORS[0]], [1, CLASS_COLORS[1]]]))
    for label, name in enumerate(class_names):
        mask = y == label
        fig.add_trace(go.Scatter(x=X[mask, 0], y=X[mask, 1], mode="markers", name=name,
                                 marker={"color": CLASS_COLORS[label % 2], "size": 7,
                                         "line": {"width": 0.5, "color": "white"}}))
    line = _line_points(w, b, x_range, y_range)
    if line is not None:
        fig.add_trace(go.Scatter(x=line[0], y=line[1], mode="lines", name="w·x + b = 0",
                                 line={"color": "black", "width": 3}))
    fig.update_layout(title="Decision line: class 1 where w₁x₁ + w₂x₂ + b > 0", height=460,
                      xaxis={"title": "x₁", "range": list(x_range), "constrain": "domain"},
                      yaxis={"title": "x₂", "range": list(y_range), "scaleanchor": "x"},
                      margin={"l": 40, "r": 20, "t": 50, "b": 40},
                      legend={"orientation": "h", "y": -0.15})
    return fig


def loss_figure(curves: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
                prediction_label: str, point: tuple[float, float, float] | None = None
                ) -> go.Figure:
    """Two panels over the prediction: each loss (left) and its gradient dL/dŷ (right).

    ``curves`` maps label -> (preds, loss, grad); ``point`` is (pred, loss, grad) of the first
    curve at the learner's chosen prediction, marked on both panels.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss L", "gradient dL/dŷ (autograd)"),
                        horizontal_spacing=0.1)
    for i, (label, (pred, loss, grad)) in enumerate(curves.items()):
        color = CURVE_COLORS[i % len(CURVE_COLORS)]
        width = 3.5 if i == 0 else 2
        fig.add_trace(go.Scatter(x=pred, y=loss, mode="lines", name=label, legendgroup=label,
                                 line={"color": color, "width": width}), row=1, col=1)
        fig.add_trace(go.Scatter(x=pred, y=grad, mode="lines", name=label, legendgroup=label,
                                 showlegend=False, line={"color": color, "width": width}),
                      row=1, col=2)
    if point is not None:
        pred, loss, grad = point
        marker = {"size": 12, "color": "black", "symbol": "circle-open", "line": {"width": 3}}
        fig.add_trace(go.Scatter(x=[pred], y=[loss], mode="markers", name="your prediction",
                                 marker=marker), row=1, col=1)
        fig.add_trace(go.Scatter(x=[pred], y=[grad], mode="markers", showlegend=False,
                                 marker=marker), row=1, col=2)
    # Cross-entropy's gradient runs to -1/p near 0; clip the view so the rest stays readable.
    all_grads = np.concatenate([np.asarray(c[2]) for c in curves.values()])
    low = max(float(all_grads.min()), -25.0)
    high = min(float(all_grads.max()), 25.0)
    if point is not None:   # the learner's point stays in view however steep the curve there
        low, high = min(low, point[2]), max(high, point[2])
    span = max(high - low, 1e-6)
    fig.update_yaxes(range=[low - 0.1 * span, high + 0.1 * span], row=1, col=2)
    all_losses = np.concatenate([np.asarray(c[1]) for c in curves.values()])
    top = min(float(all_losses.max()), 10.0)
    if point is not None:
        top = max(top, point[1])
    fig.update_yaxes(range=[0, top * 1.05 + 1e-6], row=1, col=1)
    fig.update_xaxes(title_text=prediction_label)
    fig.update_layout(height=400, margin={"l": 40, "r": 20, "t": 50, "b": 40},
                      legend={"orientation": "h", "y": -0.25})
    return fig
