"""Monitoring a model in production, simulated: a stream of windows, drift, delayed labels, alerts.

``simulate_stream`` draws windows of rows the model never trained on from a dataset's test split
and changes them as a drift scenario says (a feature jumps, creeps or swings with the seasons, a
category the model never saw appears, the mix of classes moves). ``run_monitoring`` then does what
a monitoring service does with each window: tests every column for drift against the training
data (nnplay.production.drift), times the model (latency per request, throughput per batch),
estimates accuracy from the model's confidence before any label arrives, and measures it once the
labels come, ``label_delay`` windows later. Alerts say which window, which check, what value.

The split of the test rows: a share (``calibration_share``) is the labelled reference period on
which the model's confidence is calibrated; the rest is the pool production windows are drawn
from, each window a fresh random subset (rows within a window never repeat, so an unchanged
window is a true random sample of unseen data). Confidence-based performance estimation (CBPE,
as NannyML calls it): on the reference, isotonic regression learns how often the model is right
at each confidence; a window's expected accuracy is the mean of its calibrated confidences. It
assumes the calibration still holds in production: that P(label | inputs) has not changed, only
the inputs' distribution. A broken sensor (the shift scenarios here) breaks that assumption.

``retraining_data`` and ``compare_models`` retrain on the training split plus the recent windows
whose labels have arrived, and compare old and new on the latest windows. The pool's rows are
split in two first, so no row the new model trained on is among those it is compared on.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from nnplay.data.dataset import Dataset
from nnplay.production import drift

SCENARIOS = {
    "none": "No drift: every window is a fresh random sample of unseen rows.",
    "sudden": "From the start window on, one feature jumps by the strength, in standard "
              "deviations (a sensor recalibrated, a unit changed).",
    "gradual": "From the start window on, one feature creeps away, reaching the strength (in "
               "standard deviations) by the last window.",
    "new_category": "From the start window on, a share of the rows (the strength) carries a "
                    "category the model never saw.",
    "label_shift": "From the start window on, the class mix moves toward the rarest class (a "
                   "strength of 1 means only that class): rows are resampled by class.",
    "seasonal": "From the start window on, one feature swings up and down by the strength (in "
                "standard deviations), one cycle every 4 windows.",
}
SEASON_WINDOWS = 4
CALIBRATION_SHARE = 0.3        # test rows kept as the labelled reference (calibration)
MIN_ROWS = 10
MAX_WINDOWS = 100
LATENCY_ROWS = 100             # rows timed one by one per window
ACCURACY_DROP = 0.05           # alert when accuracy falls this far below the reference's


def _check_tabular(dataset: Dataset) -> None:
    if len(dataset.input_shape) != 1 or dataset.X_train.dtype.kind not in "f":
        raise ValueError(f"Monitoring here is for tabular models only; {dataset.name} has "
                         f"examples shaped {dataset.input_shape}. Pick a model trained on a table.")


def _check_classification(dataset: Dataset) -> None:
    if dataset.task != "classification":
        raise ValueError(f"Monitoring estimates accuracy from the model's confidence, so it needs "
                         f"a classification model; {dataset.name} is a {dataset.task} task.")


# ---- which columns a scenario can change ---------------------------------------------------
def categorical_columns(dataset: Dataset) -> dict[str, list[int]]:
    """Columns that encode a category: one-hot groups ('sex=male', 'sex=female' -> 'sex') and
    integer-coded columns (3 to 10 evenly spaced values, after standardising). Name -> indices."""
    groups: dict[str, list[int]] = {}
    X = dataset.X_train
    for j, name in enumerate(dataset.feature_names):
        values = np.unique(X[:, j])
        if "=" in name and len(values) <= 2:
            groups.setdefault(name.split("=", 1)[0], []).append(j)
        elif 3 <= len(values) <= drift.INTEGER_CATEGORY_MAX:
            gaps = np.diff(values)
            if np.allclose(gaps, gaps[0], rtol=1e-3):
                groups[name] = [j]
    return groups


def shift_columns(dataset: Dataset) -> list[str]:
    """Numerical columns (more than 5 distinct values) a shift scenario can move, the most
    informative first (ANOVA F of the column against the class on the training split)."""
    X = dataset.X_train
    names = [n for j, n in enumerate(dataset.feature_names)
             if len(np.unique(X[:, j])) > drift.FEW_VALUES_MAX]
    if dataset.task == "classification" and len(names) > 1:
        from sklearn.feature_selection import f_classif

        idx = [dataset.feature_names.index(n) for n in names]
        with np.errstate(all="ignore"):
            f, _ = f_classif(X[:, idx], dataset.y_train)
        order = np.argsort(-np.nan_to_num(f, nan=-1.0), kind="stable")
        names = [names[i] for i in order]
    return names


def scenario_columns(dataset: Dataset, scenario: str) -> list[str]:
    """The columns (or category groups) ``scenario`` may change, the default first; [] for
    'none' and 'label_shift', which change no particular column."""
    if scenario not in SCENARIOS:
        raise ValueError(f"Unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}.")
    if scenario == "new_category":
        return list(categorical_columns(dataset))
    if scenario in ("sudden", "gradual", "seasonal"):
        return shift_columns(dataset)
    return []


# ---- the stream ---------------------------------------------------------------------------
def reference_split(dataset: Dataset, calibration_share: float = CALIBRATION_SHARE,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Test-split rows for calibration (the labelled reference period) and the pool production
    windows are drawn from; seeded. ValueError when either would have fewer than 10 rows."""
    if not 0 < calibration_share < 1:
        raise ValueError(f"The calibration share is a fraction in (0, 1), got {calibration_share}.")
    rows = np.random.default_rng(seed).permutation(dataset.n_test)
    n_cal = math.ceil(calibration_share * dataset.n_test)
    if n_cal < MIN_ROWS or dataset.n_test - n_cal < MIN_ROWS:
        raise ValueError(f"{dataset.name}'s test split has {dataset.n_test} rows, too few to keep "
                         f"{MIN_ROWS} for calibration and {MIN_ROWS} for the stream; load the data "
                         "with more rows or a larger test share.")
    return np.sort(rows[:n_cal]), np.sort(rows[n_cal:])


@dataclass
class Stream:
    """Rows arriving in windows: inputs, true labels (hidden until they arrive), each row's window
    and the test-split row it was drawn from, and what the scenario changed."""

    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    window: np.ndarray = field(repr=False)
    source: np.ndarray = field(repr=False)
    feature_names: list[str] = field(repr=False)
    scenario: str
    strength: float
    start: int
    n_windows: int
    window_size: int
    seed: int
    columns: tuple[str, ...] = ()        # what the scenario changed (columns, a group, a class)
    calibration_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, int), repr=False)
    pool_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, int), repr=False)
    notes: tuple[str, ...] = ()

    def rows(self, window: int) -> np.ndarray:
        """Indices (into X, y) of the rows of one window."""
        return np.flatnonzero(self.window == window)

    def window_frame(self, window: int) -> pd.DataFrame:
        return pd.DataFrame(self.X[self.rows(window)], columns=self.feature_names)


def _check_settings(scenario, strength, start, windows, window_size, pool_size) -> None:
    if scenario not in SCENARIOS:
        raise ValueError(f"Unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}.")
    if not 2 <= int(windows) <= MAX_WINDOWS:
        raise ValueError(f"Simulate between 2 and {MAX_WINDOWS} windows, got {windows}.")
    if scenario != "none" and not 0 <= int(start) < int(windows):
        raise ValueError(f"The drift starts in a window from 0 to {int(windows) - 1}, got {start}.")
    if not MIN_ROWS <= int(window_size) <= pool_size:
        raise ValueError(f"A window holds between {MIN_ROWS} and {pool_size} rows (the unseen "
                         f"rows there are to draw from), got {window_size}.")
    if not (math.isfinite(strength) and strength >= 0):
        raise ValueError(f"The strength is a number >= 0, got {strength}.")
    if scenario in ("new_category", "label_shift") and strength > 1:
        raise ValueError(f"For {scenario.replace('_', ' ')} the strength is a share from 0 to 1, "
                         f"got {strength}.")


def _class_counts(prior: np.ndarray, n: int) -> np.ndarray:
    """Whole counts per class that add up to n, as close to prior * n as rounding allows."""
    raw = prior * n
    counts = np.floor(raw).astype(int)
    counts[np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]] += 1
    return counts


def simulate_stream(dataset: Dataset, scenario: str = "none", strength: float = 1.0,
                    start: int = 4, windows: int = 12, window_size: int = 100, seed: int = 0,
                    feature: str | None = None,
                    calibration_share: float = CALIBRATION_SHARE) -> Stream:
    """Windows of unseen test rows, changed from window ``start`` on as ``scenario`` says.

    ``strength``: standard deviations for sudden, gradual and seasonal; a share from 0 to 1 for
    new_category (rows with the new category) and label_shift (how far the class mix moves).
    ``feature`` picks the column (or category group) to change; the default is the first of
    ``scenario_columns``. ValueError for settings that cannot be used, saying what to change.
    """
    _check_tabular(dataset)
    strength = float(strength)
    cal_rows, pool = reference_split(dataset, calibration_share, seed)
    _check_settings(scenario, strength, start, windows, window_size, len(pool))
    windows, window_size = int(windows), int(window_size)
    start = 0 if scenario == "none" else int(start)   # nothing starts
    rng = np.random.default_rng([seed, 1])
    Xt, yt = dataset.X_test, dataset.y_test
    notes: list[str] = []
    columns: tuple[str, ...] = ()
    choices = scenario_columns(dataset, scenario)
    if scenario in ("sudden", "gradual", "seasonal", "new_category"):
        if not choices:
            what = ("categorical or integer-coded column" if scenario == "new_category"
                    else "numerical column")
            raise ValueError(f"{dataset.name} has no {what}, so this scenario cannot change "
                             "anything; pick another scenario"
                             + (" or data with categories (german_credit, titanic)."
                                if scenario == "new_category" else "."))
        if feature is not None and feature not in choices:
            raise ValueError(f"{feature!r} cannot be changed by this scenario; choose one of "
                             f"{', '.join(choices)}.")
        columns = (feature or choices[0],)

    # which test rows each window holds
    sources, window_of = [], []
    target_class = None
    if scenario == "label_shift":
        _check_classification(dataset)
        pool_y = yt[pool]
        classes = np.arange(dataset.n_outputs)
        base = np.bincount(pool_y, minlength=len(classes)) / len(pool)
        target_class = int(np.argmin(np.where(base > 0, base, np.inf)))
        name = (dataset.class_names or [str(c) for c in classes])[target_class]
        columns = (f"class {name}",)
        shifted = (1 - strength) * base + strength * np.eye(len(classes))[target_class]
    for w in range(windows):
        if scenario == "label_shift" and w >= start:
            picked = []
            for c, count in enumerate(_class_counts(shifted, window_size)):
                members = pool[pool_y == c]
                if count == 0 or not len(members):
                    continue
                repeat = count > len(members)
                if repeat:
                    notes.append(f"window {w}: class {c} has {len(members)} unseen rows for "
                                 f"{count} places, so some repeat")
                picked.append(rng.choice(members, count, replace=repeat))
            rows = rng.permutation(np.concatenate(picked))
        else:
            rows = rng.choice(pool, window_size, replace=False)
        sources.append(rows)
        window_of.append(np.full(len(rows), w))
    source, window = np.concatenate(sources), np.concatenate(window_of)
    X, y = Xt[source].astype(np.float32), yt[source].copy()
    after = window >= start

    if scenario in ("sudden", "gradual", "seasonal"):
        j = dataset.feature_names.index(columns[0])
        std = float(np.std(dataset.X_train[:, j])) or 1.0
        k = window[after] - start
        if scenario == "sudden":
            amount = np.full(len(k), strength)
        elif scenario == "gradual":
            amount = strength * (k + 1) / (windows - start)
        else:
            amount = strength * np.sin(2 * np.pi * (k + 1) / SEASON_WINDOWS)
        X[after, j] += (amount * std).astype(np.float32)
    elif scenario == "new_category":
        idx = categorical_columns(dataset)[columns[0]]
        hit = after & (rng.random(len(X)) < strength)
        if len(idx) > 1 or "=" in dataset.feature_names[idx[0]]:
            # a one-hot encoder that ignores unknown values writes an unseen category as all zeros
            X[np.ix_(hit, idx)] = dataset.X_train[:, idx].min(axis=0)
            notes.append(f"the new category of {columns[0]} is written as 0 in all of its "
                         "one-hot columns, as an encoder that ignores unknown values writes it")
        else:
            values = np.unique(dataset.X_train[:, idx[0]])
            new = values.max() + (values[1] - values[0])
            X[hit, idx[0]] = new
            notes.append(f"the new category of {columns[0]} is a code it never had (one step "
                         "above its largest)")
    return Stream(X, y, window, source, list(dataset.feature_names), scenario, strength, start,
                  windows, window_size, seed, columns, cal_rows, pool, tuple(notes))


# ---- what the model does on the stream ------------------------------------------------------
@torch.no_grad()
def timed_predict(model: nn.Module, X: np.ndarray, latency_rows: int = LATENCY_ROWS
                  ) -> tuple[np.ndarray, np.ndarray, float]:
    """The model's outputs for X as one batch, the seconds each of the first ``latency_rows``
    rows takes on its own (one request at a time), and the batch's seconds."""
    from nnplay.train.predict import model_device

    was_training = model.training
    model.eval()
    x = torch.as_tensor(np.asarray(X, dtype=np.float32), device=model_device(model))
    try:
        model(x[:1])   # warm-up: the first call pays for allocations
        per_row = []
        for i in range(min(latency_rows, len(x))):
            t0 = time.perf_counter()
            model(x[i:i + 1])
            per_row.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        out = model(x)
        batch = time.perf_counter() - t0
    finally:
        model.train(was_training)
    return out.float().cpu().numpy(), np.asarray(per_row), batch


class ConfidenceCalibrator:
    """How often the model is right at each confidence (its largest class probability), learned
    on labelled reference rows by isotonic regression; estimated accuracy is the mean of it."""

    def __init__(self, calibrate: bool = True):
        self.calibrate = calibrate

    def fit(self, proba: np.ndarray, y: np.ndarray) -> ConfidenceCalibrator:
        from sklearn.isotonic import IsotonicRegression

        conf, correct = proba.max(1), (proba.argmax(1) == y).astype(float)
        self.reference_accuracy_ = float(correct.mean())
        self.isotonic_ = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip")
        self.isotonic_.fit(conf, correct)
        return self

    def transform(self, proba: np.ndarray) -> np.ndarray:
        """Calibrated confidence per row (the raw one when calibrate=False)."""
        conf = proba.max(1)
        return self.isotonic_.predict(conf) if self.calibrate else conf

    def expected_accuracy(self, proba: np.ndarray) -> float:
        return float(np.mean(self.transform(proba))) if len(proba) else math.nan

    def __repr__(self) -> str:
        return f"ConfidenceCalibrator(calibrate={self.calibrate})"


def _softmax(logits: np.ndarray) -> np.ndarray:
    return torch.softmax(torch.as_tensor(logits), dim=-1).numpy()


@dataclass
class MonitoringResult:
    """What monitoring saw: one row per window, drift per column and window, the alert log, the
    reference the tests and calibration used, and the reliability of the model on it."""

    windows: pd.DataFrame
    drift: pd.DataFrame = field(repr=False)
    alerts: pd.DataFrame = field(repr=False)
    reference_accuracy: float
    reliability: pd.DataFrame = field(repr=False)
    calibration_map: pd.DataFrame = field(repr=False)
    label_delay: int
    n_reference: int
    n_calibration: int
    share: float
    accuracy_drop: float

    def summary(self) -> dict:
        """A few plain numbers for the workspace (the model card reads them)."""
        w = self.windows
        labelled = w[w["labelled"]]
        return {"windows": len(w), "label_delay": self.label_delay,
                "reference_accuracy": self.reference_accuracy,
                "drifted_windows": int(w["dataset_drift"].sum()),
                "alerts": len(self.alerts),
                "last_estimated_accuracy": float(w["estimated_accuracy"].iloc[-1]),
                "last_realised_accuracy": float(labelled["realised_accuracy"].iloc[-1])
                if len(labelled) else None,
                "latency_p95_ms": float(w["latency_p95_ms"].median())}


def run_monitoring(model: nn.Module, dataset: Dataset, stream: Stream, label_delay: int = 2,
                   share: float = drift.DRIFT_SHARE, reference_rows: int | None = None,
                   accuracy_drop: float = ACCURACY_DROP, calibrate: bool = True,
                   latency_rows: int = LATENCY_ROWS) -> MonitoringResult:
    """Monitor ``model`` over ``stream``: drift per column and window against the training split
    (its first ``reference_rows``, seeded, when given), latency and throughput, accuracy
    estimated from calibrated confidence, and realised accuracy for the windows whose labels have
    arrived (those at least ``label_delay`` windows before the last). Returns a MonitoringResult.
    """
    _check_tabular(dataset)
    _check_classification(dataset)
    if list(stream.feature_names) != list(dataset.feature_names):
        raise ValueError("This stream was drawn from other data than the model's; simulate it "
                         "again from the model's dataset.")
    if not 0 <= int(label_delay) < stream.n_windows:
        raise ValueError(f"Labels arrive 0 to {stream.n_windows - 1} windows late here, got "
                         f"{label_delay}.")
    label_delay = int(label_delay)
    ref_X = dataset.X_train
    if reference_rows is not None and reference_rows < len(ref_X):
        if reference_rows < MIN_ROWS:
            raise ValueError(f"Keep at least {MIN_ROWS} reference rows, got {reference_rows}.")
        keep = np.random.default_rng(stream.seed).choice(len(ref_X), int(reference_rows),
                                                         replace=False)
        ref_X = ref_X[np.sort(keep)]
    reference = pd.DataFrame(ref_X, columns=dataset.feature_names)

    from nnplay.evaluation.metrics import calibration_frame

    cal_X, cal_y = dataset.X_test[stream.calibration_rows], dataset.y_test[stream.calibration_rows]
    cal_proba = _softmax(timed_predict(model, cal_X, 0)[0])
    calibrator = ConfidenceCalibrator(calibrate).fit(cal_proba, cal_y)
    reference_accuracy = calibrator.reference_accuracy_
    grid = np.linspace(1 / dataset.n_outputs, 1, 50)
    calibration_map = pd.DataFrame({"confidence": grid,
                                    "calibrated": calibrator.isotonic_.predict(grid)})
    reliability = calibration_frame(cal_y, cal_proba, n_bins=10)

    last_labelled = stream.n_windows - 1 - label_delay
    rows, drift_rows, alerts = [], [], []
    for w in range(stream.n_windows):
        idx = stream.rows(w)
        current = pd.DataFrame(stream.X[idx], columns=dataset.feature_names)
        verdict = drift.dataset_drift(reference, current, share)
        logits, per_row, batch = timed_predict(model, stream.X[idx], latency_rows)
        proba = _softmax(logits)
        labelled = w <= last_labelled
        realised = float(np.mean(proba.argmax(1) == stream.y[idx])) if labelled else math.nan
        estimated = calibrator.expected_accuracy(proba)
        rows.append({"window": w, "rows": len(idx), "drifted_columns": verdict.n_drifted,
                     "drifted_share": verdict.drifted_share, "dataset_drift": verdict.drifted,
                     "estimated_accuracy": estimated, "realised_accuracy": realised,
                     "labelled": labelled, "mean_confidence": float(proba.max(1).mean()),
                     "latency_p50_ms": float(np.percentile(per_row, 50) * 1e3),
                     "latency_p95_ms": float(np.percentile(per_row, 95) * 1e3),
                     "throughput_rows_per_s": len(idx) / max(batch, 1e-9)})
        for name, r in verdict.columns.items():
            drift_rows.append({"window": w, "column": name, **r.to_dict(),
                               "test_name": r.test_name, "score": r.score,
                               "severity": r.severity})
            if r.drifted:
                alerts.append({"window": w, "check": "column drift", "column": name,
                               "test": r.test_name, "value": r.score,
                               "value_is": "p-value" if r.p_value is not None else "distance",
                               "threshold": r.threshold, "message": r.describe()})
        if verdict.drifted:
            alerts.append({"window": w, "check": "dataset drift", "column": None,
                           "test": f"share of drifted columns >= {share:g}",
                           "value": verdict.drifted_share, "value_is": "share",
                           "threshold": share,
                           "message": f"{verdict.n_drifted} of {len(verdict.columns)} columns "
                                      f"drifted ({verdict.drifted_share:.0%})"})
        floor = reference_accuracy - accuracy_drop
        for check, value in (("estimated accuracy", estimated), ("realised accuracy", realised)):
            if not math.isnan(value) and value < floor:
                alerts.append({"window": w, "check": check, "column": None,
                               "test": f"below reference accuracy - {accuracy_drop:g}",
                               "value": value, "value_is": "accuracy", "threshold": floor,
                               "message": f"{check} {value:.1%}, below {floor:.1%} "
                                          f"(reference {reference_accuracy:.1%})"})
    alert_columns = ["window", "check", "column", "test", "value", "value_is", "threshold",
                     "message"]
    return MonitoringResult(pd.DataFrame(rows), pd.DataFrame(drift_rows),
                            pd.DataFrame(alerts, columns=alert_columns), reference_accuracy,
                            reliability, calibration_map, label_delay, len(reference),
                            len(cal_y), share, accuracy_drop)


# ---- retraining on recent data --------------------------------------------------------------
def retraining_data(dataset: Dataset, stream: Stream, label_delay: int = 2,
                    recent_windows: int | None = None) -> Dataset:
    """The data to retrain on: the training split plus the recent windows whose labels have
    arrived; its test split is the latest windows (the last ``max(label_delay, 1)``), whose labels
    arrive after retraining, to compare old and new on.

    The pool's rows are first split in two at random: rows from one half may be trained on,
    rows from the other only compared on, so the comparison is on rows neither model has seen.
    Recent windows are those from the drift's start on (or the last ``recent_windows`` labelled
    ones); repeated rows are kept once. ``extra["windows"]`` is each test row's window.
    """
    _check_classification(dataset)
    n_eval = max(int(label_delay), 1)
    last_train = stream.n_windows - 1 - n_eval
    if last_train < 0:
        raise ValueError("No window's labels have arrived before the latest windows; simulate "
                         "more windows or a shorter label delay.")
    first = stream.start if recent_windows is None else last_train - int(recent_windows) + 1
    first = max(0, min(first, last_train))
    halves = np.random.default_rng([stream.seed, 2]).permutation(stream.pool_rows)
    train_sources = set(halves[: len(halves) // 2].tolist())
    in_train_half = np.isin(stream.source, list(train_sources))
    use = (stream.window >= first) & (stream.window <= last_train) & in_train_half
    compare = (stream.window > last_train) & ~in_train_half
    if not compare.any():
        raise ValueError("The latest windows hold no rows to compare on; use larger windows.")
    recent_X, keep = np.unique(stream.X[use], axis=0, return_index=True)
    recent_y = stream.y[use][keep]
    X_train = np.concatenate([dataset.X_train, recent_X]).astype(np.float32)
    y_train = np.concatenate([dataset.y_train, recent_y])
    note = (f"monitoring: the training split ({dataset.n_train} rows) plus {len(recent_X)} "
            f"labelled rows from windows {first}-{last_train}; test split: "
            f"{int(compare.sum())} rows of windows {last_train + 1}-{stream.n_windows - 1} "
            "that the retrained model never saw")
    extra = {k: dataset.extra[k] for k in ("scaler_mean", "scaler_std", "target")
             if k in dataset.extra}
    extra["preprocessing"] = [*dataset.extra.get("preprocessing", []), note]
    extra["windows"] = stream.window[compare]
    extra["recent_rows"] = len(recent_X)
    return Dataset(f"{dataset.name} + recent windows", X_train, y_train,
                   stream.X[compare].astype(np.float32), stream.y[compare].copy(), dataset.task,
                   list(dataset.feature_names), dataset.class_names,
                   f"{dataset.name}'s training split plus recent production windows", extra=extra)


def compare_models(old: nn.Module, new: nn.Module, retrain_data: Dataset) -> pd.DataFrame:
    """Accuracy of the old and the retrained model on each latest window of ``retrain_data``'s
    test split (from ``retraining_data``), and on all of them ('all')."""
    from nnplay.train.predict import predict

    windows = np.asarray(retrain_data.extra["windows"])
    y = retrain_data.y_test
    hits = {name: predict(m, retrain_data.X_test) == y for name, m in (("old", old), ("new", new))}
    rows = [{"window": str(int(w)), "rows": int((windows == w).sum()),
             "old_accuracy": float(hits["old"][windows == w].mean()),
             "new_accuracy": float(hits["new"][windows == w].mean())}
            for w in np.unique(windows)]
    rows.append({"window": "all", "rows": len(y), "old_accuracy": float(hits["old"].mean()),
                 "new_accuracy": float(hits["new"].mean())})
    return pd.DataFrame(rows)
