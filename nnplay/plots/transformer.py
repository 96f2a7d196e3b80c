"""Transformer figures: annotated matrices for the attention walkthrough, attention heatmaps per
layer and head, positional encodings and token embeddings. Pure: numbers in, Figure out."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots


def matrix_figure(matrix: np.ndarray, row_labels: list[str], col_labels: list[str],
                  title: str = "", colorscale: str = "RdBu", zmid: float | None = 0.0,
                  highlight_row: int | None = None) -> go.Figure:
    """A small matrix with every value written in its cell; an optional row is outlined."""
    z = np.asarray(matrix, dtype=float)
    # plotly merges repeated category labels: number them so a repeated word keeps its own row
    rows = [f"{i + 1}: {r}" for i, r in enumerate(row_labels)]
    cols = [f"{j + 1}: {c}" for j, c in enumerate(col_labels)]
    fig = go.Figure(go.Heatmap(z=z, x=cols, y=rows, colorscale=colorscale, zmid=zmid,
                               zmin=0.0 if zmid is None else None, zmax=1.0 if zmid is None else None,
                               text=np.vectorize(lambda v: f"{v:.2f}")(z), texttemplate="%{text}",
                               showscale=False, xgap=1, ygap=1,
                               hovertemplate="%{y} → %{x}: %{z:.3f}<extra></extra>"))
    if highlight_row is not None:
        fig.add_shape(type="rect", x0=-0.5, x1=z.shape[1] - 0.5, y0=highlight_row - 0.5,
                      y1=highlight_row + 0.5, line={"color": "#ff7f0e", "width": 3})
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", side="top")
    fig.update_layout(title=title, height=60 + 38 * max(len(rows), 3),
                      margin={"l": 10, "r": 10, "t": 70, "b": 10})
    return fig


def attention_maps_figure(maps: list[np.ndarray], tokens: list[str]) -> go.Figure:
    """One heatmap per layer (rows) and head (columns): row = query token, column = key token."""
    n_layers, n_heads = len(maps), maps[0].shape[0]
    labels = [f"{i}:{t}" for i, t in enumerate(tokens)]
    titles = [f"layer {layer + 1}, head {head + 1}" for layer in range(n_layers)
              for head in range(n_heads)]
    fig = make_subplots(rows=n_layers, cols=n_heads, subplot_titles=titles,
                        horizontal_spacing=0.08, vertical_spacing=0.12)
    for layer, heads in enumerate(maps):
        for head in range(n_heads):
            fig.add_trace(go.Heatmap(z=heads[head], x=labels, y=labels, colorscale="Blues",
                                     zmin=0.0, zmax=1.0, showscale=layer == 0 and head == 0,
                                     hovertemplate="query %{y} → key %{x}: %{z:.2f}<extra></extra>"),
                          row=layer + 1, col=head + 1)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    fig.update_layout(height=300 * n_layers + 40, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def positional_encoding_figure(table: np.ndarray, kind: str = "sinusoidal") -> go.Figure:
    """Position vectors (T, d_model): one row per position, one column per dimension."""
    table = np.asarray(table)
    fig = go.Figure(go.Heatmap(z=table, colorscale="RdBu", zmid=0.0,
                               hovertemplate="position %{y}, dim %{x}: %{z:.3f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", title_text="position")
    fig.update_layout(title=f"{kind.capitalize()} positional encodings",
                      xaxis_title="embedding dimension", height=320,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def embeddings_figure(points: np.ndarray, labels: list[str]) -> go.Figure:
    """Token embeddings on their two main directions, each labelled with its token."""
    points = np.asarray(points)
    fig = go.Figure(go.Scatter(x=points[:, 0], y=points[:, 1], mode="markers+text", text=labels,
                               textposition="top center", marker={"size": 10, "color": "#1f77b4"},
                               hovertemplate="token %{text}<extra></extra>"))
    fig.update_layout(title="Token embeddings (2 main directions)", xaxis_title="direction 1",
                      yaxis_title="direction 2", height=320,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def token_prediction_figure(inputs: list[int], targets: list[int],
                            predicted: list[int]) -> go.Figure:
    """Input, target and prediction tokens as three rows; wrong predictions in red."""
    steps = len(inputs)
    right = np.array(predicted) == np.array(targets)
    z = np.array([np.ones(steps), np.ones(steps), np.where(right, 1.0, 0.0)])
    text = [[str(v) for v in row] for row in (inputs, targets, predicted)]
    fig = go.Figure(go.Heatmap(z=z, x=list(range(steps)), y=["input", "target", "prediction"],
                               colorscale=[[0, "#f4a6a6"], [1, "#e8f1fa"]], zmin=0, zmax=1,
                               text=text, texttemplate="%{text}", showscale=False, xgap=2, ygap=2,
                               hoverinfo="skip"))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=180, xaxis_title="position",
                      margin={"l": 10, "r": 10, "t": 20, "b": 10})
    return fig
