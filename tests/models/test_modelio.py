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
from nnplay.data.ref import DatasetRef
from nnplay.models import modelio
from nnplay.train.record import ModelRecord

SPEC = {"family": "mlp", "params": {"hidden": [16, 8], "activation": "tanh", "dropout": 0.1}}


def record(ds, spec=SPEC, cfg=None):
    return ModelRecord("m", spec, DatasetRef.of(ds), "notebook", cfg)


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
    blob, config_json = modelio.export_model(net, record(ds, cfg=cfg), ds, weights=fmt)
    loaded = modelio.load_model(blob, config_json)
    assert loaded.spec == SPEC and loaded.dataset.name == "moons"
    assert loaded.record.train_config == cfg
    original, back = net.state_dict(), loaded.model.state_dict()
    assert original.keys() == back.keys()
    for key in original:
        assert torch.equal(original[key].cpu(), back[key]), key
    np.testing.assert_array_equal(train.predict_raw(net, ds.X_test),
                                  train.predict_raw(loaded.model, loaded.dataset.X_test))
    assert json.loads(config_json)["record"]["train_config"] == cfg.to_dict()
    # and through files on disk
    weights_path, config_path = modelio.save_model(tmp_path / "model", net, record(ds, cfg=cfg),
                                                   ds, weights=fmt)
    assert weights_path.suffix == modelio.WEIGHT_FORMATS[fmt] and config_path.suffix == ".json"
    again = modelio.load_model(weights_path, config_path)
    for key in original:
        assert torch.equal(original[key].cpu(), again.model.state_dict()[key])


def test_weights_for_another_architecture_are_refused(trained):
    net, ds, _ = trained
    other = models.build_model({"family": "mlp", "params": {"hidden": [32]}}, ds)
    blob = modelio.weights_bytes(other)
    _, config_json = modelio.export_model(net, record(ds), ds)
    with pytest.raises(ValueError, match="do not match the model their config describes"):
        modelio.load_model(blob, config_json)


@pytest.mark.parametrize("blob", [os.urandom(2048), b"", b"{\"format\": 1}",
                                  pickle.dumps([1, 2, 3])])
def test_files_that_are_not_weights_are_refused(trained, blob):
    net, ds, _ = trained
    _, config_json = modelio.export_model(net, record(ds), ds)
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
    _, config_json = modelio.export_model(net, record(ds), ds)
    with pytest.raises(ValueError, match="not loaded"):
        modelio.load_model(buf.getvalue(), config_json)
    assert not target.exists()


def test_huge_file_is_refused_before_parsing(trained):
    net, ds, _ = trained
    blob, config_json = modelio.export_model(net, record(ds), ds)
    with pytest.raises(ValueError, match="larger than"):
        modelio.load_model(blob, config_json, max_bytes=len(blob) - 1)


@pytest.mark.parametrize("config, message", [
    ("not json at all", "not JSON"),
    (json.dumps({"family": "mlp"}), "not an nnplay model config"),
    (json.dumps({"format": "nnplay-model", "family": "mlp"}), "lacks its"),
    (json.dumps({"format": "nnplay-model", "version": 2}), "lacks its"),
    (json.dumps({"format": "nnplay-model", "version": 2, "record": {"spec": {"family": "mlp"},
                 "dataset": {"name": "moons"}, "lesson": "nowhere"}}), "Unknown lesson"),
])
def test_bad_configs_are_refused(trained, config, message):
    net, _, _ = trained
    with pytest.raises(ValueError, match=message):
        modelio.load_model(modelio.weights_bytes(net), config)


def test_config_for_other_data_is_refused(trained):
    net, ds, _ = trained
    blob, config_json = modelio.export_model(net, record(ds), ds)
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
    loaded = modelio.load_model(*modelio.export_model(
        net, record(ds, {"family": "mlp", "params": {"hidden": [64, 64]}}), ds))
    assert train.evaluate(loaded.model, ds)["loss"] == pytest.approx(best, rel=1e-5)


def test_a_version_1_config_from_nnplay_0_1_still_loads(trained):
    net, ds, cfg = trained
    old = {"format": "nnplay-model", "version": 1, "weights": "safetensors", **SPEC,
           "dataset": {"name": "moons", "params": dict(ds.params), "task": ds.task,
                       "input_shape": [2], "n_outputs": 2},
           "train_config": cfg.to_dict()}
    loaded = modelio.load_model(modelio.weights_bytes(net), json.dumps(old))
    assert loaded.record.lesson == "upload" and loaded.record.train_config == cfg
    np.testing.assert_array_equal(train.predict_raw(net, ds.X_test),
                                  train.predict_raw(loaded.model, ds.X_test))


def test_one_zip_bundle_round_trips_and_odd_zips_are_refused(trained, tmp_path):
    import zipfile

    net, ds, cfg = trained
    bundle = modelio.export_bundle(net, record(ds, cfg=cfg), ds)
    loaded = modelio.load_bundle(bundle)
    np.testing.assert_array_equal(train.predict_raw(net, ds.X_test),
                                  train.predict_raw(loaded.model, loaded.dataset.X_test))
    with pytest.raises(ValueError, match="not a zip"):
        modelio.load_bundle(b"PK not really")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("evil.py", "print('hi')")
    with pytest.raises(ValueError, match="does not hold"):
        modelio.load_bundle(buf.getvalue())


CSV = "age,income,city,bought\n" + "\n".join(
    f"{20 + i % 40},{1000 + 37 * i},{'abc'[i % 3]},{int(i % 40 > 20)}" for i in range(120))


def test_a_model_on_an_uploaded_csv_needs_that_same_file(tmp_path):
    ds = data.from_csv(CSV.encode(), target="bought", name="shop.csv")
    train.seed_everything(0)
    net = models.build_model({"family": "mlp", "params": {"hidden": [8]}}, ds)
    train.Trainer(net, ds, train.TrainConfig(epochs=3, seed=0)).fit()
    rec = ModelRecord("m", {"family": "mlp", "params": {"hidden": [8]}}, DatasetRef.of(ds),
                      "evaluate")
    assert rec.dataset.source == "upload" and rec.dataset.preprocessing["feature_names"] == \
        ds.feature_names
    blob, text = modelio.export_model(net, rec, ds)
    with pytest.raises(ValueError, match="upload that CSV"):
        modelio.load_model(blob, text)
    with pytest.raises(ValueError, match="not the file"):
        modelio.load_model(blob, text, csv=CSV.replace("\n20,", "\n21,", 1).encode())
    loaded = modelio.load_model(blob, text, csv=CSV.encode())
    np.testing.assert_array_equal(train.predict_raw(net, ds.X_test),
                                  train.predict_raw(loaded.model, loaded.dataset.X_test))
