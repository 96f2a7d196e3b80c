"""Federated-learning figures: each client's class mix under both splits, test accuracy per
round of FedAvg (IID and non-IID) against central training, and accuracy against the bytes that
travelled. Pure: numbers in, Figure out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

SETTING_STYLE = {"iid": ("#1f77b4", "solid"), "shards": ("#d62728", "solid"),
                 "central": ("#7f7f7f", "dash")}
CLASS_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                "#7f7f7f", "#bcbd22", "#17becf")


def class_mix_figure(counts: dict[str, np.ndarray], class_names: Sequence[str],
                     titles: dict[str, str] | None = None) -> go.Figure:
    """One panel per split: a stacked bar per client, its rows of each class."""
    titles = titles or {}
    names = list(counts)
    fig = make_subplots(rows=1, cols=len(names), shared_yaxes=True, horizontal_spacing=0.05,
                        subplot_titles=[titles.get(n, n) for n in names])
    for col, name in enumerate(names, start=1):
        table = np.asarray(counts[name])
        clients = [str(k) for k in range(len(table))]
        for c, label in enumerate(class_names):
            fig.add_trace(go.Bar(x=clients, y=table[:, c], name=f"digit {label}",
                                 legendgroup=str(c), showlegend=col == 1,
                                 marker={"color": CLASS_COLORS[c % len(CLASS_COLORS)]},
                                 hovertemplate=f"client %{{x}}: %{{y}} rows of {label}<extra></extra>"),
                          row=1, col=col)
    fig.update_yaxes(title_text="training rows", row=1, col=1)
    fig.update_xaxes(title_text="client", type="category",
                     showticklabels=len(next(iter(counts.values()))) <= 30)
    fig.update_layout(barmode="stack", height=340, bargap=0.15,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h", "y": -0.15})
    return fig


def accuracy_per_round_figure(history: pd.DataFrame, titles: dict[str, str] | None = None,
                              x: str = "round") -> go.Figure:
    """Test accuracy per round (or against ``x``, e.g. megabytes sent) for each setting."""
    titles = titles or {}
    fig = go.Figure()
    for setting, rows in history.groupby("setting", sort=False):
        if x not in rows or rows[x].isna().all():
            continue
        color, dash = SETTING_STYLE.get(setting, ("#9467bd", "solid"))
        fig.add_trace(go.Scatter(x=rows[x], y=rows["accuracy"], mode="lines+markers",
                                 name=titles.get(setting, setting),
                                 line={"color": color, "dash": dash}, marker={"size": 4},
                                 hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    fig.update_yaxes(title_text="test accuracy", tickformat=".0%", rangemode="tozero")
    fig.update_xaxes(title_text={"round": "round", "megabytes": "megabytes sent so far"}.get(x, x))
    fig.update_layout(height=380, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      legend={"orientation": "h", "y": 1.1})
    return fig
