"""Figures for the compression lesson: the test metric against size or latency with the Pareto
front marked, accuracy against sparsity, and the lottery-ticket comparison. Pure functions:
tables from nnplay.production.compress in, plotly Figure out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

TECHNIQUE_COLORS = {"baseline": "#636efa", "quantization": "#ef553b", "pruning": "#00cc96",
                    "pruning + quantization": "#ab63fa"}
RUNTIME_SYMBOLS = {"PyTorch eager": "circle", "torch.compile": "diamond",
                   "ONNX Runtime": "square"}


def _layout(fig: go.Figure, title: str, height: int = 420, **axes) -> go.Figure:
    fig.update_layout(title=title, height=height, margin={"l": 50, "r": 20, "t": 60, "b": 40},
                      legend={"orientation": "h", "y": -0.22}, **axes)
    return fig


def _name(row) -> str:
    runtime = row.get("runtime", "")
    return row["variant"] if runtime in ("PyTorch eager", "ONNX Runtime", "") \
        else f"{row['variant']}, {runtime}"


def log_ticks(values) -> list[float]:
    """1-2-5 steps (…, 10, 20, 50, 100, …) spanning ``values``: readable marks on a log axis."""
    v = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if not len(v):
        return []
    low, high = np.floor(np.log10(v.min())), np.ceil(np.log10(v.max()))
    ticks = [m * 10.0 ** e for e in range(int(low), int(high) + 1) for m in (1, 2, 5)]
    inside = [t for t in ticks if v.min() / 2.5 <= t <= v.max() * 2.5]
    return inside or [float(v.min())]


def pareto_figure(table: pd.DataFrame, x: str, front: Sequence[bool], x_title: str,
                  metric: str = "accuracy", log_x: bool = True, title: str = "") -> go.Figure:
    """The metric (column ``score``) against column ``x``, one marker per measured variant
    (colour: technique, shape: runtime); the Pareto front (``front``, one flag per row of
    ``table``) joined by a line and outlined. Rows without a value are left out."""
    frame = table.assign(_front=list(front))
    frame = frame[pd.to_numeric(frame[x], errors="coerce").notna()
                  & pd.to_numeric(frame["score"], errors="coerce").notna()]
    fig = go.Figure()
    for (technique, runtime), part in frame.groupby(["technique", "runtime"], sort=False):
        names = [_name(r) for _, r in part.iterrows()]
        fig.add_trace(go.Scatter(
            x=part[x], y=part["score"], mode="markers", name=f"{technique}, {runtime}",
            text=names,
            marker={"size": 11, "color": TECHNIQUE_COLORS.get(technique, "#7f7f7f"),
                    "symbol": RUNTIME_SYMBOLS.get(runtime, "circle"),
                    "line": {"width": [2.5 if f else 0 for f in part["_front"]],
                             "color": "black"}},
            hovertemplate=f"%{{text}}<br>{x_title} %{{x:.4g}}<br>{metric} %{{y:.4f}}"
                          "<extra></extra>"))
    best = frame[frame["_front"]].sort_values(x)
    if len(best):
        fig.add_trace(go.Scatter(x=best[x], y=best["score"], mode="lines", name="Pareto front",
                                 line={"color": "black", "dash": "dot", "shape": "hv"},
                                 hoverinfo="skip"))
    xaxis = {"title": x_title + (" (log scale)" if log_x else ""),
             "type": "log" if log_x else "linear"}
    if log_x:
        ticks = log_ticks(frame[x])
        xaxis.update(tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])
    return _layout(fig, title or f"{metric.capitalize()} against {x_title}", xaxis=xaxis,
                   yaxis={"title": f"test {metric}"})


def sparsity_figure(curve: pd.DataFrame, metric: str = "accuracy") -> go.Figure:
    """The test metric against the share of weights set to zero (a sparsity_curve table)."""
    fig = go.Figure(go.Scatter(x=curve["sparsity"], y=curve["score"], mode="lines+markers",
                               name="global magnitude pruning",
                               hovertemplate="sparsity %{x:.0%}<br>" + metric
                                             + " %{y:.4f}<extra></extra>"))
    return _layout(fig, f"Test {metric} as more weights become zero (no retraining)",
                   height=340, xaxis={"title": "share of weights set to zero",
                                      "tickformat": ".0%"},
                   yaxis={"title": f"test {metric}"})


def lottery_figure(table: pd.DataFrame, metric: str = "accuracy") -> go.Figure:
    """One bar per network of the lottery-ticket experiment (columns model, sparsity, score)."""
    scores = pd.to_numeric(table["score"], errors="coerce")
    fig = go.Figure(go.Bar(
        x=table["model"], y=scores, text=[f"{v:.3f}" if np.isfinite(v) else "diverged"
                                          for v in scores],
        textposition="outside", marker_color=["#636efa", "#7f7f7f", "#00cc96", "#ef553b"][
            :len(table)],
        hovertemplate="%{x}<br>" + metric + " %{y:.4f}<extra></extra>"))
    low = float(np.nanmin(scores)) if scores.notna().any() else 0.0
    return _layout(fig, "Lottery ticket: the same mask, two starting points", height=380,
                   yaxis={"title": f"test {metric}", "range": [max(0.0, low - 0.1), 1.02]
                          if metric == "accuracy" else None},
                   xaxis={"title": ""})
