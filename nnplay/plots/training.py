"""Training curves: live loss/metric/learning-rate/gradient-norm panels, and runs overlaid;
shared by every page that trains.

Pure functions: a history (the Trainer's list of per-epoch dicts) in, a plotly Figure out.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

TRAIN_COLOR, VAL_COLOR = "#1f77b4", "#d62728"
METRIC_TITLES = {"loss": "train loss", "val_loss": "validation loss", "accuracy": "train accuracy",
                 "val_accuracy": "validation accuracy", "val_rmse": "validation RMSE",
                 "val_r2": "validation R²", "lr": "learning rate", "grad_norm": "gradient norm"}


def _series(history: list[dict], key: str) -> tuple[list[int], list[float | None]]:
    """Epochs and values of one key; non-finite values become gaps (None)."""
    xs, ys = [], []
    for row in history:
        if key in row:
            v = row[key]
            xs.append(row["epoch"])
            ys.append(v if v is not None and math.isfinite(v) else None)
    return xs, ys


def metric_keys(histories: list[list[dict]]) -> list[str]:
    """The plottable per-epoch keys present in any of the histories, loss first."""
    present = {k for h in histories for row in h for k in row}
    return [k for k in METRIC_TITLES if k in present]


def training_curves_figure(history: list[dict], task: str = "classification",
                           total_epochs: int | None = None, best_epoch: int | None = None
                           ) -> go.Figure:
    """Four panels: train and validation loss, the task's metric, learning rate, gradient norm."""
    metric = ("accuracy", "val_accuracy") if task == "classification" else ("val_rmse", "val_r2")
    titles = ("Loss", "Accuracy" if task == "classification" else "Validation RMSE and R²",
              "Learning rate", "Gradient norm (last step of the epoch)")
    fig = make_subplots(rows=2, cols=2, subplot_titles=titles, horizontal_spacing=0.1,
                        vertical_spacing=0.16)
    panels = [((1, 1), ("loss", "val_loss")), ((1, 2), metric), ((2, 1), ("lr",)),
              ((2, 2), ("grad_norm",))]
    for (row, col), keys in panels:
        for key in keys:
            xs, ys = _series(history, key)
            color = VAL_COLOR if key.startswith("val_") else TRAIN_COLOR
            if key in ("val_r2", "lr", "grad_norm"):
                color = "#2ca02c" if key == "val_r2" else "#7f7f7f"
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=METRIC_TITLES[key],
                                     line={"color": color}, legendgroup=key,
                                     hovertemplate="epoch %{x}: %{y:.4g}<extra></extra>"),
                          row=row, col=col)
    if best_epoch is not None:
        fig.add_vline(x=best_epoch, line={"dash": "dot", "color": "#555"}, row=1, col=1,
                      annotation_text=f"best epoch {best_epoch}", annotation_position="top")
    if total_epochs:
        fig.update_xaxes(range=[0, total_epochs + 1])
    fig.update_yaxes(rangemode="tozero", row=2, col=1)  # a constant rate is not drawn at "0"
    fig.update_xaxes(title_text="epoch", row=2)
    fig.update_layout(height=560, margin={"l": 40, "r": 20, "t": 50, "b": 40},
                      legend={"orientation": "h", "y": -0.12})
    return fig


def runs_overlay_figure(histories: dict[str, list[dict]], key: str = "val_loss",
                        log_y: bool = False) -> go.Figure:
    """One line per run for one per-epoch key (e.g. val_loss), labelled by the dict's keys."""
    fig = go.Figure()
    for label, history in histories.items():
        xs, ys = _series(history, key)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=label,
                                 hovertemplate=f"{label}<br>epoch %{{x}}: %{{y:.4g}}<extra></extra>"))
    title = METRIC_TITLES.get(key, key) + (" (log scale)" if log_y else "")
    fig.update_layout(xaxis_title="epoch", height=420, margin={"l": 50, "r": 20, "t": 30, "b": 40},
                      yaxis={"title": title, "type": "log" if log_y else "linear",
                             "exponentformat": "power"})   # 10⁻³, never "1m" or "1μ"
    return fig
