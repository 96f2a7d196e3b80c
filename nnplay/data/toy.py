"""Toy 2-D datasets on TensorFlow Playground's -6..6 plane, plus scikit-learn's moons and blobs.

circle, xor, gauss, spiral, plane and gauss_regression reproduce the generators in TF Playground's
src/dataset.ts (classifyCircleData, classifyXORData, classifyTwoGaussData, classifySpiralData,
regressPlane, regressGaussian) with the same geometry and the same meaning of ``noise`` (the
Playground's 0-50% slider as a fraction 0..0.5), drawn from a seeded numpy Generator. TF labels
-1/+1 become class indices 0/1. Features are left unscaled so plots show the Playground's plane;
its range is in ``extra["xlim"]`` and ``extra["ylim"]``.
"""

from __future__ import annotations

import numpy as np

from nnplay.data.dataset import Dataset
from nnplay.data.prep import split_indices
from nnplay.data.registry import DatasetInfo, register

PLANE = (-6.0, 6.0)
TF_CLASS_NAMES = ["negative", "positive"]   # TF's -1 and +1, as class indices 0 and 1
DEFAULT_N = 500                             # the Playground's number of points


def _toy_dataset(name: str, X: np.ndarray, y: np.ndarray, task: str, test_size: float,
                 seed: int, class_names: list[str] | None, generator: str,
                 xlim=PLANE, ylim=PLANE) -> Dataset:
    """Split generated points and wrap them in a Dataset with the plot range recorded."""
    y = y.astype(np.int64) if task == "classification" else y.astype(np.float32)
    train, test, note = split_indices(y, test_size, seed, stratify=task == "classification")
    X = X.astype(np.float32)
    extra = {"xlim": tuple(xlim), "ylim": tuple(ylim), "generator": generator,
             "preprocessing": ["none: features are raw plane coordinates (not standardised)"]}
    if note:
        extra["preprocessing"].append(note)
    if task == "regression":
        extra.update(y_mean=0.0, y_std=1.0)   # targets already in TF's -1..1 units
    return Dataset(name=name, X_train=X[train], y_train=y[train], X_test=X[test],
                   y_test=y[test], task=task, feature_names=["x1", "x2"],
                   class_names=class_names, extra=extra)


def _tf_labels(positive: np.ndarray) -> np.ndarray:
    """TF's +1 / -1 as class indices 1 / 0."""
    return np.where(positive, 1, 0)


def _half_counts(n: int) -> tuple[int, int]:
    """Points for TF's positive and negative halves; exactly n in total."""
    return n - n // 2, n // 2


def circle_points(n: int, noise: float, rng: np.random.Generator):
    """classifyCircleData: positives inside radius 2.5, negatives in the ring 3.5..5.

    Noise moves the point used for labelling (not the point drawn), so near the boundary
    some labels flip: that is how the Playground shows label noise.
    """
    radius = 5.0
    n_pos, n_neg = _half_counts(n)
    r = np.concatenate([rng.uniform(0, radius * 0.5, n_pos),
                        rng.uniform(radius * 0.7, radius, n_neg)])
    angle = rng.uniform(0, 2 * np.pi, n)
    x, y = r * np.sin(angle), r * np.cos(angle)
    noise_x = rng.uniform(-radius, radius, n) * noise
    noise_y = rng.uniform(-radius, radius, n) * noise
    inside = np.hypot(x + noise_x, y + noise_y) < radius * 0.5
    return np.column_stack([x, y]), _tf_labels(inside)


def xor_points(n: int, noise: float, rng: np.random.Generator):
    """classifyXORData: uniform in -5..5 pushed 0.3 away from the axes; label = sign(x*y)."""
    padding = 0.3
    x = rng.uniform(-5, 5, n)
    x += np.where(x > 0, padding, -padding)
    y = rng.uniform(-5, 5, n)
    y += np.where(y > 0, padding, -padding)
    noise_x = rng.uniform(-5, 5, n) * noise
    noise_y = rng.uniform(-5, 5, n) * noise
    same_sign = (x + noise_x) * (y + noise_y) >= 0
    return np.column_stack([x, y]), _tf_labels(same_sign)


def gauss_points(n: int, noise: float, rng: np.random.Generator):
    """classifyTwoGaussData: two Gaussians at (2, 2) and (-2, -2); noise 0..0.5 maps to
    variance 0.5..4, so the clouds overlap more as noise grows."""
    variance = 0.5 + (4 - 0.5) * noise / 0.5
    n_pos, n_neg = _half_counts(n)
    centres = np.concatenate([np.full(n_pos, 2.0), np.full(n_neg, -2.0)])
    xy = centres[:, None] + rng.normal(0.0, np.sqrt(variance), (n, 2))
    return xy, np.concatenate([np.ones(n_pos), np.zeros(n_neg)])


def spiral_points(n: int, noise: float, rng: np.random.Generator):
    """classifySpiralData: two interleaved arms, 1.75 turns each, radius growing to 5;
    noise adds uniform jitter of +-noise to each coordinate."""
    n_pos, n_neg = _half_counts(n)
    arms = []
    for count, delta_t, label in ((n_pos, 0.0, 1), (n_neg, np.pi, 0)):
        i = np.arange(count)
        r = i / count * 5
        t = 1.75 * i / count * 2 * np.pi + delta_t
        x = r * np.sin(t) + rng.uniform(-1, 1, count) * noise
        y = r * np.cos(t) + rng.uniform(-1, 1, count) * noise
        arms.append((np.column_stack([x, y]), np.full(count, label)))
    return np.concatenate([a[0] for a in arms]), np.concatenate([a[1] for a in arms])


def plane_points(n: int, noise: float, rng: np.random.Generator):
    """regressPlane: target (x + y) / 10, computed at a noise-shifted point."""
    radius = 6.0
    x, y = rng.uniform(-radius, radius, n), rng.uniform(-radius, radius, n)
    noise_x = rng.uniform(-radius, radius, n) * noise
    noise_y = rng.uniform(-radius, radius, n) * noise
    return np.column_stack([x, y]), ((x + noise_x) + (y + noise_y)) / 10.0


GAUSS_BUMPS = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]


def gauss_regression_points(n: int, noise: float, rng: np.random.Generator):
    """regressGaussian: six bumps of height +-1 that fall to 0 at distance 2; the target is
    the bump largest in absolute value at the (noise-shifted) point."""
    radius = 6.0
    x, y = rng.uniform(-radius, radius, n), rng.uniform(-radius, radius, n)
    px = x + rng.uniform(-radius, radius, n) * noise
    py = y + rng.uniform(-radius, radius, n) * noise
    bumps = np.stack([sign * np.clip(1 - np.hypot(px - cx, py - cy) / 2, 0, 1)
                      for cx, cy, sign in GAUSS_BUMPS])
    strongest = np.abs(bumps).argmax(axis=0)
    return np.column_stack([x, y]), bumps[strongest, np.arange(n)]


TF_GENERATORS = {
    "circle": (circle_points, "classification", "classifyCircleData",
               "A disc of one class inside a ring of the other: no straight line separates them, "
               "so a net needs a hidden layer (or an x1^2 + x2^2 feature)."),
    "xor": (xor_points, "classification", "classifyXORData",
            "Opposite quadrants share a class, the classic problem a single neuron cannot "
            "solve; the label is the sign of x1 * x2."),
    "gauss": (gauss_points, "classification", "classifyTwoGaussData",
              "Two Gaussian clouds that a straight line separates; noise widens them until "
              "they overlap and no model can be perfect."),
    "spiral": (spiral_points, "classification", "classifySpiralData",
               "Two interleaved spiral arms, the Playground's hardest set: it needs several "
               "hidden layers or hand-made features such as sin(x1)."),
    "plane": (plane_points, "regression", "regressPlane",
              "A tilted plane, target (x1 + x2) / 10: a single linear neuron fits it exactly."),
    "gauss_regression": (gauss_regression_points, "regression", "regressGaussian",
                         "Six bumps of height +1 or -1 on a flat floor: a bumpy surface a "
                         "net must fit piece by piece."),
}


def _make_tf_loader(name: str, points_fn, task: str, generator: str):
    def loader(n: int = DEFAULT_N, noise: float = 0.0, test_size: float = 0.5, seed: int = 0):
        X, y = points_fn(n, noise, np.random.default_rng(seed))
        return _toy_dataset(name, X, y, task, test_size, seed,
                            TF_CLASS_NAMES if task == "classification" else None,
                            f"TF Playground {generator}")
    loader.__name__ = f"load_{name}"
    loader.__doc__ = f"TF Playground's {generator} on the -6..6 plane."
    return loader


for _name, (_fn, _task, _generator, _description) in TF_GENERATORS.items():
    register(DatasetInfo(_name, _task, "toy", DEFAULT_N, 2,
                         2 if _task == "classification" else None, "generated", _description),
             _make_tf_loader(_name, _fn, _task, _generator))


@register(DatasetInfo("moons", "classification", "toy", DEFAULT_N, 2, 2, "scikit-learn",
                      "Two interlocking half-moons (scikit-learn's make_moons); noise is the "
                      "std of Gaussian jitter, in the moons' own units of about 1."))
def load_moons(n: int = DEFAULT_N, noise: float = 0.0, test_size: float = 0.5,
               seed: int = 0) -> Dataset:
    """scikit-learn's make_moons, unscaled; the plot range grows with the noise."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n, noise=noise, random_state=seed)
    pad = 0.5 + 3 * noise   # the clean moons span x in [-1, 2], y in [-0.5, 1]
    return _toy_dataset("moons", X, y, "classification", test_size, seed,
                        ["upper moon", "lower moon"], "scikit-learn make_moons",
                        xlim=(-1 - pad, 2 + pad), ylim=(-0.5 - pad, 1 + pad))


def blob_centres(n_classes: int, radius: float = 4.0) -> np.ndarray:
    """Evenly spaced centres on a circle, so class geometry does not depend on the seed."""
    angles = np.pi / 2 + 2 * np.pi * np.arange(n_classes) / n_classes
    return np.column_stack([radius * np.cos(angles), radius * np.sin(angles)])


@register(DatasetInfo("blobs", "classification", "toy", DEFAULT_N, 2, 3, "scikit-learn",
                      "Three to five round clusters, one per class (scikit-learn's make_blobs): "
                      "the simplest multi-class problem, with a softmax over K outputs."))
def load_blobs(n: int = DEFAULT_N, noise: float = 0.0, test_size: float = 0.5, seed: int = 0,
               n_classes: int = 3) -> Dataset:
    """Gaussian clusters around ``blob_centres``; noise widens them like TF's two Gaussians
    (variance 0.5..4)."""
    from sklearn.datasets import make_blobs

    if isinstance(n_classes, bool) or n_classes not in (3, 4, 5):
        raise ValueError(f"n_classes for blobs must be 3, 4 or 5, got {n_classes!r}.")
    std = np.sqrt(0.5 + (4 - 0.5) * noise / 0.5)
    X, y = make_blobs(n_samples=n, centers=blob_centres(int(n_classes)), cluster_std=std,
                      random_state=seed)
    names = [f"blob {chr(ord('A') + k)}" for k in range(int(n_classes))]
    return _toy_dataset("blobs", X, y, "classification", test_size, seed, names,
                        "scikit-learn make_blobs")
