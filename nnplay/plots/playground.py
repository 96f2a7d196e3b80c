"""Figures for the Playground: the output over the input plane with the data on it, every hidden
neuron's own map, the network with weight-coloured edges, loss curves with snapshots and the best
epoch, and the learning-rate schedule. Pure functions: arrays in, plotly Figure out.

They are redrawn several times a second while training, so each uses few traces: the neuron
maps are tiled into one heatmap and the edges are grouped into a few width buckets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

# TF Playground's colours: orange for negative / class 0, blue for positive / class 1.
NEGATIVE, POSITIVE = "#f59322", "#0877bd"
DIVERGING = [[0.0, NEGATIVE], [0.5, "#e8eaeb"], [1.0, POSITIVE]]
CLASS_COLORS = (NEGATIVE, POSITIVE, "#2ca02c", "#9467bd", "#d62728")
CURVE_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
# Loss curves tell runs apart by colour and train from test by line style, so their colours
# stay clear of the class colours above (a blue "test" line read as "the blue class").
RUN_COLOR = "#222222"
SNAPSHOT_COLORS = ("#8c564b", "#17becf", "#bcbd22", "#e377c2", "#7f7f7f")
EDGE_BUCKETS = 5
MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def _figure(traces: list[dict], layout: dict) -> go.Figure:
    """A Figure from plain trace and layout dicts, skipping plotly's per-property validation,
    which costs tens of milliseconds per figure: too much for several redraws a second."""
    return go.Figure(data=traces, layout=layout, _validate=False)


def _class_colorscale(n_classes: int) -> list:
    """A stepped colourscale: class k gets CLASS_COLORS[k] over z in [k - 0.5, k + 0.5]."""
    scale = []
    for k in range(n_classes):
        lo, hi = k / n_classes, (k + 1) / n_classes
        scale += [[lo, CLASS_COLORS[k]], [hi, CLASS_COLORS[k]]]
    return scale


def output_heatmap_figure(xs: np.ndarray, ys: np.ndarray, output: np.ndarray, task: str,
                          X_train: np.ndarray, y_train: np.ndarray,
                          X_test: np.ndarray | None = None, y_test: np.ndarray | None = None,
                          n_classes: int = 2, discretize: bool = False,
                          title: str = "Output") -> go.Figure:
    """The network's output as a heatmap over the plane, training points (and test points,
    outlined) on top. Two classes and regression use TF's orange-to-blue scale; more classes
    one colour per predicted class."""
    z = np.asarray(output, dtype=float)
    if task == "classification" and n_classes == 2:
        z = (z > 0.5).astype(float) if discretize else z
        heat = dict(type="heatmap", x=xs, y=ys, z=z, zmin=0, zmax=1, colorscale=DIVERGING, opacity=0.75,
                          colorbar={"title": "P(blue)", "thickness": 12},
                          hovertemplate="x1=%{x:.2f} x2=%{y:.2f}<br>P=%{z:.3f}<extra></extra>")
    elif task == "classification":
        heat = dict(type="heatmap", x=xs, y=ys, z=z, zmin=-0.5, zmax=n_classes - 0.5, opacity=0.6,
                          colorscale=_class_colorscale(n_classes), showscale=False,
                          hovertemplate="x1=%{x:.2f} x2=%{y:.2f}<br>class %{z}<extra></extra>")
    else:
        z = np.sign(z) if discretize else z
        heat = dict(type="heatmap", x=xs, y=ys, z=z, zmin=-1, zmax=1, colorscale=DIVERGING, opacity=0.75,
                          colorbar={"title": "value", "thickness": 12},
                          hovertemplate="x1=%{x:.2f} x2=%{y:.2f}<br>%{z:.3f}<extra></extra>")
    traces = [heat]
    splits = [("train", X_train, y_train, "white")]
    if X_test is not None and y_test is not None:
        splits.append(("test", X_test, y_test, "black"))
    for name, X, y, outline in splits:
        traces.append(_points_trace(name, X, y, task, outline))
    return _figure(traces, {
        "title": {"text": title}, "height": 420, "margin": MARGIN,
        "showlegend": len(splits) > 1, "legend": {"orientation": "h", "y": -0.05},
        "xaxis": {"range": [float(xs[0]), float(xs[-1])], "constrain": "domain"},
        "yaxis": {"range": [float(ys[0]), float(ys[-1])], "scaleanchor": "x"}})


def _points_trace(name: str, X: np.ndarray, y: np.ndarray, task: str, outline: str) -> dict:
    if task == "classification":
        # Numeric colours on a stepped scale: validating 500 colour strings is slow.
        n = max(int(np.max(y)) + 1, 2) if len(y) else 2
        marker = {"color": np.asarray(y, dtype=float), "colorscale": _class_colorscale(n),
                  "cmin": -0.5, "cmax": n - 0.5, "size": 6,
                  "line": {"width": 1, "color": outline}}
    else:
        marker = {"color": np.asarray(y, dtype=float), "colorscale": DIVERGING, "cmin": -1,
                  "cmax": 1, "size": 6, "line": {"width": 1, "color": outline}}
    return dict(type="scatter", x=X[:, 0], y=X[:, 1], mode="markers", name=f"{name} data", marker=marker,
                      hovertemplate="x1=%{x:.2f} x2=%{y:.2f}<extra>" + name + "</extra>")


def tile_neuron_maps(neurons: Sequence[np.ndarray], per_layer: int = 8, step: int = 3,
                     gap: int = 2) -> tuple[np.ndarray, list[tuple[int, int, float, float]]]:
    """Tile each hidden neuron's map (subsampled by ``step``, scaled by its largest |value|)
    into one image: a column per layer, a row per neuron, NaN gaps between. Returns the image
    and (layer, neuron, x centre, y centre) for each tile's label."""
    maps = [layer[:per_layer, ::step, ::step] for layer in neurons]
    if not maps:
        return np.full((1, 1), np.nan), []
    size = maps[0].shape[-1]
    rows = max(m.shape[0] for m in maps)
    cell = size + gap
    image = np.full((rows * cell - gap, len(maps) * cell - gap), np.nan)
    centres = []
    for col, layer in enumerate(maps):
        for row, neuron in enumerate(layer):
            scale = float(np.abs(neuron).max()) or 1.0
            top, left = (rows - 1 - row) * cell, col * cell   # neuron 1 at the top
            image[top:top + size, left:left + size] = neuron / scale
            centres.append((col, row, left + size / 2, top + size / 2))
    return image, centres


def neuron_maps_figure(neurons: Sequence[np.ndarray], layer_sizes: Sequence[int],
                       per_layer: int = 8) -> go.Figure:
    """What each hidden neuron computes over the input plane: one small map per neuron, layer by
    layer, each scaled to its own largest |value| (orange negative, blue positive)."""
    image, centres = tile_neuron_maps(neurons, per_layer)
    heat = dict(type="heatmap", z=image, zmin=-1, zmax=1, colorscale=DIVERGING, showscale=False,
                               hoverinfo="skip")
    hidden_more = [f"layer {i + 1}: first {per_layer} of {n}"
                   for i, n in enumerate(layer_sizes) if n > per_layer]
    title = "Hidden neurons over the input plane"
    if hidden_more:
        title += " (" + "; ".join(hidden_more) + ")"
    rows = max((min(n, per_layer) for n in layer_sizes), default=1)
    labels = [{"x": x_centre, "y": image.shape[0], "text": f"layer {col + 1}",
               "showarrow": False, "yanchor": "bottom", "font": {"size": 10}}
              for col, row, x_centre, _ in centres if row == 0]
    return _figure([heat], {"title": {"text": title, "font": {"size": 13}}, "margin": MARGIN,
                            "height": max(160, 60 * rows + 50), "annotations": labels,
                            "xaxis": {"visible": False, "constrain": "domain"},
                            "yaxis": {"visible": False, "scaleanchor": "x"}})


def network_figure(layer_sizes: Sequence[int], weights: Sequence[np.ndarray],
                   input_labels: Sequence[str], output_labels: Sequence[str],
                   max_neurons: int = 32) -> go.Figure:
    """The network: inputs on the left, hidden layers, outputs on the right. Edge width grows
    with |weight| (relative to the largest), colour shows the sign (blue +, orange -)."""
    sizes = list(layer_sizes)
    if len(weights) != len(sizes) - 1:
        raise ValueError(f"{len(sizes)} layers need {len(sizes) - 1} weight matrices, "
                         f"got {len(weights)}.")
    tallest = max(min(n, max_neurons) for n in sizes)
    positions = [np.column_stack([np.full(n, float(i)), (tallest - 1) / 2 - np.arange(n) + 0.0])
                 for i, n in enumerate(sizes)]
    largest = max((float(np.abs(w).max()) for w in weights if w.size), default=1.0) or 1.0
    segments: dict[tuple[int, int], list[np.ndarray]] = {}
    for layer, w in enumerate(weights):
        src, dst = positions[layer], positions[layer + 1]
        j, i = (a.ravel() for a in np.indices(w.shape))
        values = w.ravel().astype(float)
        bucket = np.minimum(EDGE_BUCKETS - 1, (np.abs(values) / largest * EDGE_BUCKETS).astype(int))
        gap = np.full(len(values), np.nan)
        # Each edge is (source, destination, gap): one trace per (sign, width) bucket.
        x = np.column_stack([src[i, 0], dst[j, 0], gap])
        y = np.column_stack([src[i, 1], dst[j, 1], gap])
        for sign in (1, -1):
            for b in range(EDGE_BUCKETS):
                mask = (bucket == b) & ((values >= 0) if sign > 0 else (values < 0))
                if mask.any():
                    segments.setdefault((sign, b), []).append(np.stack([x[mask], y[mask]]))
    traces = []
    for (sign, b), parts in sorted(segments.items(), key=lambda item: item[0][1]):
        xy = np.concatenate(parts, axis=1)
        traces.append(dict(
            type="scatter", x=xy[0].ravel(), y=xy[1].ravel(), mode="lines", hoverinfo="skip", showlegend=False,
            line={"width": 0.5 + 1.5 * b, "color": POSITIVE if sign > 0 else NEGATIVE},
            opacity=0.35 + 0.13 * b))
    labels = ([list(input_labels)] + [[f"h{i}.{k + 1}" for k in range(n)]
                                       for i, n in enumerate(sizes[1:-1], start=1)]
              + [list(output_labels)])
    for i, (pos, names) in enumerate(zip(positions, labels)):
        traces.append(dict(
            type="scatter", x=pos[:, 0], y=pos[:, 1], mode="markers+text" if i in (0, len(sizes) - 1) else "markers",
            text=names, textposition="middle left" if i == 0 else "middle right",
            marker={"size": 16 if tallest <= 10 else 9, "color": "#444" if 0 < i < len(sizes) - 1
                    else "#888", "line": {"width": 1, "color": "white"}},
            hovertext=names, hoverinfo="text", showlegend=False))
    return _figure(traces, {
        "title": {"text": "Network: edge width |w|, blue w > 0, orange w < 0",
                  "font": {"size": 13}},
        "height": max(220, 26 * tallest + 80), "margin": MARGIN,
        "xaxis": {"visible": False, "range": [-1.0, len(sizes)]}, "yaxis": {"visible": False}})


def loss_curves_figure(history: Sequence[dict], snapshots: Sequence[tuple[str, Sequence[dict]]] = (),
                       best_epoch: int | None = None) -> go.Figure:
    """Train (solid) and test (dashed) loss per epoch from epoch 0, this run in black and each
    kept snapshot in a colour of its own (none of them a class colour), the best test-loss epoch
    marked. A curve of one epoch so far is drawn as a dot."""
    traces, shapes, notes = [], [], []
    runs = [("this run", history, RUN_COLOR, 2.5)] + [
        (label, h, SNAPSHOT_COLORS[k % len(SNAPSHOT_COLORS)], 1.5)
        for k, (label, h) in enumerate(snapshots)]
    for label, hist, color, width in runs:
        epochs = np.array([h["epoch"] for h in hist])   # arrays validate much faster than lists
        mode = "lines+markers" if len(hist) == 1 else "lines"
        for key, part, dash in (("loss", "train", "solid"), ("val_loss", "test", "dash")):
            if hist and key in hist[0]:
                traces.append(dict(type="scatter", x=epochs, y=np.array([h[key] for h in hist]),
                                   mode=mode, name=f"{label}: {part}",
                                   line={"color": color, "dash": dash, "width": width}))
    if best_epoch is not None:
        shapes.append({"type": "line", "x0": best_epoch, "x1": best_epoch, "yref": "paper",
                       "y0": 0, "y1": 1, "line": {"dash": "dot", "color": "#7f7f7f"}})
        notes.append({"x": best_epoch, "yref": "paper", "y": 1, "yanchor": "bottom",
                      "text": f"best epoch {best_epoch}", "showarrow": False})
    return _figure(traces, {
        "title": {"text": "Loss (solid: train, dashed: test)", "font": {"size": 13}},
        "xaxis": {"title": {"text": "epoch"}, "rangemode": "tozero"},
        "yaxis": {"title": {"text": "loss"}},
        "height": 300, "margin": MARGIN, "shapes": shapes, "annotations": notes,
        "legend": {"orientation": "h", "y": -0.3, "font": {"size": 10}}})


def lr_schedule_figure(rates: Sequence[float], schedule: str) -> go.Figure:
    """The learning rate of each planned epoch."""
    fig = go.Figure(go.Scatter(x=np.arange(1, len(rates) + 1), y=list(rates), mode="lines",
                               line={"color": CURVE_COLORS[0]}))
    fig.update_layout(title={"text": f"Learning rate over the epochs ({schedule})",
                             "font": {"size": 13}}, xaxis_title="epoch", yaxis_title="lr",
                      height=220, margin=MARGIN)
    return fig
