"""What-If engine: the nearest counterfactual really flips the model with few changes, partial
dependence matches scikit-learn's definition, and SHAP/LIME run over the original-unit features."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.inspection import partial_dependence as sk_partial_dependence

from nnplay import data, explain
from nnplay.explain import whatif
from nnplay.train import predict_proba
from nnplay.train.quick import quick_trainer


@pytest.fixture(scope="module")
def german():
    torch.manual_seed(0)
    ds = data.load("german_credit")
    return ds, quick_trainer(ds, family="mlp", epochs=10, seed=0).fit().model


@pytest.fixture(scope="module")
def iris():
    ds = data.load("iris")
    return ds, quick_trainer(ds, family="mlp", epochs=30, seed=0).fit().model


def test_counterfactual_flips_the_prediction_with_fewer_changes_than_a_random_flip(german):
    ds, model = german
    units = explain.original_units(ds)
    train_raw = units.to_raw(ds.X_train)
    train_pred = predict_proba(model, ds.X_train).argmax(1)
    for i in range(8):
        x = ds.X_test[i]
        cf = explain.counterfactual(model, ds, x)
        assert cf.found and cf.n_changed >= 1
        proba = predict_proba(model, cf.row[None])[0]
        assert proba.argmax() == cf.target != cf.original_class
        np.testing.assert_allclose(cf.proba, proba, atol=1e-6)
        # the row is a valid table row: one category per group, numbers inside the training range
        raw = units.to_raw(cf.row)[0]
        np.testing.assert_allclose(units.from_raw(raw)[0], cf.row, atol=1e-5)
        for j, f in enumerate(units.features):
            if f.kind == "numeric" and f.name in set(cf.changes["feature"]):
                assert f.low - 1e-6 <= raw[j] <= f.high + 1e-6
        # a random flip: a training row the model gives the target class
        search = whatif._Search(model, ds, units, cf.target, units.to_raw(x)[0])
        flips = train_raw[train_pred == cf.target]
        random_changes = (search.feature_costs(flips) > 0).sum(1)
        assert cf.n_changed < np.median(random_changes)
        # and it is nearer than the nearest such training row (the What-If Tool's answer)
        assert cf.cost <= search.cost(flips).min() + 1e-9
        assert list(cf.changes.columns) == ["feature", "before", "after"]


def test_counterfactual_respects_frozen_features_and_says_when_none_is_found(german):
    ds, model = german
    x = ds.X_test[0]
    units = explain.original_units(ds)
    cf = explain.counterfactual(model, ds, x, frozen=["age", "sex"])
    assert not set(cf.changes["feature"]) & {"age", "sex"}
    before, after = dict(units.display_row(x)), dict(units.display_row(cf.row))
    assert before["age"] == after["age"] and before["sex"] == after["sex"]
    stuck = explain.counterfactual(model, ds, x, frozen=units.names)
    assert not stuck.found and stuck.n_changed == 0
    assert predict_proba(model, stuck.row[None])[0].argmax() == stuck.original_class
    short = explain.counterfactual(model, ds, x, max_steps=0)
    assert not short.found
    with pytest.raises(ValueError, match="already predicts"):
        explain.counterfactual(model, ds, x, target=cf.original_class)
    with pytest.raises(ValueError, match="unknown feature"):
        explain.counterfactual(model, ds, x, frozen=["height"])


def test_counterfactual_to_a_chosen_class_of_three(iris):
    ds, model = iris
    x = ds.X_test[0]
    proba = predict_proba(model, x[None])[0]
    for target in set(range(3)) - {int(proba.argmax())}:
        cf = explain.counterfactual(model, ds, x, target=target)
        if cf.found:
            assert predict_proba(model, cf.row[None])[0].argmax() == target
        else:
            assert cf.proba[target] < cf.proba.max()


def test_counterfactual_needs_a_classifier():
    ds = data.load("diabetes")
    net = torch.nn.Linear(ds.n_features, 1)
    with pytest.raises(ValueError, match="regression"):
        explain.counterfactual(net, ds, ds.X_test[0])


class RawClassifier(ClassifierMixin, BaseEstimator):
    """A fitted-looking sklearn classifier over the raw features that calls the torch model."""

    def __init__(self, model=None, units=None):
        self.model, self.units = model, units

    def fit(self, R, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, R):
        return predict_proba(self.model, self.units.from_raw(R))


class RawRegressor(RegressorMixin, BaseEstimator):
    def __init__(self, model=None, dataset=None):
        self.model, self.dataset = model, dataset

    def fit(self, R, y):
        self.fitted_ = True
        return self

    def predict(self, R):
        units = explain.original_units(self.dataset)
        return explain.outputs(self.model, self.dataset, units.from_raw(R))[:, 0]


@pytest.mark.parametrize("feature", ["age", "credit_amount", "purpose", "sex"])
def test_partial_dependence_matches_sklearn_on_german_credit(german, feature):
    ds, model = german
    units = explain.original_units(ds)
    sample = explain.background_sample(ds.X_train, 120, seed=3)
    ours = explain.partial_dependence(model, ds, feature, target=1, X=sample, n_rows=120)
    j = units.names.index(feature)
    raw = units.to_raw(sample)
    estimator = RawClassifier(model, units).fit(raw, ds.y_train[:len(raw)])
    theirs = sk_partial_dependence(estimator, raw, [j], kind="average", method="brute",
                                   response_method="predict_proba",
                                   custom_values={j: ours["value"].to_numpy()})
    np.testing.assert_allclose(theirs["grid_values"][0], ours["value"])
    np.testing.assert_allclose(theirs["average"][0], ours["average"], atol=1e-6)  # P(class 1)
    f = units.feature(feature)
    if f.kind == "category":
        assert list(ours["label"]) == list(f.categories)
    else:
        assert ours["value"].iloc[0] == f.low and ours["value"].iloc[-1] == f.high
        assert np.all(np.mod(ours["value"], 1) == 0)     # whole-number features, whole values


def test_partial_dependence_multiclass_regression_and_the_rows_own_curve(iris):
    ds, model = iris
    units = explain.original_units(ds)
    raw = units.to_raw(ds.X_train)
    pd_ = explain.partial_dependence(model, ds, "petal_length_cm", target=2,
                                     X=ds.X_train, n_rows=len(ds.X_train), row=ds.X_test[4])
    theirs = sk_partial_dependence(RawClassifier(model, units).fit(raw, ds.y_train), raw, [2],
                                   kind="average", method="brute",
                                   custom_values={2: pd_["value"].to_numpy()})
    np.testing.assert_allclose(theirs["average"][2], pd_["average"], atol=1e-6)
    # ICE: the row itself with the feature set to each value, computed directly
    direct = [predict_proba(model, explain.encode_row(ds, {"petal_length_cm": v},
                                                      base=ds.X_test[4])[None])[0, 2]
              for v in pd_["value"]]
    np.testing.assert_allclose(pd_["row"], direct, atol=1e-6)
    assert len(pd_) == 20 and pd_.attrs["kind"] == "numeric"
    # regression: the average prediction in the target's own units
    reg = data.load("diabetes")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(reg.n_features, 8), torch.nn.Tanh(),
                              torch.nn.Linear(8, 1))
    ours = explain.partial_dependence(net, reg, "bmi", X=reg.X_train, n_rows=len(reg.X_train))
    r = explain.original_units(reg).to_raw(reg.X_train)
    theirs = sk_partial_dependence(RawRegressor(net, reg).fit(r, reg.y_train), r, [2],
                                   kind="average", method="brute",
                                   custom_values={2: ours["value"].to_numpy()})
    np.testing.assert_allclose(theirs["average"][0], ours["average"], rtol=1e-5)
    assert ours["average"].between(20, 400).all()       # disease progression units, not z-scores


def test_shap_and_lime_over_original_units_explain_one_value_per_feature(german):
    ds, model = german
    units = explain.original_units(ds)
    raw = units.to_raw(ds.X_test[:2])
    background = units.to_raw(explain.background_sample(ds.X_train, 30))
    exp = explain.shap_values(model, background, raw, nsamples=256, feature_names=units.names,
                              input_map=units.from_raw)
    assert exp.values.shape == (2, len(units.names))
    p1 = predict_proba(model, ds.X_test[:2])[:, 1]
    np.testing.assert_allclose(exp.base_values + exp.values.sum(1), p1, atol=1e-5)
    categories = {j: list(f.categories) for j, f in enumerate(units.features)
                  if f.kind == "category"}
    lime = explain.lime_tabular(model, raw[0], units.to_raw(ds.X_train), num_samples=800,
                                feature_names=units.names, input_map=units.from_raw,
                                categorical_names=categories)
    rules = dict(zip(lime.weights["name"], lime.weights["rule"], strict=True))
    shown = dict(units.display_row(ds.X_test[0]))
    assert rules["sex"] == f"sex = {shown['sex']}" and rules["purpose"] == f"purpose = {shown['purpose']}"
    assert "age" in rules["age"] and ".00" not in rules["age"]   # four digits, not LIME's %.2f
    assert lime.model_prediction == pytest.approx(p1[0], abs=1e-6)
