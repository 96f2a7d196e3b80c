"""Saving and loading models: bit-for-bit round trips, and clear refusals of bad or hostile files."""

from __future__ import annotations

import io
import json
import os
import pickle

import numpy as np
import pytest
import torch

from nnplay import data, models, train
from nnplay.models import modelio

SPEC = {"family": "mlp", "params": {"hidden": [16, 8], "activation": "tanh", "dropout": 0.1}}


@pytest.fixture(scope="module")
def trained():
    ds = data.load("moons", n=200, noise=0.1, seed=0)
    train.seed_everything(0)
    net = models.build_model(SPEC, ds)
    cfg = train.TrainConfig(epochs=5, batch_size=32, seed=0)
    train.Trainer(net, ds, cfg).fit()
    return net, ds, cfg


@pytest.mark.parametrize("fmt", ["safetensors", "state_dict"])
def test_round_trip_is_bit_for_bit(trained, fmt, tmp_path):
    net, ds, cfg = trained
    blob, config_json = modelio.export_model(net, SPEC, ds, cfg.to_dict(), weights=fmt)
    loaded = modelio.load_model(blob, config_json)
    assert loaded.spec == SPEC and loaded.dataset.name == "moons"
    original, back = net.state_dict(), loaded.model.state_dict()
    assert original.keys() == back.keys()
    for key in original:
        assert torch.equal(original[key].cpu(), back[key]), key
    np.testing.assert_array_equal(train.predict_raw(net, ds.X_test),
                                  train.predict_raw(loaded.model, loaded.dataset.X_test))
    assert json.loads(config_json)["train_config"] == cfg.to_dict()
    # and through files on disk
    weights_path, config_path = modelio.save_model(tmp_path / "model", net, SPEC, ds,
                                                   cfg.to_dict(), weights=fmt)
    assert weights_path.suffix == modelio.WEIGHT_FORMATS[fmt] and config_path.suffix == ".json"
    again = modelio.load_model(weights_path, config_path)
    for key in original:
        assert torch.equal(original[key].cpu(), again.model.state_dict()[key])


def test_weights_for_another_architecture_are_refused(trained):
    net, ds, _ = trained
    other = models.build_model({"family": "mlp", "params": {"hidden": [32]}}, ds)
    blob = modelio.weights_bytes(other)
    _, config_json = modelio.export_model(net, SPEC, ds)
    with pytest.raises(ValueError, match="do not match the model their config describes"):
        modelio.load_model(blob, config_json)


@pytest.mark.parametrize("blob", [os.urandom(2048), b"", b"{\"format\": 1}",
                                  pickle.dumps([1, 2, 3])])
def test_files_that_are_not_weights_are_refused(trained, blob):
    net, ds, _ = trained
    _, config_json = modelio.export_model(net, SPEC, ds)
    with pytest.raises(ValueError, match="weights file"):
        modelio.load_model(blob, config_json)


class _Exploit:
    """Unpickling this would create a file: proof that code from the file ran."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_a_pickle_with_code_is_refused_without_running_it(trained, tmp_path):
    net, ds, _ = trained
    target = tmp_path / "pwned.txt"
    buf = io.BytesIO()
    torch.save({"layers.1.weight": _Exploit(str(target))}, buf)
    _, config_json = modelio.export_model(net, SPEC, ds)
    with pytest.raises(ValueError, match="not loaded"):
        modelio.load_model(buf.getvalue(), config_json)
    assert not target.exists()


def test_huge_file_is_refused_before_parsing(trained):
    net, ds, _ = trained
    blob, config_json = modelio.export_model(net, SPEC, ds)
    with pytest.raises(ValueError, match="larger than"):
        modelio.load_model(blob, config_json, max_bytes=len(blob) - 1)


@pytest.mark.parametrize("config, message", [
    ("not json at all", "not JSON"),
    (json.dumps({"family": "mlp"}), "not an nnplay model config"),
    (json.dumps({"format": "nnplay-model", "family": "mlp"}), "lacks its"),
])
def test_bad_configs_are_refused(trained, config, message):
    net, _, _ = trained
    with pytest.raises(ValueError, match=message):
        modelio.load_model(modelio.weights_bytes(net), config)


def test_config_for_other_data_is_refused(trained):
    net, ds, _ = trained
    blob, config_json = modelio.export_model(net, SPEC, ds)
    iris = data.load("iris")
    with pytest.raises(ValueError, match="expects inputs of shape"):
        modelio.load_model(blob, config_json, dataset=iris)


def test_restored_best_weights_are_what_gets_saved():
    """Early stopping puts back the best epoch's weights, and those are what a download holds."""
    ds = data.load("moons", n=120, noise=0.3, seed=1)
    train.seed_everything(0)
    net = models.mlp(2, [64, 64], 2)
    cfg = train.TrainConfig(lr=0.05, epochs=200, batch_size=8, early_stopping=5, seed=0)
    trainer = train.Trainer(net, ds, cfg).fit()
    assert trainer.status == "early_stopped"
    best = min(row["val_loss"] for row in trainer.history)
    assert train.evaluate(net, ds)["loss"] == pytest.approx(best, rel=1e-5)
    loaded = modelio.load_model(*modelio.export_model(net, {"family": "mlp", "params":
                                                             {"hidden": [64, 64]}}, ds))
    assert train.evaluate(loaded.model, ds)["loss"] == pytest.approx(best, rel=1e-5)
