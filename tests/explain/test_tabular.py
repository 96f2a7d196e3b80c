"""SHAP and LIME on torch models: efficiency, closed-form parity, targets, agreement, cancelling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_iris, make_classification
from torch import nn

from nnplay import explain
from nnplay.data.dataset import Dataset
from nnplay.train import TrainConfig, Trainer, predict_proba


def make_dataset(n_classes: int, n_features: int = 6, n: int = 200) -> Dataset:
    X, y = make_classification(n, n_features, n_informative=4, n_redundant=0,
                               n_classes=n_classes, n_clusters_per_class=1, random_state=0)
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    return Dataset("synthetic", X[:150], y[:150].astype(np.int64), X[150:], y[150:].astype(np.int64),
                   "classification", [f"f{i}" for i in range(n_features)],
                   [str(c) for c in range(n_classes)])


def trained_mlp(ds: Dataset, epochs: int = 30) -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(ds.n_features, 16), nn.Tanh(), nn.Linear(16, ds.n_outputs))
    Trainer(net, ds, TrainConfig(epochs=epochs, lr=0.02, seed=0)).fit()
    return net


@pytest.fixture(scope="module")
def binary():
    ds = make_dataset(2)
    return ds, trained_mlp(ds)


def test_kernel_shap_efficiency_within_1e3_for_binary_probabilities(binary):
    ds, net = binary
    exp = explain.shap_values(net, ds.X_train[:100], ds.X_test[:4], feature_names=ds.feature_names)
    assert exp.values.shape == (4, ds.n_features) and exp.base_values.shape == (4,)
    assert exp.feature_names == ds.feature_names
    p1 = predict_proba(net, ds.X_test[:4])[:, 1]
    total = exp.base_values + exp.values.sum(1)
    np.testing.assert_allclose(total, p1, atol=1e-3)          # the bar
    assert np.abs(total - p1).max() < 1e-5                   # and in fact much tighter
    np.testing.assert_array_equal(exp.nnplay["targets"], [1, 1, 1, 1])   # class 1 by default
    bg_mean = predict_proba(net, ds.X_train[:100])[:, 1].mean()
    assert exp.base_values[0] == pytest.approx(bg_mean, abs=1e-6)
    assert explain.efficiency_frame(exp)["gap"].max() < 1e-3


def test_multiclass_explains_each_rows_predicted_class():
    X, y = load_iris(return_X_y=True)
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    ds = Dataset("iris", X[::2], y[::2], X[1::2], y[1::2], "classification",
                 ["a", "b", "c", "d"], ["s", "v", "g"])
    net = trained_mlp(ds, epochs=40)
    rows = ds.X_test[[0, 30, 60]]
    exp = explain.shap_values(net, ds.X_train[:50], rows)
    proba = predict_proba(net, rows)
    np.testing.assert_array_equal(exp.nnplay["targets"], proba.argmax(1))
    assert len(set(exp.nnplay["targets"])) == 3   # three different targets, three base values
    np.testing.assert_allclose(exp.base_values + exp.values.sum(1), proba.max(1), atol=1e-3)
    fixed = explain.shap_values(net, ds.X_train[:50], rows, target=2)
    np.testing.assert_allclose(fixed.base_values + fixed.values.sum(1), proba[:, 2], atol=1e-3)


def test_linear_regression_model_matches_the_closed_form():
    # for f(x) = w.x + b and a background, exact Shapley values are w_i (x_i - mean(background_i))
    torch.manual_seed(0)
    lin = nn.Linear(5, 1)
    rng = np.random.default_rng(0)
    bg, x = rng.normal(size=(40, 5)).astype(np.float32), rng.normal(size=(2, 5)).astype(np.float32)
    exp = explain.shap_values(lin, bg, x, task="regression")
    w = lin.weight.detach().numpy()[0]
    np.testing.assert_allclose(exp.values, w * (x - bg.mean(0)), atol=1e-4)
    np.testing.assert_array_equal(exp.nnplay["targets"], [-1, -1])


def test_same_seed_same_values_and_bad_inputs(binary):
    ds, net = binary
    a, b = (explain.shap_values(net, ds.X_train[:20], ds.X_test[0], nsamples=40, seed=1)
            for _ in range(2))
    np.testing.assert_array_equal(a.values, b.values)
    with pytest.raises(ValueError, match="features"):
        explain.shap_values(net, ds.X_train[:20], ds.X_test[:2, :3])
    with pytest.raises(ValueError, match="target"):
        explain.shap_values(net, ds.X_train[:20], ds.X_test[:1], target=5)
    with pytest.raises(ValueError, match="background"):
        explain.background_sample(ds.X_train, 0)
    assert explain.background_sample(ds.X_train, 100).shape == (100, ds.n_features)


def test_lime_finds_the_dominant_feature_of_a_linear_logit():
    # logit of class 1 = 4 * x3: only feature 3 matters, LIME must rank it first
    net = nn.Linear(4, 2)
    with torch.no_grad():
        net.weight.zero_()
        net.bias.zero_()
        net.weight[1, 3] = 4.0
    rng = np.random.default_rng(0)
    train = rng.normal(size=(200, 4)).astype(np.float32)
    x = np.array([0.1, -0.2, 0.3, 1.5], dtype=np.float32)
    res = explain.lime_explanation(net, x, train, num_samples=800, seed=0)
    assert res.target == 1 and len(res.weights) == 4
    assert res.weights.iloc[0]["feature"] == 3 and res.weights.iloc[0]["weight"] > 0.1
    assert res.weights.iloc[1:]["weight"].abs().max() < 0.25 * res.weights.iloc[0]["weight"]
    again = explain.lime_explanation(net, x, train, num_samples=800, seed=0)
    np.testing.assert_allclose(res.weights["weight"], again.weights["weight"])
    assert res.model_prediction == pytest.approx(predict_proba(net, x[None])[0, 1], abs=1e-6)
    with pytest.raises(ValueError, match="training_data"):
        explain.lime_explanation(net, x)


def test_shap_and_lime_agree_on_a_clear_case(binary):
    ds, net = binary
    exp = explain.shap_values(net, ds.X_train[:50], ds.X_test[0], nsamples=200)
    lime = explain.lime_explanation(net, ds.X_test[0], ds.X_train, num_samples=1000)
    cmp = explain.compare_shap_lime(exp.values[0], lime, top_k=3)
    assert 0.0 <= cmp["top_overlap"] <= 1.0 and cmp["top_k"] == 3
    note = explain.agreement_note(cmp)
    assert f"top {cmp['top_k']}" in note and f"{cmp['sign_agreement']:.0%}" in note


def test_compare_counts_overlap_and_sign_flips_exactly():
    weights = pd.DataFrame({"feature": [0, 1, 2, 3], "weight": [0.5, -0.4, 0.1, 0.05]})
    lime = explain.LimeResult(weights, intercept=0.0, local_prediction=0.5, model_prediction=0.5,
                              score=1.0, target=1, num_samples=10, seconds=0.0)
    cmp = explain.compare_shap_lime(np.array([0.6, 0.3, -0.05, 0.01]), lime, top_k=2)
    assert cmp["top_overlap"] == 1.0             # both rank features 0 and 1 top
    assert cmp["sign_agreement"] == 0.5          # features 1 and 2 flip
    assert cmp["sign_disagreements"] == [1, 2]


def test_background_job_cancels_a_long_shap_run(binary):
    ds, net = binary
    job = explain.Job(explain.shap_values, net, ds.X_train[:100], ds.X_test[:50],
                      nsamples=200, label="test").start()
    while job.done_steps < 1 and not job.finished:
        job.join(0.05)
    job.stop()
    job.join(30)
    assert job.status == "stopped" and job.result is None
    assert 1 <= job.done_steps < 50
