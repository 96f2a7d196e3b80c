"""Shared by every loader: checks on the parameters a person sets, the train/test split, scaling.

Keeping these in one place means a bad ``test_size`` gets the same message whether it came
from a toy set, a bundled set or an uploaded CSV, and every split is seeded the same way.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

N_MIN, N_MAX = 10, 100_000
NOISE_MIN, NOISE_MAX = 0.0, 0.5
TEST_SIZE_MIN, TEST_SIZE_MAX = 0.05, 0.95


def _is_number(value) -> bool:
    # bool is an int in Python, but noise=True is a mistake, not a number.
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_n(n) -> int:
    """Return ``n`` as an int if it is a whole number of samples in [10, 100,000]."""
    if not _is_number(n) or not math.isfinite(n) or float(n) != int(n):
        raise ValueError(f"n must be a whole number of samples, got {n!r}.")
    if not N_MIN <= int(n) <= N_MAX:
        raise ValueError(f"n must be between {N_MIN} and {N_MAX:,} samples, got {int(n):,}.")
    return int(n)


def check_noise(noise) -> float:
    """Return ``noise`` as a float if it lies in [0, 0.5]."""
    if not _is_number(noise) or math.isnan(noise):
        raise ValueError(f"noise must be a number between 0 and 0.5, got {noise!r}.")
    if not NOISE_MIN <= float(noise) <= NOISE_MAX:
        raise ValueError(f"noise must be between {NOISE_MIN:g} and {NOISE_MAX:g}, got {noise:g}.")
    return float(noise)


def check_test_size(test_size) -> float:
    """Return ``test_size`` as a float if it is a fraction in [0.05, 0.95]."""
    if not _is_number(test_size) or math.isnan(test_size):
        raise ValueError(f"test_size must be a fraction such as 0.25, got {test_size!r}.")
    if not TEST_SIZE_MIN <= float(test_size) <= TEST_SIZE_MAX:
        raise ValueError(f"test_size must be a fraction between {TEST_SIZE_MIN:g} and "
                         f"{TEST_SIZE_MAX:g} (e.g. 0.25 for 25%), got {test_size:g}.")
    return float(test_size)


def check_seed(seed) -> int:
    """Return ``seed`` as an int if it is a whole number >= 0."""
    if (not _is_number(seed) or not math.isfinite(seed) or float(seed) != int(seed)
            or int(seed) < 0):
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}.")
    return int(seed)


PARAM_CHECKS = {"n": check_n, "noise": check_noise, "test_size": check_test_size,
                "seed": check_seed}


def split_indices(y: np.ndarray, test_size: float, seed: int,
                  stratify: bool) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Seeded train/test row indices, stratified by ``y`` when asked and possible.

    Returns (train_idx, test_idx, note); note says why stratification was skipped, else None.
    Stratifying needs at least 2 rows per class and room for every class on both sides.
    """
    from sklearn.model_selection import train_test_split

    n = len(y)
    n_test = math.ceil(test_size * n)
    if n_test < 1 or n - n_test < 1:
        raise ValueError(f"test_size {test_size:g} leaves no rows on one side of the split "
                         f"of {n} rows; use a test_size nearer 0.5 or more rows.")
    note = None
    stratify_by = None
    if stratify:
        _, counts = np.unique(y, return_counts=True)
        if counts.min() < 2:
            note = ("split without stratifying: a class has fewer than 2 rows, so it cannot "
                    "appear in both train and test")
        elif n_test < len(counts) or n - n_test < len(counts):
            note = (f"split without stratifying: {len(counts)} classes do not fit in a "
                    f"{n - n_test}/{n_test} train/test split")
        else:
            stratify_by = y
    rows = np.arange(n)
    train_idx, test_idx = train_test_split(rows, test_size=n_test, random_state=seed,
                                           stratify=stratify_by)
    return np.asarray(train_idx), np.asarray(test_idx), note


def standardise(X_train: np.ndarray, X_test: np.ndarray):
    """Scale columns to mean 0, std 1 using the TRAIN split's statistics only.

    The test split must not leak into the scaler, so its mean and std are never used.
    Constant columns keep std 1 (nothing to scale). Returns (X_train, X_test, mean, std),
    all float32.
    """
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    scale = lambda X: ((X - mean) / std).astype(np.float32)  # noqa: E731
    return scale(X_train), scale(X_test), mean.astype(np.float32), std.astype(np.float32)


def standardise_target(y_train: np.ndarray, y_test: np.ndarray):
    """Standardise a regression target with the train split's mean and std.

    Networks train with a default learning rate only when the target is about unit scale;
    predictions go back to original units as ``y * y_std + y_mean``.
    Returns (y_train, y_test, y_mean, y_std) with float32 arrays and float statistics.
    """
    y_mean = float(y_train.mean())
    y_std = float(y_train.std()) or 1.0
    return (((y_train - y_mean) / y_std).astype(np.float32),
            ((y_test - y_mean) / y_std).astype(np.float32), y_mean, y_std)
