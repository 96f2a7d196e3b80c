"""Figures for "Why neural networks now": accuracy against data, speed by hardware, and the deep
network's curves under each training recipe. Pure functions: result tables in, plotly Figure out.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

MODEL_COLORS = {"linear": "#7f7f7f", "network": "#1f77b4"}
MODEL_NAMES = {"linear": "linear model (logistic regression)", "network": "neural network (MLP)"}
MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def data_scaling_figure(results: pd.DataFrame) -> go.Figure:
    """Test accuracy against training images (log axis), one line per model: the mean over
    seeds, with every seed's point behind it. results: DataScaling.results_."""
    fig = go.Figure()
    for model, rows in results.groupby("model", sort=False):
        mean = rows.groupby("n_train")["test_accuracy"].mean()
        color = MODEL_COLORS.get(model)
        if rows["seed"].nunique() > 1:
            fig.add_trace(go.Scatter(x=rows["n_train"], y=rows["test_accuracy"], mode="markers",
                                     marker={"color": color, "opacity": 0.35, "size": 6},
                                     name=f"{model}, each seed", showlegend=False))
        fig.add_trace(go.Scatter(x=mean.index, y=mean.values, mode="lines+markers+text",
                                 name=MODEL_NAMES.get(model, model), line={"color": color},
                                 text=[f"{v:.1%}" for v in mean.values],
                                 textposition="top left" if model == "network" else
                                 "bottom right"))
    fig.update_layout(height=420, margin=MARGIN, xaxis={"type": "log",
                                                        "title": "training images (log scale)"},
                      yaxis={"title": "test accuracy", "tickformat": ".0%"},
                      legend={"orientation": "h", "y": -0.2})
    return fig


def hardware_figure(results: pd.DataFrame) -> go.Figure:
    """Matrix-multiply GFLOP/s and training images per second for each setting (1 thread, all
    threads, GPU), side by side. results: HardwareBench.results_."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("Matrix multiply (GFLOP/s)",
                                        "Training an MLP (images per second)"))
    for col, key, fmt in ((1, "matmul_gflops", "{:,.1f}"), (2, "train_examples_per_s", "{:,.0f}")):
        values = list(results[key])
        fig.add_trace(go.Bar(x=list(results["setting"]), y=values, showlegend=False,
                             marker_color=["#7f7f7f", "#1f77b4", "#2ca02c", "#9467bd"][:len(values)],
                             text=[fmt.format(v) for v in values], textposition="outside"),
                      row=1, col=col)
    fig.update_layout(height=380, margin=MARGIN)
    return fig


RECIPE_COLORS = ("#d62728", "#ff9896", "#1f77b4", "#aec7e8")


def recipes_figure(histories: dict[str, list[dict]]) -> go.Figure:
    """Test accuracy and training loss per epoch, one curve per recipe and normalisation.
    histories: RecipeRace.histories_ (variant -> curve history from epoch 0)."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("Test accuracy", "Training loss"))
    for i, (name, history) in enumerate(histories.items()):
        color = RECIPE_COLORS[i % len(RECIPE_COLORS)]
        epochs = [h["epoch"] for h in history]
        dash = "dot" if name.endswith("BatchNorm") else "solid"
        fig.add_trace(go.Scatter(x=epochs, y=[h.get("val_accuracy") for h in history], name=name,
                                 legendgroup=name, line={"color": color, "dash": dash}),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=epochs, y=[h.get("loss") for h in history], name=name,
                                 legendgroup=name, showlegend=False,
                                 line={"color": color, "dash": dash}), row=1, col=2)
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(tickformat=".0%", row=1, col=1)
    fig.update_layout(height=420, margin=MARGIN, legend={"orientation": "h", "y": -0.25})
    return fig
