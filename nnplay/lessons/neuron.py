"""The single-neuron lesson's math: one neuron's forward pass, activation curves and where they
saturate, the perceptron on a 2-D toy set, and loss functions with their gradients.

Everything is computed with torch (autograd for derivatives, ``torch.nn.functional`` for losses)
so the numbers a learner sees are the numbers PyTorch would use in training.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import make_blobs

from nnplay.models.activations import (
    activation_and_derivative,
    activation_formula,
    activation_module,
    check_activation,
)

# ----------------------------------------------------------------------------------------------
# One neuron
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NeuronOutput:
    """A neuron's pre-activation z = w·x + b and its output a = f(z)."""

    z: float
    a: float

    def __repr__(self) -> str:
        return f"NeuronOutput(z={self.z:.4f}, a={self.a:.4f})"


def _as_vector(values: Sequence[float], name: str) -> torch.Tensor:
    vec = torch.as_tensor(np.asarray(values, dtype=np.float64)).reshape(-1)
    if vec.numel() == 0:
        raise ValueError(f"{name} needs at least one number.")
    if not torch.isfinite(vec).all():
        raise ValueError(f"{name} must contain finite numbers, got {list(values)}.")
    return vec


def neuron_forward(x: Sequence[float], w: Sequence[float], b: float,
                   activation: str = "linear") -> NeuronOutput:
    """One neuron: z = w·x + b, then a = activation(z), computed by torch in float64."""
    xs, ws = _as_vector(x, "x"), _as_vector(w, "w")
    if xs.numel() != ws.numel():
        raise ValueError(f"Give one weight per input: got {xs.numel()} inputs and "
                         f"{ws.numel()} weights.")
    z = F.linear(xs, ws.unsqueeze(0), torch.tensor([float(b)], dtype=torch.float64))
    a = activation_module(activation)(z)
    return NeuronOutput(z=float(z.item()), a=float(a.item()))


def _num(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}"
    return f"({text})"


def neuron_latex(x: Sequence[float], w: Sequence[float], b: float, activation: str,
                 digits: int = 2) -> tuple[str, str]:
    """LaTeX for the weighted sum and the activation with the live numbers filled in.

    Returns ``(sum_line, activation_line)``, e.g. ``z = w_1 x_1 + b = (0.50)(1.00) + (0.10) = 0.60``
    and ``a = \\tanh(z)\\big|_{z=0.60} = 0.54``; the numbers come from :func:`neuron_forward`.
    """
    out = neuron_forward(x, w, b, activation)
    n = len(x)
    symbols = " + ".join(f"w_{i} x_{i}" for i in range(1, n + 1)) + " + b"
    numbers = " + ".join(f"{_num(wi, digits)}{_num(xi, digits)}" for wi, xi in zip(w, x, strict=True))
    sum_line = (f"z = {symbols} = {numbers} + {_num(b, digits)} = {out.z:.{digits}f}")
    formula = activation_formula(activation)
    act_line = (rf"a = {formula}\,\Big|_{{z = {out.z:.{digits}f}}} = {out.a:.{digits}f}")
    return sum_line, act_line


# ----------------------------------------------------------------------------------------------
# Activation curves and saturation
# ----------------------------------------------------------------------------------------------


def activation_curve(name: str, z_min: float = -6.0, z_max: float = 6.0,
                     n: int = 241) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The activation f and its autograd derivative f' at n evenly spaced z in [z_min, z_max]."""
    check_activation(name)
    if not z_max > z_min:
        raise ValueError(f"z_max must be larger than z_min, got [{z_min}, {z_max}].")
    if n < 2:
        raise ValueError(f"n must be at least 2 points, got {n}.")
    z = torch.linspace(float(z_min), float(z_max), int(n), dtype=torch.float64)
    f, df = activation_and_derivative(name, z)
    return z.numpy(), f.numpy(), df.numpy()


def saturating_regions(z: np.ndarray, df: np.ndarray,
                       threshold: float = 0.05) -> list[tuple[float, float]]:
    """Intervals (lo, hi) of z where |f'(z)| < threshold: there a neuron barely learns."""
    if threshold <= 0:
        raise ValueError(f"threshold must be positive, got {threshold}.")
    z, df = np.asarray(z, dtype=float), np.asarray(df, dtype=float)
    flat = np.abs(df) < threshold
    regions: list[tuple[float, float]] = []
    start = None
    for i, is_flat in enumerate(flat):
        if is_flat and start is None:
            start = i
        elif not is_flat and start is not None:
            regions.append((float(z[start]), float(z[i - 1])))
            start = None
    if start is not None:
        regions.append((float(z[start]), float(z[-1])))
    return regions


def saturation_fraction(z: np.ndarray, df: np.ndarray, threshold: float = 0.05) -> float:
    """Share of the plotted z range that lies in a saturating region (0 to 1)."""
    span = float(np.max(z) - np.min(z))
    covered = sum(hi - lo for lo, hi in saturating_regions(z, df, threshold))
    return covered / span if span > 0 else 0.0


# ----------------------------------------------------------------------------------------------
# The perceptron on a 2-D toy set
# ----------------------------------------------------------------------------------------------


PERCEPTRON_DATA = {"blobs": "two blobs (a line separates them)",
                   "xor": "XOR (no line separates them)"}


def perceptron_data(n: int = 200, seed: int = 0, kind: str = "blobs"
                    ) -> tuple[np.ndarray, np.ndarray]:
    """2-D points for the perceptron: two Gaussian blobs a straight line almost separates, or
    XOR (class 1 where x1 and x2 have different signs), which no single line separates.

    Returns X float32 of shape (n, 2) and y int64 labels in {0, 1}; same arguments, same data.
    """
    if n < 4:
        raise ValueError(f"Use at least 4 points, got n={n}.")
    if kind == "xor":
        rng = np.random.default_rng(int(seed))
        X = rng.uniform(-3.0, 3.0, size=(int(n), 2))
        X += np.sign(X) * 0.3            # a margin around both axes, as TF Playground's XOR
        y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64)
        return X.astype(np.float32), y
    if kind != "blobs":
        raise ValueError(f"Choose perceptron data from {', '.join(PERCEPTRON_DATA)}, got {kind!r}.")
    X, y = make_blobs(n_samples=int(n), centers=[(-1.5, -1.0), (1.5, 1.5)], cluster_std=0.8,
                      random_state=int(seed))
    return X.astype(np.float32), y.astype(np.int64)


def best_line_accuracy(X: np.ndarray, y: np.ndarray, n_angles: int = 180) -> float:
    """The best accuracy any straight line reaches on (X, y), searched over directions and
    offsets: what a single neuron can do at most, whatever rule trains it."""
    best = 0.0
    for angle in np.linspace(0, np.pi, n_angles, endpoint=False):
        w = np.array([np.cos(angle), np.sin(angle)])
        s = X @ w
        order = np.argsort(s)
        ys = y[order]
        # class 1 above the threshold: accuracy = 0s below + 1s above, for every cut position
        zeros_below = np.concatenate([[0], np.cumsum(ys == 0)])
        ones_above = np.concatenate([[0], np.cumsum((ys == 1)[::-1])])[::-1]
        correct = (zeros_below + ones_above) / len(y)
        best = max(best, float(correct.max()), float(1 - correct.min()))
    return best


def decision_scores(X: np.ndarray, w: Sequence[float], b: float) -> np.ndarray:
    """w·x + b for every row of X: positive means the line says class 1."""
    Xt = torch.as_tensor(np.asarray(X, dtype=np.float64))
    wt = _as_vector(w, "w")
    if Xt.ndim != 2 or Xt.shape[1] != wt.numel():
        raise ValueError(f"X needs {wt.numel()} columns, one per weight; got shape {tuple(Xt.shape)}.")
    return (Xt @ wt + float(b)).numpy()


def decision_line_latex(w: Sequence[float], b: float, digits: int = 2) -> str:
    """LaTeX for the line w1·x1 + w2·x2 + b = 0 with the numbers filled in."""
    terms = " + ".join(f"{_num(wi, digits)}\\,x_{i}" for i, wi in enumerate(w, start=1))
    return f"{terms} + {_num(b, digits)} = 0"


def decision_accuracy(X: np.ndarray, y: np.ndarray, w: Sequence[float], b: float) -> float:
    """Fraction of points on the correct side of the line w·x + b = 0 (class 1 where it is > 0)."""
    y = np.asarray(y)
    if len(y) != len(X) or len(y) == 0:
        raise ValueError(f"X and y need the same, non-zero number of rows; got {len(X)} and {len(y)}.")
    predicted = (decision_scores(X, w, b) > 0).astype(np.int64)
    return float(np.mean(predicted == y))


class Perceptron:
    """Rosenblatt's perceptron rule, keeping the best weights seen (the "pocket" variant).

    For each misclassified point the rule moves the line towards it:
    ``w += lr * (y - ŷ) * x`` and ``b += lr * (y - ŷ)``. On data that no line separates exactly
    the plain rule never settles, so the weights with the best training accuracy are kept.
    Fitted attributes: ``coef_`` (w), ``intercept_`` (b), ``accuracy_history_`` (per epoch),
    ``n_updates_``.
    """

    def __init__(self, lr: float = 0.1, epochs: int = 20, seed: int = 0):
        self.lr = lr
        self.epochs = epochs
        self.seed = seed

    def fit(self, X: np.ndarray, y: np.ndarray) -> Perceptron:
        """Run the perceptron rule over shuffled passes through (X, y); returns self."""
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}.")
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}.")
        Xt = torch.as_tensor(np.asarray(X, dtype=np.float64))
        yt = torch.as_tensor(np.asarray(y, dtype=np.float64))
        if Xt.ndim != 2 or len(Xt) != len(yt) or len(yt) == 0:
            raise ValueError("X must be (n, features) and y must have n labels.")
        if not torch.isin(yt, torch.tensor([0.0, 1.0], dtype=torch.float64)).all():
            raise ValueError("The perceptron needs labels 0 and 1.")
        generator = torch.Generator().manual_seed(int(self.seed))
        w = torch.zeros(Xt.shape[1], dtype=torch.float64)
        b = torch.zeros((), dtype=torch.float64)
        best_acc, best_w, best_b = -1.0, w.clone(), b.clone()
        self.accuracy_history_, self.n_updates_ = [], 0
        for _ in range(int(self.epochs)):
            for i in torch.randperm(len(Xt), generator=generator).tolist():
                predicted = float((Xt[i] @ w + b) > 0)
                error = yt[i] - predicted
                if error != 0:
                    w = w + self.lr * error * Xt[i]
                    b = b + self.lr * error
                    self.n_updates_ += 1
            acc = float((((Xt @ w + b) > 0).double() == yt).double().mean())
            self.accuracy_history_.append(acc)
            if acc > best_acc:
                best_acc, best_w, best_b = acc, w.clone(), b.clone()
        self.coef_ = best_w.numpy()
        self.intercept_ = float(best_b)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class 1 where w·x + b > 0, else class 0."""
        return (decision_scores(X, self.coef_, self.intercept_) > 0).astype(np.int64)

    def score(self, X: np.ndarray, y: np.ndarray) -> float:
        """Accuracy on (X, y)."""
        return decision_accuracy(X, y, self.coef_, self.intercept_)

    def __repr__(self) -> str:
        return f"Perceptron(lr={self.lr}, epochs={self.epochs}, seed={self.seed})"


def fit_perceptron(X: np.ndarray, y: np.ndarray, epochs: int = 20, lr: float = 0.1,
                   seed: int = 0) -> tuple[np.ndarray, float]:
    """Fit a :class:`Perceptron` and return its line as (w, b) scaled so that |w| = 1.

    The line w·x + b = 0 is the same for any positive scale of (w, b); unit length keeps the
    numbers slider-sized, and b is then the signed distance of the line from the origin.
    """
    model = Perceptron(lr=lr, epochs=epochs, seed=seed).fit(X, y)
    norm = float(np.linalg.norm(model.coef_))
    if norm == 0:
        return model.coef_, model.intercept_
    return model.coef_ / norm, model.intercept_ / norm


# ----------------------------------------------------------------------------------------------
# Loss functions over a range of predictions
# ----------------------------------------------------------------------------------------------

CROSS_ENTROPY_CLASSES = 3


@dataclass(frozen=True)
class LossSpec:
    """A loss a learner can plot: its label, LaTeX, and what the prediction axis means."""

    label: str
    latex: str
    prediction: str     # "value" (any real number) or "probability" (strictly between 0 and 1)
    axis_label: str     # what the x axis of its plot shows
    compare_with: tuple[str, ...]   # losses worth drawing next to it on the same axis

    def __repr__(self) -> str:
        return f"LossSpec({self.label!r}, prediction={self.prediction!r})"


LOSSES: dict[str, LossSpec] = {
    "mse": LossSpec("Mean squared error", r"L = (\hat y - y)^2", "value", "prediction ŷ",
                    ("mae", "huber")),
    "mae": LossSpec("Mean absolute error", r"L = |\hat y - y|", "value", "prediction ŷ",
                    ("mse", "huber")),
    "huber": LossSpec("Huber", r"L = \begin{cases} \tfrac12 (\hat y - y)^2 & |\hat y - y| \le \delta"
                      r" \\ \delta\,(|\hat y - y| - \tfrac12 \delta) & \text{otherwise} \end{cases}",
                      "value", "prediction ŷ", ("mse", "mae")),
    "bce": LossSpec("Binary cross-entropy", r"L = -\big[y \log p + (1 - y)\log(1 - p)\big]",
                    "probability", "predicted probability p of class 1", ("mse",)),
    "cross_entropy": LossSpec("Cross-entropy (3 classes)", r"L = -\log p_{y}", "probability",
                              "predicted probability p of the true class (the other two share 1 - p)",
                              ("mse",)),
}


def check_loss(name: str) -> str:
    """Return the loss name or raise ValueError listing the valid ones."""
    key = str(name).lower()
    if key not in LOSSES:
        raise ValueError(f"Unknown loss {name!r}; choose one of {', '.join(LOSSES)}.")
    return key


def default_predictions(name: str, target: float, n: int = 201) -> np.ndarray:
    """A prediction grid that suits the loss: at least [-4, 4] and target ± 3 for values,
    (0, 1) without its ends for probabilities (where the log would be infinite)."""
    if LOSSES[check_loss(name)].prediction == "probability":
        return np.linspace(0.005, 0.995, n)
    return np.linspace(min(-4.0, target - 3.0), max(4.0, target + 3.0), n)


def _loss_fn(name: str, target: float, delta: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """Per-prediction loss as a function of a float64 prediction tensor (reduction='none')."""
    if name in ("mse", "mae", "huber"):
        def regression(pred: torch.Tensor) -> torch.Tensor:
            y = torch.full_like(pred, float(target))
            if name == "mse":
                return F.mse_loss(pred, y, reduction="none")
            if name == "mae":
                return F.l1_loss(pred, y, reduction="none")
            return F.huber_loss(pred, y, reduction="none", delta=float(delta))
        return regression
    if name == "bce":
        return lambda p: F.binary_cross_entropy(p, torch.full_like(p, float(target)),
                                                reduction="none")

    def cross_entropy(p: torch.Tensor) -> torch.Tensor:
        # Build the full 3-class distribution: the true class gets p, the others split 1 - p,
        # so the loss and its gradient are what torch computes for that distribution.
        rest = ((1.0 - p) / (CROSS_ENTROPY_CLASSES - 1)).unsqueeze(1)
        probs = rest.repeat(1, CROSS_ENTROPY_CLASSES)
        true_class = int(target)
        mask = F.one_hot(torch.tensor(true_class), CROSS_ENTROPY_CLASSES).bool()
        probs = torch.where(mask, p.unsqueeze(1), probs)
        labels = torch.full((len(p),), true_class, dtype=torch.long)
        return F.cross_entropy(torch.log(probs), labels, reduction="none")
    return cross_entropy


def _check_loss_inputs(name: str, target: float, preds: np.ndarray, delta: float) -> None:
    spec = LOSSES[name]
    if name == "huber" and not delta > 0:
        raise ValueError(f"Huber's delta must be positive, got {delta}.")
    if name == "bce" and not 0.0 <= target <= 1.0:
        raise ValueError(f"Binary cross-entropy needs a target between 0 and 1, got {target}.")
    if name == "cross_entropy" and (target != int(target)
                                    or not 0 <= target < CROSS_ENTROPY_CLASSES):
        raise ValueError(f"Cross-entropy needs the true class 0, 1 or 2, got {target}.")
    if spec.prediction == "probability" and (np.any(preds <= 0) or np.any(preds >= 1)):
        raise ValueError(f"{spec.label} needs predicted probabilities strictly between 0 and 1.")
    if not np.all(np.isfinite(preds)):
        raise ValueError("Predictions must be finite numbers.")


def loss_curve(name: str, target: float, preds: Sequence[float] | np.ndarray | None = None,
               delta: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The loss and its autograd gradient dL/d(prediction) at each prediction, for one target.

    ``preds`` defaults to :func:`default_predictions`. Values equal ``torch.nn.functional``'s
    (mse_loss, l1_loss, huber_loss, binary_cross_entropy, cross_entropy) with reduction='none'.
    Returns ``(preds, loss, grad)`` as float64 arrays.
    """
    name = check_loss(name)
    target = float(target)
    grid = default_predictions(name, target) if preds is None else np.asarray(preds, dtype=float)
    grid = np.atleast_1d(grid)
    _check_loss_inputs(name, target, grid, delta)
    pred = torch.tensor(grid, dtype=torch.float64, requires_grad=True)
    loss = _loss_fn(name, target, delta)(pred)
    (grad,) = torch.autograd.grad(loss.sum(), pred)
    return grid, loss.detach().numpy(), grad.numpy()


def loss_curves(name: str, target: float, delta: float = 1.0,
                compare: bool = True) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The named loss's curve first, then (if ``compare``) its ``compare_with`` losses on the
    same prediction grid, keyed by label.

    For a probability loss the comparison is the squared error on the probability itself, with
    the target the probability should reach (y for BCE, 1 for the true class): it shows why
    classifiers use cross-entropy, whose gradient grows as the prediction gets confidently wrong.
    """
    name = check_loss(name)
    spec = LOSSES[name]
    preds, loss, grad = loss_curve(name, target, delta=delta)
    curves = {spec.label: (preds, loss, grad)}
    if not compare:
        return curves
    for other in spec.compare_with:
        if spec.prediction == "probability":
            goal = 1.0 if name == "cross_entropy" else float(target)
            curves[f"Squared error on p (target {goal:g})"] = loss_curve(other, goal, preds)
        else:
            curves[LOSSES[other].label] = loss_curve(other, target, preds, delta=delta)
    return curves
