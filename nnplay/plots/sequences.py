"""Recurrent-net figures: the signal and its forecasts, hidden-state trajectories, gates over
time, gradient norms through time, and the memory race's accuracy against the gap T.
Pure: numbers in, Figure out."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

CELL_COLORS = {"rnn": "#7f7f7f", "lstm": "#1f77b4", "gru": "#2ca02c"}
CELL_TITLES = {"rnn": "plain RNN", "lstm": "LSTM", "gru": "GRU"}
# LSTM and GRU often score the same: dotted lines and their own markers keep both visible.
CELL_MARKERS = {"rnn": ("solid", "circle"), "lstm": ("solid", "square"), "gru": ("dot", "diamond")}


def forecast_figure(windows: np.ndarray, actual: np.ndarray,
                    forecast: np.ndarray | None = None) -> go.Figure:
    """Each window (k, T) as a line with the true next value after it, and the forecast when
    given (without one: the data a forecaster learns from)."""
    k, steps = windows.shape
    kind = "window" if forecast is None else "test window"
    fig = make_subplots(rows=1, cols=k, subplot_titles=[f"{kind} {i}" for i in range(k)],
                        shared_yaxes=True, horizontal_spacing=0.03)
    for i in range(k):
        show = i == 0
        fig.add_trace(go.Scatter(x=np.arange(steps), y=windows[i], mode="lines",
                                 name="input window", line={"color": "#7f7f7f"},
                                 showlegend=show, legendgroup="in"), row=1, col=i + 1)
        fig.add_trace(go.Scatter(x=[steps], y=[actual[i]], mode="markers",
                                 name="next value (to predict)",
                                 marker={"color": "#2ca02c", "size": 10}, showlegend=show,
                                 legendgroup="true"), row=1, col=i + 1)
        if forecast is not None:
            fig.add_trace(go.Scatter(x=[steps], y=[forecast[i]], mode="markers", name="forecast",
                                     marker={"color": "#d62728", "size": 10, "symbol": "x"},
                                     showlegend=show, legendgroup="fc"), row=1, col=i + 1)
    fig.update_xaxes(title_text="step")
    fig.update_layout(height=280, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h", "y": -0.3})
    return fig


def hidden_states_figure(states: np.ndarray, max_units: int = 32) -> go.Figure:
    """The hidden state (T, H) as a heatmap: one row per unit, one column per time step."""
    states = np.asarray(states)[:, :max_units]
    fig = go.Figure(go.Heatmap(z=states.T, colorscale="RdBu", zmid=0.0,
                               colorbar={"title": "h"},
                               hovertemplate="step %{x}, unit %{y}: %{z:.3f}<extra></extra>"))
    fig.update_layout(title="Hidden state over time", xaxis_title="time step",
                      yaxis_title="hidden unit", height=320,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def hidden_pca_figure(points: np.ndarray) -> go.Figure:
    """The hidden-state trajectory projected on its two main directions, coloured by time."""
    steps = np.arange(len(points))
    fig = go.Figure(go.Scatter(x=points[:, 0], y=points[:, 1], mode="lines+markers",
                               marker={"color": steps, "colorscale": "Viridis", "size": 7,
                                       "colorbar": {"title": "step"}},
                               line={"color": "#bbbbbb"},
                               hovertemplate="step %{marker.color}<extra></extra>"))
    fig.update_layout(title="Trajectory of the hidden state (2 main directions)",
                      xaxis_title="direction 1", yaxis_title="direction 2", height=320,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def _gate_scale(name: str) -> dict:
    """Colour scale of one gate map: gates live in [0, 1], candidates in [-1, 1], the LSTM's cell
    state is unbounded (centred on 0)."""
    if name in ("input", "forget", "output", "reset", "update"):
        return {"colorscale": "Viridis", "cmin": 0.0, "cmax": 1.0}
    if name in ("cell", "new"):
        return {"colorscale": "RdBu", "cmin": -1.0, "cmax": 1.0}
    return {"colorscale": "RdBu", "cmid": 0.0}


def gates_figure(gates: dict[str, np.ndarray], max_units: int = 16) -> go.Figure:
    """Each gate (T, H) as a heatmap over time, each with its own colour scale and colour bar
    beside its row (one coloraxis per gate)."""
    names = list(gates)
    fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, subplot_titles=names,
                        vertical_spacing=0.06)
    for r, name in enumerate(names, start=1):
        z = np.asarray(gates[name])[:, :max_units].T
        axis = "coloraxis" if r == 1 else f"coloraxis{r}"
        fig.add_trace(go.Heatmap(z=z, coloraxis=axis,
                                 hovertemplate=f"{name}: step %{{x}}, unit %{{y}}: "
                                               "%{z:.3f}<extra></extra>"), row=r, col=1)
        bottom, top = fig.layout["yaxis" if r == 1 else f"yaxis{r}"].domain
        fig.layout[axis] = {**_gate_scale(name),
                            "colorbar": {"title": {"text": name}, "y": (bottom + top) / 2,
                                         "len": top - bottom, "yanchor": "middle",
                                         "thickness": 12}}
    fig.update_xaxes(title_text="time step", row=len(names), col=1)
    fig.update_yaxes(title_text="unit")
    fig.update_layout(height=150 * len(names) + 40, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def gradient_through_time_figure(norms: dict[str, np.ndarray],
                                 title: str = "Gradient norm through time") -> go.Figure:
    """||dL/dh_t|| against t for each model on a log axis: a line falling towards t = 0 is the
    vanishing gradient. Zero or non-finite values are left as gaps."""
    fig = go.Figure()
    shown = []
    for name, values in norms.items():
        values = np.asarray(values, dtype=float)
        positive = np.where(np.isfinite(values) & (values > 0), values, np.nan)
        shown.extend(positive[np.isfinite(positive)])
        fig.add_trace(go.Scatter(x=np.arange(len(values)), y=positive, mode="lines",
                                 name=CELL_TITLES.get(name, name),
                                 line={"color": CELL_COLORS.get(name)},
                                 hovertemplate="t = %{x}: %{y:.2e}<extra></extra>"))
    yaxis = {"type": "log", "title_text": "‖∂L/∂h_t‖ (log scale)", "exponentformat": "power",
             "showexponent": "all"}
    if shown:
        low, high = np.floor(np.log10(min(shown))), np.ceil(np.log10(max(shown)))
        high = max(high, low + 1)
        yaxis["range"] = [low, high]
        # few decades: label 1, 2 and 5 of each; many: whole decades, at most about 7 labels
        yaxis["dtick"] = "D2" if high - low <= 2 else int(np.ceil((high - low) / 7))
    fig.update_yaxes(**yaxis)
    fig.update_layout(title=title, xaxis_title="time step t (the loss reads the state at T − 1)",
                      height=340, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def memory_vs_length_figure(rows: list[dict], chance: float, margin: float) -> go.Figure:
    """Test accuracy against the gap T for each cell (rows: seq_len, cell, accuracy), over a
    shaded band from 0 to chance + margin, where a result is not a clear win."""
    fig = go.Figure()
    for cell in CELL_TITLES:
        points = sorted((r["seq_len"], r["accuracy"]) for r in rows if r["cell"] == cell)
        if points:
            xs, ys = zip(*points, strict=True)
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=CELL_TITLES[cell],
                                     line={"color": CELL_COLORS[cell],
                                           "dash": CELL_MARKERS[cell][0]},
                                     marker={"size": 10, "symbol": CELL_MARKERS[cell][1]},
                                     hovertemplate="T = %{x}: %{y:.3f}<extra></extra>"))
    fig.add_hrect(y0=0, y1=chance + margin, fillcolor="#d62728", opacity=0.08, line_width=0,
                  annotation_text=f"not a clear win (below chance + {margin:g})",
                  annotation_position="top left")
    fig.add_hline(y=chance, line={"dash": "dash", "color": "#d62728"},
                  annotation_text=f"chance {chance:.2f}", annotation_position="bottom right")
    gaps = sorted({r["seq_len"] for r in rows})
    fig.update_layout(title="Test accuracy as the gap T grows",
                      xaxis={"title": "gap T (steps to remember)", "tickvals": gaps},
                      yaxis={"range": [0, 1.05], "title": "test accuracy"},
                      height=340, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig
