"""Headless tests of pages/runs.py: the table, overlaid curves, delete, model upload, faults."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nnplay import data, models, train
from nnplay.models import modelio
from nnplay.train.runs import RunStore, make_record

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "runs.py")
SPEC = {"family": "mlp", "params": {"hidden": [8]}}


@pytest.fixture(scope="module")
def moons():
    return data.load("moons", n=120, noise=0.2, seed=0)


def trained(moons, lr: float, epochs: int = 4):
    train.seed_everything(0)
    net = models.build_model(SPEC, moons)
    return train.Trainer(net, moons, train.TrainConfig(lr=lr, epochs=epochs, seed=0)).fit()


@pytest.fixture
def stored(moons) -> list[int]:
    store = RunStore()
    return [store.save(make_record(trained(moons, lr), SPEC, source="test", name=f"lr {lr}"))
            for lr in (0.001, 0.01, 0.1)]


def plotly_traces(at: AppTest) -> list[dict]:
    (chart,) = at.get("plotly_chart")
    return json.loads(chart.proto.spec)["data"]


def test_table_sorts_and_curves_overlay(stored):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    store = RunStore()
    table = at.dataframe[0].value
    assert list(table["id"]) == list(store.list(order_by="test_accuracy")["id"])
    at.selectbox(key="runs_sort").set_value("test_loss").run()
    at.toggle(key="runs_desc").set_value(False).run()
    table = at.dataframe[0].value
    assert list(table["test_loss"]) == sorted(table["test_loss"])
    traces = plotly_traces(at)
    assert len(traces) == 3 and {t["name"].split(" ", 1)[1] for t in traces} == {
        "lr 0.001", "lr 0.01", "lr 0.1"}
    at.selectbox(key="runs_curve").set_value("loss").run()
    best = store.get(int(table["id"].iloc[0]))
    (trace,) = [t for t in plotly_traces(at) if t["name"].startswith(f"#{best['id']} ")]
    assert trace["y"] == pytest.approx([row["loss"] for row in best["history"]])


def test_delete_removes_the_run(stored):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.selectbox(key="runs_one").set_value(stored[1]).run()
    assert [b.label for b in at.get("download_button")][0] == "Download run as JSON"
    at.button(key="runs_delete").click().run()
    assert not at.exception
    assert RunStore().ids() == [stored[0], stored[2]]
    assert set(at.dataframe[0].value["id"]) == {stored[0], stored[2]}


def test_empty_store_says_so():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert any("No runs stored yet" in i.value for i in at.info)


def test_corrupt_database_is_named_and_the_page_keeps_working(tmp_path, monkeypatch):
    bad = tmp_path / "runs.sqlite"
    content = os.urandom(3000)
    bad.write_bytes(content)
    monkeypatch.setenv("NNPLAY_DB", str(bad))
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert any(str(bad) in e.value for e in at.error)
    assert at.file_uploader(key="runs_up_config") is not None  # models still work
    assert bad.read_bytes() == content


def upload(at: AppTest, config: bytes, weights: bytes, name: str = "model.safetensors"):
    at.file_uploader(key="runs_up_config").set_value(("model.json", config, "application/json"))
    at.file_uploader(key="runs_up_weights").set_value((name, weights,
                                                       "application/octet-stream"))
    return at.run()


def test_uploaded_model_is_evaluated_and_registered_once(moons):
    trainer = trained(moons, 0.05, epochs=10)
    blob, config_json = modelio.export_model(trainer.model, SPEC, moons)
    at = upload(AppTest.from_file(PAGE, default_timeout=60).run(), config_json.encode(), blob)
    assert not at.exception and at.success
    expected = train.evaluate(trainer.model, moons)
    shown = {m.label: float(m.value) for m in at.metric}
    assert shown["Test accuracy"] == pytest.approx(expected["accuracy"], abs=1e-4)
    assert shown["Test loss"] == pytest.approx(expected["loss"], abs=1e-4)
    at.run()
    assert len(at.session_state["nnplay_workspace"]) == 1  # not registered again on rerun
    (entry,) = at.session_state["nnplay_workspace"].list()
    assert entry.source == "upload" and entry.config["model_spec"] == SPEC


class _Exploit:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_hostile_uploads_get_a_clear_error(moons, tmp_path):
    import io

    import torch

    trainer = trained(moons, 0.05)
    _, config_json = modelio.export_model(trainer.model, SPEC, moons)
    target = tmp_path / "pwned.txt"
    buf = io.BytesIO()
    torch.save({"layers.1.weight": _Exploit(str(target))}, buf)
    other = modelio.weights_bytes(models.build_model({"family": "mlp", "params":
                                                      {"hidden": [3, 3]}}, moons))
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    for weights, name, needle in [(os.urandom(4000), "w.pt", "neither safetensors"),
                                  (buf.getvalue(), "w.pt", "was not loaded"),
                                  (other, "w.safetensors", "do not match"),
                                  (b"", "w.pt", "neither safetensors")]:
        upload(at, config_json.encode(), weights, name)
        assert not at.exception
        assert any(needle in e.value for e in at.error), needle
    upload(at, b"{not json", modelio.weights_bytes(trainer.model))
    assert any("not JSON" in e.value for e in at.error)
    assert not target.exists()
    assert len(at.session_state["nnplay_workspace"]) == 0  # nothing bad joined the session
