"""Figures for the GANs lesson: losses and mode coverage over training, the mode-collapse
comparison (coverage per seed and where each setting's fakes ended up), a 2-D view of a
GAN as numbers (for notebooks; the page draws it live in the browser) and the digits GAN's
samples per epoch beside its losses. Pure functions: data in, plotly Figure out.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# GAN Lab's colours: green for real, purple for fake.
REAL, FAKE, PUSH = "#1a9850", "#8e44ad", "#d62778"
REAL_FAKE = [[0.0, FAKE], [0.5, "#fafafa"], [1.0, REAL]]
SETTING_COLORS = {"healthy": "#1f77b4", "collapse": "#d62728"}   # runs, apart from real/fake
MARGIN = {"l": 10, "r": 10, "t": 50, "b": 10}


def _values(rows: list[dict], key: str) -> list:
    """One history column; missing or not-finite values become None (a gap in the line)."""
    out = []
    for row in rows:
        v = row.get(key)
        out.append(float(v) if v is not None and np.isfinite(v) else None)
    return out


def training_figure(history: list[dict], n_modes: int = 0) -> go.Figure:
    """Discriminator and generator losses over steps and, for a target with modes, the modes
    covered and the share of high-quality fakes."""
    rows = 2 if n_modes else 1
    titles = ("Losses (mean over each stretch of steps)",) + (
        (f"Modes covered (of {n_modes}) and high-quality share",) if n_modes else ())
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, subplot_titles=titles,
                        specs=[[{}]] + ([[{"secondary_y": True}]] if n_modes else []),
                        vertical_spacing=0.12)
    steps = [row["step"] for row in history]
    fig.add_trace(go.Scatter(x=steps, y=_values(history, "d_loss"), name="D loss",
                             line={"color": REAL}), row=1, col=1)
    fig.add_trace(go.Scatter(x=steps, y=_values(history, "g_loss"), name="G loss",
                             line={"color": FAKE}), row=1, col=1)
    if n_modes:
        fig.add_trace(go.Scatter(x=steps, y=_values(history, "covered"), name="modes covered",
                                 line={"color": "#1f77b4", "shape": "hv"}), row=2, col=1)
        fig.add_trace(go.Scatter(x=steps, y=_values(history, "high_quality"),
                                 name="high-quality share", line={"color": "#999", "dash": "dot"}),
                      row=2, col=1, secondary_y=True)
        fig.update_yaxes(range=[-0.3, n_modes + 0.3], title_text="modes", row=2, col=1)
        fig.update_yaxes(range=[0, 1.02], tickformat=".0%", tickvals=[0, 0.25, 0.5, 0.75, 1],
                         showgrid=False, title_text="high quality", secondary_y=True, row=2, col=1)
    fig.update_xaxes(title_text="step", row=rows, col=1)
    fig.update_layout(height=240 * rows + 60, margin=MARGIN, legend={"orientation": "h", "y": -0.12})
    return fig


def plane_figure(real: np.ndarray, fake: np.ndarray, grid_xs: np.ndarray | None = None,
                 real_map: np.ndarray | None = None, arrows: tuple | None = None,
                 title: str = "Real and fake samples") -> go.Figure:
    """The plane as GAN Lab shows it: the discriminator's P(real) (optional), real and fake
    samples and, optionally, arrows (points, pushes) for the generator's gradient."""
    fig = go.Figure()
    if real_map is not None and grid_xs is not None:
        fig.add_trace(go.Heatmap(x=grid_xs, y=grid_xs, z=real_map, zmin=0, zmax=1,
                                 colorscale=REAL_FAKE, opacity=0.65,
                                 colorbar={"title": "D: real", "thickness": 12},
                                 hovertemplate="x=%{x:.2f} y=%{y:.2f}<br>real %{z:.2f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=real[:, 0], y=real[:, 1], mode="markers", name="real",
                             marker={"color": REAL, "size": 4}))
    fig.add_trace(go.Scatter(x=fake[:, 0], y=fake[:, 1], mode="markers", name="fake",
                             marker={"color": FAKE, "size": 4}))
    if arrows is not None:
        at, push = arrows
        xs, ys = [], []
        for (x, y), (dx, dy) in zip(at, push):
            xs += [x, x + dx, None]
            ys += [y, y + dy, None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="push on fakes",
                                 line={"color": PUSH, "width": 1}))
    fig.update_layout(title=title, height=460, margin=MARGIN,
                      xaxis={"range": [-3, 3], "constrain": "domain"},
                      yaxis={"range": [-3, 3], "scaleanchor": "x"})
    return fig


def collapse_figure(comparison) -> go.Figure:
    """Modes covered over training for each setting and seed, and where the first seed's fakes
    of each setting ended up (a CollapseComparison from nnplay.lessons.gan)."""
    names = [n for n in ("healthy", "collapse") if comparison.runs.get(n)]
    fig = make_subplots(rows=1, cols=1 + len(names), column_widths=[0.5] + [0.25] * len(names),
                        subplot_titles=["Modes covered over training"]
                        + [f"{n}, seed {comparison.seeds[0]}, at the end" for n in names])
    for name in names:
        for seed, history in zip(comparison.seeds, comparison.runs[name]):
            fig.add_trace(go.Scatter(x=[r["step"] for r in history], y=_values(history, "covered"),
                                     mode="lines", name=f"{name}, seed {seed}",
                                     line={"color": SETTING_COLORS[name], "shape": "hv",
                                           "width": 1.5}, opacity=0.8), row=1, col=1)
    real = comparison.real
    for k, name in enumerate(names, start=2):
        fake = comparison.samples[name][0]
        fig.add_trace(go.Scatter(x=real[:, 0], y=real[:, 1], mode="markers", name="real",
                                 showlegend=k == 2, legendgroup="real",
                                 marker={"color": REAL, "size": 3, "opacity": 0.4}), row=1, col=k)
        fig.add_trace(go.Scatter(x=fake[:, 0], y=fake[:, 1], mode="markers", name="fake",
                                 showlegend=k == 2, legendgroup="fake",
                                 marker={"color": FAKE, "size": 3}), row=1, col=k)
        fig.update_xaxes(range=[-3, 3], showticklabels=False, row=1, col=k)
        fig.update_yaxes(range=[-3, 3], showticklabels=False, scaleanchor=f"x{k}", row=1, col=k)
    fig.update_yaxes(range=[-0.3, 8.3], title_text="modes covered", row=1, col=1)
    fig.update_xaxes(title_text="step", row=1, col=1)
    fig.update_layout(height=380, margin=MARGIN, legend={"orientation": "h", "y": -0.2})
    return fig


def tile(images: np.ndarray, cols: int | None = None) -> np.ndarray:
    """(n, 1, h, w) or (n, h, w) images as one (rows*h, cols*w) picture, a 1-pixel gap between."""
    imgs = np.asarray(images, dtype=np.float32).reshape(len(images), *np.shape(images)[-2:])
    n, h, w = imgs.shape
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    out = np.ones((rows * (h + 1) - 1, cols * (w + 1) - 1), dtype=np.float32) * 0.5
    for k in range(n):
        r, c = divmod(k, cols)
        out[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = imgs[k]
    return out


def digit_gan_figure(samples: np.ndarray, history: list[dict], epoch: int) -> go.Figure:
    """The generator's images for the fixed latent batch after ``epoch`` epochs (0: untrained),
    and the losses per epoch with that epoch marked."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.45, 0.55],
                        subplot_titles=(f"Generated digits after epoch {epoch}",
                                        "Losses per epoch"))
    picture = np.clip(np.nan_to_num(tile(samples), nan=0.5), 0, 1)
    fig.add_trace(go.Heatmap(z=picture[::-1], colorscale="gray_r", zmin=0, zmax=1, showscale=False,
                             hoverinfo="skip"), row=1, col=1)
    fig.update_xaxes(visible=False, row=1, col=1)
    fig.update_yaxes(visible=False, scaleanchor="x", row=1, col=1)
    epochs = [r["epoch"] for r in history]
    fig.add_trace(go.Scatter(x=epochs, y=_values(history, "d_loss"), name="D loss",
                             mode="lines+markers", line={"color": REAL}), row=1, col=2)
    fig.add_trace(go.Scatter(x=epochs, y=_values(history, "g_loss"), name="G loss",
                             mode="lines+markers", line={"color": FAKE}), row=1, col=2)
    if 1 <= epoch <= len(history):
        fig.add_vline(x=epoch, line={"color": "#999", "dash": "dot"}, row=1, col=2)
    fig.update_xaxes(title_text="epoch", row=1, col=2)
    fig.update_layout(height=420, margin=MARGIN, legend={"orientation": "h", "y": -0.15})
    return fig
