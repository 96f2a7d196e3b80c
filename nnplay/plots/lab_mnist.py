"""Figures of the MNIST lab: the experiment grid as heatmaps, a drawing's preprocessing steps with
the model's probabilities, and the test digits a model got wrong. Pure functions: numbers and
images in, plotly Figure out."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

INK = [[0.0, "black"], [1.0, "white"]]   # MNIST's look: white ink on black
METRIC_TITLES = {"test_accuracy": "test accuracy", "parameters": "parameters",
                 "seconds": "training seconds"}
PREDICTED, OTHER = "#d62728", "#1f77b4"


def _metric_text(metric: str, value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if metric == "test_accuracy":
        return f"{100 * value:.1f}%"
    if metric == "parameters":
        return f"{value / 1000:,.0f}k" if value >= 10_000 else f"{value:,.0f}"
    return f"{value:.1f} s"


def grid_heatmap_figure(table: pd.DataFrame, metric: str = "test_accuracy") -> go.Figure:
    """One heatmap per activation: hidden layers down, neurons per layer across, ``metric`` as
    the colour and the number in each cell (one colour scale for all panels; cells not trained,
    e.g. after Stop, stay empty)."""
    if metric not in METRIC_TITLES:
        raise ValueError(f"Unknown metric {metric!r}; choose one of {', '.join(METRIC_TITLES)}.")
    activations = list(dict.fromkeys(table["activation"]))
    layers = sorted(table["layers"].unique())
    neurons = sorted(table["neurons"].unique())
    values = table[metric].astype(float)
    lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
    one_value = hi <= lo          # a single cell (or equal ones): a colour scale says nothing
    if one_value:
        lo, hi = lo - 1.0, hi + 1.0
    fig = make_subplots(rows=1, cols=max(1, len(activations)), shared_yaxes=True,
                        horizontal_spacing=0.04, subplot_titles=activations or [""])
    scale = "Viridis" if metric == "test_accuracy" else "Blues"
    for col, activation in enumerate(activations, start=1):
        rows = table[table["activation"] == activation].set_index(["layers", "neurons"])[metric]
        z = [[float(rows.get((layer, n), np.nan)) for n in neurons] for layer in layers]
        text = [[_metric_text(metric, v) for v in row] for row in z]
        fig.add_trace(go.Heatmap(
            z=z, x=[str(n) for n in neurons], y=[str(layer) for layer in layers], text=text,
            texttemplate="%{text}", zmin=lo, zmax=hi, colorscale=scale,
            showscale=col == len(activations) and not one_value, xgap=2, ygap=2,
            colorbar={"title": METRIC_TITLES[metric]},
            hovertemplate=(f"{activation}, %{{y}} hidden layers x %{{x}} neurons: "
                           "%{text}<extra></extra>")), row=1, col=col)
        fig.update_xaxes(title_text="neurons per layer", type="category", row=1, col=col)
    fig.update_yaxes(title_text="hidden layers", type="category", autorange="reversed",
                     row=1, col=1)
    fig.update_yaxes(type="category", autorange="reversed")
    fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      title={"text": METRIC_TITLES[metric], "x": 0.0, "font": {"size": 14}})
    return fig


def _image(image: np.ndarray, name: str) -> go.Heatmap:
    img = np.asarray(image, dtype=float)
    img = img[0] if img.ndim == 3 else img
    return go.Heatmap(z=img, colorscale=INK, zmin=0.0, zmax=1.0, showscale=False, name=name,
                      hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra></extra>")


def _image_axes(fig: go.Figure, rows: int, cols: int) -> None:
    """Image orientation (row 0 on top), square pixels, no ticks, for the image panels."""
    for r in range(1, rows + 1):
        for c in range(1, cols + 1):
            fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="",
                             constrain="domain", row=r, col=c)
            fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="",
                             autorange="reversed", constrain="domain", row=r, col=c)
    fig.for_each_yaxis(lambda axis: axis.update(scaleanchor=axis.anchor)
                       if axis.autorange == "reversed" else None)


def preprocessing_figure(images: dict[str, np.ndarray], probabilities: np.ndarray,
                         class_names) -> go.Figure:
    """Top: each preprocessing step's image, in order, titled by its name. Bottom: the model's
    probability for each class on the last image, the predicted class highlighted."""
    names = list(images)
    n = len(names)
    fig = make_subplots(rows=2, cols=n, row_heights=[0.45, 0.55], vertical_spacing=0.14,
                        horizontal_spacing=0.05,
                        specs=[[{}] * n, [{"colspan": n}] + [None] * (n - 1)],
                        subplot_titles=[f"{i}. {name}" for i, name in enumerate(names, 1)]
                        + ["what the model answers"])
    for col, name in enumerate(names, start=1):
        fig.add_trace(_image(images[name], name), row=1, col=col)
    _image_axes(fig, 1, n)
    probabilities = np.asarray(probabilities, dtype=float)
    best = int(probabilities.argmax())
    fig.add_trace(go.Bar(x=[str(c) for c in class_names], y=probabilities,
                         marker_color=[PREDICTED if i == best else OTHER
                                       for i in range(len(probabilities))],
                         text=[f"{p:.0%}" for p in probabilities], textposition="outside",
                         hovertemplate="%{x}: %{y:.3f}<extra></extra>", showlegend=False),
                  row=2, col=1)
    fig.update_yaxes(range=[0, 1.15], tickvals=[0, 0.25, 0.5, 0.75, 1.0], tickformat=".0%",
                     title_text="probability", row=2, col=1)
    fig.update_xaxes(type="category", title_text="digit", row=2, col=1)
    fig.update_annotations(font_size=12)
    fig.update_layout(height=520, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def misclassified_figure(images: np.ndarray, table: pd.DataFrame, columns: int = 6) -> go.Figure:
    """The wrongly classified digits, one panel each, titled 'label 4 → 9 (62%)' with the
    runner-up class and its probability beneath."""
    n = len(table)
    if n == 0:
        raise ValueError("No misclassified digits to show.")
    cols = min(columns, n)
    rows = math.ceil(n / cols)
    titles = [f"{r.label} → {r.predicted} ({r.p_predicted:.0%})<br>"
              f"2nd: {r.runner_up} ({r.p_runner_up:.0%})" for r in table.itertuples()]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, vertical_spacing=0.12 / rows,
                        horizontal_spacing=0.02)
    for i, image in enumerate(images):
        fig.add_trace(_image(image, titles[i]), row=i // cols + 1, col=i % cols + 1)
    _image_axes(fig, rows, cols)
    fig.update_annotations(font_size=11)
    fig.update_layout(height=170 * rows + 20, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig
