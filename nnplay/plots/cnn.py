"""CNN figures: the kernel sliding over an image with its numbers, pooling, learned filters and
feature maps layer by layer. Pure functions: numpy arrays in, plotly Figure out."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

WINDOW_COLOR, CURRENT_COLOR = "#d62728", "#ff7f0e"


def _heatmap(z: np.ndarray, numbers: bool = True, colorscale: str = "Greys",
             zmid: float | None = None, show_scale: bool = False) -> go.Heatmap:
    """A heatmap in image orientation; with ``numbers`` every cell shows its value."""
    z = np.asarray(z, dtype=float)
    text = [["" if math.isnan(v) else f"{v:.3g}" for v in row] for row in z]
    return go.Heatmap(z=z, colorscale=colorscale, zmid=zmid, showscale=show_scale,
                      text=text if numbers else None, texttemplate="%{text}" if numbers else None,
                      hovertemplate="row %{y}, col %{x}: %{z:.3g}<extra></extra>", xgap=1, ygap=1)


def _box(fig: go.Figure, top: int, left: int, size: int, color: str, col: int, row: int = 1):
    fig.add_shape(type="rect", x0=left - 0.5, x1=left + size - 0.5, y0=top - 0.5,
                  y1=top + size - 0.5, line={"color": color, "width": 3}, row=row, col=col)


def _image_axes(fig: go.Figure) -> None:
    """Image orientation (row 0 on top) and square pixels in every panel."""
    fig.update_yaxes(autorange="reversed", showticklabels=False, showgrid=False, zeroline=False)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    fig.for_each_yaxis(lambda axis: axis.update(scaleanchor=axis.anchor, constrain="domain"))


def conv_step_figure(step, padding: int = 0) -> go.Figure:
    """Three panels: the padded input with the window outlined, the kernel, and the output map
    filled up to the current position (outlined)."""
    fig = make_subplots(rows=1, cols=3, column_widths=[0.45, 0.2, 0.35], horizontal_spacing=0.06,
                        subplot_titles=(f"Input (padding {padding})", "Kernel",
                                        f"Output, position {step.index + 1} of {step.n_positions}"))
    fig.add_trace(_heatmap(step.padded), row=1, col=1)
    _box(fig, step.top, step.left, step.kernel.shape[0], WINDOW_COLOR, col=1)
    fig.add_trace(_heatmap(step.kernel, colorscale="RdBu", zmid=0.0), row=1, col=2)
    fig.add_trace(_heatmap(step.output, colorscale="RdBu", zmid=0.0), row=1, col=3)
    _box(fig, step.row, step.col, 1, CURRENT_COLOR, col=3)
    _image_axes(fig)
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def pooling_figure(image: np.ndarray, step: dict, size: int, kind: str) -> go.Figure:
    """The input with one pooling window outlined, and the pooled map with its cell outlined."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4], horizontal_spacing=0.08,
                        subplot_titles=("Input", f"{kind}-pooled ({size}x{size}, stride {size})"))
    fig.add_trace(_heatmap(image), row=1, col=1)
    _box(fig, step["top"], step["left"], size, WINDOW_COLOR, col=1)
    fig.add_trace(_heatmap(step["pooled"]), row=1, col=2)
    _box(fig, step["row"], step["col"], 1, CURRENT_COLOR, col=2)
    _image_axes(fig)
    fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def image_figure(image: np.ndarray, title: str = "") -> go.Figure:
    """One grey image (H, W) or (1, H, W), without numbers."""
    img = np.asarray(image, dtype=float)
    img = img[0] if img.ndim == 3 else img
    fig = go.Figure(_heatmap(img, numbers=False))
    _image_axes(fig)
    fig.update_layout(title=title, height=260, width=260, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def filters_figure(filters: np.ndarray, columns: int = 8) -> go.Figure:
    """Each first-layer kernel (n, k, k) as a small heatmap: red positive, blue negative."""
    filters = np.asarray(filters, dtype=float)
    n = len(filters)
    cols = min(columns, n)
    rows = math.ceil(n / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[f"filter {i}" for i in range(n)],
                        horizontal_spacing=0.02, vertical_spacing=0.08)
    bound = float(np.abs(filters).max()) or 1.0
    for i, kernel in enumerate(filters):
        trace = _heatmap(kernel, numbers=kernel.shape[0] <= 3, colorscale="RdBu_r", zmid=0.0)
        trace.update(zmin=-bound, zmax=bound, texttemplate="%{z:.2f}" if kernel.shape[0] <= 3
                     else None, showscale=i == 0,   # one colour bar: every filter shares it
                     colorbar={"thickness": 10, "title": "weight"})
        fig.add_trace(trace, row=i // cols + 1, col=i % cols + 1)
    _image_axes(fig)
    fig.update_annotations(font_size=10)
    fig.update_layout(height=150 * rows + 40, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def feature_maps_figure(maps: list[tuple[str, np.ndarray]], max_channels: int = 8) -> go.Figure:
    """One row per layer (conv, activation, pooling), up to ``max_channels`` channels each, all
    maps of a row on one colour scale (its colour bar at the row's right end); each row's first
    title says how many of the layer's channels are shown and the map size."""
    cols = max(1, min(max_channels, max(m.shape[0] for _, m in maps)))
    rows = len(maps)
    gap = 0.45 / max(rows, 1)   # room above each row for its description
    fig = make_subplots(rows=rows, cols=cols, horizontal_spacing=0.01, vertical_spacing=gap)
    height = (1 - gap * (rows - 1)) / rows
    for r, (_, m) in enumerate(maps, start=1):
        shown = m[:cols]
        axis = f"coloraxis{r if r > 1 else ''}"
        for c in range(min(cols, m.shape[0])):
            trace = _heatmap(shown[c], numbers=False)
            trace.update(coloraxis=axis, customdata=np.full(shown[c].shape, f"{r - 1},{c}"),
                         hovertemplate="row %{y}, col %{x}: %{z:.3g}<extra>click: how this "
                                       "channel is computed</extra>")
            fig.add_trace(trace, row=r, col=c + 1)
        top = 1 - (r - 1) * (height + gap)
        name = maps[r - 1][0]
        fig.add_annotation(x=0, y=top, xref="paper", yref="paper", xanchor="left",
                           yanchor="bottom", showarrow=False, font={"size": 12},
                           text=f"<b>{name}</b>: channels 1-{min(cols, m.shape[0])} of "
                                f"{m.shape[0]}, {m.shape[1]}x{m.shape[2]} each")
        fig.update_layout({axis: {"colorscale": "Viridis", "cmin": float(shown.min()),
                                  "cmax": float(shown.max()) if shown.max() > shown.min()
                                  else float(shown.min()) + 1e-6,
                                  "colorbar": {"len": height, "y": top, "yanchor": "top",
                                               "thickness": 10, "x": 1.01}}})
    _image_axes(fig)
    fig.update_layout(height=160 * rows + 40, margin={"l": 10, "r": 40, "t": 30, "b": 10})
    return fig


def feature_map_cell(point: dict) -> tuple[int, int] | None:
    """(row of the maps, channel) of a clicked cell in feature_maps_figure, or None."""
    data = point.get("customdata") if isinstance(point, dict) else None
    if not isinstance(data, str) or "," not in data:
        return None
    row, channel = data.split(",")
    return int(row), int(channel)


def channel_convolution_figure(parts: dict, max_inputs: int = 4) -> go.Figure:
    """How one channel is computed: for each input channel (up to ``max_inputs``) its map, this
    channel's kernel for it and their convolution; then the sum plus bias: the channel's map."""
    n_in = parts["inputs"].shape[0]
    shown = min(n_in, max_inputs)
    titles = []
    for i in range(shown):
        titles += [f"input channel {i + 1}", "kernel for it", f"input {i + 1} ⊛ kernel"]
    titles += ["", "", f"sum of all {n_in} + bias {parts['bias']:.3g}"]
    fig = make_subplots(rows=shown + 1, cols=3, subplot_titles=titles,
                        horizontal_spacing=0.06, vertical_spacing=0.25 / (shown + 1))
    bound = float(np.abs(parts["kernels"]).max()) or 1.0
    for i in range(shown):
        fig.add_trace(_heatmap(parts["inputs"][i], numbers=False), row=i + 1, col=1)
        kernel = _heatmap(parts["kernels"][i], numbers=parts["kernels"].shape[-1] <= 5,
                          colorscale="RdBu_r", zmid=0.0)
        kernel.update(zmin=-bound, zmax=bound, texttemplate="%{z:.2f}")
        fig.add_trace(kernel, row=i + 1, col=2)
        fig.add_trace(_heatmap(parts["contributions"][i], numbers=False, colorscale="RdBu_r",
                               zmid=0.0), row=i + 1, col=3)
    fig.add_trace(_heatmap(parts["sum"], numbers=False, colorscale="RdBu_r", zmid=0.0,
                           show_scale=True), row=shown + 1, col=3)
    _image_axes(fig)
    fig.update_annotations(font_size=11)
    fig.update_layout(height=170 * (shown + 1) + 30, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def class_probabilities_figure(probabilities: np.ndarray, class_names) -> go.Figure:
    """The softmax output as bars, the predicted class highlighted."""
    probabilities = np.asarray(probabilities, dtype=float)
    best = int(probabilities.argmax())
    colors = ["#d62728" if i == best else "#1f77b4" for i in range(len(probabilities))]
    fig = go.Figure(go.Bar(x=[str(c) for c in class_names], y=probabilities, marker_color=colors,
                           text=[f"{p:.0%}" for p in probabilities], textposition="outside",
                           hovertemplate="%{x}: %{y:.3f}<extra></extra>"))
    fig.update_layout(yaxis={"range": [0, 1.15], "title": "softmax probability",
                             "tickformat": ".0%"}, xaxis_title="class", height=280,
                      margin={"l": 10, "r": 10, "t": 20, "b": 10})
    return fig
