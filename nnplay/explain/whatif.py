"""What if this row were different? Predictions of edited rows, the nearest counterfactual, and
partial dependence, all with features in original units (see ``nnplay.explain.units``).

    from nnplay.explain import whatif
    units = whatif.original_units(ds)
    edited = units.encode_row({"age": 30, "sex": "female"}, base=ds.X_test[0])
    whatif.outputs(model, ds, edited)              # probabilities, or the value in target units
    cf = whatif.counterfactual(model, ds, edited)  # the smallest change that flips the class
    pd_ = whatif.partial_dependence(model, ds, "age", target=1, row=edited)

The counterfactual search is deliberately simple, so a learner can follow it: greedy single-feature
moves over a grid of each feature's training range, then each change walked back towards the
original value as far as the flip allows. It finds *a* small change, not provably the smallest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from torch import nn

from nnplay.explain.units import OriginalUnits, in_target_units, original_units

CATEGORY_COST = 1.0   # switching a category costs as much as moving a number by one training std


def outputs(model: nn.Module, dataset, X) -> np.ndarray:
    """Per row: class probabilities (n, classes), or the predicted value in the target's own
    units (n, 1) for regression. ``X`` holds model-input rows (one row or many)."""
    from nnplay.train import predict_proba, predict_raw

    X = np.asarray(X, dtype=np.float32)
    X = X[None, :] if X.ndim == 1 else X
    if dataset.task == "classification":
        return predict_proba(model, X).astype(np.float64)
    out = predict_raw(in_target_units(model, dataset), X).astype(np.float64)
    return out.reshape(len(out), -1)[:, :1]


def output_names(dataset) -> list[str]:
    """What each column of ``outputs`` is: "P(class)" per class, or the target's name."""
    if dataset.task == "classification":
        names = dataset.class_names or [str(c) for c in range(dataset.n_outputs)]
        return [f"P({c})" for c in names]
    return [f"predicted {dataset.extra.get('target', 'value')}"]


@dataclass
class Counterfactual:
    """The nearest change of features found that makes the model predict ``target`` instead of
    ``original_class``; ``found`` is False when the search ran out of budget first (``row`` is
    then the closest it got)."""

    found: bool
    target: int
    original_class: int
    row: np.ndarray                 # model-input row of the counterfactual (float32)
    proba: np.ndarray               # the model's probabilities for it
    original_proba: np.ndarray
    changes: pd.DataFrame           # feature, before, after (texts in original units)
    cost: float                     # L1 distance in training stds (a category switch costs 1)
    evaluations: int                # rows the model scored during the search
    steps: int
    extra: dict = field(default_factory=dict)

    @property
    def n_changed(self) -> int:
        return len(self.changes)

    def __repr__(self) -> str:
        state = "found" if self.found else "not found"
        return (f"Counterfactual({state}, target={self.target}, changed={self.n_changed}, "
                f"cost={self.cost:.3f}, evaluations={self.evaluations})")


def _margin(proba: np.ndarray, target: int) -> np.ndarray:
    """log P(target) - log of the strongest other class: > 0 exactly when target is predicted."""
    logp = np.log(np.clip(proba, 1e-12, 1.0))
    others = np.delete(logp, target, axis=1).max(1)
    return logp[:, target] - others


class _Search:
    """The model seen from the raw space: scores raw rows, counts evaluations."""

    def __init__(self, model, dataset, units: OriginalUnits, target: int, r0: np.ndarray):
        self.model, self.dataset, self.units, self.target, self.r0 = (
            model, dataset, units, target, r0)
        self.evaluations = 0

    def proba(self, R: np.ndarray) -> np.ndarray:
        self.evaluations += len(R)
        return outputs(self.model, self.dataset, self.units.from_raw(R))

    def margin(self, R: np.ndarray) -> np.ndarray:
        return _margin(self.proba(R), self.target)

    def feature_costs(self, R: np.ndarray) -> np.ndarray:
        """(n, features): how far each feature moved, in training stds (a switch costs 1)."""
        R = np.atleast_2d(R)
        costs = np.zeros(R.shape)
        for j, f in enumerate(self.units.features):
            if f.kind == "numeric":
                costs[:, j] = np.abs(R[:, j] - self.r0[j]) / f.scale
            else:
                costs[:, j] = CATEGORY_COST * (np.rint(R[:, j]) != np.rint(self.r0[j]))
        return costs

    def cost(self, R: np.ndarray) -> np.ndarray:
        return self.feature_costs(R).sum(1)


def _candidates(units: OriginalUnits, current: np.ndarray, movable: list[int], grid: int):
    """Every single-feature move: each numeric feature to each of ``grid`` values across its
    training range, each category to each other category."""
    rows, moved = [], []
    for j in movable:
        f = units.features[j]
        if f.kind == "numeric":
            values = np.linspace(f.low, f.high, grid)
            values = np.unique(np.rint(values)) if f.integer else values
        else:
            values = np.arange(len(f.categories), dtype=float)
        for v in values[~np.isclose(values, current[j])]:
            r = current.copy()
            r[j] = v
            rows.append(r)
            moved.append(j)
    return np.array(rows), np.array(moved, dtype=int)


def _walk_back(search: _Search, r: np.ndarray, j: int, iterations: int = 12) -> np.ndarray:
    """Move feature j of a flipped row r back towards the original value as far as the flip
    holds: all the way if it can, else by bisection (whole numbers for an integer feature)."""
    f, r0 = search.units.features[j], search.r0
    back = r.copy()
    back[j] = r0[j]
    if search.margin(back[None])[0] > 0:
        return back
    if f.kind == "category":
        return r
    lo, hi = r0[j], r[j]      # lo does not flip, hi does
    for _ in range(iterations):
        mid = (lo + hi) / 2
        if f.integer:
            mid = np.floor(mid) if hi < lo else np.ceil(mid)
            if mid in (lo, hi):
                break
        trial = r.copy()
        trial[j] = mid
        if search.margin(trial[None])[0] > 0:
            hi = mid
        else:
            lo = mid
    out = r.copy()
    out[j] = hi
    return out


def _greedy(search: _Search, movable: list[int], grid: int, max_steps: int, eager: bool):
    """Single-feature moves from the original row until the prediction flips.

    Each step keeps the move that raises the target's margin most per unit of added cost; an
    ``eager`` search instead takes the cheapest move that flips as soon as one exists (one big
    move), the patient one waits until its best-ratio move flips (several small moves).
    Returns (row, flipped, steps).
    """
    current = search.r0.copy()
    margin, cost = search.margin(current[None])[0], 0.0
    for step in range(1, max_steps + 1):
        rows, _ = _candidates(search.units, current, movable, grid)
        if not len(rows):
            break
        margins, costs = search.margin(rows), search.cost(rows)
        gain = margins - margin
        if eager and np.any(margins > 0):
            best = np.flatnonzero(margins > 0)[np.argmin(costs[margins > 0])]
            return rows[best], True, step
        if not np.any(gain > 1e-9):
            break      # no single move helps: a local optimum of the search
        score = np.where(gain > 1e-9, gain / np.maximum(costs - cost, 1e-3), -np.inf)
        best = int(np.argmax(score))
        current, margin, cost = rows[best], margins[best], costs[best]
        if margin > 0:
            return current, True, step
    return current, False, max_steps


def counterfactual(model: nn.Module, dataset, x, target: int | None = None,
                   frozen: Sequence[str] = (), max_steps: int = 20, grid: int = 21
                   ) -> Counterfactual:
    """A small change of ``x``'s features (a model-input row) that makes a classifier predict
    ``target`` (default: the second most likely class).

    Greedy (``_greedy``), twice: at each step try every single-feature move (``_candidates``)
    and keep the one that raises the target's log-odds margin most per unit of added cost, one
    search taking the cheapest flipping move as soon as there is one. Cost is the L1 distance in
    training standard deviations, a category switch costing 1. Numeric moves stay inside the
    training range, categories stay one-hot. After a flip, each changed feature walks back as far
    as the flip allows; the cheaper of the two results wins. Features named in ``frozen`` never
    change. Each search stops after ``max_steps`` moves; ``found`` says whether one flipped.
    """
    if dataset.task != "classification":
        raise ValueError("A counterfactual here flips a predicted class; this model does "
                         "regression.")
    units = original_units(dataset)
    unknown = set(frozen) - set(units.names)
    if unknown:
        raise ValueError(f"Cannot keep unknown feature(s) {', '.join(sorted(unknown))} fixed.")
    r0 = units.to_raw(x)[0]
    proba0 = outputs(model, dataset, units.from_raw(r0))[0]
    ranked = np.argsort(-proba0)
    original_class = int(ranked[0])
    target = int(ranked[1]) if target is None else int(target)
    if not 0 <= target < len(proba0):
        raise ValueError(f"target must be a class between 0 and {len(proba0) - 1}, got {target}.")
    if target == original_class:
        raise ValueError("The model already predicts that class; pick another one to flip to.")
    search = _Search(model, dataset, units, target, r0)
    movable = [j for j, f in enumerate(units.features) if f.name not in frozen
               and (f.kind == "category" or f.high > f.low)]
    tries = [_greedy(search, movable, grid, max_steps, eager) for eager in (True, False)]
    flipped = [t for t in tries if t[1]]
    if flipped:
        polished = []
        for current, _, steps in flipped:
            moved = search.feature_costs(current)[0]
            for j in np.argsort(-moved)[: int(np.sum(moved > 0))]:   # the costliest first
                current = _walk_back(search, current, int(j))
            polished.append((float(search.cost(current)[0]), current, steps))
        _, current, steps = min(polished, key=lambda t: t[0])
        found = True
    else:
        current, found, steps = max(tries, key=lambda t: search.margin(t[0][None])[0])
    row = units.from_raw(current)[0]
    proba = outputs(model, dataset, row)[0]
    changes = pd.DataFrame(
        [(f.name, units.text(f, r0[j]), units.text(f, current[j]))
         for j, f in enumerate(units.features) if not np.isclose(current[j], r0[j])],
        columns=["feature", "before", "after"])
    return Counterfactual(found, target, original_class, row, proba, proba0, changes,
                          float(search.cost(current)[0]), search.evaluations, steps)


def pd_grid(units: OriginalUnits, feature: str, grid_points: int = 20) -> np.ndarray:
    """The values a partial-dependence curve visits, in original units: every category of a
    group; every whole number of a whole-number feature whose range holds at most
    ``grid_points`` of them; else ``grid_points`` evenly spaced across the training range
    (rounded to whole numbers for a whole-number feature)."""
    f = units.feature(feature)
    if f.kind == "category":
        return np.arange(len(f.categories), dtype=float)
    if f.integer and f.high - f.low + 1 <= grid_points:
        return np.arange(f.low, f.high + 1)
    values = np.linspace(f.low, f.high, grid_points)
    return np.unique(np.rint(values)) if f.integer else values


def partial_dependence(model: nn.Module, dataset, feature: str, target: int | None = None,
                       X=None, grid: np.ndarray | None = None, grid_points: int = 20,
                       n_rows: int = 200, row=None, seed: int = 0) -> pd.DataFrame:
    """The average prediction as one feature sweeps its values (sklearn's definition: set the
    feature to the value in every row of a sample, average the model's output).

    Returns one row per grid value: ``value`` (original units, or the category's index),
    ``label`` (text), ``average`` (P(target) for classification, default class 1 for two classes
    and the row's predicted class otherwise; the value in target units for regression) and, when
    ``row`` (a model-input row) is given, ``row``: that row's own curve (ICE).
    ``X`` defaults to ``n_rows`` training rows drawn with ``seed``.
    """
    from nnplay.explain.tabular import background_sample

    units = original_units(dataset)
    f = units.feature(feature)
    j = units.names.index(feature)
    sample = background_sample(dataset.X_train if X is None else X, n_rows, seed)
    R = units.to_raw(sample)
    grid = pd_grid(units, feature, grid_points) if grid is None else np.asarray(grid, float)
    column = 0
    if dataset.task == "classification":
        first = outputs(model, dataset, sample[:1] if row is None else row)[0]
        column = int(target) if target is not None else (1 if len(first) == 2
                                                         else int(first.argmax()))
        if not 0 <= column < len(first):
            raise ValueError(f"target must be a class between 0 and {len(first) - 1}, got "
                             f"{target}.")
    stacked = np.repeat(R[None], len(grid), axis=0)
    stacked[:, :, j] = grid[:, None]
    out = outputs(model, dataset, units.from_raw(stacked.reshape(-1, R.shape[1])))
    average = out[:, column].reshape(len(grid), len(R)).mean(1)
    frame = pd.DataFrame({"value": grid, "label": [units.text(f, v) for v in grid],
                          "average": average})
    if row is not None:
        r = np.repeat(units.to_raw(row), len(grid), axis=0)
        r[:, j] = grid
        frame["row"] = outputs(model, dataset, units.from_raw(r))[:, column]
    frame.attrs.update({"feature": feature, "kind": f.kind, "target": None if
                        dataset.task == "regression" else column, "rows": len(R)})
    return frame
