"""Figures for the robustness lesson: accuracy against corruption severity, attack strength and
tabular damage, galleries of corrupted and adversarial images, and what adversarial training
changed. Pure functions: arrays and tables from nnplay.responsible.robustness in, plotly Figure out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
DAMAGE_AXIS = {"noise": "Gaussian noise std (in feature standard deviations)",
               "missing": "share of cells missing (filled with the training mean)"}


def _layout(fig: go.Figure, title: str, height: int = 380, **axes) -> go.Figure:
    fig.update_layout(title=title, height=height, margin={"l": 40, "r": 20, "t": 60, "b": 40},
                      legend={"orientation": "h", "y": -0.25}, **axes)
    return fig


def _lines(frame: pd.DataFrame, x: str, by: str, names: Mapping[str, str] | None = None):
    fig = go.Figure()
    for color, (key, part) in zip(COLORS * 3, frame.groupby(by, sort=False), strict=False):
        label = (names or {}).get(key, str(key).replace("_", " "))
        fig.add_trace(go.Scatter(x=part[x], y=part["accuracy"], mode="lines+markers", name=label,
                                 line={"color": color},
                                 hovertemplate=f"{label}<br>{x} %{{x:.3g}}<br>accuracy "
                                               "%{y:.3f}<extra></extra>"))
    return fig


def corruption_curve_figure(curve: pd.DataFrame) -> go.Figure:
    """Accuracy against severity, one line per corruption (nnplay.responsible.robustness.corruption_curve)."""
    fig = _lines(curve, "severity", "corruption")
    return _layout(fig, "Accuracy under image corruptions",
                   xaxis_title="severity (0 = clean, 1 = strong)",
                   yaxis={"title": "test accuracy", "range": [0, 1.02]})


def attack_curve_figure(curve: pd.DataFrame) -> go.Figure:
    """Accuracy against eps, one line per attack (rows of accuracy_under_attack)."""
    fig = _lines(curve, "eps", "method", {"fgsm": "FGSM", "pgd": "PGD"})
    return _layout(fig, "Accuracy under adversarial attack",
                   xaxis_title="eps (largest change per pixel)",
                   yaxis={"title": "accuracy on attacked images", "range": [0, 1.02]})


def tabular_curve_figure(curve: pd.DataFrame) -> go.Figure:
    """Accuracy against one kind of tabular damage (nnplay.responsible.robustness.tabular_curve)."""
    damage = str(curve["damage"].iloc[0]) if len(curve) else "noise"
    fig = _lines(curve, "level", "damage", {"noise": "feature noise",
                                            "missing": "missing values"})
    return _layout(fig, f"Accuracy under {'feature noise' if damage == 'noise' else 'missing values'}",
                   xaxis_title=DAMAGE_AXIS[damage],
                   yaxis={"title": "test accuracy", "range": [0, 1.02]}, height=340)


def _image(fig: go.Figure, image: np.ndarray, row: int, col: int, diverging: bool = False,
           scale: float = 1.0) -> None:
    """One grey image (or a red/blue perturbation) drawn as a heatmap, top row at the top."""
    pixels = np.asarray(image, dtype=float).reshape(image.shape[-2:]) if image.ndim > 2 else image
    heat = go.Heatmap(z=pixels[::-1], showscale=False, hoverinfo="skip",
                      colorscale="RdBu" if diverging else "gray",
                      zmin=-scale if diverging else 0.0, zmax=scale if diverging else 1.0)
    fig.add_trace(heat, row=row, col=col)


def _hide_axes(fig: go.Figure) -> None:
    """No ticks, and square pixels: each panel keeps the image's aspect ratio."""
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    fig.for_each_yaxis(lambda axis: axis.update(scaleanchor=axis.anchor, scaleratio=1))


def corruption_gallery_figure(images: Mapping[str, Sequence[np.ndarray]],
                              severities: Sequence[float]) -> go.Figure:
    """One row per corruption, one column per severity: the same image damaged more and more."""
    kinds = list(images)
    titles = [f"{k.replace('_', ' ')} {s:.1f}" for k in kinds for s in severities]
    fig = make_subplots(rows=len(kinds), cols=len(severities), subplot_titles=titles,
                        horizontal_spacing=0.01, vertical_spacing=0.06)
    for r, kind in enumerate(kinds, start=1):
        for c, image in enumerate(images[kind], start=1):
            _image(fig, image, r, c)
    _hide_axes(fig)
    fig.update_annotations(font_size=10)
    return _layout(fig, "One test image at each severity", height=150 * len(kinds) + 60)


def adversarial_gallery_figure(examples: Mapping[str, np.ndarray],
                               class_names: Sequence[str] | None = None,
                               n: int = 4) -> go.Figure:
    """Rows of original, perturbation (scaled to its largest value) and adversarial image,
    titled with the predicted label and confidence (nnplay.responsible.robustness.adversarial_examples)."""
    n = min(n, len(examples["original"]))
    name = (lambda k: class_names[k]) if class_names else str
    titles = []
    for i in range(n):
        titles += [f"true {name(int(examples['label'][i]))}: pred {name(int(examples['pred'][i]))}"
                   f" ({examples['confidence'][i]:.0%})",
                   "perturbation",
                   f"pred {name(int(examples['adv_pred'][i]))} "
                   f"({examples['adv_confidence'][i]:.0%})"]
    fig = make_subplots(rows=max(n, 1), cols=3, subplot_titles=titles, horizontal_spacing=0.03,
                        vertical_spacing=0.08)
    scale = float(np.abs(examples["perturbation"][:n]).max()) or 1.0
    for i in range(n):
        _image(fig, examples["original"][i], i + 1, 1)
        _image(fig, examples["perturbation"][i], i + 1, 2, diverging=True, scale=scale)
        _image(fig, examples["adversarial"][i], i + 1, 3)
    _hide_axes(fig)
    fig.update_annotations(font_size=11)
    return _layout(fig, "Original, perturbation (red +, blue -) and adversarial image",
                   height=190 * max(n, 1) + 60)


def adversarial_training_figure(before: Mapping[str, float], after: Mapping[str, float]) -> go.Figure:
    """Clean and robust accuracy before and after adversarial training, as grouped bars."""
    labels = {"clean_accuracy": "clean accuracy", "robust_accuracy": "robust accuracy"}
    fig = go.Figure()
    for color, (title, values) in zip(COLORS, (("before", before), ("after", after)),
                                      strict=False):
        fig.add_trace(go.Bar(x=[labels[k] for k in labels], y=[values[k] for k in labels],
                             name=f"{title} adversarial training", marker_color=color,
                             text=[f"{values[k]:.1%}" for k in labels], textposition="outside"))
    return _layout(fig, "What adversarial training changed", barmode="group",
                   yaxis={"title": "accuracy", "range": [0, 1.1]}, height=340)
