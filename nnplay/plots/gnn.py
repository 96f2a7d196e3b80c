"""Graph-network figures: the graph coloured by community (one node's neighbourhood picked out),
accuracy per seed of the GCN and the MLP against chance, and the node embeddings moving during
training as a plotly animation with a slider. Pure: numbers in, Figure out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
MODEL_COLORS = {"gcn": "#1f77b4", "mlp": "#7f7f7f"}
EDGE_COLOR = "#c7c7c7"


def _color(k: int) -> str:
    return PALETTE[int(k) % len(PALETTE)]


def _edge_trace(positions: np.ndarray, edges: Sequence[tuple[int, int]], color: str,
                width: float, name: str, show: bool = False) -> go.Scatter:
    xs, ys = [], []
    for a, b in edges:
        xs += [positions[a, 0], positions[b, 0], None]
        ys += [positions[a, 1], positions[b, 1], None]
    return go.Scatter(x=xs, y=ys, mode="lines", line={"color": color, "width": width},
                      hoverinfo="skip", name=name, showlegend=show)


def graph_figure(positions: np.ndarray, edges: Sequence[tuple[int, int]], labels: np.ndarray,
                 class_names: Sequence[str], labelled: Sequence[int] = (),
                 predicted: np.ndarray | None = None, focus: int | None = None,
                 title: str = "") -> go.Figure:
    """Nodes at ``positions`` coloured by ``predicted`` class (or the true ``labels``); labelled
    nodes are stars, wrongly predicted nodes get a black ring; ``focus`` and its edges stand out."""
    shown = labels if predicted is None else predicted
    labelled = set(int(i) for i in labelled)
    fig = go.Figure()
    fig.add_trace(_edge_trace(positions, edges, EDGE_COLOR, 1.0, "edge"))
    if focus is not None:
        near = [e for e in edges if focus in e]
        fig.add_trace(_edge_trace(positions, near, "#222222", 2.5, f"edges of node {focus}", True))
    for k, name in enumerate(class_names):
        nodes = [i for i in range(len(shown)) if shown[i] == k]
        if not nodes:
            continue
        wrong = [predicted is not None and labels[i] != predicted[i] for i in nodes]
        hover = [f"node {i}<br>true: {class_names[labels[i]]}" +
                 ("" if predicted is None else f"<br>predicted: {class_names[predicted[i]]}") +
                 ("<br>labelled (trained on)" if i in labelled else "") for i in nodes]
        name = name if predicted is None else f"predicted {name}"
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name,   # the legend
                                 marker={"color": _color(k), "size": 12}))
        fig.add_trace(go.Scatter(
            x=positions[nodes, 0], y=positions[nodes, 1], mode="markers+text", showlegend=False,
            text=[str(i) for i in nodes], textposition="middle center",
            textfont={"size": 9, "color": "white"}, hovertext=hover, hoverinfo="text",
            name=name,
            marker={"color": _color(k), "size": [22 if i in labelled else 17 for i in nodes],
                    "symbol": ["star" if i in labelled else "circle" for i in nodes],
                    "line": {"color": ["black" if w else "white" for w in wrong],
                             "width": [3 if w else 1 for w in wrong]}}))
    if focus is not None:
        fig.add_trace(go.Scatter(x=[positions[focus, 0]], y=[positions[focus, 1]], mode="markers",
                                 marker={"size": 30, "color": "rgba(0,0,0,0)",
                                         "line": {"color": "#222222", "width": 3}},
                                 name=f"node {focus}", hoverinfo="skip"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x")
    fig.update_layout(title=title or None, height=520, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h", "y": -0.05}, plot_bgcolor="white")
    return fig


def seeds_figure(results: pd.DataFrame, uniform: float, majority: float,
                 titles: dict[str, str] | None = None) -> go.Figure:
    """Test accuracy of each model at each seed (a point per seed, a bar for the mean), with
    guessing one class in k and always naming the most common class as dashed lines."""
    titles = titles or {}
    fig = go.Figure()
    for model, rows in results.groupby("model", sort=False):
        label = titles.get(model, model)
        fig.add_trace(go.Bar(x=[label], y=[rows["accuracy"].mean()], name=f"{label}: mean",
                             marker={"color": MODEL_COLORS.get(model, "#9467bd")}, opacity=0.45,
                             hovertemplate="mean %{y:.0%}<extra></extra>"))
        fig.add_trace(go.Scatter(x=[label] * len(rows), y=rows["accuracy"], mode="markers",
                                 name=f"{label}: one seed", showlegend=False,
                                 marker={"color": MODEL_COLORS.get(model, "#9467bd"), "size": 9,
                                         "line": {"color": "white", "width": 1}},
                                 customdata=rows["seed"],
                                 hovertemplate="seed %{customdata}: %{y:.0%}<extra></extra>"))
    for value, text in ((uniform, "guessing"), (majority, "most common class")):
        fig.add_hline(y=value, line_dash="dash", line_color="#7f7f7f",
                      annotation_text=f"{text} {value:.0%}", annotation_position="top right")
    fig.update_yaxes(title_text="accuracy on the unlabelled nodes", range=[0, 1.02],
                     tickformat=".0%")
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10}, showlegend=False,
                      bargap=0.5)
    return fig


def embedding_figure(frames: np.ndarray, epochs: Sequence[int], labels: np.ndarray,
                     class_names: Sequence[str], labelled: Sequence[int] = ()) -> go.Figure:
    """The node embeddings (frames: (snapshots, nodes, 2)) as an animation over training epochs,
    with play and pause buttons and a slider; nodes coloured by their true community."""
    labelled = set(int(i) for i in labelled)
    colors = [_color(k) for k in labels]
    symbols = ["star" if i in labelled else "circle" for i in range(len(labels))]
    sizes = [18 if i in labelled else 12 for i in range(len(labels))]
    hover = [f"node {i}: {class_names[labels[i]]}" for i in range(len(labels))]

    def scatter(points: np.ndarray) -> go.Scatter:
        return go.Scatter(x=points[:, 0], y=points[:, 1], mode="markers", hovertext=hover,
                          hoverinfo="text", showlegend=False,
                          marker={"color": colors, "symbol": symbols, "size": sizes,
                                  "line": {"color": "white", "width": 1}})

    lo, hi = frames.min(axis=(0, 1)), frames.max(axis=(0, 1))
    pad = 0.08 * np.maximum(hi - lo, 1e-6)
    names = [str(e) for e in epochs]
    fig = go.Figure(data=[scatter(frames[-1])],
                    frames=[go.Frame(data=[scatter(f)], name=n) for f, n in zip(frames, names)])
    for k, name in enumerate(class_names):   # a legend of the communities
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name,
                                 marker={"color": _color(k), "size": 10}))
    step = {"mode": "immediate", "frame": {"duration": 60, "redraw": False},
            "transition": {"duration": 0}}
    fig.update_layout(
        height=500, margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"range": [lo[0] - pad[0], hi[0] + pad[0]], "title": "direction 1"},
        yaxis={"range": [lo[1] - pad[1], hi[1] + pad[1]], "title": "direction 2"},
        legend={"orientation": "h", "y": 1.08},
        updatemenus=[{"type": "buttons", "showactive": False, "x": 0.0, "y": -0.12,
                      "xanchor": "left", "buttons": [
                          {"label": "Play", "method": "animate", "args": [None, {**step, "fromcurrent": True}]},
                          {"label": "Pause", "method": "animate",
                           "args": [[None], {**step, "frame": {"duration": 0, "redraw": False}}]}]}],
        sliders=[{"active": len(names) - 1, "x": 0.15, "len": 0.85, "y": -0.05,
                  "currentvalue": {"prefix": "epoch "},
                  "steps": [{"label": n, "method": "animate", "args": [[n], step]}
                            for n in names]}])
    return fig
