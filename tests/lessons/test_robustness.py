"""The robustness lesson's shipped checkpoint and its network choices."""

import pytest

from nnplay import data
from nnplay.lessons import robustness
from nnplay.train import evaluate


def test_the_shipped_checkpoint_is_the_model_its_record_describes():
    ds = data.load("mnist5k")
    loaded = robustness.load_checkpoint(ds)
    assert loaded is not None, "run assets/make_checkpoints.py"
    record = loaded.record
    assert record.lesson == "robustness" and record.spec == robustness.image_spec(ds, "cnn")
    assert record.train_config.epochs == 3 and len(record.history) == 3
    accuracy = evaluate(loaded.model, ds)["accuracy"]
    assert accuracy == pytest.approx(record.metrics["accuracy"], abs=1e-6) and accuracy > 0.85


def test_specs_refuse_the_wrong_kind_of_data():
    with pytest.raises(ValueError, match="Tables part"):
        robustness.image_spec(data.load("iris"))
    with pytest.raises(ValueError, match="Images part"):
        robustness.table_spec(data.load("digits"))
    assert robustness.image_spec(data.load("digits"), "mlp").family == "mlp"
