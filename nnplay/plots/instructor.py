"""The instructor page's figure: each learner's best test loss on one exercise, as bars, the best
at the top. Pure: the leaderboard table in, Figure out. Names are learners' own text, so every
one is HTML-escaped (plotly reads tags and links in labels) and cut to a readable length."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

NAME_CHARS = 24


def shown_name(name) -> str:
    """A learner's name as a plotly label: escaped, never markup, at most NAME_CHARS shown."""
    text = str(name)
    text = text if len(text) <= NAME_CHARS else text[:NAME_CHARS - 1] + "…"
    return html.escape(text, quote=True)


def leaderboard_figure(table: pd.DataFrame, top: int = 20) -> go.Figure:
    """``table`` is ClassStore.leaderboard(): rank, learner, test_loss, ... best first. The first
    ``top`` learners as horizontal bars of test loss (shorter is better); a diverged run's
    infinite loss is left out and said in the title."""
    board = table.head(top)
    finite = board[np.isfinite(board["test_loss"].astype(float))]
    labels = [f"{int(r)}. {shown_name(n)}" for r, n in zip(finite["rank"], finite["learner"])]
    fig = go.Figure(go.Bar(x=finite["test_loss"].astype(float), y=labels, orientation="h",
                           marker_color="#1f77b4",
                           text=[f"{v:.4f}" for v in finite["test_loss"]], textposition="auto",
                           hovertemplate="%{y}: test loss %{x:.4f}<extra></extra>"))
    left_out = len(board) - len(finite)
    title = f"Best test loss per learner (top {len(board)})"
    if left_out:
        title += f"; {left_out} diverged, not drawn"
    fig.update_layout(title=title, xaxis_title="test loss (lower is better)",
                      yaxis=dict(autorange="reversed"), height=120 + 28 * max(len(finite), 1),
                      margin=dict(l=10, r=10, t=50, b=40), showlegend=False)
    return fig
