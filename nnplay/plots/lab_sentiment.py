"""Figures for Lab 3, sentiment with a transformer: pure functions, data in, plotly Figure out.

Token text comes from a person's sentence, so every token is HTML-escaped before it reaches a
figure (plotly reads a few HTML tags in text and labels).
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

TOKENS_PER_ROW = 10
METHOD_COLOURS = {"vader": "#9e9e9e", "tfidf": "#4c78a8", "frozen": "#f58518", "finetune": "#54a24b"}


def _safe(token: str) -> str:
    return html.escape(str(token), quote=False)


def _rows(values, width: int = TOKENS_PER_ROW) -> np.ndarray:
    """values laid out in rows of ``width``, the last row padded with NaN (drawn empty)."""
    values = np.asarray(values, dtype=float)
    n_rows = max(1, int(np.ceil(len(values) / width)))
    grid = np.full(n_rows * width, np.nan)
    grid[: len(values)] = values
    return grid.reshape(n_rows, width)


def token_strip_figure(tokens, values, labels=None, title: str = "", signed: bool = False,
                       colorbar: str = "", scale: dict | None = None) -> go.Figure:
    """Tokens in reading order, TOKENS_PER_ROW a row, each box coloured by its value.

    ``signed``: a red/blue scale centred on 0 (towards / against); else white to orange;
    ``scale`` gives plotly's colorscale, zmin and zmax instead. ``labels`` (one line per token,
    e.g. its id or its value) go under the token.
    """
    tokens = [_safe(t) for t in tokens]
    labels = [_safe(x) for x in (labels or [""] * len(tokens))]
    text = [f"<b>{t}</b><br>{lab}" if lab else f"<b>{t}</b>" for t, lab in zip(tokens, labels)]
    z = _rows(values)
    grid_text = np.full(z.size, "", dtype=object)
    grid_text[: len(text)] = text
    grid_text = grid_text.reshape(z.shape)
    limit = float(np.nanmax(np.abs(values))) if len(tokens) and np.any(np.abs(values) > 0) else 1.0
    if scale is None:
        scale = dict(colorscale="RdBu_r", zmin=-limit, zmax=limit, zmid=0.0) if signed else \
            dict(colorscale="Oranges", zmin=0.0, zmax=limit)
    fig = go.Figure(go.Heatmap(z=z, text=grid_text, texttemplate="%{text}", hoverinfo="text",
                               textfont=dict(size=13), xgap=3, ygap=3,
                               showscale=bool(colorbar), colorbar=dict(title=colorbar), **scale))
    fig.update_layout(title=title, height=70 + 56 * z.shape[0], margin=dict(l=10, r=10, t=40, b=10))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed")
    return fig


def tokenizer_figure(view) -> go.Figure:
    """The tokenizer's output: each subword token with its id; pieces of one word share a shade."""
    shade = np.asarray(view.words, dtype=float) % 2
    return token_strip_figure(view.tokens, shade, [str(i) for i in view.ids],
                              title=f"{len(view.tokens)} tokens (id under each)",
                              scale=dict(colorscale=[[0, "#dbe9f6"], [1, "#fde0c5"]], zmin=0,
                                         zmax=1))


def attention_heads_figure(layer_maps: np.ndarray, tokens, layer: int) -> go.Figure:
    """One layer's attention, a heatmap per head: row = the token reading, column = the token
    read; every row sums to 1."""
    heads = len(layer_maps)
    cols = 4
    rows = int(np.ceil(heads / cols))
    labels = [f"{i}:{_safe(t)}" for i, t in enumerate(tokens)]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[f"head {h + 1}" for h in range(heads)],
                        horizontal_spacing=0.03, vertical_spacing=0.08)
    for h in range(heads):
        fig.add_trace(go.Heatmap(z=layer_maps[h], x=labels, y=labels, zmin=0.0, zmax=1.0,
                                 colorscale="Blues", showscale=h == 0,
                                 colorbar=dict(title="weight"),
                                 hovertemplate="%{y} reads %{x}: %{z:.2f}<extra></extra>"),
                      row=h // cols + 1, col=h % cols + 1)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False, autorange="reversed")
    fig.update_layout(title=f"Layer {layer + 1}: attention of each head (hover for the tokens)",
                      height=230 * rows + 80, margin=dict(l=10, r=10, t=70, b=10))
    return fig


def probabilities_figure(proba, class_names) -> go.Figure:
    """The model's class probabilities for the sentence, as bars."""
    names = [_safe(c) for c in class_names]
    fig = go.Figure(go.Bar(x=list(np.asarray(proba, dtype=float)), y=names, orientation="h",
                           text=[f"{p:.1%}" for p in proba], textposition="auto",
                           marker_color="#4c78a8"))
    fig.update_layout(xaxis=dict(range=[0, 1], title="probability"), height=60 + 40 * len(names),
                      margin=dict(l=10, r=10, t=10, b=40))
    return fig


def comparison_figure(table, short_titles: dict | None = None) -> go.Figure:
    """Accuracy and macro F1 per method (bars), training seconds under each name."""
    done = table[table["accuracy"].notna()]
    titles = [(short_titles or {}).get(k, m) for k, m in zip(done.index, done["method"])]
    names = [f"{m}<br>({s:.1f} s to train)" for m, s in zip(titles, done["train_seconds"])]
    fig = go.Figure()
    for column, title, opacity in (("accuracy", "accuracy", 1.0), ("macro_f1", "macro F1", 0.55)):
        fig.add_trace(go.Bar(x=names, y=done[column], name=title, opacity=opacity,
                             marker_color=[METHOD_COLOURS.get(k, "#888") for k in done.index],
                             text=[f"{v:.3f}" for v in done[column]], textposition="outside"))
    fig.update_layout(barmode="group", yaxis=dict(range=[0, 1.08], title="score on the test split"),
                      height=420, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=1.08))
    return fig


def loss_curve_figure(history, window: int = 10) -> go.Figure:
    """Fine-tuning loss per step (one mini-batch each, noisy) and its running mean."""
    steps = [h["step"] for h in history]
    loss = np.array([h["loss"] for h in history], dtype=float)
    fig = go.Figure(go.Scatter(x=steps, y=loss, mode="lines", name="loss of the step's batch",
                               line=dict(color="#bbbbbb")))
    if len(loss):
        kernel = np.ones(min(window, len(loss)))
        mean = np.convolve(loss, kernel, "full")[: len(loss)] / np.convolve(
            np.ones(len(loss)), kernel, "full")[: len(loss)]
        fig.add_trace(go.Scatter(x=steps, y=mean, mode="lines", line=dict(color="#54a24b"),
                                 name=f"mean of the last {len(kernel)} steps"))
    fig.update_layout(xaxis_title="step", yaxis_title="cross-entropy loss", height=330,
                      margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.1))
    return fig
