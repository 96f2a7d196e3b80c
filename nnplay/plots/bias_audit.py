"""Figures for the bias audit: base rates per group, per-group model metrics, the fairness gaps
with their bootstrap intervals, and the fairness-against-accuracy trade-off of mitigations.
Pure functions: tables from nnplay.responsible.fairness in, plotly Figure out.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

METRIC_LABELS = {"selection_rate": "selection rate", "accuracy": "accuracy",
                 "tpr": "true positive rate", "fpr": "false positive rate",
                 "precision": "precision"}
GAP_LABELS = {"demographic_parity_difference": "demographic parity difference",
              "demographic_parity_ratio": "demographic parity ratio",
              "equalized_odds_difference": "equalized odds difference"}
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
FOUR_FIFTHS = 0.8


def _layout(fig: go.Figure, title: str, height: int = 380, **axes) -> go.Figure:
    fig.update_layout(title=title, height=height, margin={"l": 40, "r": 20, "t": 60, "b": 40},
                      legend={"orientation": "h", "y": -0.2}, **axes)
    return fig


def base_rate_figure(table: pd.DataFrame) -> go.Figure:
    """Bars of each group's base rate (share with the favourable label), sizes in the labels.

    ``table`` is nnplay.responsible.fairness.data_audit's output; its "overall" row becomes a dashed line.
    """
    groups = table.drop(index="overall", errors="ignore")
    fig = go.Figure(go.Bar(
        x=[str(g) for g in groups.index], y=groups["base_rate"], marker_color=COLORS[0],
        text=[f"{r:.0%} of {n}" for r, n in zip(groups["base_rate"], groups["count"],
                                                strict=True)],
        textposition="outside", name="base rate",
        hovertemplate="%{x}<br>base rate %{y:.3f}<extra></extra>"))
    if "overall" in table.index:
        fig.add_hline(y=float(table.loc["overall", "base_rate"]), line={"dash": "dash"},
                      annotation_text="overall", annotation_position="top left")
    return _layout(fig, "Base rate per group in the training data",
                   yaxis={"title": "share with the favourable label", "range": [0, 1.1]},
                   xaxis_title=str(table.index.name or "group"))


def group_metrics_figure(by_group: pd.DataFrame,
                         metrics: Sequence[str] = ("selection_rate", "accuracy", "tpr", "fpr",
                                                   "precision")) -> go.Figure:
    """Grouped bars: one colour per metric, one cluster per group."""
    fig = go.Figure()
    for color, metric in zip(COLORS, metrics, strict=False):
        fig.add_trace(go.Bar(x=[str(g) for g in by_group.index], y=by_group[metric],
                             name=METRIC_LABELS.get(metric, metric), marker_color=color,
                             hovertemplate="%{x}<br>%{y:.3f}<extra>" +
                             METRIC_LABELS.get(metric, metric) + "</extra>"))
    return _layout(fig, "Model metrics per group (test split)", barmode="group",
                   yaxis={"title": "rate", "range": [0, 1.05]},
                   xaxis_title=str(by_group.index.name or "group"))


def gap_intervals_figure(gaps: pd.DataFrame) -> go.Figure:
    """Each fairness gap as a point with its bootstrap interval (when ``gaps`` has low/high).

    The ratio gets the four-fifths line: below it, the lowest selection rate is less than 80%
    of the highest.
    """
    labels = [GAP_LABELS.get(name, name) for name in gaps.index]
    error = None
    if {"low", "high"} <= set(gaps.columns):
        error = {"type": "data", "symmetric": False,
                 "array": (gaps["high"] - gaps["estimate"]).clip(lower=0),
                 "arrayminus": (gaps["estimate"] - gaps["low"]).clip(lower=0)}
    fig = go.Figure(go.Scatter(x=gaps["estimate"], y=labels, mode="markers", error_x=error,
                               marker={"size": 12, "color": COLORS[3]}, name="estimate",
                               hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.add_vline(x=FOUR_FIFTHS, line={"dash": "dot", "color": "gray"},
                  annotation_text="four-fifths (ratio)", annotation_position="top")
    return _layout(fig, "Fairness gaps with 95% bootstrap intervals" if error
                   else "Fairness gaps", height=300,
                   xaxis={"title": "value (differences: 0 is fair; ratio: 1 is fair)",
                          "range": [0, 1.05]})


def fairness_accuracy_figure(table: pd.DataFrame,
                             gap: str = "demographic_parity_difference") -> go.Figure:
    """Each method (rows of nnplay.responsible.fairness.comparison_table) as a point: the gap against
    accuracy. Left and up is better."""
    fig = go.Figure()
    for color, (method, row) in zip(COLORS * 4, table.iterrows(), strict=False):
        fig.add_trace(go.Scatter(x=[row[gap]], y=[row["accuracy"]], mode="markers+text",
                                 text=[str(method)], textposition="top center", name=str(method),
                                 marker={"size": 14, "color": color},
                                 hovertemplate=f"{method}<br>gap %{{x:.3f}}<br>accuracy "
                                               "%{y:.3f}<extra></extra>"))
    lo, hi = float(table["accuracy"].min()), float(table["accuracy"].max())
    return _layout(fig, "Fairness against accuracy: mitigations compared",
                   xaxis={"title": GAP_LABELS.get(gap, gap) + " (lower is fairer)",
                          "rangemode": "tozero"},
                   yaxis={"title": "test accuracy", "range": [lo - 0.05, hi + 0.05]},
                   showlegend=False)
