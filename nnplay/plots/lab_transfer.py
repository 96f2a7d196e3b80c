"""Figures for the transfer-learning lab: a pretrained network's top-5 ImageNet guesses, example
images of the new task, and test accuracy against labelled images per class for each way of
training. Pure functions: lists, arrays and tables from nnplay.lessons.lab_transfer in, plotly
Figure out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

MODE_COLORS = {"scratch": "#7f7f7f", "frozen": "#1f77b4", "finetune_last": "#2ca02c",
               "finetune_all": "#d62728"}


def _layout(fig: go.Figure, title: str, height: int = 380, **axes) -> go.Figure:
    axes.setdefault("margin", {"l": 40, "r": 20, "t": 60, "b": 40})
    fig.update_layout(title=title, height=height, legend={"orientation": "h", "y": -0.25},
                      **axes)
    return fig


def top_k_figure(predictions: Sequence[tuple[str, float]], title: str = "Top-5 ImageNet classes"
                 ) -> go.Figure:
    """Horizontal bars of (class name, probability), best on top."""
    names = [name for name, _ in predictions][::-1]
    probs = [float(p) for _, p in predictions][::-1]
    fig = go.Figure(go.Bar(x=probs, y=names, orientation="h", marker_color="#1f77b4",
                           text=[f"{p:.1%}" for p in probs], textposition="auto",
                           hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    return _layout(fig, title, height=300,
                   xaxis={"title": "probability", "range": [0, 1], "tickformat": ".0%"},
                   showlegend=False)


def examples_figure(X: np.ndarray, y: np.ndarray, class_names: Sequence[str],
                    per_class: int = 4, max_classes: int = 10) -> go.Figure:
    """A grid of example images: one row per class (the first ``max_classes``), ``per_class``
    images each. X is (n, C, H, W) in [0, 1], grey or RGB."""
    classes = list(class_names)[:max_classes]
    fig = make_subplots(rows=len(classes), cols=per_class, horizontal_spacing=0.01,
                        vertical_spacing=0.01, row_titles=[str(c) for c in classes])
    for r, _ in enumerate(classes):
        rows = np.flatnonzero(np.asarray(y) == r)[:per_class]
        for c, i in enumerate(rows):
            img = np.clip(np.asarray(X[i], dtype=np.float64), 0, 1)
            rgb = np.repeat(img, 3, axis=0) if img.shape[0] == 1 else img[:3]
            fig.add_trace(go.Image(z=(rgb.transpose(1, 2, 0) * 255).astype(np.uint8),
                                   hoverinfo="skip"), row=r + 1, col=c + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.for_each_annotation(lambda a: a.update(textangle=0, xanchor="left", font={"size": 11}))
    return _layout(fig, "Examples of the new task", height=max(220, 70 * len(classes)),
                   showlegend=False, margin={"l": 10, "r": 110, "t": 50, "b": 10})


def transfer_curve_figure(summary: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    """Test accuracy against labelled images per class (log scale), one line per mode; with
    several seeds, bars span the lowest to the highest. ``summary`` is
    nnplay.lessons.lab_transfer.summary(table); ``labels`` names each mode."""
    fig = go.Figure()
    for mode, part in summary.groupby("mode", sort=False):
        part = part.sort_values("per_class")
        spread = part["seeds"].max() > 1
        label = labels.get(mode, str(mode))
        fig.add_trace(go.Scatter(
            x=part["per_class"], y=part["accuracy"], mode="lines+markers", name=label,
            line={"color": MODE_COLORS.get(mode, "#9467bd"), "width": 3},
            error_y={"type": "data", "symmetric": False, "visible": bool(spread),
                     "array": part["high"] - part["accuracy"],
                     "arrayminus": part["accuracy"] - part["low"]},
            customdata=np.column_stack([part["seconds"], part["seeds"]]),
            hovertemplate=f"{label}<br>%{{x}} labelled images per class<br>test accuracy "
                          "%{y:.1%}<br>%{customdata[0]:.1f} s per run, %{customdata[1]} "
                          "seed(s)<extra></extra>"))
    counts = sorted(summary["per_class"].unique()) if len(summary) else []
    return _layout(fig, "Test accuracy against labelled images per class", height=420,
                   xaxis={"title": "labelled training images per class (log scale)",
                          "type": "log", "tickvals": counts, "ticktext": [str(c) for c in counts]},
                   yaxis={"title": "test accuracy", "tickformat": ".0%"})
