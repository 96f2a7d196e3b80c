"""Datasets derived from a loaded one, each step written down so the result can be rebuilt.

A lesson often trains on a variation of a registered dataset: fewer training rows (the Training
lab's overfitting preset), extra input features computed from 2-D points (the Playground),
two columns of an uploaded table as the points of a plane (the Playground on a person's CSV), or
every image's pixels shuffled the same way (choosing an architecture). Each function returns
a new Dataset and appends one step ``{"op": name, ...arguments}`` to ``extra["steps"]``;
``apply_steps(dataset, steps)`` replays them, which is how a saved model gets its data back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from nnplay.data.dataset import Dataset

# name -> (label, function of the raw coordinates x1, x2); the order is TF Playground's.
FEATURES: dict[str, tuple[str, Callable]] = {
    "x1": ("X₁", lambda a, b: a),
    "x2": ("X₂", lambda a, b: b),
    "x1_sq": ("X₁²", lambda a, b: a * a),
    "x2_sq": ("X₂²", lambda a, b: b * b),
    "x1x2": ("X₁·X₂", lambda a, b: a * b),
    "sin_x1": ("sin X₁", lambda a, b: np.sin(a)),
    "sin_x2": ("sin X₂", lambda a, b: np.sin(b)),
}


def _with_step(dataset: Dataset, step: dict, **changes) -> Dataset:
    extra = {**dataset.extra, **changes.pop("extra", {})}
    extra["steps"] = [*dataset.extra.get("steps", []), step]
    return dataclasses.replace(dataset, extra=extra, **changes)


def subsample_train(dataset: Dataset, n_rows: int | None, seed: int = 0) -> Dataset:
    """A copy keeping ``n_rows`` training rows (stratified by class); the test split unchanged.

    ``None`` or at least every row returns ``dataset`` itself.
    """
    if n_rows is None or n_rows >= dataset.n_train:
        return dataset
    n_rows = int(n_rows)
    minimum = dataset.n_classes or 2
    if n_rows < minimum:
        raise ValueError(f"Keep at least {minimum} training rows (one per class), got {n_rows}.")
    from sklearn.model_selection import train_test_split

    stratify = dataset.y_train if dataset.task == "classification" else None
    try:
        keep, _ = train_test_split(np.arange(dataset.n_train), train_size=n_rows,
                                   stratify=stratify, random_state=seed)
    except ValueError:  # a class too rare to stratify: fall back to a plain random draw
        keep, _ = train_test_split(np.arange(dataset.n_train), train_size=n_rows,
                                   random_state=seed)
    keep = np.sort(keep)
    extra = {"train_rows": n_rows}
    if hasattr(dataset.extra.get("sensitive_train"), "iloc"):
        extra["sensitive_train"] = dataset.extra["sensitive_train"].iloc[keep].reset_index(drop=True)
    return _with_step(dataset, {"op": "subsample_train", "n_rows": n_rows, "seed": int(seed)},
                      X_train=dataset.X_train[keep], y_train=dataset.y_train[keep], extra=extra)


def transform_features(X: np.ndarray, features: Iterable[str]) -> np.ndarray:
    """The chosen feature columns computed from raw (n, 2) coordinates, as float32."""
    a, b = X[:, 0].astype(np.float64), X[:, 1].astype(np.float64)
    return np.column_stack([FEATURES[f][1](a, b) for f in features]).astype(np.float32)


def with_features(raw: Dataset, features: Sequence[str]) -> Dataset:
    """Inputs become the chosen features (keys of FEATURES) of the raw 2-D points."""
    features = tuple(features)
    unknown = [f for f in features if f not in FEATURES]
    if unknown or not features:
        raise ValueError(f"Choose features from {', '.join(FEATURES)}; got {list(features)}.")
    if raw.input_shape != (2,):
        raise ValueError(f"Features are computed from 2-D points; {raw.name} has examples "
                         f"shaped {raw.input_shape}.")
    return _with_step(raw, {"op": "features", "features": list(features)},
                      X_train=transform_features(raw.X_train, features),
                      X_test=transform_features(raw.X_test, features),
                      feature_names=[FEATURES[f][0] for f in features],
                      extra={"features": features, "raw_X_train": raw.X_train,
                             "raw_X_test": raw.X_test})


def shuffle_pixels(dataset: Dataset, seed: int = 0) -> Dataset:
    """The same images with one fixed random order of pixels (the same for every image)."""
    if len(dataset.input_shape) != 3:
        raise ValueError(f"Pixel shuffling needs images; {dataset.name} has examples shaped "
                         f"{dataset.input_shape}.")
    order = np.random.default_rng(seed).permutation(dataset.n_features)

    def scramble(X: np.ndarray) -> np.ndarray:
        return X.reshape(len(X), -1)[:, order].reshape(X.shape)

    return _with_step(dataset, {"op": "shuffle_pixels", "seed": int(seed)},
                      name=f"{dataset.name} (pixels shuffled)",
                      X_train=scramble(dataset.X_train), X_test=scramble(dataset.X_test))


def plane_columns(dataset: Dataset, columns: Sequence[str], scale: float = 2.0) -> Dataset:
    """Two of a table's standardised columns as the 2-D points (x1, x2) of a plane, times
    ``scale``: with the default 2, three standard deviations either side of the mean reach the
    Playground's -6..6, the range its toy sets and input features (sin, squares) are made for."""
    columns = [str(c) for c in columns]
    names = list(dataset.feature_names)
    if len(columns) != 2 or columns[0] == columns[1]:
        raise ValueError(f"Choose two different columns for x1 and x2, got {columns}.")
    missing = [c for c in columns if c not in names]
    if missing:
        raise ValueError(f"Column(s) {', '.join(map(repr, missing))} are not numeric model inputs "
                         f"of {dataset.name}; choose from {', '.join(names)}.")
    idx = [names.index(c) for c in columns]
    X_train = (dataset.X_train[:, idx] * scale).astype(np.float32)
    X_test = (dataset.X_test[:, idx] * scale).astype(np.float32)
    # The plane shows -6..6 unless a point lies further out; then it grows to hold every point.
    reach = float(np.abs(np.concatenate([X_train, X_test])).max(initial=0.0))
    extent = max(6.0, float(np.ceil(reach)))
    return _with_step(dataset, {"op": "plane_columns", "columns": columns, "scale": float(scale)},
                      X_train=X_train, X_test=X_test, feature_names=columns,
                      extra={"xlim": (-extent, extent), "ylim": (-extent, extent),
                             "plane_columns": columns, "plane_scale": float(scale)})


STEPS: dict[str, Callable[..., Dataset]] = {
    "subsample_train": subsample_train, "features": with_features,
    "shuffle_pixels": shuffle_pixels, "plane_columns": plane_columns,
}


def apply_steps(dataset: Dataset, steps: Iterable[dict]) -> Dataset:
    """Replay recorded steps (``extra["steps"]`` of a derived dataset) on a freshly loaded one."""
    for step in steps:
        args = dict(step)
        op = args.pop("op", None)
        if op not in STEPS:
            raise ValueError(f"Unknown dataset step {op!r}; this nnplay knows {', '.join(STEPS)}.")
        try:
            dataset = STEPS[op](dataset, **args)
        except TypeError as err:
            raise ValueError(f"Bad arguments for the dataset step {op!r}: {err}") from None
    return dataset
