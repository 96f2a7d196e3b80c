"""Headless tests of pages/evaluate.py with a model from the session and one trained on the spot."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_moons, make_regression
from streamlit.testing.v1 import AppTest

from nnplay.data.dataset import Dataset
from nnplay.evaluation import metrics
from nnplay.lessons import evaluate as lesson
from nnplay.train import predict, predict_proba
from nnplay.train.quick import quick_trainer
from nnplay.train.workspace import Workspace

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "evaluate.py")


def metric_value(at: AppTest, label: str, nth: int = 0) -> float:
    return float([m for m in at.metric if m.label == label][nth].value)


def run_until_job_done(at: AppTest, key: str, seconds: float = 60) -> AppTest:
    """AppTest does not fire run_every; rerun until the background job has finished."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception
        job = at.session_state[key] if key in at.session_state else None
        if job is not None and job.finished:
            return at.run()
        time.sleep(0.3)
    raise AssertionError("the background job did not finish")


@pytest.fixture(scope="module")
def moons_entry():
    X, y = make_moons(200, noise=0.2, random_state=0)
    X = X.astype(np.float32)
    ds = Dataset("moons", X[:150], y[:150], X[150:], y[150:], "classification", ["x1", "x2"],
                 ["left", "right"])
    trainer = quick_trainer(ds, family="mlp", epochs=30).fit()
    return ds, trainer


def session_page(ds, trainer) -> AppTest:
    ws = Workspace()
    ws.register(trainer.model, ds, trainer.spec, "notebook", name="session net",
                train_config=trainer.config, history=trainer.history)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["nnplay_workspace"] = ws
    return at.run()


def test_session_classifier_shows_sklearn_numbers_and_the_threshold_moves_them(moons_entry):
    ds, trainer = moons_entry
    at = session_page(ds, trainer)
    assert not at.exception
    proba = predict_proba(trainer.model, ds.X_test)
    expected = metrics.classification_metrics(ds.y_test, proba)
    assert metric_value(at, "Accuracy") == pytest.approx(expected["accuracy"], abs=5e-4)
    assert metric_value(at, "ROC AUC") == pytest.approx(expected["roc_auc"], abs=5e-4)
    at.slider(key="ev_threshold").set_value(0.9).run()
    assert not at.exception
    strict = metrics.threshold_metrics(ds.y_test, proba, 0.9, positive=1)
    assert metric_value(at, "Recall") == pytest.approx(strict["recall"], abs=5e-4)
    assert metric_value(at, "Precision") == pytest.approx(strict["precision"], abs=5e-4)
    assert f"{strict['tp']} + {strict['fn']}" in at.latex[0].value
    at.radio(key="ev_cm_view").set_value("share of each true class").run()
    at.slider(key="ev_minority_share").set_value(0.1).run()
    assert not at.exception
    paradox = metrics.accuracy_paradox(ds.y_test, proba, 1, 0.1, 0.9)
    assert any(f"{paradox.iloc[0]['accuracy']:.3f}" in m.value for m in at.markdown)


def test_baselines_run_in_the_background_and_fill_the_table(moons_entry):
    ds, trainer = moons_entry
    at = session_page(ds, trainer)
    at.multiselect(key="ev_baselines").set_value(["dummy", "linear"])
    at.slider(key="ev_folds").set_value(2)
    at.number_input(key="ev_net_epochs").set_value(5)
    at.button(key="ev_run_baselines").click()
    at = run_until_job_done(at, "ev_baseline_job")
    table = at.dataframe[-1].value
    assert list(table.index) == ["Dummy (majority class / mean)", "Logistic / linear regression",
                                 "The network"]
    job = at.session_state["ev_baseline_job"]
    assert job.status == "completed"
    assert table.loc["The network", "accuracy_mean"] == pytest.approx(
        job.result.summary_.loc["The network", "accuracy_mean"], abs=1e-4)


def test_session_regression_model_shows_regression_metrics():
    X, y = make_regression(160, 3, noise=5.0, random_state=0)
    y = ((y - y.mean()) / y.std()).astype(np.float32)
    ds = Dataset("reg", X[:120].astype(np.float32), y[:120], X[120:].astype(np.float32), y[120:],
                 "regression", ["a", "b", "c"])
    trainer = quick_trainer(ds, family="mlp", epochs=30).fit()
    at = session_page(ds, trainer)
    assert not at.exception
    pred = predict(trainer.model, ds.X_test, "regression")
    expected = metrics.regression_metrics(ds.y_test, pred)
    assert metric_value(at, "RMSE") == pytest.approx(expected["rmse"], abs=5e-4)
    assert metric_value(at, "R²") == pytest.approx(expected["r2"], abs=5e-4)
    assert expected["r2"] > 0.8


def test_the_page_opens_training_a_network_and_shows_its_numbers():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert at.radio(key="ev_source").value == "Train one on the spot"   # nothing in the session
    at.selectbox(key="ev_spot_dataset").set_value("iris").run()
    at.number_input(key="ev_spot_epochs_1").set_value(10).run()
    at.button(key="ev_spot_go").click().run()
    at.session_state["ev_spot_job"]["worker"].join(60)
    at.run()
    assert not at.exception
    ws = at.session_state["nnplay_workspace"]
    entry = ws.list()[0]   # the newest (an earlier run on iris may have finished first)
    assert entry.record.dataset.name == "iris" and entry.lesson == "evaluate"
    assert entry.train_config.epochs == 10 and entry.record.run_id is not None
    assert 0.0 <= metric_value(at, "Accuracy") <= 1.0
    assert len([m for m in at.metric if m.label == "F1 (macro)"]) == 1


def test_a_network_that_barely_beats_the_dummy_is_called_out():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.selectbox(key="ev_spot_dataset").set_value("german_credit").run()
    at.session_state["ev_spot_job"]["worker"].join(60)
    at.run()
    at.multiselect(key="ev_baselines").set_value(["dummy"])
    at.slider(key="ev_folds").set_value(3)
    at.number_input(key="ev_net_epochs").set_value(10).run()
    at.button(key="ev_run_baselines").click().run()
    run_until_job_done(at, "ev_baseline_job", 120)
    summary = at.session_state["ev_baseline_job"].result.summary_
    network, dummy = summary["accuracy_mean"].iloc[-1], summary["accuracy_mean"].iloc[0]
    level, sentence = lesson.baseline_verdict(network, dummy, dummy, "dummy")
    shown = {"error": at.error, "warning": at.warning, "success": at.success}[level]
    assert any(m.value == sentence for m in shown)


def test_two_session_models_side_by_side_on_the_same_rows(moons_entry):
    ds, trainer = moons_entry
    other = quick_trainer(ds, family="mlp", epochs=2).fit()
    ws = Workspace()
    ws.register(trainer.model, ds, trainer.spec, "notebook", name="long")
    ws.register(other.model, ds, other.spec, "notebook", name="short")
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["nnplay_workspace"] = ws
    at.run()
    assert not at.exception
    table, differ = lesson.side_by_side([ws.get("short"), ws.get("long")], ds)
    shown = [df.value for df in at.dataframe if "short" in df.value.columns][0]
    assert shown.loc["accuracy", "long"] == pytest.approx(table.loc["accuracy", "long"])
    assert any(f"disagree on {len(differ)} of {ds.n_test}" in c.value for c in at.caption)
