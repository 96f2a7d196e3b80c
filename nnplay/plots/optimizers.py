"""Figures for the optimizers lesson: each optimizer's path over a loss surface and its loss per
step. Pure functions: engine objects in, plotly Figure out."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from nnplay.lessons.optimizers import OPTIMIZER_TITLES, OptimizerPath, Surface

PATH_COLORS = {"sgd": "#1f77b4", "momentum": "#ff7f0e", "nesterov": "#2ca02c",
               "rmsprop": "#9467bd", "adam": "#d62728"}


MAX_FRAMES = 60   # animation frames: enough to watch, few enough to send to the browser


def _frame_steps(paths: dict[str, OptimizerPath], max_frames: int = MAX_FRAMES) -> list[int]:
    """The step counts shown by the animation's frames, evenly spread, ending at the last."""
    longest = max((len(p.points) for p in paths.values()), default=1)
    return sorted(set(np.linspace(1, longest, min(longest, max_frames)).round().astype(int)))


def optimizer_paths_figure(surface: Surface, paths: dict[str, OptimizerPath],
                           grid_points: int = 150, animate: bool = True) -> go.Figure:
    """Contours of the surface with each optimizer's path, the start and the global minima.

    With ``animate``, a Play/Pause button and a step slider replay the paths step by step
    (plotly frames, in the browser); the figure opens on the whole paths.
    """
    xs, ys, Z = surface.grid(grid_points)
    shown = np.log10(Z - Z.min() + 1e-3) if surface.log_contours else Z
    title = "log10(f − min f)" if surface.log_contours else "f(x, y)"
    fig = go.Figure(go.Contour(x=xs, y=ys, z=shown, ncontours=30, colorscale="Greys",
                               reversescale=True, opacity=0.6, showscale=False,
                               contours={"coloring": "lines"}, name=title,
                               hovertemplate="x=%{x:.2f}<br>y=%{y:.2f}<extra></extra>"))
    for name, path in paths.items():
        label = OPTIMIZER_TITLES.get(name, name) + (" (diverged)" if path.diverged else "")
        fig.add_trace(go.Scatter(x=path.points[:, 0], y=path.points[:, 1], mode="lines+markers",
                                 name=label, marker={"size": 3},
                                 line={"color": PATH_COLORS.get(name), "width": 2}))
    mx, my = zip(*surface.minima, strict=True)
    fig.add_trace(go.Scatter(x=mx, y=my, mode="markers", name="global minimum",
                             marker={"symbol": "star", "size": 16, "color": "gold",
                                     "line": {"width": 1, "color": "black"}}))
    start = next(iter(paths.values())).points[0] if paths else surface.start
    fig.add_trace(go.Scatter(x=[start[0]], y=[start[1]], mode="markers", name="start",
                             marker={"symbol": "x", "size": 12, "color": "black"}))
    fig.update_layout(xaxis={"range": list(surface.x_range), "title": "x"},
                      yaxis={"range": list(surface.y_range), "title": "y",
                             "scaleanchor": "x", "scaleratio": 1},
                      height=560, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      title=surface.title, legend={"orientation": "h", "y": -0.3})
    if animate and paths:
        _add_animation(fig, paths)
    return fig


def _add_animation(fig: go.Figure, paths: dict[str, OptimizerPath]) -> None:
    """Frames that redraw the path traces (1 .. len(paths)) up to each step, a slider to scrub."""
    steps = _frame_steps(paths)
    indices = list(range(1, len(paths) + 1))
    fig.frames = [go.Frame(name=str(k), traces=indices,
                           data=[go.Scatter(x=p.points[:k, 0], y=p.points[:k, 1])
                                 for p in paths.values()]) for k in steps]
    play = {"frame": {"duration": 80, "redraw": False}, "fromcurrent": True,
            "transition": {"duration": 0}}
    pause = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}
    fig.update_layout(
        updatemenus=[{"type": "buttons", "direction": "left", "x": 0.0, "y": -0.08,
                      "xanchor": "left", "yanchor": "top", "pad": {"t": 0, "r": 10},
                      "buttons": [{"label": "▶ Play", "method": "animate",
                                   "args": [None, play]},
                                  {"label": "⏸ Pause", "method": "animate",
                                   "args": [[None], pause]}]}],
        sliders=[{"active": len(steps) - 1, "x": 0.18, "len": 0.82, "y": -0.06,
                  "currentvalue": {"prefix": "step ", "font": {"size": 12}},
                  "pad": {"t": 0}, "steps": [{"label": str(k - 1), "method": "animate",
                                              "args": [[str(k)], pause]} for k in steps]}])


def optimizer_loss_figure(surface: Surface, paths: dict[str, OptimizerPath]) -> go.Figure:
    """Loss above the global minimum, per step, on a log scale, one line per optimizer."""
    floor = surface.min_value()
    fig = go.Figure()
    for name, path in paths.items():
        gap = np.maximum(path.losses - floor, 1e-16)
        fig.add_trace(go.Scatter(y=gap, mode="lines", name=OPTIMIZER_TITLES.get(name, name),
                                 line={"color": PATH_COLORS.get(name)}))
    fig.update_layout(xaxis_title="step",
                      yaxis={"title": "f − min f (log scale)", "type": "log",
                             "exponentformat": "power", "dtick": 1},   # one label a decade
                      height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig
