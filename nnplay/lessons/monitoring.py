"""The monitoring lesson's setup and its own demonstration: the data and network the page trains
when the session has none, the scenario controls, the tables as a person reads them, and why the
drift rule switches test at 1,000 reference rows (alarm rates computed on generated data).

The monitoring itself is the shared concept ``nnplay.production.monitor`` (the stream, delayed
labels, estimated accuracy, alerts, retraining) over ``nnplay.production.drift`` (the tests).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from nnplay.data.dataset import Dataset
from nnplay.models.registry import ModelSpec
from nnplay.production import drift, monitor

DEFAULT_DATA = "titanic"      # categories (for a new one), a clear accuracy drop under shift
EPOCHS = 20
MISSING = "–"
NOT_LABELLED = "not yet labelled"
# scenario -> (what the strength means, min, max, default, step); None: no strength
STRENGTH = {
    "none": None,
    "sudden": ("Shift (standard deviations)", 0.0, 4.0, 3.0, 0.25),
    "gradual": ("Shift by the last window (standard deviations)", 0.0, 4.0, 3.0, 0.25),
    "new_category": ("Share of rows with the new category", 0.05, 1.0, 0.6, 0.05),
    "label_shift": ("How far the class mix moves to the rarest class", 0.0, 1.0, 0.7, 0.05),
    "seasonal": ("Swing (standard deviations)", 0.0, 4.0, 2.0, 0.25),
}
SCENARIO_LABELS = {"none": "No drift", "sudden": "Sudden shift in one feature",
                   "gradual": "Gradual drift", "new_category": "A new category",
                   "label_shift": "Label shift (class mix changes)", "seasonal": "Seasonal"}
INTRO = ("A model in production sees new data every day, and its labels come late, if ever. "
         "Simulate a stream of windows for one of your models, make it drift, and watch what a "
         "monitoring service would see: drift tests, an accuracy estimate before the labels, "
         "latency and alerts.")
LATENCY_NOTE = ("Latency: each row sent alone, as one request; throughput: the whole window as "
                "one batch. Measured on this machine as the page ran.")
RETRAIN_TEXT = ("Train the same network again on the training split plus the recent windows "
                "whose labels have arrived, then compare both on the latest windows. The unseen "
                "rows are split in two first, so the comparison uses rows neither model "
                "trained on.")
SAMPLE_SIZE_TEXT = ("A p-value asks *could this be chance?* With 50,000 rows the answer is no "
                    "even for a shift nobody would act on. A distance asks *how far did it "
                    "move?*, but on 100 rows chance alone moves it past 0.1. Both tests on "
                    "generated data, many times over:")
DEMO_SIZES = (100, 50_000)
DEMO_SHIFT = 0.05             # standard deviations: a shift nobody would act on


def spec_for(dataset: Dataset) -> ModelSpec:
    """A two-layer MLP; ValueError for data that is not a table."""
    if len(dataset.input_shape) != 1:
        raise ValueError(f"Monitoring here is for tabular models only; {dataset.name} has "
                         f"examples shaped {dataset.input_shape}.")
    return ModelSpec("mlp", {"hidden": [32, 16], "activation": "relu"})


def first_scenario(dataset: Dataset) -> str:
    """What the page shows first: a category the model never saw where the data has one (a
    clear drop in accuracy), else a sudden shift."""
    return "new_category" if monitor.scenario_columns(dataset, "new_category") else "sudden"


def default_strength(scenario: str) -> float:
    spec = STRENGTH[scenario]
    return 0.0 if spec is None else spec[3]


def _new_category_rows(dataset: Dataset, X: np.ndarray, group: str) -> np.ndarray:
    """Rows whose value of ``group`` is one the training split never had (for a one-hot group:
    0 in every one of its columns, which no training row of a complete group has)."""
    idx = monitor.categorical_columns(dataset)[group]
    if len(idx) > 1 or "=" in dataset.feature_names[idx[0]]:
        return np.all(np.isclose(X[:, idx], dataset.X_train[:, idx].min(axis=0)), axis=1)
    return ~np.isin(X[:, idx[0]], np.unique(dataset.X_train[:, idx[0]]))


def scenario_trace(dataset: Dataset, stream: monitor.Stream) -> pd.DataFrame:
    """Per window, what the scenario changes beside its value in the training data: the changed
    feature's mean (in the training split's standard deviations from its mean), the share of
    rows with a category never seen, or the share of the class the mix moves to. For 'none',
    the mean of the most informative feature. Columns: window, value, reference, what."""
    if stream.scenario in ("new_category",):
        group = stream.columns[0]
        ref = float(_new_category_rows(dataset, dataset.X_train, group).mean())
        hit = _new_category_rows(dataset, stream.X, group)
        values = [float(hit[stream.window == w].mean()) for w in range(stream.n_windows)]
        what = f"share of rows with a {group} never seen"
    elif stream.scenario == "label_shift":
        names = dataset.class_names or [str(c) for c in range(dataset.n_outputs)]
        target = names.index(stream.columns[0].removeprefix("class "))
        ref = float(np.mean(dataset.y_train == target))
        values = [float(np.mean(stream.y[stream.window == w] == target))
                  for w in range(stream.n_windows)]
        what = f"share of class {names[target]}"
    else:
        name = stream.columns[0] if stream.columns else monitor.shift_columns(dataset)[0]
        j = dataset.feature_names.index(name)
        mean, std = dataset.X_train[:, j].mean(), dataset.X_train[:, j].std() or 1.0
        ref = 0.0
        values = [float((stream.X[stream.window == w, j].mean() - mean) / std)
                  for w in range(stream.n_windows)]
        what = f"mean of {name} (training standard deviations from its mean)"
    return pd.DataFrame({"window": np.arange(stream.n_windows), "value": values,
                         "reference": ref, "what": what})


# ---- tables for people ------------------------------------------------------------------------
def _pct(x) -> str:
    return MISSING if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1%}"


def _ms(x: float) -> str:
    return f"{x:.3f}" if x < 1 else f"{x:.1f}"


def window_table(result: monitor.MonitoringResult) -> pd.DataFrame:
    """One row per window, formatted: no raw NaN or None (unlabelled windows say so)."""
    w = result.windows
    return pd.DataFrame({
        "window": w["window"],
        "drifted columns": [f"{d} ({s:.0%})" for d, s in zip(w["drifted_columns"], w["drifted_share"])],
        "dataset drift": np.where(w["dataset_drift"], "yes", "no"),
        "estimated accuracy": [_pct(x) for x in w["estimated_accuracy"]],
        "realised accuracy": [_pct(x) if lab else NOT_LABELLED
                              for x, lab in zip(w["realised_accuracy"], w["labelled"])],
        "latency p50 (ms)": [_ms(x) for x in w["latency_p50_ms"]],
        "latency p95 (ms)": [_ms(x) for x in w["latency_p95_ms"]],
        "throughput (rows/s)": [f"{x:,.0f}" for x in w["throughput_rows_per_s"]],
    })


def _alert_value(value: float, value_is: str) -> str:
    if value_is == "p-value":
        return f"p = {drift.format_p(value)}"
    if value_is in ("share", "accuracy"):
        return _pct(value)
    return f"{value:.3g}"


def alert_table(result: monitor.MonitoringResult) -> pd.DataFrame:
    """The alert log for people: window, check, column ('–' for the whole window), test, value,
    threshold."""
    a = result.alerts
    return pd.DataFrame({
        "window": a["window"], "check": a["check"],
        "column": [c if isinstance(c, str) else MISSING for c in a["column"]],
        "test": a["test"],
        "value": [_alert_value(v, k) for v, k in zip(a["value"], a["value_is"])],
        "threshold": [_pct(t) if k in ("share", "accuracy") else f"{t:g}"
                      for t, k in zip(a["threshold"], a["value_is"])],
    })


def tests_used(result: monitor.MonitoringResult) -> str:
    """Which tests the rule chose for this reference, e.g. 'Kolmogorov-Smirnov for 4 columns,
    proportion z-test for 13'."""
    first = result.drift[result.drift["window"] == 0]
    counts = first["test_name"].value_counts()
    parts = [f"{name} for {n} column{'s' if n != 1 else ''}" for name, n in counts.items()]
    return ", ".join(parts)


def drift_rule_text(result: monitor.MonitoringResult) -> str:
    """How the windows are tested, with the tests this reference got."""
    return (f"Each window is tested column by column against {result.n_reference:,} rows the "
            "model learned from, with the test Evidently chooses by default: up to 1,000 "
            "reference rows, Kolmogorov-Smirnov for numbers, chi-squared for categories, a "
            "proportion z-test for two values (drift at p < 0.05); above, Wasserstein distance "
            "over the reference's standard deviation and Jensen-Shannon distance (drift at 0.1). "
            f"Here: {tests_used(result)}.")


def drift_sentence(result: monitor.MonitoringResult) -> str:
    drifted = result.windows["dataset_drift"]
    return (f"The dataset drifts in {int(drifted.sum())} of {len(drifted)} windows (at least "
            f"{result.share:.0%} of its columns). Hover a cell for the statistic and PSI. "
            + false_alarm_sentence(result))


CBPE_LATEX = (r"\widehat{\text{accuracy}}_{w} = \frac{1}{n_w}\sum_{i \in w} "
              r"c\big(\max_k p_k(x_i)\big)")


def cbpe_text(result: monitor.MonitoringResult) -> str:
    """What the estimate is and the assumption it rests on."""
    delay = result.label_delay
    return (f"Labels arrive {delay} window{'s' if delay != 1 else ''} late, so the latest "
            "windows have none. Their accuracy is *estimated* from the model's confidence "
            "(confidence-based performance estimation, as NannyML's CBPE does): on "
            f"{result.n_calibration} labelled reference rows, isotonic regression learns c, how "
            "often the model is right at each confidence. **The assumption:** that calibration "
            "still holds in production, i.e. only the inputs' distribution changed, not the link "
            "from inputs to labels. A feature that jumps because a sensor broke, or a new mix of "
            "classes, breaks it: the estimate can stay high while the realised accuracy falls.")


def accuracy_sentence(result: monitor.MonitoringResult) -> str:
    labelled = result.windows[result.windows["labelled"]]
    gap = (labelled["estimated_accuracy"] - labelled["realised_accuracy"]).abs().mean()
    return (f"Reference accuracy {result.reference_accuracy:.1%}; over the {len(labelled)} "
            f"labelled windows the estimate is off by {gap:.1%} on average.")


def retrain_trainer(entry, stream: monitor.Stream, label_delay: int):
    """(Trainer, data): the workspace model's network and training settings, fresh, on the
    training split plus the recent labelled windows (monitor.retraining_data), not yet run.
    Early stopping is off: it would watch the windows the models are compared on."""
    from nnplay.train.quick import default_config, quick_trainer

    data = monitor.retraining_data(entry.dataset, stream, label_delay)
    config = (entry.train_config or default_config(EPOCHS)).replace(early_stopping=None,
                                                                    val_fraction=0.0)
    return quick_trainer(data, entry.spec, config), data


def false_alarm_sentence(result: monitor.MonitoringResult) -> str:
    """How many column alarms chance alone gives per window when the tests are p-value tests:
    columns x 0.05 (the reason for a dataset-level share)."""
    first = result.drift[result.drift["window"] == 0]
    tested = int(first["p_value"].notna().sum())
    if not tested:
        return ""
    return (f"With {tested} columns tested at p < 0.05, chance alone flags about "
            f"{tested * drift.P_VALUE_THRESHOLD:.1f} of them per window, drift or not.")


# ---- why the rule switches at 1,000 rows -------------------------------------------------------
def _repeats(n: int) -> int:
    """Repeats per sample size: 200 for small samples (a 5% rate needs them), 10 for 50,000
    rows (where every repeat agrees and one takes a tenth of a second)."""
    return 200 if n <= 1000 else int(max(10, 500_000 // n))


def sample_size_demo(sizes=DEMO_SIZES, shift: float = DEMO_SHIFT, seed: int = 0) -> pd.DataFrame:
    """Alarm rates of KS (p < 0.05), normed Wasserstein (>= 0.1) and PSI (>= 0.1) on two normal
    samples of n rows each, unshifted and shifted by ``shift`` standard deviations.

    Rows: n, data, test, alarm_rate, repeats, chosen (whether the 1,000-row rule picks this test
    at this reference size). Small samples: the distances alarm on nothing; large: KS alarms on
    a shift too small to matter.
    """
    if not 0 < shift <= 1:
        raise ValueError(f"Use a slight shift between 0 and 1 standard deviation, got {shift}.")
    rng = np.random.default_rng(seed)
    rows = []
    for n in sizes:
        n = int(n)
        if n < 10:
            raise ValueError(f"Use samples of at least 10 rows, got {n}.")
        chosen = drift.choose_test("numerical", n, n)
        repeats = _repeats(n)
        for label, delta in (("no shift", 0.0), (f"shift of {shift:g} std", shift)):
            alarms = {"ks": 0, "wasserstein": 0, "psi": 0}
            for _ in range(repeats):
                ref, cur = rng.normal(size=n), rng.normal(delta, 1, n)
                alarms["ks"] += drift.column_drift(ref, cur, "numerical", test="ks").drifted
                w = drift.column_drift(ref, cur, "numerical", test="wasserstein")
                alarms["wasserstein"] += w.drifted
                alarms["psi"] += w.psi >= drift.PSI_BANDS[0]
            for test, name in (("ks", "KS p < 0.05"), ("wasserstein", "Wasserstein >= 0.1"),
                               ("psi", "PSI >= 0.1")):
                rows.append({"n": n, "data": label, "test": name,
                             "alarm_rate": alarms[test] / repeats, "repeats": repeats,
                             "chosen": test == chosen})
    return pd.DataFrame(rows)


def demo_sentence(demo: pd.DataFrame) -> str:
    """The demonstration in one sentence, with its numbers."""
    def rate(n, data, test):
        sel = demo[(demo["n"] == n) & (demo["data"].str.startswith(data)) &
                   (demo["test"].str.startswith(test))]
        return f"{sel['alarm_rate'].iloc[0]:.0%}"

    small, large = int(demo["n"].min()), int(demo["n"].max())
    return (f"With {small:,} rows and no shift at all, Wasserstein alarms in "
            f"{rate(small, 'no', 'Wasserstein')} of the repeats and PSI in "
            f"{rate(small, 'no', 'PSI')}, while KS stays near its 5% ({rate(small, 'no', 'KS')}). "
            f"With {large:,} rows and a slight shift, KS alarms in "
            f"{rate(large, 'shift', 'KS')} of the repeats, Wasserstein in "
            f"{rate(large, 'shift', 'Wasserstein')}.")
