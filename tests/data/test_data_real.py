"""Bundled real datasets: shapes, names, train-only scaling, stratification, sensitive columns."""

import numpy as np
import pytest

from nnplay import data

TABULAR = ["iris", "wine", "breast_cancer", "diabetes", "german_credit", "titanic"]


@pytest.mark.parametrize("name", TABULAR)
def test_scaler_is_fit_on_the_train_split_only(name):
    ds = data.load(name)
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(ds.X_train.std(axis=0), 1, atol=1e-3)
    # test rows were scaled with the train statistics, so their means are not exactly 0
    assert np.abs(ds.X_test.mean(axis=0)).max() > 0.01
    assert ds.extra["scaler_mean"].shape == ds.extra["scaler_std"].shape == (ds.n_features,)
    assert len(ds.feature_names) == ds.n_features


@pytest.mark.parametrize("name", TABULAR + ["digits"])
def test_seeded_splits(name):
    a, b, c = data.load(name, seed=4), data.load(name, seed=4), data.load(name, seed=5)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)
    assert data.load(name, test_size=0.5).n_test == int(np.ceil(0.5 * (a.n_train + a.n_test)))


def test_classification_splits_are_stratified():
    ds = data.load("german_credit", test_size=0.2)
    assert ds.y_train.mean() == pytest.approx(0.7, abs=0.005)
    assert ds.y_test.mean() == pytest.approx(0.7, abs=0.01)
    iris = data.load("iris", test_size=0.2)
    assert np.bincount(iris.y_test).tolist() == [10, 10, 10]


def test_meaningful_names():
    assert data.load("iris").class_names == ["setosa", "versicolor", "virginica"]
    assert data.load("iris").feature_names[0] == "sepal_length_cm"
    assert data.load("breast_cancer").class_names == ["malignant", "benign"]
    assert data.load("digits").class_names == [str(d) for d in range(10)]
    assert data.load("german_credit").class_names == ["bad", "good"]
    assert data.load("titanic").class_names == ["died", "survived"]
    assert "bmi" in data.load("diabetes").feature_names
    assert "purpose=car" in data.load("german_credit").feature_names


def test_images_keep_their_channel_dims():
    digits = data.load("digits")
    assert digits.input_shape == (1, 8, 8) and digits.n_features == 64
    assert digits.X_train.min() == 0.0 and digits.X_train.max() == 1.0
    mnist = data.load("mnist5k")
    assert mnist.input_shape == (1, 28, 28) and mnist.n_train + mnist.n_test == 5000
    assert mnist.X_train.dtype == np.float32 and 0.0 <= mnist.X_train.min()
    assert mnist.X_train.max() == 1.0
    assert np.bincount(mnist.y_test).tolist() == [125] * 10


def test_cached_raw_data_is_not_changed_by_callers():
    ds = data.load("iris")
    ds.X_train[:] = 99.0
    assert data.load("iris").X_train.max() < 10


def test_diabetes_target_standardised_and_invertible():
    ds = data.load("diabetes")
    assert ds.y_train.mean() == pytest.approx(0, abs=1e-5)
    original = np.concatenate([ds.y_train, ds.y_test]) * ds.extra["y_std"] + ds.extra["y_mean"]
    assert original.min() == pytest.approx(25, abs=0.01)    # the data set's range is 25..346
    assert original.max() == pytest.approx(346, abs=0.01)


@pytest.mark.parametrize("name, age_cut", [("german_credit", "<=25"), ("titanic", "<18")])
def test_sensitive_columns_align_with_rows(name, age_cut):
    ds = data.load(name, seed=3)
    for split, X in (("train", ds.X_train), ("test", ds.X_test)):
        sens = ds.extra[f"sensitive_{split}"]
        assert list(sens.columns) == ds.extra["sensitive_columns"] == ["sex", "age", "age_group"]
        assert len(sens) == len(X) and sens.index.tolist() == list(range(len(X)))
        col = ds.feature_names.index("age")
        raw_age = X[:, col] * ds.extra["scaler_std"][col] + ds.extra["scaler_mean"][col]
        np.testing.assert_allclose(raw_age, sens["age"].to_numpy(), atol=1e-3)
        male = [c for c in ds.feature_names if c.endswith("=male")][0]
        col = ds.feature_names.index(male)
        is_male = X[:, col] > 0
        assert (is_male == (sens["sex"] == "male").to_numpy()).all()
        assert ((sens["age_group"] == age_cut) == (sens["age"] < (26 if name == "german_credit"
                                                                   else 18))).all()
