"""Derived datasets write down their steps, and replaying the steps gives the same arrays."""

import numpy as np
import pytest

from nnplay import data
from nnplay.data import derive
from nnplay.data.ref import DatasetRef


def test_steps_replay_to_the_same_arrays():
    digits = data.load("digits")
    made = derive.shuffle_pixels(derive.subsample_train(digits, 60, seed=4), seed=9)
    assert [s["op"] for s in made.extra["steps"]] == ["subsample_train", "shuffle_pixels"]
    assert "steps" not in digits.extra   # the source dataset is untouched
    ref = DatasetRef.of(made)
    again = DatasetRef.from_dict(ref.to_dict()).load()
    for split in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(again, split), getattr(made, split))
    assert ref.label == "digits (60 training rows; pixels shuffled)"


def test_subsample_keeps_classes_and_refuses_too_few_rows():
    digits = data.load("digits")
    small = derive.subsample_train(digits, 50, seed=0)
    assert small.n_train == 50 and small.n_test == digits.n_test
    assert set(small.y_train) == set(range(10))
    assert derive.subsample_train(digits, None) is digits
    with pytest.raises(ValueError, match="at least 10"):
        derive.subsample_train(digits, 5)


def test_features_from_2d_points_and_bad_choices():
    moons = data.load("moons", n=50)
    ds = derive.with_features(moons, ["x1x2", "sin_x1"])
    a, b = moons.X_train[:, 0].astype(np.float64), moons.X_train[:, 1].astype(np.float64)
    np.testing.assert_allclose(ds.X_train, np.column_stack([a * b, np.sin(a)]), rtol=1e-6)
    assert ds.feature_names == ["X₁·X₂", "sin X₁"]
    with pytest.raises(ValueError, match="Choose features"):
        derive.with_features(moons, ["x3"])
    with pytest.raises(ValueError, match="2-D points"):
        derive.with_features(data.load("iris"), ["x1"])
    with pytest.raises(ValueError, match="Unknown dataset step"):
        derive.apply_steps(moons, [{"op": "rm -rf"}])


def test_a_dataset_made_in_memory_is_recorded_but_not_rebuilt():
    moons = data.load("moons", n=50)
    bare = data.Dataset("mine", moons.X_train, moons.y_train, moons.X_test, moons.y_test,
                        "classification", ["a", "b"], ["0", "1"])
    ref = DatasetRef.of(bare)
    assert ref.source == "custom" and ref.label == "mine (in memory)"
    with pytest.raises(ValueError, match="pass that dataset"):
        ref.load()
