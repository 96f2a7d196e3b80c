"""Figures for the evaluation lesson: confusion matrices, ROC and precision-recall curves with the
chosen threshold marked, calibration, residuals, the accuracy paradox and the baseline table.
Pure functions: DataFrames from nnplay.evaluation.metrics / nnplay.evaluation.baselines in, plotly Figure out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

LINE = "#1f77b4"
MARK = "#d62728"
GUIDE = {"dash": "dot", "color": "gray"}
MARGIN = {"l": 50, "r": 20, "t": 50, "b": 45}


def confusion_matrix_figure(frame: pd.DataFrame, normalized: bool = False,
                            title: str = "Confusion matrix") -> go.Figure:
    """A heatmap of a confusion_frame, each cell labelled with its count (or share if normalized)."""
    z = frame.to_numpy(dtype=float)
    text = [[f"{v:.2f}" if normalized else f"{int(round(v))}" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(
        z=z, x=[str(c) for c in frame.columns], y=[str(i) for i in frame.index], text=text,
        texttemplate="%{text}", colorscale="Blues", showscale=True,
        colorbar={"thickness": 10, "title": "share" if normalized else "count"},
        hovertemplate="true %{y}<br>predicted %{x}<br>%{text}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="predicted class", yaxis_title="true class",
                      yaxis={"autorange": "reversed", "type": "category"},
                      xaxis={"type": "category"}, height=380, margin=MARGIN)
    return fig


def roc_figure(roc: pd.DataFrame, auc: float, point: tuple[float, float] | None = None,
               label: str = "positive class") -> go.Figure:
    """The ROC curve (true against false positive rate), the chance diagonal and the threshold's point."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=GUIDE, name="chance (AUC 0.5)"))
    fig.add_trace(go.Scatter(x=roc["fpr"], y=roc["tpr"], mode="lines", name=f"model (AUC {auc:.3f})",
                             line={"color": LINE, "width": 3}, customdata=roc["threshold"],
                             hovertemplate="FPR %{x:.3f}<br>TPR %{y:.3f}<br>threshold "
                                           "%{customdata:.3f}<extra></extra>"))
    if point is not None:
        fig.add_trace(go.Scatter(x=[point[0]], y=[point[1]], mode="markers", name="your threshold",
                                 marker={"size": 13, "color": MARK}))
    fig.update_layout(title=f"ROC curve for {label}", xaxis_title="false positive rate",
                      yaxis_title="true positive rate (recall)", height=380, margin=MARGIN,
                      xaxis={"range": [-0.02, 1.02]}, yaxis={"range": [-0.02, 1.02]},
                      legend={"orientation": "h", "y": -0.25})
    return fig


def pr_figure(pr: pd.DataFrame, average_precision: float, base_rate: float,
              point: tuple[float, float] | None = None, label: str = "positive class") -> go.Figure:
    """Precision against recall, the no-skill line at the base rate, and the threshold's point."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[base_rate, base_rate], mode="lines", line=GUIDE,
                             name=f"no skill (base rate {base_rate:.2f})"))
    fig.add_trace(go.Scatter(x=pr["recall"], y=pr["precision"], mode="lines",
                             name=f"model (AP {average_precision:.3f})",
                             line={"color": LINE, "width": 3, "shape": "hv"},
                             customdata=pr["threshold"],
                             hovertemplate="recall %{x:.3f}<br>precision %{y:.3f}<br>threshold "
                                           "%{customdata:.3f}<extra></extra>"))
    if point is not None:
        fig.add_trace(go.Scatter(x=[point[0]], y=[point[1]], mode="markers", name="your threshold",
                                 marker={"size": 13, "color": MARK}))
    fig.update_layout(title=f"Precision-recall curve for {label}", xaxis_title="recall",
                      yaxis_title="precision", height=380, margin=MARGIN,
                      xaxis={"range": [-0.02, 1.02]}, yaxis={"range": [-0.02, 1.05]},
                      legend={"orientation": "h", "y": -0.25})
    return fig


def calibration_figure(frame: pd.DataFrame, title: str = "Calibration") -> go.Figure:
    """Observed frequency against mean predicted probability per bin; the diagonal is perfect."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=GUIDE, name="perfectly calibrated"))
    fig.add_trace(go.Scatter(x=frame["mean_predicted"], y=frame["observed"], mode="lines+markers",
                             name="model", line={"color": LINE, "width": 3},
                             marker={"size": 6 + 14 * np.sqrt(frame["count"] / frame["count"].max())},
                             customdata=frame["count"],
                             hovertemplate="predicted %{x:.2f}<br>observed %{y:.2f}<br>"
                                           "%{customdata} rows<extra></extra>"))
    brier = frame.attrs.get("brier")
    suffix = f" (Brier score {brier:.3f})" if brier is not None else ""
    fig.update_layout(title=title + suffix, xaxis_title="mean predicted probability",
                      yaxis_title="observed frequency", height=380, margin=MARGIN,
                      xaxis={"range": [0, 1]}, yaxis={"range": [0, 1.02]},
                      legend={"orientation": "h", "y": -0.25})
    return fig


def predicted_actual_figure(frame: pd.DataFrame) -> go.Figure:
    """Predicted against actual values; points on the diagonal are perfect predictions."""
    lo = float(min(frame["actual"].min(), frame["predicted"].min()))
    hi = float(max(frame["actual"].max(), frame["predicted"].max()))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line=GUIDE, name="perfect"))
    fig.add_trace(go.Scatter(x=frame["actual"], y=frame["predicted"], mode="markers", name="rows",
                             marker={"color": LINE, "opacity": 0.7}))
    fig.update_layout(title="Predicted against actual", xaxis_title="actual",
                      yaxis_title="predicted", height=380, margin=MARGIN, showlegend=False)
    return fig


def residuals_figure(frame: pd.DataFrame) -> go.Figure:
    """Residual (actual - predicted) against the prediction: look for a pattern, not just spread."""
    fig = go.Figure(go.Scatter(x=frame["predicted"], y=frame["residual"], mode="markers",
                               marker={"color": LINE, "opacity": 0.7}, name="rows"))
    fig.add_hline(y=0, line=GUIDE)
    fig.update_layout(title="Residuals", xaxis_title="predicted", yaxis_title="actual - predicted",
                      height=380, margin=MARGIN, showlegend=False)
    return fig


def paradox_figure(frame: pd.DataFrame) -> go.Figure:
    """Grouped bars: accuracy, balanced accuracy, precision, recall and F1 for each model."""
    fig = go.Figure()
    for model, row in frame.iterrows():
        fig.add_trace(go.Bar(x=[c.replace("_", " ") for c in frame.columns], y=row.to_numpy(),
                             name=str(model), text=[f"{v:.2f}" for v in row], textposition="outside"))
    share = frame.attrs.get("positive_share")
    title = "The same rows, scored five ways"
    if share is not None:
        title += f" ({share:.1%} positive)"
    fig.update_layout(title=title, barmode="group", yaxis={"range": [0, 1.15]}, height=380,
                      margin=MARGIN, legend={"orientation": "h", "y": -0.2})
    return fig


def baselines_figure(summary: pd.DataFrame, metric: str) -> go.Figure:
    """Each model's k-fold mean (bar, ± one standard deviation) and its test score (marker)."""
    fig = go.Figure()
    fig.add_trace(go.Bar(x=summary.index, y=summary[f"{metric}_mean"], name="k-fold mean ± std",
                         error_y={"type": "data", "array": summary[f"{metric}_std"].fillna(0)},
                         marker={"color": LINE}))
    fig.add_trace(go.Scatter(x=summary.index, y=summary[f"test_{metric}"], mode="markers",
                             name="test split", marker={"color": MARK, "size": 12,
                                                        "symbol": "diamond"}))
    fig.update_layout(title=f"{metric.replace('_', ' ')} by model", yaxis_title=metric,
                      height=380, margin=MARGIN, legend={"orientation": "h", "y": -0.3})
    return fig
