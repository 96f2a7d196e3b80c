"""The simulated stream and its monitoring: scenarios produce the shift they name, delayed labels
hide the latest windows, the confidence-based estimate tracks realised accuracy on a calibrated
model, alerts name window and column, and retraining compares on rows it never trained on."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from nnplay.data.dataset import Dataset
from nnplay.lessons import monitoring as lesson
from nnplay.production import monitor

WEIGHTS = np.array([2.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0])   # the true logit uses x0 and x1
INTERCEPT = -1.0                                           # and makes "yes" the rarer class


def make_dataset(n_train=800, n_test=4000, seed=0) -> Dataset:
    """4 numbers, a one-hot 'color' group and an integer-coded 'level', standardised like the
    real sets; the label is drawn from a logistic model of x0 and x1."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    color = rng.integers(0, 2, n)
    level = rng.integers(0, 4, n).astype(float)
    X = np.column_stack([rng.normal(size=(n, 4)), color, 1 - color, level])
    X[:, 4:] = (X[:, 4:] - X[:n_train, 4:].mean(0)) / X[:n_train, 4:].std(0)
    X = X.astype(np.float32)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ WEIGHTS + INTERCEPT)))).astype(np.int64)
    names = ["x0", "x1", "x2", "x3", "color=red", "color=blue", "level"]
    return Dataset("logistic", X[:n_train], y[:n_train], X[n_train:], y[n_train:],
                   "classification", names, ["no", "yes"])


def logistic_model(scale: float = 1.0) -> nn.Module:
    """Logits [0, scale * (w.x + b)]: exactly calibrated at scale 1, overconfident above."""
    model = nn.Linear(len(WEIGHTS), 2)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
        model.weight[1] = torch.as_tensor(WEIGHTS * scale, dtype=torch.float32)
        model.bias[1] = INTERCEPT * scale
    return model


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return make_dataset()


def test_stream_draws_unseen_rows_without_repeats_in_a_window(ds):
    stream = monitor.simulate_stream(ds, "none", windows=5, window_size=200, seed=1)
    assert len(stream.X) == 1000 and set(stream.window) == set(range(5))
    assert set(stream.source) <= set(stream.pool_rows)
    assert not set(stream.pool_rows) & set(stream.calibration_rows)
    for w in range(5):
        assert len(np.unique(stream.source[stream.rows(w)])) == 200
    np.testing.assert_array_equal(stream.X, ds.X_test[stream.source])
    np.testing.assert_array_equal(stream.y, ds.y_test[stream.source])
    again = monitor.simulate_stream(ds, "none", windows=5, window_size=200, seed=1)
    np.testing.assert_array_equal(stream.source, again.source)   # seeded


@pytest.mark.parametrize("scenario", ["sudden", "gradual", "seasonal"])
def test_shift_scenarios_move_the_feature_they_name(ds, scenario):
    stream = monitor.simulate_stream(ds, scenario, 2.0, start=3, windows=11, window_size=100,
                                     feature="x2")
    assert stream.columns == ("x2",)
    j = ds.feature_names.index("x2")
    moved = stream.X[:, j] - ds.X_test[stream.source, j]
    others = np.delete(stream.X - ds.X_test[stream.source], j, axis=1)
    assert not others.any()
    std = ds.X_train[:, j].std()
    per_window = np.array([moved[stream.window == w].mean() for w in range(11)]) / std
    assert np.allclose(per_window[:3], 0)
    k = np.arange(8)
    expected = {"sudden": np.full(8, 2.0), "gradual": 2.0 * (k + 1) / 8,
                "seasonal": 2.0 * np.sin(2 * np.pi * (k + 1) / monitor.SEASON_WINDOWS)}[scenario]
    np.testing.assert_allclose(per_window[3:], expected, atol=1e-4)
    trace = lesson.scenario_trace(ds, stream)
    assert trace["value"].iloc[3:].mean() > trace["value"].iloc[:3].mean() + 0.3 \
        or scenario == "seasonal"


def test_the_default_shift_feature_is_the_most_informative(ds):
    assert monitor.shift_columns(ds)[0] == "x0"
    assert monitor.scenario_columns(ds, "new_category") == ["color", "level"]
    assert monitor.scenario_columns(ds, "none") == []


def test_new_category_in_a_one_hot_group_and_an_integer_code(ds):
    stream = monitor.simulate_stream(ds, "new_category", 0.5, start=2, windows=6,
                                     window_size=300, feature="color")
    group = stream.X[:, 4:6]
    unseen = np.all(np.isclose(group, ds.X_train[:, 4:6].min(0)), axis=1)
    assert not unseen[stream.window < 2].any()
    assert unseen[stream.window >= 2].mean() == pytest.approx(0.5, abs=0.05)
    assert any("one-hot" in note for note in stream.notes)
    coded = monitor.simulate_stream(ds, "new_category", 1.0, start=2, windows=6,
                                    window_size=300, feature="level")
    seen = np.unique(ds.X_train[:, 6])
    assert np.isin(coded.X[coded.window < 2, 6], seen).all()
    assert not np.isin(coded.X[coded.window >= 2, 6], seen).any()
    trace = lesson.scenario_trace(ds, coded)
    assert trace["reference"].iloc[0] == 0 and (trace["value"].iloc[2:] == 1).all()


def test_new_category_needs_a_categorical_column():
    numbers = make_dataset()
    numbers.X_train, numbers.X_test = numbers.X_train[:, :4], numbers.X_test[:, :4]
    numbers.feature_names = numbers.feature_names[:4]
    with pytest.raises(ValueError, match="no categorical or integer-coded column"):
        monitor.simulate_stream(numbers, "new_category", 0.5)


def test_label_shift_resamples_toward_the_rarest_class(ds):
    stream = monitor.simulate_stream(ds, "label_shift", 0.6, start=4, windows=10,
                                     window_size=200)
    pool_share = np.bincount(ds.y_test[stream.pool_rows], minlength=2) / len(stream.pool_rows)
    rare = int(np.argmin(pool_share))
    assert stream.columns == (f"class {ds.class_names[rare]}",)
    before = np.mean(stream.y[stream.window < 4] == rare)
    after = np.mean(stream.y[stream.window >= 4] == rare)
    assert before == pytest.approx(pool_share[rare], abs=0.05)
    assert after == pytest.approx(0.4 * pool_share[rare] + 0.6, abs=0.01)
    np.testing.assert_array_equal(stream.X, ds.X_test[stream.source])   # inputs untouched


@pytest.mark.parametrize("kwargs, message", [
    ({"scenario": "tsunami"}, "Unknown scenario"),
    ({"windows": 1}, "between 2 and"),
    ({"scenario": "sudden", "start": 12}, "starts in a window"),
    ({"window_size": 5000}, "A window holds"),
    ({"scenario": "label_shift", "strength": 1.5}, "share from 0 to 1"),
    ({"scenario": "sudden", "feature": "level"}, "cannot be changed"),
])
def test_bad_settings_say_what_to_change(ds, kwargs, message):
    with pytest.raises(ValueError, match=message):
        monitor.simulate_stream(ds, **{"windows": 12, **kwargs})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cbpe_tracks_realised_accuracy_on_a_calibrated_model_without_drift(ds, seed):
    stream = monitor.simulate_stream(ds, "none", windows=8, window_size=400, seed=seed)
    w = monitor.run_monitoring(logistic_model(), ds, stream, label_delay=0).windows
    assert w["labelled"].all()
    # isotonic calibration on 1,200 reference rows carries their sampling error
    assert abs(w["estimated_accuracy"].mean() - w["realised_accuracy"].mean()) < 0.04
    assert (w["estimated_accuracy"] - w["realised_accuracy"]).abs().max() < 0.08
    # the model is calibrated already: its raw confidence is an even closer estimate
    raw = monitor.run_monitoring(logistic_model(), ds, stream, label_delay=0,
                                 calibrate=False).windows
    assert abs(raw["estimated_accuracy"].mean() - raw["realised_accuracy"].mean()) < 0.03


def test_calibration_fixes_an_overconfident_model(ds):
    stream = monitor.simulate_stream(ds, "none", windows=6, window_size=400, seed=3)
    cocky = logistic_model(scale=5.0)
    calibrated = monitor.run_monitoring(cocky, ds, stream, label_delay=0).windows
    raw = monitor.run_monitoring(cocky, ds, stream, label_delay=0, calibrate=False).windows
    raw_gap = (raw["estimated_accuracy"] - raw["realised_accuracy"]).mean()
    cal_gap = (calibrated["estimated_accuracy"] - calibrated["realised_accuracy"]).abs().mean()
    assert raw_gap > 0.05 and cal_gap < 0.04


def test_label_delay_hides_the_latest_windows(ds):
    stream = monitor.simulate_stream(ds, "none", windows=7, window_size=100)
    w = monitor.run_monitoring(logistic_model(), ds, stream, label_delay=3).windows
    assert list(w["labelled"]) == [True] * 4 + [False] * 3
    assert w["realised_accuracy"].iloc[:4].notna().all()
    assert w["realised_accuracy"].iloc[4:].isna().all()
    assert w["estimated_accuracy"].notna().all()
    table = lesson.window_table(monitor.run_monitoring(logistic_model(), ds, stream, 3))
    assert list(table["realised accuracy"].iloc[4:]) == [lesson.NOT_LABELLED] * 3
    assert not table.astype(str).apply(lambda c: c.str.contains("nan|None")).any().any()
    with pytest.raises(ValueError, match="windows late"):
        monitor.run_monitoring(logistic_model(), ds, stream, label_delay=7)


def test_drift_alerts_name_the_shifted_column_after_the_start(ds):
    stream = monitor.simulate_stream(ds, "sudden", 1.5, start=4, windows=8, window_size=200,
                                     feature="x2")
    result = monitor.run_monitoring(logistic_model(), ds, stream, label_delay=1)
    x2 = result.drift[result.drift["column"] == "x2"].set_index("window")
    assert x2.loc[4:, "drifted"].all() and (x2.loc[4:, "test"] == "ks").all()
    assert x2.loc[:3, "drifted"].sum() <= 1
    alerts = result.alerts[(result.alerts["check"] == "column drift")]
    assert set(alerts.loc[alerts["column"] == "x2", "window"]) >= set(range(4, 8))
    assert result.windows["latency_p95_ms"].ge(result.windows["latency_p50_ms"]).all()
    assert (result.windows["throughput_rows_per_s"] > 0).all()
    log = lesson.alert_table(result)
    assert len(log) == len(result.alerts) and (log["value"].str.len() > 0).all()
    assert result.summary()["windows"] == 8


def test_accuracy_alerts_when_labels_shift_and_the_estimate_misses_it(ds):
    """Label shift breaks CBPE's assumption: realised accuracy falls, the estimate does not."""
    stream = monitor.simulate_stream(ds, "label_shift", 1.0, start=3, windows=8,
                                     window_size=200)
    result = monitor.run_monitoring(logistic_model(), ds, stream, label_delay=0)
    assert "realised accuracy" in set(result.alerts["check"])
    w = result.windows.iloc[3:]
    assert (w["estimated_accuracy"] - w["realised_accuracy"]).mean() > 0.03


def test_reference_rows_switch_the_tests(ds):
    stream = monitor.simulate_stream(ds, "none", windows=3, window_size=100)
    small = monitor.run_monitoring(logistic_model(), ds, stream, reference_rows=500)
    assert small.n_reference == 500 and set(small.drift["test"]) == {"ks", "z", "chisquare"}
    big = make_dataset(n_train=1500, n_test=600)
    stream = monitor.simulate_stream(big, "none", windows=3, window_size=100)
    large = monitor.run_monitoring(logistic_model(), big, stream)
    assert set(large.drift["test"]) == {"wasserstein", "jensenshannon"}
    assert "Wasserstein" in lesson.tests_used(large)


def test_monitoring_refuses_regression_and_images(ds):
    reg = make_dataset()
    reg.task, reg.y_test = "regression", reg.y_test.astype(np.float32)
    with pytest.raises(ValueError, match="classification"):
        monitor.run_monitoring(logistic_model(), reg, monitor.simulate_stream(reg, "none"))
    images = Dataset("img", np.zeros((40, 1, 4, 4), np.float32), np.zeros(40, np.int64),
                     np.zeros((40, 1, 4, 4), np.float32), np.zeros(40, np.int64),
                     "classification", [f"p{i}" for i in range(16)], ["a", "b"])
    with pytest.raises(ValueError, match="tabular models only"):
        monitor.simulate_stream(images, "none")


def test_retraining_data_keeps_the_comparison_rows_unseen(ds):
    stream = monitor.simulate_stream(ds, "sudden", 2.0, start=3, windows=9, window_size=300,
                                     feature="x0")
    data = monitor.retraining_data(ds, stream, label_delay=2)
    recent = data.X_train[ds.n_train:]
    assert len(recent) == data.extra["recent_rows"] > 0
    np.testing.assert_array_equal(data.X_train[:ds.n_train], ds.X_train)
    assert set(data.extra["windows"]) == {7, 8}
    shared = {tuple(r) for r in recent} & {tuple(r) for r in data.X_test}
    assert not shared
    table = monitor.compare_models(logistic_model(), logistic_model(), data)
    assert list(table["window"]) == ["7", "8", "all"]
    assert (table["old_accuracy"] == table["new_accuracy"]).all()
    assert table["rows"].iloc[-1] == len(data.y_test)


@pytest.mark.slow
def test_retraining_on_recent_data_beats_the_old_model_after_a_shift():
    from nnplay.train.quick import default_config, quick_trainer

    ds = make_dataset(n_train=600, n_test=2000)
    stream = monitor.simulate_stream(ds, "sudden", 2.5, start=2, windows=10, window_size=400,
                                     feature="x0")
    data = monitor.retraining_data(ds, stream, label_delay=2)
    trainer = quick_trainer(data, {"family": "mlp", "params": {"hidden": [16]}},
                            default_config(40)).fit()
    table = monitor.compare_models(logistic_model(), trainer.model, data)
    overall = table.iloc[-1]
    assert overall["new_accuracy"] > overall["old_accuracy"] + 0.05
    assert math.isfinite(overall["new_accuracy"])


def test_sample_size_demo_shows_why_the_rule_switches():
    demo = lesson.sample_size_demo(seed=0)
    rate = demo.set_index(["n", "data", "test"])["alarm_rate"]
    assert rate[(100, "no shift", "KS p < 0.05")] <= 0.1
    assert rate[(100, "no shift", "Wasserstein >= 0.1")] >= 0.5
    assert rate[(50_000, "shift of 0.05 std", "KS p < 0.05")] >= 0.9
    assert rate[(50_000, "shift of 0.05 std", "Wasserstein >= 0.1")] == 0
    chosen = demo[demo["chosen"]].groupby("n")["test"].first()
    assert chosen[100].startswith("KS") and chosen[50_000].startswith("Wasserstein")
    sentence = lesson.demo_sentence(demo)
    assert f"{rate[(100, 'no shift', 'Wasserstein >= 0.1')]:.0%}" in sentence
    with pytest.raises(ValueError, match="slight shift"):
        lesson.sample_size_demo(shift=2.0)
