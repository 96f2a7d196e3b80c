"""Figures for the explainability lesson, all in plotly: SHAP waterfall, beeswarm and mean |SHAP|
bars, LIME weights, and attribution maps overlaid on the image they explain.
Pure functions: arrays and DataFrames in, plotly Figure out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

UP, DOWN = "#d62728", "#1f77b4"     # pushes the output up / down, as in shap's own plots
MARGIN = {"l": 10, "r": 50, "t": 50, "b": 40}   # right room for bar labels


def _top(values: np.ndarray, max_display: int) -> np.ndarray:
    return np.argsort(-np.abs(values))[:max_display]


def shap_waterfall_figure(values: np.ndarray, base_value: float, data: np.ndarray,
                          feature_names: Sequence[str], max_display: int = 10,
                          output_label: str = "f(x)") -> go.Figure:
    """One prediction built up from the base value, feature by feature, the largest first; the
    smallest contributions are summed in one bar so the total still lands on f(x)."""
    values, data = np.ravel(values), np.ravel(data)
    order = _top(values, min(max_display, len(values)))
    rest = np.setdiff1d(np.arange(len(values)), order)
    labels = [f"{feature_names[i]} = {data[i]:.3g}" for i in order]
    steps = list(values[order])
    if len(rest):
        labels.append(f"{len(rest)} other features")
        steps.append(float(values[rest].sum()))
    total = float(base_value + values.sum())
    # plotly draws the first bar at the bottom of a horizontal waterfall: reverse so the biggest
    # contribution sits right under the base value at the top
    fig = go.Figure(go.Waterfall(
        orientation="h", measure=["absolute", *["relative"] * len(steps), "total"],
        y=["base value E[f(x)]", *labels, output_label], x=[base_value, *steps, total],
        text=[f"{base_value:.3f}", *[f"{s:+.3f}" for s in steps], f"{total:.3f}"],
        textposition="outside", cliponaxis=False, increasing={"marker": {"color": UP}},
        decreasing={"marker": {"color": DOWN}}, totals={"marker": {"color": "#555"}},
        connector={"line": {"color": "#bbb"}}))
    fig.update_layout(title=f"SHAP waterfall: from the base value to {output_label} = {total:.3f}",
                      yaxis={"autorange": "reversed"}, height=120 + 32 * (len(steps) + 2),
                      margin=MARGIN, showlegend=False, xaxis_title="model output")
    return fig


def shap_beeswarm_figure(values: np.ndarray, data: np.ndarray, feature_names: Sequence[str],
                         max_display: int = 12, seed: int = 0) -> go.Figure:
    """Every row's SHAP value per feature (features by mean |SHAP|), coloured by the feature's value
    from low (blue) to high (red) within that feature."""
    values, data = np.asarray(values), np.asarray(data)
    order = np.argsort(-np.abs(values).mean(0))[:max_display]
    rng = np.random.default_rng(seed)   # vertical jitter only, so points do not hide each other
    fig = go.Figure()
    for rank, j in enumerate(order):
        col = data[:, j]
        span = float(col.max() - col.min())
        colour = (col - col.min()) / span if span > 0 else np.full(len(col), 0.5)
        fig.add_trace(go.Scatter(
            x=values[:, j], y=rank + rng.uniform(-0.3, 0.3, len(col)), mode="markers",
            marker={"color": colour, "colorscale": "RdBu_r", "cmin": 0, "cmax": 1, "size": 6,
                    "opacity": 0.8, "showscale": rank == 0,
                    "colorbar": {"title": "feature value", "tickvals": [0, 1],
                                 "ticktext": ["low", "high"], "thickness": 10, "len": 0.6}},
            customdata=col, name=str(feature_names[j]), showlegend=False,
            hovertemplate=f"{feature_names[j]} = %{{customdata:.3g}}<br>SHAP %{{x:.3f}}<extra></extra>"))
    fig.add_vline(x=0, line={"color": "gray", "dash": "dot"})
    fig.update_layout(title="SHAP values over the rows (beeswarm)", xaxis_title="SHAP value",
                      yaxis={"tickvals": list(range(len(order))),
                             "ticktext": [str(feature_names[j]) for j in order],
                             "autorange": "reversed"},
                      height=120 + 34 * len(order), margin=MARGIN)
    return fig


def shap_bar_figure(values: np.ndarray, feature_names: Sequence[str], max_display: int = 12
                    ) -> go.Figure:
    """Global importance: the mean absolute SHAP value of each feature, largest on top."""
    mean_abs = np.abs(np.asarray(values)).mean(0)
    order = np.argsort(-mean_abs)[:max_display]
    fig = go.Figure(go.Bar(x=mean_abs[order], y=[str(feature_names[j]) for j in order],
                           orientation="h", marker={"color": UP},
                           text=[f"{v:.3f}" for v in mean_abs[order]], textposition="outside",
                           cliponaxis=False))
    fig.update_layout(title="Mean |SHAP| per feature", xaxis_title="mean |SHAP value|",
                      yaxis={"autorange": "reversed"}, height=120 + 30 * len(order), margin=MARGIN)
    return fig


def lime_weights_figure(weights: pd.DataFrame, max_display: int = 10,
                        title: str = "LIME: the local linear model's weights") -> go.Figure:
    """LIME's weights for one input, largest |weight| on top, labelled with LIME's rule."""
    top = weights.reindex(weights["weight"].abs().sort_values(ascending=False).index)
    top = top.head(max_display)
    label_col = "rule" if "rule" in top else "segment"
    fig = go.Figure(go.Bar(x=top["weight"], y=top[label_col].astype(str), orientation="h",
                           marker={"color": [UP if w > 0 else DOWN for w in top["weight"]]},
                           text=[f"{w:+.3f}" for w in top["weight"]], textposition="outside",
                           cliponaxis=False))
    fig.update_layout(title=title, xaxis_title="weight", yaxis={"autorange": "reversed"},
                      height=120 + 32 * len(top), margin=MARGIN)
    return fig


def _grey(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=float)
    return image.mean(0) if image.ndim == 3 else image


def attribution_maps_figure(image: np.ndarray, maps: Mapping[str, np.ndarray],
                            signed: Mapping[str, bool] | None = None,
                            opacity: float = 0.6) -> go.Figure:
    """The image, then each (H, W) attribution map overlaid on it, side by side.

    Signed maps (integrated gradients, occlusion, LIME) use red for evidence for the class and blue
    against, centred on zero; unsigned ones (saliency, Grad-CAM) use one hue for magnitude.
    """
    signed = dict(signed or {})
    grey = _grey(image)
    titles = ["input", *maps.keys()]
    fig = make_subplots(rows=1, cols=len(titles), subplot_titles=titles, horizontal_spacing=0.02)
    fig.add_trace(go.Heatmap(z=grey, colorscale="gray", showscale=False, hoverinfo="skip"), 1, 1)
    for col, (name, amap) in enumerate(maps.items(), start=2):
        amap = np.asarray(amap, dtype=float)
        fig.add_trace(go.Heatmap(z=grey, colorscale="gray", showscale=False, hoverinfo="skip"),
                      1, col)
        if signed.get(name, False):
            bound = float(np.abs(amap).max()) or 1.0
            overlay = go.Heatmap(z=amap, colorscale="RdBu_r", zmin=-bound, zmax=bound, zmid=0,
                                 opacity=opacity, showscale=False,
                                 hovertemplate="row %{y}, col %{x}<br>%{z:.3g}<extra></extra>")
        else:
            overlay = go.Heatmap(z=amap, colorscale="Hot", reversescale=True, opacity=opacity,
                                 showscale=False,
                                 hovertemplate="row %{y}, col %{x}<br>%{z:.3g}<extra></extra>")
        fig.add_trace(overlay, 1, col)
    hidden = {"showticklabels": False, "showgrid": False, "zeroline": False, "ticks": ""}
    for col in range(1, len(titles) + 1):
        fig.update_yaxes(autorange="reversed", scaleanchor="x" if col == 1 else f"x{col}",
                         row=1, col=col, **hidden)
        fig.update_xaxes(row=1, col=col, **hidden)
    fig.update_annotations(font_size=12)
    fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      plot_bgcolor="white")
    return fig
