"""Baselines on the same split: k-fold scores that behave, a network row, seeds and cancelling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import make_moons, make_regression

from nnplay.data.dataset import Dataset
from nnplay.evaluation import baselines
from nnplay.train import TrainConfig
from nnplay.train.jobs import Cancelled, Job
from nnplay.train.quick import quick_trainer


def moons_dataset(n=240, seed=0) -> Dataset:
    X, y = make_moons(n, noise=0.15, random_state=seed)
    X = X.astype(np.float32)
    cut = int(0.75 * n)
    return Dataset("moons", X[:cut], y[:cut].astype(np.int64), X[cut:], y[cut:].astype(np.int64),
                   "classification", ["x1", "x2"], ["0", "1"])


def regression_dataset(n=200) -> Dataset:
    X, y = make_regression(n, 4, noise=1.0, random_state=0)
    y = (y - y.mean()) / y.std()
    cut = int(0.75 * n)
    X, y = X.astype(np.float32), y.astype(np.float32)
    return Dataset("linear", X[:cut], y[:cut], X[cut:], y[cut:], "regression",
                   [f"x{i}" for i in range(4)])


@pytest.fixture(scope="module")
def moons_network():
    ds = moons_dataset()
    trainer = quick_trainer(ds, family="mlp", epochs=40).fit()
    return ds, trainer


def test_classification_table_has_every_model_and_honest_scores(moons_network):
    ds, trainer = moons_network
    comp = baselines.BaselineComparison(k=3, models=("dummy", "linear", "random_forest"),
                                        network_epochs=20).fit(ds, trainer.model, trainer.config)
    s = comp.summary_
    assert list(s.index) == ["Dummy (majority class / mean)", "Logistic / linear regression",
                             "Random forest", "The network"]
    assert {"accuracy_mean", "accuracy_std", "test_accuracy", "f1_macro_mean",
            "fit_seconds"} <= set(s.columns)
    majority = np.bincount(ds.y_train).max() / ds.n_train
    assert s.loc["Dummy (majority class / mean)", "accuracy_mean"] == pytest.approx(majority, abs=0.02)
    assert s.loc["Random forest", "accuracy_mean"] > 0.9          # moons are easy for trees
    assert s.loc["The network", "accuracy_mean"] > majority + 0.1
    # the network's test score is the trained model's own
    pred = trainer.model(torch.as_tensor(ds.X_test)).argmax(1).numpy()
    assert s.loc["The network", "test_accuracy"] == pytest.approx((pred == ds.y_test).mean())
    assert len(comp.folds_) == 4 * (3 + 1)


def test_same_arguments_give_the_same_scores():
    ds = moons_dataset(seed=1)
    a, b = (baselines.BaselineComparison(k=3, models=("linear", "sklearn_mlp"), seed=3).fit(ds)
            for _ in range(2))
    cols = ["accuracy", "f1_macro"]
    np.testing.assert_array_equal(a.folds_[cols].to_numpy(), b.folds_[cols].to_numpy())


def test_regression_linear_model_beats_the_mean():
    comp = baselines.BaselineComparison(k=4, models=("dummy", "linear")).fit(regression_dataset())
    s = comp.summary_
    assert s.loc["Logistic / linear regression", "r2_mean"] > 0.99
    assert s.loc["Dummy (majority class / mean)", "r2_mean"] < 0.05
    assert s.loc["Dummy (majority class / mean)", "rmse_mean"] > 0.8


def test_fresh_copy_has_the_same_shape_and_new_weights(moons_network):
    _, trainer = moons_network
    before = [p.detach().clone() for p in trainer.model.parameters()]
    twin = baselines.fresh_copy(trainer.model, seed=0)
    shapes = [p.shape for p in twin.parameters()]
    assert shapes == [p.shape for p in before]
    assert not torch.equal(next(twin.parameters()), before[0])
    assert all(torch.equal(p, q) for p, q in zip(trainer.model.parameters(), before, strict=True))


def test_cancel_stops_between_fits():
    ds = moons_dataset()
    calls = {"n": 0}

    def stop_after_two():
        calls["n"] += 1
        return calls["n"] > 2

    with pytest.raises(Cancelled) as caught:
        baselines.BaselineComparison(k=5, models=("dummy", "linear")).fit(
            ds, should_stop=stop_after_two)
    # what was done stays: two dummy folds, but no model finished all its fits to summarise
    assert len(caught.value.result.folds_) == 2 and caught.value.result.summary_.empty
    calls["n"] = -1  # three checks more: dummy's two folds and its test fit
    with pytest.raises(Cancelled) as caught:
        baselines.BaselineComparison(k=2, models=("dummy", "linear")).fit(
            ds, should_stop=stop_after_two)
    assert list(caught.value.result.summary_.index) == [baselines.BASELINE_TITLES["dummy"]]
    job = Job(baselines.BaselineComparison(k=3, models=("dummy",)).fit, ds).start()
    assert job.join(60).status == "completed"
    assert job.fraction == 1.0 and job.result.summary_.shape[0] == 1


def test_bad_settings_raise_value_errors():
    ds = moons_dataset()
    with pytest.raises(ValueError, match="folds"):
        baselines.BaselineComparison(k=1).fit(ds)
    with pytest.raises(ValueError, match="Unknown baseline"):
        baselines.BaselineComparison(models=("svm",)).fit(ds)
    with pytest.raises(ValueError, match="image"):
        quick_trainer(ds, family="cnn")
    assert TrainConfig.from_dict({"epochs": 3, "family": "mlp"}).epochs == 3
