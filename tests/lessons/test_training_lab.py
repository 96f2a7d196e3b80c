"""The overfitting preset really overfits, and its techniques change what they say they change."""

from __future__ import annotations

import pytest

from nnplay import data
from nnplay.lessons import training_lab as labpresets


@pytest.fixture(scope="module")
def digits():
    return data.load("digits")


def gap_after_training(setup, digits) -> dict:
    trainer = labpresets.lab_trainer(setup, digits).fit()
    return labpresets.generalisation_gap(trainer.model, trainer.dataset)


def test_techniques_change_the_setup():
    base = labpresets.overfitting_setup()
    assert base.config == labpresets.OVERFITTING.config and base.label.endswith("no technique")
    every = labpresets.overfitting_setup(labpresets.TECHNIQUES)
    assert every.config.l2 == labpresets.L2_STRENGTH and base.config.l2 == 0
    assert every.model_spec["params"]["dropout"] == labpresets.DROPOUT_RATE
    assert every.config.early_stopping == labpresets.PATIENCE and every.config.restore_best
    assert every.train_rows is None and base.train_rows == 100
    assert labpresets.overfitting_setup(["l2", "dropout"]).label.endswith("L2 weight decay + Dropout")
    assert base.model_spec["params"]["dropout"] == 0.0  # the preset itself was not changed
    with pytest.raises(ValueError, match="Unknown technique 'magic'"):
        labpresets.overfitting_setup(["magic"])


def test_preset_overfits_and_l2_and_early_stopping_shrink_the_gap(digits):
    bare = gap_after_training(labpresets.overfitting_setup(), digits)
    assert bare["train_accuracy"] == 1.0 and bare["accuracy_gap"] > 0.08
    assert bare["loss_gap"] > 0.5  # the validation loss is far above a near-zero train loss
    l2 = gap_after_training(labpresets.overfitting_setup(["l2"]), digits)
    early = gap_after_training(labpresets.overfitting_setup(["early_stopping"]), digits)
    assert l2["loss_gap"] < 0.75 * bare["loss_gap"]
    assert early["loss_gap"] < 0.75 * bare["loss_gap"]


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
