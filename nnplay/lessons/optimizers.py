"""Two-dimensional loss surfaces and the paths real torch.optim optimizers take across them.

A ``Surface`` is a function f(x, y) written in torch with its plotting window, a start point and
its global minima. ``compare_optimizers`` runs SGD, momentum, Nesterov, RMSprop and Adam from the
same start on the real function (float64, autograd gradients) and records every point;
``closest_table`` says which one ended nearest a global minimum.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

SURFACES = ("quadratic", "rosenbrock", "saddle", "himmelblau")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam")
OPTIMIZER_TITLES = {"sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov",
                    "rmsprop": "RMSprop", "adam": "Adam"}
# Beyond this distance from the origin a path has left every window we draw: call it diverged.
DIVERGED_AT = 1e6


@dataclass(frozen=True)
class Surface:
    """A loss function of two parameters with where to look, where to start and where the minima are."""

    name: str
    title: str
    latex: str                       # the formula shown to the learner
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    start: tuple[float, float]
    minima: tuple[tuple[float, float], ...]   # every global minimum (x, y)
    default_lr: float
    log_contours: bool               # steep surfaces read better on a log scale

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.fn(x, y)

    def value(self, x: float, y: float) -> float:
        """f(x, y) for plain numbers."""
        t = torch.tensor
        return float(self.fn(t(x, dtype=torch.float64), t(y, dtype=torch.float64)))

    def grid(self, n: int = 150) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Axis values xs (n,), ys (n,) and f on the grid as Z (n, n), rows along y."""
        xs = np.linspace(*self.x_range, n)
        ys = np.linspace(*self.y_range, n)
        X, Y = np.meshgrid(xs, ys)
        with torch.no_grad():
            Z = self.fn(torch.from_numpy(X), torch.from_numpy(Y)).numpy()
        return xs, ys, Z

    def min_value(self) -> float:
        """The loss at the global minimum."""
        return self.value(*self.minima[0])

    def distance_to_minimum(self, x: float, y: float) -> float:
        """Euclidean distance from (x, y) to the nearest global minimum."""
        return min(math.hypot(x - mx, y - my) for mx, my in self.minima)


def _quadratic(condition: float) -> Callable:
    # A bowl whose long axis runs diagonally, so no optimizer gets the conditioning fixed for
    # free by scaling x and y separately (as RMSprop and Adam would for an axis-aligned bowl).
    def f(x, y):
        u = (x + y) / math.sqrt(2.0)
        v = (x - y) / math.sqrt(2.0)
        return 0.5 * (u ** 2 + condition * v ** 2)
    return f


def make_surface(name: str, condition: float = 10.0) -> Surface:
    """The surface called ``name`` (one of SURFACES); ``condition`` shapes the quadratic bowl.

    The condition number is the ratio of the bowl's largest to smallest curvature.
    """
    if name == "quadratic":
        if not 1.0 <= condition <= 1e4:
            raise ValueError(f"The condition number must be between 1 and 10000, got {condition}.")
        return Surface(
            "quadratic", f"Ill-conditioned bowl (condition number {condition:g})",
            r"f(x,y)=\tfrac12\left(u^2+\kappa v^2\right),\quad u=\tfrac{x+y}{\sqrt2},\ "
            rf"v=\tfrac{{x-y}}{{\sqrt2}},\ \kappa={condition:g}",
            _quadratic(float(condition)), (-3.0, 3.0), (-3.0, 3.0), (-2.0, 2.6), ((0.0, 0.0),),
            0.05, False)
    if name == "rosenbrock":
        return Surface(
            "rosenbrock", "Rosenbrock's banana valley", r"f(x,y)=(1-x)^2+100\,(y-x^2)^2",
            lambda x, y: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2,
            (-2.0, 2.0), (-1.0, 3.0), (-1.5, 2.5), ((1.0, 1.0),), 0.001, True)
    if name == "saddle":
        return Surface(
            "saddle", "A saddle between two valleys", r"f(x,y)=x^2+\tfrac14 y^4-\tfrac12 y^2",
            lambda x, y: x ** 2 + 0.25 * y ** 4 - 0.5 * y ** 2,
            (-2.0, 2.0), (-2.0, 2.0), (-1.8, 0.01), ((0.0, 1.0), (0.0, -1.0)), 0.05, False)
    if name == "himmelblau":
        return Surface(
            "himmelblau", "Himmelblau's four minima", r"f(x,y)=(x^2+y-11)^2+(x+y^2-7)^2",
            lambda x, y: (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2,
            (-5.0, 5.0), (-5.0, 5.0), (-0.3, -0.9),
            ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)),
            0.01, True)
    raise ValueError(f"Unknown surface {name!r}; choose one of {', '.join(SURFACES)}.")


def _make_optimizer(name: str, params: list[torch.Tensor], lr: float,
                    momentum: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    if name == "nesterov":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=True)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    raise ValueError(f"Unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}.")


@dataclass(frozen=True)
class OptimizerPath:
    """Where one optimizer went: every point visited, the loss there, and whether it blew up."""

    optimizer: str
    points: np.ndarray     # (steps_taken + 1, 2), the start first
    losses: np.ndarray     # (steps_taken + 1,)
    diverged: bool

    @property
    def final_point(self) -> tuple[float, float]:
        return float(self.points[-1, 0]), float(self.points[-1, 1])

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])


def optimizer_path(surface: Surface, optimizer: str, lr: float, steps: int,
                   start: Sequence[float] | None = None, momentum: float = 0.9) -> OptimizerPath:
    """Run ``optimizer`` (a torch.optim optimizer, by name) for ``steps`` steps on ``surface``.

    A path that leaves every sensible window or produces a non-finite loss stops there and is
    marked diverged; the points up to that moment are kept.
    """
    if not lr > 0:
        raise ValueError(f"The learning rate must be positive, got {lr}.")
    if steps < 1:
        raise ValueError(f"Take at least one step, got {steps}.")
    start = surface.start if start is None else tuple(start)
    xy = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = _make_optimizer(optimizer, [xy], lr, momentum)
    points, losses, diverged = [xy.detach().clone().numpy()], [], False
    for _ in range(steps):
        opt.zero_grad()
        loss = surface(xy[0], xy[1])
        losses.append(float(loss.detach()))
        loss.backward()
        opt.step()
        point = xy.detach().clone().numpy()
        if not np.all(np.isfinite(point)) or np.abs(point).max() > DIVERGED_AT:
            diverged = True
            break
        points.append(point)
    if not diverged:
        losses.append(surface.value(*points[-1]))
    else:
        # The last kept point's loss was recorded before the step that blew up.
        losses = losses[: len(points)]
    return OptimizerPath(optimizer, np.array(points), np.array(losses), diverged)


def compare_optimizers(surface: Surface, lr: float, steps: int,
                       optimizers: Sequence[str] = OPTIMIZERS,
                       start: Sequence[float] | None = None,
                       momentum: float = 0.9) -> dict[str, OptimizerPath]:
    """Every optimizer in ``optimizers`` from the same start with the same learning rate."""
    return {name: optimizer_path(surface, name, lr, steps, start, momentum) for name in optimizers}


def closest_table(surface: Surface, paths: dict[str, OptimizerPath]) -> pd.DataFrame:
    """One row per optimizer: final point, final loss, distance to the nearest global minimum.

    Sorted nearest first; a diverged optimizer's distance is infinite and sorts last.
    """
    rows = []
    for name, path in paths.items():
        x, y = path.final_point
        rows.append({
            "optimizer": OPTIMIZER_TITLES.get(name, name),
            "final x": x,
            "final y": y,
            "final loss": math.nan if path.diverged else path.final_loss,
            "distance to nearest minimum": (math.inf if path.diverged
                                            else surface.distance_to_minimum(x, y)),
            "diverged": path.diverged,
        })
    table = pd.DataFrame(rows)
    return table.sort_values("distance to nearest minimum", kind="stable").reset_index(drop=True)


def format_number(x: float) -> str:
    """A number for a person: 4 significant digits, engineering notation when very large or
    small, "diverged" for what is not finite."""
    if not math.isfinite(x):
        return "diverged"
    if x == 0 or 1e-3 <= abs(x) < 1e5:
        return f"{x:.4g}"
    exponent = int(math.floor(math.log10(abs(x)) / 3) * 3)
    return f"{x / 10 ** exponent:.3g}e{exponent}"


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """``closest_table`` as text for the page: a diverged optimizer reads "diverged" in every
    number column instead of nan or inf, and huge numbers are in engineering notation."""
    shown = table.drop(columns="diverged").copy()
    for column in ("final x", "final y", "final loss", "distance to nearest minimum"):
        shown[column] = [("diverged" if gone else format_number(v))
                         for v, gone in zip(table[column], table["diverged"], strict=True)]
    return shown
