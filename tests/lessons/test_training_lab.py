"""The overfitting preset really overfits, and its techniques change what they say they change."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from nnplay import data
from nnplay.lessons import training_lab as labpresets

SEEDS = range(5)


@pytest.fixture(scope="module")
def digits():
    return data.load("digits")


@pytest.fixture(scope="module")
def preset_data():
    base = labpresets.OVERFITTING
    return data.load(base.dataset, **base.dataset_params)


def gap_after_training(setup, dataset) -> dict:
    trainer = labpresets.lab_trainer(setup, dataset).fit()
    return labpresets.generalisation_gap(trainer.model, trainer.dataset)


def test_techniques_change_the_setup():
    base = labpresets.overfitting_setup()
    assert base.config == labpresets.OVERFITTING.config and base.label.endswith("no technique")
    every = labpresets.overfitting_setup(labpresets.TECHNIQUES)
    assert every.config.l2 == labpresets.L2_STRENGTH and base.config.l2 == 0
    assert every.model_spec["params"]["dropout"] == labpresets.DROPOUT_RATE
    assert every.config.early_stopping == labpresets.PATIENCE and every.config.restore_best
    assert every.train_rows is None and base.train_rows == labpresets.OVERFITTING.train_rows
    assert base.config.val_fraction > 0  # early stopping watches held-out rows, not the test split
    assert labpresets.overfitting_setup(["l2", "dropout"]).label.endswith("L2 weight decay + Dropout")
    assert base.model_spec["params"]["dropout"] == 0.0  # the preset itself was not changed
    with pytest.raises(ValueError, match="Unknown technique 'magic'"):
        labpresets.overfitting_setup(["magic"])


def test_preset_overfits_and_l2_and_early_stopping_shrink_the_gap(preset_data):
    bare = gap_after_training(labpresets.overfitting_setup(), preset_data)
    assert bare["accuracy_gap"] > 0.1
    assert bare["loss_gap"] > 0.5  # the test loss is far above the training loss
    l2 = gap_after_training(labpresets.overfitting_setup(["l2"]), preset_data)
    early = gap_after_training(labpresets.overfitting_setup(["early_stopping"]), preset_data)
    assert l2["loss_gap"] < 0.25 * bare["loss_gap"]
    assert early["loss_gap"] < 0.25 * bare["loss_gap"]


@pytest.mark.slow
def test_each_technique_narrows_the_gap_without_costing_test_accuracy(preset_data):
    """What the page says, on seeds 0-4: every technique on its own narrows the accuracy gap on
    every seed, never costs more than half a point of test accuracy, and raises the mean."""
    def measured(names) -> tuple[np.ndarray, np.ndarray]:
        setup = labpresets.overfitting_setup(names)
        gaps = [gap_after_training(replace(setup, config=setup.config.replace(seed=seed)),
                                   preset_data) for seed in SEEDS]
        return (np.array([g["test_accuracy"] for g in gaps]),
                np.array([g["accuracy_gap"] for g in gaps]))

    bare_acc, bare_gap = measured([])
    assert (bare_gap > 0.1).all(), f"the bare preset hardly overfits: gaps {bare_gap.round(3)}"
    for name in labpresets.TECHNIQUES:
        acc, gap = measured([name])
        shown = f"{name}: test accuracy {acc.round(3)} vs bare {bare_acc.round(3)}, " \
                f"gap {gap.round(3)} vs bare {bare_gap.round(3)}"
        assert (gap < bare_gap).all(), shown
        assert (acc >= bare_acc - 0.005).all(), shown
        assert acc.mean() > bare_acc.mean(), shown


def test_a_dataset_loaded_with_other_parameters_is_refused():
    noiseless = data.load(labpresets.OVERFITTING.dataset)
    with pytest.raises(ValueError, match=r"loaded with .*noise=0\.0.*needs .*noise=0\.45"):
        labpresets.lab_trainer(labpresets.overfitting_setup(), noiseless)


def test_subsample_is_stratified_and_keeps_the_test_split(digits):
    small = labpresets.subsample_train(digits, 50, seed=0)
    assert small.n_train == 50 and small.extra["train_rows"] == 50
    assert set(small.y_train.tolist()) == set(range(10))
    assert (small.X_test == digits.X_test).all()
    assert labpresets.subsample_train(digits, None) is digits
    with pytest.raises(ValueError, match="at least 10 training rows"):
        labpresets.subsample_train(digits, 5)


@pytest.mark.parametrize("text, expected", [("64,32", [64, 32]), (" 8 ", [8]), ("", []),
                                             ("0", [])])
def test_parse_hidden(text, expected):
    assert labpresets.parse_hidden(text) == expected


@pytest.mark.parametrize("text", ["a,b", "-3", "100000", "1,2,3,4,5,6,7,8,9,10,11"])
def test_parse_hidden_refuses(text):
    with pytest.raises(ValueError, match="hidden layers|Hidden layers"):
        labpresets.parse_hidden(text)


def test_families_for_images_and_tables(digits):
    assert labpresets.families_for(data.load("iris"))[0] == "mlp"
    assert "mlp" in labpresets.families_for(digits)
