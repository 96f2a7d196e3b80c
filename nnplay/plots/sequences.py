"""Recurrent-net figures: forecasts, hidden-state trajectories, gates over time, gradient norms
through time, and the memory race's accuracies against chance. Pure: numbers in, Figure out."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

CELL_COLORS = {"rnn": "#7f7f7f", "lstm": "#1f77b4", "gru": "#2ca02c"}
CELL_TITLES = {"rnn": "plain RNN", "lstm": "LSTM", "gru": "GRU"}


def forecast_figure(windows: np.ndarray, actual: np.ndarray, forecast: np.ndarray) -> go.Figure:
    """Each window (k, T) as a line, with the true next value and the forecast after it."""
    k, steps = windows.shape
    fig = make_subplots(rows=1, cols=k, subplot_titles=[f"test window {i}" for i in range(k)],
                        shared_yaxes=True, horizontal_spacing=0.03)
    for i in range(k):
        show = i == 0
        fig.add_trace(go.Scatter(x=np.arange(steps), y=windows[i], mode="lines", name="input",
                                 line={"color": "#7f7f7f"}, showlegend=show, legendgroup="in"),
                      row=1, col=i + 1)
        fig.add_trace(go.Scatter(x=[steps], y=[actual[i]], mode="markers", name="true next value",
                                 marker={"color": "#2ca02c", "size": 10}, showlegend=show,
                                 legendgroup="true"), row=1, col=i + 1)
        fig.add_trace(go.Scatter(x=[steps], y=[forecast[i]], mode="markers", name="forecast",
                                 marker={"color": "#d62728", "size": 10, "symbol": "x"},
                                 showlegend=show, legendgroup="fc"), row=1, col=i + 1)
    fig.update_xaxes(title_text="step")
    fig.update_layout(height=280, margin={"l": 10, "r": 10, "t": 40, "b": 10})
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


def gates_figure(gates: dict[str, np.ndarray], max_units: int = 16) -> go.Figure:
    """Each gate (T, H) as a heatmap over time; gates are in [0, 1], the cell state unbounded."""
    names = list(gates)
    fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, subplot_titles=names,
                        vertical_spacing=0.06)
    for r, name in enumerate(names, start=1):
        z = np.asarray(gates[name])[:, :max_units].T
        gate = name in ("input", "forget", "output", "reset", "update")
        fig.add_trace(go.Heatmap(z=z, colorscale="Viridis" if gate else "RdBu",
                                 zmin=0.0 if gate else None, zmax=1.0 if gate else None,
                                 zmid=None if gate else 0.0, showscale=r == 1,
                                 hovertemplate=f"{name}: step %{{x}}, unit %{{y}}: "
                                               "%{z:.3f}<extra></extra>"), row=r, col=1)
    fig.update_xaxes(title_text="time step", row=len(names), col=1)
    fig.update_layout(height=150 * len(names) + 40, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def gradient_through_time_figure(norms: dict[str, np.ndarray]) -> go.Figure:
    """||dL/dh_t|| against t for each model (log scale): a falling line towards t = 0 is the
    vanishing gradient."""
    fig = go.Figure()
    for name, values in norms.items():
        values = np.asarray(values, dtype=float)
        fig.add_trace(go.Scatter(x=np.arange(len(values)), y=np.maximum(values, 1e-30),
                                 mode="lines", name=CELL_TITLES.get(name, name),
                                 line={"color": CELL_COLORS.get(name)}))
    fig.update_yaxes(type="log", title_text="‖∂L/∂h_t‖")
    fig.update_layout(title="Gradient norm through time", xaxis_title="time step t",
                      height=320, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def memory_accuracy_figure(accuracies: dict[str, float], chance: float, seq_len: int) -> go.Figure:
    """Test accuracy of each cell at one gap T, with the chance level as a dashed line."""
    cells = list(accuracies)
    fig = go.Figure(go.Bar(x=[CELL_TITLES.get(c, c) for c in cells],
                           y=[accuracies[c] for c in cells],
                           marker_color=[CELL_COLORS.get(c) for c in cells],
                           text=[f"{accuracies[c]:.2f}" for c in cells], textposition="outside"))
    fig.add_hline(y=chance, line={"dash": "dash", "color": "#d62728"},
                  annotation_text=f"chance {chance:.2f}")
    fig.update_layout(title=f"Recall the first token after T = {seq_len} steps",
                      yaxis={"range": [0, 1.1], "title": "test accuracy"}, height=320,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def memory_vs_length_figure(rows: list[dict], chance: float) -> go.Figure:
    """Accuracy against T for every gap tried so far (rows: seq_len, cell, accuracy)."""
    fig = go.Figure()
    for cell in CELL_TITLES:
        points = sorted((r["seq_len"], r["accuracy"]) for r in rows if r["cell"] == cell)
        if points:
            xs, ys = zip(*points, strict=True)
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=CELL_TITLES[cell],
                                     line={"color": CELL_COLORS[cell]}))
    fig.add_hline(y=chance, line={"dash": "dash", "color": "#d62728"},
                  annotation_text="chance")
    fig.update_layout(title="Accuracy as the gap grows (every T you tried)",
                      xaxis_title="T (steps to remember)", yaxis={"range": [0, 1.05],
                                                                 "title": "test accuracy"},
                      height=320, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig
