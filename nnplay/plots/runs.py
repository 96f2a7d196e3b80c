"""Figures of the Runs page: the chosen runs' curves, one plot per group of comparable runs.

Runs are comparable when they learned the same dataset for the same task; a loss on moons and
a loss on iris share no scale, so they never share axes. The single overlay itself is
``nnplay.plots.training.runs_overlay_figure``, which the Training lab uses too.
"""

from __future__ import annotations

import plotly.graph_objects as go

from nnplay.plots.training import METRIC_TITLES, metric_keys, runs_overlay_figure


def group_title(dataset: str, task: str) -> str:
    """How a group of comparable runs is named: "moons (classification)"."""
    return f"{dataset or 'unknown dataset'} ({task})" if task else (dataset or "unknown dataset")


def shared_curve_keys(groups: dict[tuple[str, str], dict[str, list[dict]]]) -> list[str]:
    """Per-epoch keys any of the groups' runs recorded, loss first (see ``metric_keys``)."""
    return metric_keys([h for histories in groups.values() for h in histories.values()])


def group_overlay_figures(groups: dict[tuple[str, str], dict[str, list[dict]]],
                          key: str = "val_loss", log_y: bool = False
                          ) -> list[tuple[str, go.Figure]]:
    """(title, figure) per (dataset, task) group: its runs' ``key`` curves overlaid.

    ``groups`` maps (dataset, task) to {run label: history}; a group with no run that recorded
    ``key`` is left out.
    """
    figures = []
    for (dataset, task), histories in groups.items():
        if key not in metric_keys(list(histories.values())):
            continue
        title = group_title(dataset, task)
        fig = runs_overlay_figure(histories, key, log_y)
        fig.update_layout(title={"text": f"{METRIC_TITLES.get(key, key)}: {title}", "x": 0},
                          margin={"t": 50})
        figures.append((title, fig))
    return figures
