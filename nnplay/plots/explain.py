"""Figures for the explainability lesson, all in plotly: SHAP waterfall, beeswarm and mean |SHAP|
bars, LIME weights, partial dependence with the row's own curve, and attribution maps overlaid on
the image they explain. Feature labels come in ready to read ("age = 41", from
``nnplay.explain.OriginalUnits``). Pure functions: arrays and DataFrames in, plotly Figure out.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

UP, DOWN = "#d62728", "#1f77b4"     # pushes the output up / down, as in shap's own plots
MARGIN = {"l": 10, "r": 50, "t": 50, "b": 40}   # right room for bar labels


def _top(values: np.ndarray, max_display: int) -> np.ndarray:
    return np.argsort(-np.abs(values))[:max_display]


def wrap_label(text: str, width: int = 28) -> str:
    """A long axis label on several lines (plotly breaks lines at <br>)."""
    return "<br>".join(textwrap.wrap(str(text), width)) or str(text)


def _padded_range(lows, highs, pad: float = 0.22) -> list[float]:
    """An axis range with room on both sides for the value printed outside each bar, so no
    text lands on the axis labels."""
    lo, hi = float(min(0.0, np.min(lows))), float(max(0.0, np.max(highs)))
    span = (hi - lo) or 1.0
    return [lo - pad * span if lo < 0 else lo, hi + pad * span]


def shap_waterfall_figure(values: np.ndarray, base_value: float, data: np.ndarray,
                          feature_names: Sequence[str], max_display: int = 10,
                          output_label: str = "f(x)",
                          labels: Sequence[str] | None = None) -> go.Figure:
    """One prediction built up from the base value, feature by feature, the largest first; the
    smallest contributions are summed in one bar so the total still lands on f(x).

    ``labels`` ("age = 41", one per feature) name the bars; without them the bar reads
    "feature = value" from ``data``.
    """
    values, data = np.ravel(values), np.ravel(data)
    order = _top(values, min(max_display, len(values)))
    rest = np.setdiff1d(np.arange(len(values)), order)
    names = (list(labels) if labels is not None
             else [f"{feature_names[i]} = {data[i]:.3g}" for i in range(len(values))])
    labels = [wrap_label(names[i], 32) for i in order]
    steps = list(values[order])
    if len(rest):
        labels.append(f"{len(rest)} other features")
        steps.append(float(values[rest].sum()))
    total = float(base_value + values.sum())
    running = base_value + np.cumsum([0.0, *steps])
    rows = ["base value E[f(x)]", *labels, output_label]
    texts = [f"{base_value:.3f}", *[f"{s:+.3f}" for s in steps], f"{total:.3f}"]
    colours = ["#555", *[UP if s > 0 else DOWN for s in steps], "#555"]
    # plotly draws the first bar at the bottom of a horizontal waterfall: reverse so the biggest
    # contribution sits right under the base value at the top
    fig = go.Figure(go.Waterfall(
        orientation="h", measure=["absolute", *["relative"] * len(steps), "total"],
        y=rows, x=[base_value, *steps, total], textposition="none",
        increasing={"marker": {"color": UP}}, decreasing={"marker": {"color": DOWN}},
        totals={"marker": {"color": "#555"}}, connector={"line": {"color": "#bbb"}},
        hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    # the numbers in a column right of the plot: next to a short bar they would sit on the
    # connectors and the neighbouring bars
    for row, text, colour in zip(rows, texts, colours, strict=True):
        fig.add_annotation(x=1.01, xref="paper", xanchor="left", y=row, text=text,
                           showarrow=False, font={"color": colour, "size": 12})
    fig.update_layout(title=f"SHAP: from the base value to {output_label} = {total:.3f}",
                      yaxis={"autorange": "reversed", "automargin": True},
                      xaxis={"range": _padded_range(running, running, 0.05)},
                      height=120 + 34 * (len(steps) + 2), showlegend=False,
                      margin={**MARGIN, "r": 70}, xaxis_title="model output")
    return fig


def shap_beeswarm_figure(values: np.ndarray, data: np.ndarray, feature_names: Sequence[str],
                         max_display: int = 12, seed: int = 0,
                         data_text: np.ndarray | None = None) -> go.Figure:
    """Every row's SHAP value per feature (features by mean |SHAP|), coloured by the feature's value
    from low (blue) to high (red) within that feature. ``data_text`` (rows x features) is what the
    hover shows for each value ("male"), else the number."""
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
            customdata=col if data_text is None else np.asarray(data_text)[:, j],
            name=str(feature_names[j]), showlegend=False,
            hovertemplate=(f"{feature_names[j]} = %{{customdata{':.3g' if data_text is None else ''}}}"
                           "<br>SHAP %{x:.3f}<extra></extra>")))
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
    # the rules sit on the y axis (wrapped), the weights outside the bar ends, with room kept on
    # both sides so a negative bar's number never lands on the labels
    fig = go.Figure(go.Bar(x=top["weight"], y=[wrap_label(r) for r in top[label_col].astype(str)],
                           orientation="h",
                           marker={"color": [UP if w > 0 else DOWN for w in top["weight"]]},
                           text=[f"{w:+.3f}" for w in top["weight"]], textposition="outside",
                           cliponaxis=False))
    fig.add_vline(x=0, line={"color": "#888", "width": 1})
    fig.update_layout(title=title, xaxis_title="weight",
                      xaxis={"range": _padded_range(top["weight"], top["weight"])},
                      yaxis={"autorange": "reversed", "automargin": True},
                      height=120 + 36 * len(top), margin=MARGIN)
    return fig


def partial_dependence_figure(frame: pd.DataFrame, feature: str, output_label: str,
                              row_value: float | None = None) -> go.Figure:
    """The average prediction as ``feature`` sweeps its values (partial dependence), the edited
    row's own curve on top (ICE, dashed) and where the row sits now (a diamond).

    ``frame`` is ``nnplay.explain.partial_dependence``'s: value, label, average (and row).
    A category's curve is points joined in category order, labelled with the categories.
    """
    category = frame.attrs.get("kind") == "category"
    # categories have no order: points only, labels wrapped so long ones do not collide
    x = frame["label"].map(lambda t: wrap_label(t, 12)) if category else frame["value"]
    mode = "markers" if category else "lines+markers" if len(frame) <= 12 else "lines"
    fig = go.Figure(go.Scatter(x=x, y=frame["average"], mode=mode, name="average (PD)",
                               line={"color": "#333", "width": 3},
                               marker={"size": 11 if category else 6, "color": "#333"},
                               hovertemplate="%{x}: %{y:.3f}<extra>average</extra>"))
    if "row" in frame:
        fig.add_trace(go.Scatter(x=x, y=frame["row"], mode=mode, name="this row (ICE)",
                                 line={"color": UP, "dash": "dash"},
                                 marker={"size": 8 if category else 5, "color": UP,
                                         "symbol": "circle-open" if category else "circle"},
                                 hovertemplate="%{x}: %{y:.3f}<extra>this row</extra>"))
        if row_value is not None:
            at = int(np.argmin(np.abs(frame["value"].to_numpy() - row_value)))
            y_now = frame["row"].iloc[at] if category else np.interp(
                row_value, frame["value"], frame["row"])
            fig.add_trace(go.Scatter(x=[x.iloc[at] if category else row_value], y=[y_now],
                                     mode="markers", name="the row now",
                                     marker={"symbol": "diamond", "size": 12, "color": UP},
                                     hovertemplate="now: %{y:.3f}<extra></extra>"))
    fig.update_layout(title=f"Partial dependence of {output_label} on {feature}",
                      xaxis_title=feature, yaxis_title=output_label, height=360,
                      margin={"l": 10, "r": 10, "t": 70, "b": 40},
                      legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02,
                              "yanchor": "bottom"})
    fig.update_xaxes(automargin=True, **({"type": "category", "tickangle": 0} if category else {}))
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
    Every panel has its colour bar underneath.
    """
    signed = dict(signed or {})
    grey = _grey(image)
    titles = ["input", *maps.keys()]
    spacing = 0.03
    fig = make_subplots(rows=1, cols=len(titles), subplot_titles=titles,
                        horizontal_spacing=spacing)
    width = (1 - spacing * (len(titles) - 1)) / len(titles)

    def colorbar(col: int, title: str) -> dict:
        # a short horizontal colour bar under each panel, so every map has its own scale
        centre = (col - 1) * (width + spacing) + width / 2
        return {"orientation": "h", "x": centre, "xanchor": "center", "y": -0.04,
                "yanchor": "top", "len": width * 0.9, "thickness": 8, "title": {"text": title,
                "side": "top", "font": {"size": 10}}, "tickfont": {"size": 9}, "nticks": 3}

    fig.add_trace(go.Heatmap(z=grey, colorscale="gray", colorbar=colorbar(1, "pixel value"),
                             hovertemplate="row %{y}, col %{x}<br>%{z:.3g}<extra></extra>"), 1, 1)
    for col, (name, amap) in enumerate(maps.items(), start=2):
        amap = np.asarray(amap, dtype=float)
        fig.add_trace(go.Heatmap(z=grey, colorscale="gray", showscale=False, hoverinfo="skip"),
                      1, col)
        if signed.get(name, False):
            bound = float(np.abs(amap).max()) or 1.0
            overlay = go.Heatmap(z=amap, colorscale="RdBu_r", zmin=-bound, zmax=bound, zmid=0,
                                 opacity=opacity, colorbar=colorbar(col, "against / for"),
                                 hovertemplate="row %{y}, col %{x}<br>%{z:.3g}<extra></extra>")
        else:
            overlay = go.Heatmap(z=amap, colorscale="Hot", reversescale=True, opacity=opacity,
                                 colorbar=colorbar(col, "magnitude"),
                                 hovertemplate="row %{y}, col %{x}<br>%{z:.3g}<extra></extra>")
        fig.add_trace(overlay, 1, col)
    hidden = {"showticklabels": False, "showgrid": False, "zeroline": False, "ticks": ""}
    for col in range(1, len(titles) + 1):
        fig.update_yaxes(autorange="reversed", scaleanchor="x" if col == 1 else f"x{col}",
                         row=1, col=col, **hidden)
        fig.update_xaxes(row=1, col=col, **hidden)
    fig.update_annotations(font_size=12)
    fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 40, "b": 70},
                      plot_bgcolor="white")
    return fig
