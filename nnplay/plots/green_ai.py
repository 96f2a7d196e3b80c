"""Figures for the Green AI lesson: accuracy against energy and FLOPs for each architecture, and a
run's CO2 next to Strubell et al.'s published figures. Pure functions: tables in, plotly Figure
out.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nnplay.train.green import J_PER_KWH, format_co2

COLORS = ("#7f7f7f", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b")
MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def efficiency_figure(results: pd.DataFrame) -> go.Figure:
    """Test accuracy against training energy (joules) and against training FLOPs, both on log
    axes, one labelled point per architecture: up and to the left is efficient.
    results: EfficiencyRace.results_."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("Accuracy against energy", "Accuracy against FLOPs"))
    for i, row in enumerate(results.itertuples()):
        color = COLORS[i % len(COLORS)]
        for col, x in ((1, row.energy_kwh * J_PER_KWH if pd.notna(row.energy_kwh) else None),
                       (2, row.flops if pd.notna(row.flops) else None)):
            if x is None:
                continue
            fig.add_trace(go.Scatter(x=[x], y=[row.test_accuracy], mode="markers+text",
                                     name=row.architecture, legendgroup=row.architecture,
                                     showlegend=col == 1, text=[row.architecture],
                                     textposition="top center",
                                     marker={"size": 12, "color": color}), row=1, col=col)
    fig.update_xaxes(type="log", title_text="training energy (J, log scale)", row=1, col=1)
    fig.update_xaxes(type="log", title_text="training FLOPs (log scale)", row=1, col=2)
    fig.update_yaxes(tickformat=".0%", title_text="test accuracy", row=1, col=1)
    fig.update_layout(height=420, margin=MARGIN, legend={"orientation": "h", "y": -0.25})
    return fig


def perspective_figure(table: pd.DataFrame, yours_kg: float, label: str) -> go.Figure:
    """Kilograms of CO2e on a log axis: ``label`` (yours) and Strubell et al.'s rows.
    table: green_ai.perspective(...) or strubell_table()."""
    names = [label] + list(table["what"])
    values = [yours_kg] + list(table["kg_co2e"])
    colors = ["#2ca02c"] + ["#1f77b4" if k == "training" else "#bbbbbb" for k in table["kind"]]
    fig = go.Figure(go.Bar(x=values, y=names, orientation="h", marker_color=colors,
                           text=[format_co2(v) for v in values], textposition="outside",
                           cliponaxis=False))
    fig.update_layout(height=60 + 36 * len(names), margin={**MARGIN, "t": 10, "r": 80},
                      xaxis={"type": "log", "title": "kg CO2e (log scale)"},
                      yaxis={"autorange": "reversed"})
    return fig
