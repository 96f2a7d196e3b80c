"""Figures for the monitoring lesson: what the scenario changed, drift per column and window,
realised against estimated accuracy, latency and throughput, the reliability of the model on the
reference, the sample-size demonstration, and old against retrained model. Pure functions:
tables from nnplay.production.monitor and nnplay.lessons.monitoring in, plotly Figure out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

BLUE, ORANGE, GREEN, RED, GREY = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#7f7f7f"
GUIDE = {"dash": "dot", "color": GREY}
MARGIN = {"l": 50, "r": 20, "t": 60, "b": 45}
SEVERITY_MAX = 3.0
# 0 = no evidence, 1 = on the alarm line (white), above = drift (orange to red)
SEVERITY_SCALE = [[0.0, "#deebf7"], [1 / SEVERITY_MAX - 1e-6, "#f7fbff"],
                  [1 / SEVERITY_MAX, "#fdd0a2"], [0.66, "#f16913"], [1.0, "#a50f15"]]


def _layout(fig: go.Figure, title: str, height: int = 360, margin: dict | None = None,
            **kw) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=margin or MARGIN,
                      legend={"orientation": "h", "y": -0.2}, **kw)
    return fig


def _start_line(fig: go.Figure, start: int | None, **kw) -> None:
    if start is not None and start > 0:
        fig.add_vline(x=start - 0.5, line={"dash": "dash", "color": GREY},
                      annotation_text="drift starts", annotation_position="top left", **kw)


def scenario_figure(trace: pd.DataFrame, start: int | None = None) -> go.Figure:
    """The quantity a scenario changes, per window, against its value in the training data
    (nnplay.production.monitor.scenario_trace)."""
    what = str(trace["what"].iloc[0]) if len(trace) else ""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=trace["window"], y=trace["reference"], mode="lines",
                             line=GUIDE, name="training data"))
    fig.add_trace(go.Scatter(x=trace["window"], y=trace["value"], mode="lines+markers",
                             line={"color": BLUE, "width": 3}, name="stream",
                             hovertemplate="window %{x}<br>%{y:.3f}<extra></extra>"))
    _start_line(fig, start)
    return _layout(fig, "What the scenario changes", height=300, xaxis_title="window",
                   yaxis_title=what[:60])


def drift_heatmap_figure(drift: pd.DataFrame, start: int | None = None) -> go.Figure:
    """Columns x windows, coloured by how far each test is past its alarm line (1 = on it:
    log p / log 0.05 for tests, distance / 0.1 for distances); drifted cells are marked."""
    columns = list(dict.fromkeys(drift["column"]))
    windows = sorted(drift["window"].unique())
    table = drift.set_index(["column", "window"])
    z, text, hover = [], [], []
    for c in columns:
        zr, tr, hr = [], [], []
        for w in windows:
            r = table.loc[(c, w)]
            zr.append(min(float(r["severity"]), SEVERITY_MAX))
            tr.append("●" if r["drifted"] else "")
            stat = "∞" if pd.isna(r["statistic"]) else f"{r['statistic']:.3g}"
            p = "" if pd.isna(r["p_value"]) else f", p = {r['p_value']:.3g}"
            hr.append(f"{r['test_name']}: {stat}{p} (alarm line {r['threshold']:g})<br>"
                      f"PSI {r['psi']:.3f} ({r['psi_band']})")
        z.append(zr)
        text.append(tr)
        hover.append(hr)
    fig = go.Figure(go.Heatmap(
        z=z, x=windows, y=columns, text=text, texttemplate="%{text}", customdata=hover,
        zmin=0, zmax=SEVERITY_MAX, colorscale=SEVERITY_SCALE, xgap=1, ygap=1,
        colorbar={"title": "past the<br>alarm line", "thickness": 10,
                  "tickvals": [0, 1, 2, 3], "ticktext": ["0", "1 (alarm)", "2", "3+"]},
        hovertemplate="%{y}, window %{x}<br>%{customdata}<extra></extra>"))
    _start_line(fig, start)
    return _layout(fig, "Drift per column and window (● = drift)",
                   height=max(300, 16 * len(columns) + 140), xaxis_title="window",
                   xaxis={"dtick": 1}, yaxis={"autorange": "reversed", "type": "category"})


def accuracy_figure(windows: pd.DataFrame, reference_accuracy: float, accuracy_drop: float,
                    label_delay: int, start: int | None = None) -> go.Figure:
    """Realised accuracy (once labels arrive) and the estimate from calibrated confidence, per
    window, with the reference's accuracy and the alert line below it."""
    fig = go.Figure()
    n = len(windows)
    if label_delay > 0:
        fig.add_vrect(x0=n - label_delay - 0.5, x1=n - 0.5, fillcolor=GREY, opacity=0.12,
                      line_width=0, annotation_text="labels not here yet",
                      annotation_position="top left")
    fig.add_hline(y=reference_accuracy, line=GUIDE,
                  annotation_text=f"reference {reference_accuracy:.1%}",
                  annotation_position="bottom right")
    fig.add_hline(y=reference_accuracy - accuracy_drop, line={"dash": "dash", "color": RED},
                  annotation_text="alert below", annotation_position="bottom left")
    fig.add_trace(go.Scatter(x=windows["window"], y=windows["estimated_accuracy"],
                             mode="lines+markers", name="estimated (calibrated confidence)",
                             line={"color": ORANGE, "width": 3, "dash": "dot"},
                             hovertemplate="window %{x}<br>estimated %{y:.1%}<extra></extra>"))
    labelled = windows[windows["labelled"]]
    fig.add_trace(go.Scatter(x=labelled["window"], y=labelled["realised_accuracy"],
                             mode="lines+markers", name="realised (labels arrived)",
                             line={"color": BLUE, "width": 3},
                             hovertemplate="window %{x}<br>realised %{y:.1%}<extra></extra>"))
    _start_line(fig, start)
    low = min(windows["estimated_accuracy"].min(), labelled["realised_accuracy"].min()
              if len(labelled) else 1.0, reference_accuracy - accuracy_drop)
    return _layout(fig, "Accuracy over time", xaxis_title="window", xaxis={"dtick": 1},
                   yaxis={"title": "accuracy", "tickformat": ".0%",
                          "range": [max(0.0, low - 0.08), 1.02]})


def latency_figure(windows: pd.DataFrame) -> go.Figure:
    """Latency per request (p50, p95, in ms) and throughput per batch (rows/s), per window."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for col, name, color in (("latency_p50_ms", "latency p50", BLUE),
                             ("latency_p95_ms", "latency p95", RED)):
        fig.add_trace(go.Scatter(x=windows["window"], y=windows[col], mode="lines+markers",
                                 name=name, line={"color": color},
                                 hovertemplate=f"window %{{x}}<br>{name} %{{y:.3f}} ms"
                                               "<extra></extra>"), secondary_y=False)
    fig.add_trace(go.Bar(x=windows["window"], y=windows["throughput_rows_per_s"],
                         name="throughput (batch)", marker={"color": GREEN}, opacity=0.3,
                         hovertemplate="window %{x}<br>%{y:,.0f} rows/s<extra></extra>"),
                  secondary_y=True)
    fig.update_yaxes(title_text="latency per request (ms)", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(title_text="rows per second", rangemode="tozero", secondary_y=True,
                     showgrid=False)
    return _layout(fig, "Latency and throughput", height=320, xaxis_title="window",
                   xaxis={"dtick": 1})


def reliability_figure(reliability: pd.DataFrame, calibration_map: pd.DataFrame) -> go.Figure:
    """The model's reliability on the reference (confidence against how often it is right, per
    bin) and the isotonic map that calibrates it; the diagonal is perfect calibration."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=GUIDE,
                             name="perfectly calibrated"))
    sizes = 6 + 14 * np.sqrt(reliability["count"] / max(reliability["count"].max(), 1))
    fig.add_trace(go.Scatter(x=reliability["mean_predicted"], y=reliability["observed"],
                             mode="lines+markers", name="model on the reference",
                             line={"color": BLUE, "width": 3}, marker={"size": sizes},
                             customdata=reliability["count"],
                             hovertemplate="confidence %{x:.2f}<br>right %{y:.0%} of "
                                           "%{customdata} rows<extra></extra>"))
    fig.add_trace(go.Scatter(x=calibration_map["confidence"], y=calibration_map["calibrated"],
                             mode="lines", name="calibration map (isotonic)",
                             line={"color": ORANGE, "shape": "hv"}))
    return _layout(fig, "Reliability on the reference", height=360,
                   xaxis={"title": "confidence (largest class probability)", "range": [0, 1.02]},
                   yaxis={"title": "share right", "range": [0, 1.02]})


def sample_size_figure(demo: pd.DataFrame) -> go.Figure:
    """Alarm rates of each test, unshifted and slightly shifted, one panel per sample size;
    the test the 1,000-row rule picks is drawn solid, the others faded."""
    sizes = sorted(demo["n"].unique())
    fig = make_subplots(rows=1, cols=len(sizes), shared_yaxes=True,
                        subplot_titles=[f"{n:,} rows in each sample" for n in sizes])
    colors = dict(zip(dict.fromkeys(demo["test"]), (BLUE, ORANGE, GREEN)))
    for i, n in enumerate(sizes, start=1):
        part = demo[demo["n"] == n]
        for test, rows in part.groupby("test", sort=False):
            chosen = bool(rows["chosen"].iloc[0])
            fig.add_trace(go.Bar(
                x=rows["data"], y=rows["alarm_rate"], name=test, legendgroup=test,
                showlegend=i == 1,
                marker={"color": colors[test], "opacity": 1.0 if chosen else 0.35},
                text=[f"{r:.0%}" for r in rows["alarm_rate"]], textposition="outside",
                customdata=rows["repeats"],
                hovertemplate=f"{test}<br>%{{x}}<br>alarms in %{{y:.0%}} of %{{customdata}} "
                              f"repeats{' (the rule picks this test)' if chosen else ''}"
                              "<extra></extra>"), row=1, col=i)
        fig.add_hline(y=0.05, line=GUIDE, row=1, col=i)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.15], title_text="share of repeats with an "
                     "alarm", row=1, col=1)
    return _layout(fig, "Alarm rates by sample size (solid: the test the rule picks there)",
                   height=400, margin={**MARGIN, "t": 90}, barmode="group")


def retrain_figure(comparison: pd.DataFrame) -> go.Figure:
    """Accuracy of the old and the retrained model on each of the latest windows and on all."""
    fig = go.Figure()
    for col, name, color in (("old_accuracy", "current model", GREY),
                             ("new_accuracy", "retrained on recent data", GREEN)):
        fig.add_trace(go.Bar(x=comparison["window"], y=comparison[col], name=name,
                             marker={"color": color},
                             text=[f"{v:.1%}" for v in comparison[col]], textposition="outside",
                             customdata=comparison["rows"],
                             hovertemplate=f"{name}<br>window %{{x}}: %{{y:.1%}} of "
                                           "%{customdata} rows<extra></extra>"))
    return _layout(fig, "Old and retrained model on the latest windows", height=340,
                   barmode="group", xaxis={"title": "window", "type": "category"},
                   yaxis={"title": "accuracy", "tickformat": ".0%", "range": [0, 1.12]})
