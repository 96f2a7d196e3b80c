"""Vanishing and exploding gradients, measured: one backward pass through a deep MLP on real data.

``measure_gradient_flow`` builds ``nnplay.models.mlp`` with a chosen depth, activation and
initialisation, runs one cross-entropy forward and backward pass on a batch of real handwritten
digits (sklearn's 8x8 digits, standardised), and reports each layer's weight-gradient norm and
the distribution of each hidden layer's activations. ``GradientFlowReport.status`` names what a
learner should see: gradients that vanish towards the input, explode, or stay level.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from nnplay.models.activations import check_activation
from nnplay.models.mlp import INITS, mlp

GRADFLOW_ACTIVATIONS = ("sigmoid", "tanh", "relu", "gelu")
MIN_DEPTH, MAX_DEPTH = 1, 50
# A last-to-first gradient-norm ratio beyond this (either way) is what the lesson calls
# vanishing or exploding: three orders of magnitude between the ends of the network.
RATIO_THRESHOLD = 1e3
# Healthy weight gradients here are of order 0.01 to 1; far outside that the step sizes an
# optimizer takes are useless (nothing moves) or destructive (everything jumps).
EXPLODING_NORM = 1e3
VANISHING_NORM = 1e-5
SAMPLES_PER_LAYER = 2000


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    """All training digits as standardised float32 rows of 64 pixels, and their labels."""
    try:
        from nnplay.data import load
    except ImportError:  # the dataset registry is optional for this module
        load = None
    if load is not None:
        ds = load("digits")
        X, y = ds.X_train.reshape(len(ds.X_train), -1), ds.y_train
    else:
        from sklearn.datasets import load_digits
        X, y = load_digits(return_X_y=True)
    X = np.asarray(X, dtype=np.float64)
    # Standardise whatever scale the source used, so every run starts from the same footing;
    # constant border pixels keep a zero instead of dividing by zero.
    std = X.std(axis=0)
    X = (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
    return X.astype(np.float32), np.asarray(y, dtype=np.int64)


def digits_batch(batch_size: int = 256, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of real digits (64 standardised features, 10 classes), drawn with ``seed``."""
    X, y = _digits()
    if not 1 <= batch_size <= len(X):
        raise ValueError(f"batch_size must be between 1 and {len(X)}, got {batch_size}.")
    idx = np.random.default_rng(seed).choice(len(X), size=batch_size, replace=False)
    return torch.from_numpy(X[idx]), torch.from_numpy(y[idx])


@dataclass(frozen=True)
class GradientFlowReport:
    """Per-layer gradient norms and activations after one backward pass through a deep MLP."""

    depth: int
    activation: str
    init: str
    width: int
    loss: float
    layer_names: tuple[str, ...]          # "layer 1" ... "layer depth", then "output"
    grad_norms: np.ndarray                # Frobenius norm of each Linear layer's weight gradient
    activation_samples: tuple[np.ndarray, ...]   # a sample of each hidden layer's outputs
    activation_std: np.ndarray            # standard deviation of each hidden layer's outputs
    mean_slope: np.ndarray                # mean f'(z) of each hidden layer: its gradient factor

    @property
    def ratio(self) -> float:
        """Gradient norm at the output layer divided by the norm at the first layer.

        Far above 1: the gradient vanishes on its way back to the input. Far below 1: it grows.
        """
        first, last = float(self.grad_norms[0]), float(self.grad_norms[-1])
        if first == 0.0:
            return float("inf") if last > 0 else float("nan")
        return last / first

    @property
    def status(self) -> str:
        """'vanishing', 'exploding' or 'healthy', from the ratio and the size of the norms."""
        return self.diagnosis()[0]

    @property
    def reason(self) -> str:
        """Which rule gave the status, in numbers (what the page prints beside it)."""
        return self.diagnosis()[1]

    def diagnosis(self) -> tuple[str, str]:
        """(status, the rule that decided it with this run's numbers); rules in order."""
        largest, smallest = float(np.max(self.grad_norms)), float(np.min(self.grad_norms))
        ratio = self.ratio
        if not np.isfinite(largest):
            return "exploding", "the gradient overflowed to infinity"
        if largest > EXPLODING_NORM:
            return "exploding", (f"the largest layer gradient is {_sci(largest)}, above "
                                 f"{EXPLODING_NORM:g}: every step would throw the weights far, "
                                 f"whatever the output/first ratio ({format_ratio(ratio)})")
        if largest < VANISHING_NORM:
            return "vanishing", (f"every layer gradient is below {VANISHING_NORM:g} "
                                 f"(largest {_sci(largest)}): nothing learns")
        if np.isnan(ratio) or ratio > RATIO_THRESHOLD:
            return "vanishing", (f"the output layer's gradient is {format_ratio(ratio)} times the "
                                 f"first layer's (rule: above {RATIO_THRESHOLD:g}); the first "
                                 f"layer gets {smallest:.2e}")
        if ratio < 1.0 / RATIO_THRESHOLD:
            return "exploding", (f"the first layer's gradient is {format_ratio(1 / ratio)} times "
                                 f"the output layer's (rule: above {RATIO_THRESHOLD:g})")
        return "healthy", (f"the output/first ratio is {format_ratio(ratio)}, within "
                           f"{1 / RATIO_THRESHOLD:g} to {RATIO_THRESHOLD:g}, and the norms lie "
                           f"between {_sci(smallest)} and {_sci(largest)}")


def _sci(x: float) -> str:
    return "0" if x == 0 else f"{x:.2e}"


def format_ratio(ratio: float) -> str:
    """A gradient ratio for a person: 2.99, 3.6e+03, or words where it is not a number."""
    if np.isnan(ratio):
        return "undefined (no gradient reaches either end)"
    if np.isinf(ratio):
        return "infinite (the first layer gets exactly zero)"
    return f"{ratio:.3g}" if 1e-3 <= ratio < 1e4 else f"{ratio:.2e}"


def measure_gradient_flow(depth: int, activation: str = "sigmoid", init: str = "default",
                          width: int = 32, batch_size: int = 256,
                          seed: int = 0) -> GradientFlowReport:
    """One forward and backward pass of a ``depth``-hidden-layer MLP on a batch of real digits.

    The same arguments give the same numbers: ``seed`` fixes both the weights and the batch.
    """
    if not MIN_DEPTH <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be between {MIN_DEPTH} and {MAX_DEPTH}, got {depth}.")
    if width < 1:
        raise ValueError(f"width must be at least 1, got {width}.")
    activation = check_activation(activation)
    if init not in INITS:
        raise ValueError(f"Unknown init {init!r}; choose one of {', '.join(INITS)}.")
    xb, yb = digits_batch(batch_size, seed)
    # fork_rng keeps the caller's global random state untouched by our seeding.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = mlp(xb.shape[1], [width] * depth, 10, activation=activation, init=init)
    hidden = net.hidden_activations(xb)
    slopes = _mean_slopes(net, xb, activation)
    loss = F.cross_entropy(net(xb), yb)
    loss.backward()
    norms = np.array([float(lin.weight.grad.norm()) for lin in net.linear_layers()])
    rng = np.random.default_rng(seed)
    samples = []
    for h in hidden:
        values = h.detach().numpy().ravel()
        if len(values) > SAMPLES_PER_LAYER:
            values = rng.choice(values, SAMPLES_PER_LAYER, replace=False)
        samples.append(values)
    stds = np.array([float(h.detach().std()) for h in hidden])
    names = tuple(f"layer {i}" for i in range(1, depth + 1)) + ("output",)
    return GradientFlowReport(int(depth), activation, init, int(width), float(loss.detach()),
                              names, norms, tuple(samples), stds, slopes)


def _mean_slopes(net, xb: torch.Tensor, activation: str) -> np.ndarray:
    """Mean f'(z) over the batch for each hidden layer: the factor backprop multiplies by."""
    from torch import nn

    from nnplay.models.activations import activation_and_derivative

    slopes, h = [], xb
    for m in net.layers:
        if isinstance(m, nn.Linear) and m is not net.linear_layers()[-1]:
            with torch.no_grad():
                z = m(h)
            h, slope = activation_and_derivative(activation, z)
            slopes.append(float(slope.mean()))
        elif isinstance(m, nn.Linear):
            break
    return np.array(slopes)
