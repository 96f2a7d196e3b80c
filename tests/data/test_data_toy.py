"""Toy 2-D sets: TF Playground geometry, seeds, noise, balance and splits."""

import numpy as np
import pytest

from nnplay import data

TOY = ["circle", "xor", "gauss", "spiral", "moons", "blobs", "plane", "gauss_regression"]


def all_points(ds):
    return (np.concatenate([ds.X_train, ds.X_test]), np.concatenate([ds.y_train, ds.y_test]))


@pytest.mark.parametrize("name", TOY)
def test_shapes_split_and_names(name):
    ds = data.load(name, n=100, test_size=0.3)
    assert ds.X_train.shape == (70, 2) and ds.X_test.shape == (30, 2)
    assert ds.feature_names == ["x1", "x2"]
    assert ds.extra["xlim"][0] < ds.X_train[:, 0].min() and ds.X_train[:, 0].max() < ds.extra["xlim"][1]


@pytest.mark.parametrize("name", TOY)
def test_same_seed_same_data_other_seed_other_data(name):
    a, b = data.load(name, n=80, noise=0.2, seed=1), data.load(name, n=80, noise=0.2, seed=1)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    c = data.load(name, n=80, noise=0.2, seed=2)
    assert not np.array_equal(a.X_train, c.X_train)


@pytest.mark.parametrize("name", TOY)
def test_noise_changes_the_data(name):
    clean, noisy = data.load(name, n=200, noise=0.0), data.load(name, n=200, noise=0.4)
    X0, y0 = all_points(clean)
    X1, y1 = all_points(noisy)
    assert not (np.allclose(X0, X1) and np.allclose(y0, y1))


@pytest.mark.parametrize("name, k", [("circle", 2), ("gauss", 2), ("spiral", 2), ("moons", 2),
                                     ("blobs", 3)])
def test_classes_balanced_exactly_without_noise(name, k):
    ds = data.load(name, n=300)
    _, y = all_points(ds)
    assert np.bincount(y).tolist() == [300 // k] * k
    # stratified split: each class is half train, half test
    assert np.bincount(ds.y_train).tolist() == [150 // k] * k


def test_xor_roughly_balanced_and_labelled_by_sign():
    X, y = all_points(data.load("xor", n=1000))
    assert 0.45 < y.mean() < 0.55
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] >= 0).astype(int))
    assert np.abs(X).min() >= 0.3 and np.abs(X).max() <= 5.3   # TF's 0.3 padding, -5..5 range


def test_circle_geometry_is_tf_playground():
    X, y = all_points(data.load("circle", n=400))
    r = np.hypot(X[:, 0], X[:, 1])
    assert r[y == 1].max() < 2.5 and 3.5 <= r[y == 0].min() and r[y == 0].max() <= 5
    # label noise: the point is drawn cleanly, its label judged at a shifted point
    Xn, yn = all_points(data.load("circle", n=400, noise=0.5))
    rn = np.hypot(Xn[:, 0], Xn[:, 1])
    assert (yn[rn < 2.5] == 0).any() and (yn[rn > 3.5] == 1).any()


def test_gauss_variance_follows_noise_like_tf():
    X0, y0 = all_points(data.load("gauss", n=4000, noise=0.0))
    X5, y5 = all_points(data.load("gauss", n=4000, noise=0.5))
    np.testing.assert_allclose(X0[y0 == 1].mean(axis=0), [2, 2], atol=0.1)
    np.testing.assert_allclose(X0[y0 == 0].var(axis=0), [0.5, 0.5], rtol=0.15)
    np.testing.assert_allclose(X5[y5 == 1].var(axis=0), [4, 4], rtol=0.15)


def test_spiral_has_two_arms_of_radius_five():
    X, y = all_points(data.load("spiral", n=500))
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.max() < 5 and r.max() > 4.9
    # arm 0 is arm 1 rotated by pi: the point-wise mirror image
    np.testing.assert_allclose(np.sort(r[y == 0]), np.sort(r[y == 1]), atol=1e-5)
    arm1 = X[y == 1][np.argsort(r[y == 1])]
    turns = np.abs(np.diff(np.unwrap(np.arctan2(arm1[:, 0], arm1[:, 1])))).sum() / (2 * np.pi)
    assert turns == pytest.approx(1.75, abs=0.02)


def test_plane_target_is_tf_formula_and_noise_is_label_noise():
    X, y = all_points(data.load("plane", n=200))
    np.testing.assert_allclose(y, (X[:, 0] + X[:, 1]) / 10, atol=1e-6)
    Xn, yn = all_points(data.load("plane", n=200, noise=0.3))
    assert np.abs(Xn).max() <= 6 and np.abs(yn - (Xn[:, 0] + Xn[:, 1]) / 10).max() > 0.1


def test_gauss_regression_bumps():
    ds = data.load("gauss_regression", n=2000)
    X, y = all_points(ds)
    assert y.min() >= -1 and y.max() <= 1 and (y == 0).mean() > 0.2
    near_positive_bump = np.hypot(X[:, 0] + 4, X[:, 1] - 2.5) < 0.5
    assert (y[near_positive_bump] > 0.7).all()
    assert ds.extra["y_mean"] == 0.0 and ds.extra["y_std"] == 1.0


def test_blobs_class_count_and_moons_range():
    ds = data.load("blobs", n=100, n_classes=5)
    assert ds.n_classes == 5 and ds.class_names[-1] == "blob E"
    moons = data.load("moons", noise=0.2)
    assert moons.extra["xlim"][0] < -1 and moons.class_names == ["upper moon", "lower moon"]


def test_odd_n_gives_exactly_n_points():
    ds = data.load("spiral", n=101)
    assert ds.n_train + ds.n_test == 101
