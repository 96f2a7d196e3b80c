"""Figures for the Applications lesson: the IHC slide and its labels, ROC with the operating point,
reliability diagram, forecasts against the real moves, reconstruction errors of transactions, and
the support messages read right per difficulty. Pure functions: arrays and DataFrames in, plotly
Figure out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

LINE = "#1f77b4"
MARK = "#d62728"
GUIDE = {"dash": "dot", "color": "gray"}
MARGIN = {"l": 50, "r": 20, "t": 50, "b": 45}
MODEL_COLORS = {"naive": "#7f7f7f", "linear": "#ff7f0e", "lstm": "#1f77b4"}


def slide_figure(rgb: np.ndarray, mask: np.ndarray, test_blocks, block: int) -> go.Figure:
    """The IHC slide with its test blocks outlined, beside the DAB mask the labels come from."""
    fig = make_subplots(1, 2, subplot_titles=("The slide (test blocks outlined)",
                                              "Brown DAB stain above Otsu's threshold"),
                        horizontal_spacing=0.04)
    fig.add_trace(go.Image(z=rgb, hoverinfo="skip"), 1, 1)
    fig.add_trace(go.Heatmap(z=mask.astype(float), colorscale=[[0, "white"], [1, "#8c510a"]],
                             showscale=False, hoverinfo="skip"), 1, 2)
    for col in (1, 2):
        for r, c in test_blocks:
            fig.add_shape(type="rect", x0=c * block, x1=(c + 1) * block, y0=r * block,
                          y1=(r + 1) * block, line={"color": MARK, "width": 3}, row=1, col=col)
    side = rgb.shape[0]
    fig.update_xaxes(showticklabels=False, range=[0, side], constrain="domain")
    fig.update_yaxes(showticklabels=False, range=[side, 0], constrain="domain")
    fig.update_yaxes(scaleanchor="x", row=1, col=1)
    fig.update_yaxes(scaleanchor="x2", row=1, col=2)
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def examples_figure(images: np.ndarray, titles: list[str], columns: int = 8) -> go.Figure:
    """A grid of grey images (n, H, W) with a title over each."""
    n = len(images)
    rows = max(1, -(-n // columns))
    fig = make_subplots(rows, columns, subplot_titles=titles, horizontal_spacing=0.01,
                        vertical_spacing=0.08)
    for i, image in enumerate(images):
        fig.add_trace(go.Heatmap(z=image, colorscale="gray", showscale=False, hoverinfo="skip"),
                      i // columns + 1, i % columns + 1)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False, autorange="reversed")
    fig.update_layout(height=130 * rows + 40, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    fig.update_annotations(font_size=11)
    return fig


def operating_point_figure(roc: pd.DataFrame, auc: float, sensitivity: float, specificity: float,
                           target: float, label: str) -> go.Figure:
    """The ROC curve, the largest false positive rate allowed, and the point chosen there."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=GUIDE, name="chance"))
    fig.add_trace(go.Scatter(x=roc["fpr"], y=roc["tpr"], mode="lines",
                             name=f"model (AUC {auc:.3f})",
                             line={"color": LINE, "width": 3}, customdata=roc["threshold"],
                             hovertemplate="1 - specificity %{x:.3f}<br>sensitivity %{y:.3f}"
                                           "<br>threshold %{customdata:.3f}<extra></extra>"))
    fig.add_vline(x=1 - target, line=GUIDE, annotation_text=f"specificity {target:.0%}",
                  annotation_position="top right")
    if np.isfinite(sensitivity):
        fig.add_trace(go.Scatter(x=[1 - specificity], y=[sensitivity], mode="markers",
                                 marker={"size": 13, "color": MARK},
                                 name=f"sensitivity {sensitivity:.0%}"))
    fig.update_layout(title=f"ROC curve: finding '{label}'", height=380, margin=MARGIN,
                      xaxis_title="1 - specificity (false positive rate)",
                      yaxis_title="sensitivity (true positive rate)",
                      xaxis={"range": [-0.02, 1.02]}, yaxis={"range": [-0.02, 1.02]},
                      legend={"orientation": "h", "y": -0.25})
    return fig


def reliability_figure(calibration: pd.DataFrame, ece: float, label: str) -> go.Figure:
    """Observed frequency against mean predicted probability per bin (marker area ~ rows)."""
    size = 8 + 22 * np.sqrt(calibration["count"] / calibration["count"].max())
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=GUIDE,
                             name="perfectly calibrated"))
    fig.add_trace(go.Scatter(x=calibration["mean_predicted"], y=calibration["observed"],
                             mode="lines+markers", marker={"size": size, "color": LINE},
                             name=f"model (ECE {ece:.3f})", customdata=calibration["count"],
                             hovertemplate="predicted %{x:.2f}<br>observed %{y:.2f}<br>"
                                           "%{customdata} rows<extra></extra>"))
    fig.update_layout(title=f"Reliability of P({label})", height=380, margin=MARGIN,
                      xaxis_title="mean predicted probability", yaxis_title="observed frequency",
                      xaxis={"range": [-0.02, 1.02]}, yaxis={"range": [-0.02, 1.02]},
                      legend={"orientation": "h", "y": -0.25})
    return fig


def forecast_figure(dates: list[str], actual: np.ndarray, predictions: dict[str, np.ndarray],
                    titles: dict[str, str], last: int = 120) -> go.Figure:
    """The last ``last`` test days: the real next-day moves as bars, each forecast as a line."""
    dates, actual = list(dates)[-last:], np.asarray(actual)[-last:]
    fig = go.Figure(go.Bar(x=dates, y=actual, name="what happened",
                           marker_color=np.where(actual >= 0, "#9ecae1", "#fcbba1")))
    for name, pred in predictions.items():
        fig.add_trace(go.Scatter(x=dates, y=np.asarray(pred)[-last:], mode="lines",
                                 name=titles.get(name, name),
                                 line={"color": MODEL_COLORS.get(name), "width": 2}))
    fig.update_layout(title=f"Next-day moves and forecasts, last {len(dates)} test days",
                      xaxis_title="day", yaxis_title="log return (%)", height=380, margin=MARGIN,
                      legend={"orientation": "h", "y": -0.3}, bargap=0.1)
    return fig


def reconstruction_figure(errors: np.ndarray, labels: np.ndarray, threshold: float) -> go.Figure:
    """Histograms of log10 reconstruction error, normal and fraud, and the threshold."""
    log_err = np.log10(np.maximum(np.asarray(errors), 1e-6))
    labels = np.asarray(labels)
    bins = {"start": float(log_err.min()), "end": float(log_err.max()),
            "size": float((log_err.max() - log_err.min()) / 60 or 0.1)}
    fig = go.Figure()
    for value, name, color in ((0, "normal", "#9ecae1"), (1, "fraud", MARK)):
        fig.add_trace(go.Histogram(x=log_err[labels == value], name=name, xbins=bins,
                                   marker_color=color, opacity=0.75,
                                   histnorm="probability density"))
    fig.add_vline(x=float(np.log10(max(threshold, 1e-6))), line={"color": "black", "dash": "dash"},
                  annotation_text="threshold", annotation_position="top left")
    fig.update_layout(barmode="overlay", height=360, margin=MARGIN,
                      title="Reconstruction error of test transactions (generated data)",
                      xaxis_title="log10 reconstruction error", yaxis_title="density",
                      legend={"orientation": "h", "y": -0.25})
    return fig


def probe_figure(summary: pd.DataFrame) -> go.Figure:
    """Share of support messages read right per difficulty, with the counts on the bars."""
    fig = go.Figure(go.Bar(x=list(summary.index), y=summary["share_right"],
                           text=[f"{r} of {n}" for r, n in zip(summary["right"],
                                                               summary["messages"], strict=True)],
                           textposition="outside", marker_color=LINE))
    fig.update_layout(title="Support messages read right, by what makes them hard", height=340,
                      yaxis={"range": [0, 1.15], "tickformat": ".0%", "title": "read right"},
                      xaxis_title="difficulty", margin=MARGIN)
    return fig
