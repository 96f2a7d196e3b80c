"""Model inputs in the units a person reads: "age = 41", "sex = male", not z-scores and one-hot columns.

Every tabular loader standardises its features with the training split's statistics
(``extra["scaler_mean"]``, ``extra["scaler_std"]``: bundled sets and uploaded CSVs alike) and
one-hot encodes text columns into 0/1 columns named ``"column=value"``. ``OriginalUnits`` reads
both back from the Dataset and translates in both directions:

- the model's input row x (standardised, one-hot) -> one value per feature in original units
  (``values``, ``display_row``), or a "raw" matrix with one column per feature: the number itself
  for a numeric feature, the category's index for a one-hot group (``to_raw``);
- edits in original units, or a raw matrix -> the model's input row (``encode_row``, ``from_raw``).

Explaining in the raw space (one column per feature) gives one SHAP value per feature, so a
one-hot group is one player and KernelSHAP never builds a row that is both male and female.
A data set without scaler statistics (the toy sets) is read as already in its own units.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from torch import nn

NONE_LABEL = "(none)"   # a one-hot group with no column set in some training rows
READ_ROWS = 20_000      # training rows read to tell numbers from categories in a large table


@dataclass(frozen=True)
class Feature:
    """One feature as a person reads it: a number in its own units, or a category of a group."""

    name: str
    kind: str                       # "numeric" or "category"
    columns: tuple[int, ...]        # the model's input columns it fills: one, or the one-hot group
    mean: tuple[float, ...]         # per column: model input = (raw - mean) / std
    std: tuple[float, ...]
    categories: tuple[str, ...] = ()   # labels in column order (then NONE_LABEL if seen in training)
    low: float = math.nan           # training range in original units (numeric)
    high: float = math.nan
    integer: bool = False           # every training value is a whole number (counts, years, codes)
    scale: float = 1.0              # training std in original units: the size of a typical change

    def __repr__(self) -> str:
        if self.kind == "category":
            return f"Feature({self.name!r}, category of {len(self.categories)})"
        return f"Feature({self.name!r}, numeric {self.low:g}..{self.high:g})"


def format_number(value: float, integer: bool = False) -> str:
    """A number as a person writes it: 41, 7.11, 0.07871, 18424 (four significant digits, no
    exponent, no trailing zeros); "missing" for nan."""
    value = float(value)
    if not math.isfinite(value):
        return "missing" if math.isnan(value) else ("-inf" if value < 0 else "inf")
    if integer:
        return str(int(round(value)))
    if value == 0:
        return "0"
    decimals = int(np.clip(3 - math.floor(math.log10(abs(value))), 0, 6))
    text = f"{value:.{decimals}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


def _scaler(dataset) -> tuple[np.ndarray, np.ndarray]:
    n = dataset.X_train.shape[1]
    mean = np.asarray(dataset.extra.get("scaler_mean", np.zeros(n)), dtype=np.float64).ravel()
    std = np.asarray(dataset.extra.get("scaler_std", np.ones(n)), dtype=np.float64).ravel()
    if mean.shape != (n,) or std.shape != (n,):
        raise ValueError(f"The data set's scaler has {mean.size} means and {std.size} stds for "
                         f"{n} features.")
    return mean, np.where(std > 0, std, 1.0)


def _one_hot_groups(names: list[str], raw: np.ndarray) -> dict[int, list[int]]:
    """First column -> the columns of each one-hot group ("col=a", "col=b", ...): at least two
    columns sharing the prefix, every value 0 or 1, at most one 1 per row."""
    by_prefix: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        if "=" in name:
            by_prefix.setdefault(name.split("=", 1)[0], []).append(i)
    groups = {}
    for cols in by_prefix.values():
        block = raw[:, cols]
        binary = np.all((np.abs(block) < 1e-3) | (np.abs(block - 1) < 1e-3))
        if len(cols) >= 2 and binary and np.all(np.rint(block).sum(1) <= 1):
            groups[cols[0]] = cols
    return groups


def _carried_digits(values: np.ndarray, mean: float, std: float) -> np.ndarray:
    # six significant digits of the column's scale, what float32 storage carries: a fare of 0
    # reads 0, not 8e-07
    digits = 6 - math.floor(math.log10(abs(mean) + std))
    return np.round(values, max(digits, 0))


def _is_integer(values: np.ndarray, mean: float) -> bool:
    # float32 storage leaves a relative error of about 1e-7 on the way back
    rounded = np.rint(values)
    tol = 1e-6 * (np.abs(values) + abs(mean)) + 1e-6
    return bool(np.all(np.abs(values - rounded) <= tol)) and len(np.unique(rounded)) > 1


def _encode(feature: Feature, raw: np.ndarray) -> np.ndarray:
    """(n, len(feature.columns)) model inputs for n raw values of one feature."""
    mean, std = np.asarray(feature.mean), np.asarray(feature.std)
    if feature.kind == "numeric":
        return ((raw - mean[0]) / std[0])[:, None]
    code = np.rint(raw).astype(int)
    hot = (code[:, None] == np.arange(len(feature.columns))[None, :]).astype(float)
    return (hot - mean) / std


class OriginalUnits:
    """Translates a tabular Dataset's model inputs (standardised, one-hot) to and from the
    features in original units. ``features`` lists them in input-column order."""

    def __init__(self, dataset):
        X = np.asarray(dataset.X_train)
        if X.ndim != 2:
            raise ValueError(f"Original units are for tables (rows of features); this data set's "
                             f"inputs have shape {X.shape[1:]}.")
        names = [str(n) for n in dataset.feature_names]
        mean, std = _scaler(dataset)
        if len(X) > READ_ROWS:   # kinds and scales from a sample; the ranges from every row
            rows = np.random.default_rng(0).choice(len(X), READ_ROWS, replace=False)
            raw = X[np.sort(rows)].astype(np.float64) * std + mean
        else:
            raw = X.astype(np.float64) * std + mean
        lows = X.min(0).astype(np.float64) * std + mean if len(X) else mean
        highs = X.max(0).astype(np.float64) * std + mean if len(X) else mean
        groups = _one_hot_groups(names, raw)
        grouped = {c for cols in groups.values() for c in cols}
        features = []
        for i, name in enumerate(names):
            if i in groups:
                cols = groups[i]
                labels = [names[c].split("=", 1)[1] for c in cols]
                if np.any(np.rint(raw[:, cols]).sum(1) == 0):
                    labels.append(NONE_LABEL)
                features.append(Feature(
                    name.split("=", 1)[0], "category", tuple(cols),
                    tuple(mean[cols]), tuple(std[cols]), tuple(labels)))
            elif i not in grouped:
                col = _carried_digits(raw[:, i], mean[i], std[i])
                integer = _is_integer(col, mean[i])
                low, high = (float(v) for v in _carried_digits(
                    np.array([lows[i], highs[i]]), mean[i], std[i]))
                if integer:
                    low, high = float(round(low)), float(round(high))
                features.append(Feature(name, "numeric", (i,), (mean[i],), (std[i],),
                                        low=low, high=high, integer=integer,
                                        scale=float(col.std()) or 1.0))
        self.features = tuple(features)
        self.n_columns = len(names)

    def __repr__(self) -> str:
        kinds = [f.kind for f in self.features]
        return (f"OriginalUnits({kinds.count('numeric')} numeric, {kinds.count('category')} "
                f"categorical features over {self.n_columns} input columns)")

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    def feature(self, name: str) -> Feature:
        for f in self.features:
            if f.name == name:
                return f
        raise ValueError(f"No feature named {name!r}; the features are: {', '.join(self.names)}.")

    def to_raw(self, X) -> np.ndarray:
        """(n, n_features) float64: numbers in original units, a category's index for a group."""
        X = np.asarray(X, dtype=np.float64)
        X = X[None, :] if X.ndim == 1 else X
        if X.ndim != 2 or X.shape[1] != self.n_columns:
            raise ValueError(f"Expected rows of {self.n_columns} model inputs, got shape "
                             f"{X.shape}.")
        R = np.empty((len(X), len(self.features)))
        for j, f in enumerate(self.features):
            block = X[:, f.columns] * np.asarray(f.std) + np.asarray(f.mean)
            if f.kind == "numeric":
                R[:, j] = _carried_digits(block[:, 0], f.mean[0], f.std[0])
            else:
                code = block.argmax(1).astype(float)
                if NONE_LABEL in f.categories:
                    code[block.max(1) < 0.5] = len(f.categories) - 1
                R[:, j] = code
        return R

    def from_raw(self, R) -> np.ndarray:
        """The model's input rows (float32) for raw rows, the inverse of ``to_raw``."""
        R = np.asarray(R, dtype=np.float64)
        R = R[None, :] if R.ndim == 1 else R
        if R.ndim != 2 or R.shape[1] != len(self.features):
            raise ValueError(f"Expected rows of {len(self.features)} features, got shape "
                             f"{R.shape}.")
        X = np.empty((len(R), self.n_columns))
        for j, f in enumerate(self.features):
            X[:, list(f.columns)] = _encode(f, R[:, j])
        return X.astype(np.float32)

    def text(self, feature: Feature, raw_value: float) -> str:
        """One raw value as a person reads it: "41", "male"."""
        if feature.kind == "category":
            code = int(np.clip(round(float(raw_value)), 0, len(feature.categories) - 1))
            return feature.categories[code]
        return format_number(raw_value, feature.integer)

    def values(self, x) -> dict[str, float | str]:
        """One input row as {feature: number in original units, or category label}."""
        raw = self.to_raw(x)[0]
        return {f.name: (self.text(f, v) if f.kind == "category"
                         else (int(round(v)) if f.integer else float(v)))
                for f, v in zip(self.features, raw, strict=True)}

    def display_row(self, x) -> list[tuple[str, str]]:
        """One input row as (feature, text) pairs: [("age", "41"), ("sex", "male"), ...]."""
        raw = self.to_raw(x)[0]
        return [(f.name, self.text(f, v)) for f, v in zip(self.features, raw, strict=True)]

    def labels(self, raw_row) -> list[str]:
        """"feature = value" per feature of one raw row, for figure axes."""
        return [f"{f.name} = {self.text(f, v)}"
                for f, v in zip(self.features, np.ravel(raw_row), strict=True)]

    def raw_value(self, feature: Feature, value) -> float:
        """A value in original units (a number, or a category label) as its raw-space number."""
        if feature.kind == "category":
            if str(value) not in feature.categories:
                raise ValueError(f"{feature.name!r} has no category {value!r}; choose one of: "
                                 f"{', '.join(feature.categories)}.")
            return float(feature.categories.index(str(value)))
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{feature.name!r} needs a number, got {value!r}.") from None
        if not math.isfinite(number):
            raise ValueError(f"{feature.name!r} needs a finite number, got {value!r}.")
        return number

    def encode_row(self, edits: Mapping[str, object], base=None) -> np.ndarray:
        """The model's input row (float32, 1-D) for values in original units.

        ``edits`` maps feature names to numbers or category labels; features it leaves out keep
        their value in ``base`` (a model-input row). Without ``base`` every feature is needed.
        """
        unknown = set(edits) - set(self.names)
        if unknown:
            raise ValueError(f"Unknown feature(s) {', '.join(sorted(map(str, unknown)))}; the "
                             f"features are: {', '.join(self.names)}.")
        if base is None:
            missing = [n for n in self.names if n not in edits]
            if missing:
                raise ValueError(f"Give a value for every feature (missing: {', '.join(missing)}) "
                                 "or a base row to edit.")
            x = np.zeros(self.n_columns, dtype=np.float32)
        else:
            x = np.array(np.ravel(base), dtype=np.float32)
            if x.shape != (self.n_columns,):
                raise ValueError(f"The base row has {x.size} inputs; the model takes "
                                 f"{self.n_columns}.")
        for f in self.features:   # only the edited features' columns change, exactly
            if f.name in edits:
                value = np.array([self.raw_value(f, edits[f.name])])
                x[list(f.columns)] = _encode(f, value)[0]
        return x


_MEMO: dict[int, tuple[weakref.ref, OriginalUnits]] = {}


def original_units(dataset) -> OriginalUnits:
    """The translator between ``dataset``'s model inputs and its features in original units;
    made once per Dataset object (a page asks for it several times a run)."""
    key = id(dataset)
    hit = _MEMO.get(key)
    if hit is not None and hit[0]() is dataset:
        return hit[1]
    units = OriginalUnits(dataset)
    _MEMO[key] = (weakref.ref(dataset, lambda _, k=key: _MEMO.pop(k, None)), units)
    return units


def display_row(dataset, x) -> list[tuple[str, str]]:
    """One model-input row of ``dataset`` as (feature, text) in original units."""
    return original_units(dataset).display_row(x)


def encode_row(dataset, edits: Mapping[str, object], base=None) -> np.ndarray:
    """The model-input row for feature values in original units (see OriginalUnits.encode_row)."""
    return original_units(dataset).encode_row(edits, base)


class TargetUnits(nn.Module):
    """A regression model whose output is back in the target's own units: y * y_std + y_mean."""

    def __init__(self, model: nn.Module, y_mean: float, y_std: float):
        super().__init__()
        self.model, self.y_mean, self.y_std = model, float(y_mean), float(y_std)

    def forward(self, x):
        return self.model(x) * self.y_std + self.y_mean


def in_target_units(model: nn.Module, dataset) -> nn.Module:
    """``model`` itself for classification; for a regression with a standardised target, the
    model wrapped so its predictions (and so explanations of them) are in the target's units."""
    if dataset.task != "regression" or "y_std" not in dataset.extra:
        return model
    return TargetUnits(model, dataset.extra.get("y_mean", 0.0), dataset.extra["y_std"])
