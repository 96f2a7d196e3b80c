"""Headless tests of pages/runs.py: filters, the table, overlays of comparable runs only, delete
(read-only for others' runs on a shared server), model upload, faults."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nnplay import data, models, train
from nnplay.data.ref import DatasetRef
from nnplay.models import ModelSpec, modelio
from nnplay.train.record import ModelRecord
from nnplay.train.runs import RunStore, local_owner, make_record

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
    return [store.save(make_record(trained(moons, lr), SPEC, lesson="notebook", name=f"lr {lr}"))
            for lr in (0.001, 0.01, 0.1)]


def plotly_traces(at: AppTest) -> list[dict]:
    (chart,) = at.get("plotly_chart")
    return json.loads(chart.proto.spec)["data"]


def fake(name: str, dataset: str = "moons", lesson: str = "training_lab", owner: str = "ada",
         task: str = "classification") -> dict:
    return {"lesson": lesson, "owner": owner, "name": name, "status": "completed",
            "dataset": {"name": dataset, "task": task},
            "history": [{"epoch": 1, "loss": 1.0, "val_loss": 1.2},
                        {"epoch": 2, "loss": 0.5, "val_loss": 0.9}],
            "metrics": {"test_accuracy": 0.5}}


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
    other = RunStore().save(fake("made by bob", owner="bob"))
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert RunStore().get(stored[1])["owner"] == local_owner()
    assert set(at.dataframe[0].value["owner"]) == {"you"}  # single user: every run is yours
    at.selectbox(key="runs_one").set_value(stored[1]).run()
    buttons = {b.label: b for b in at.get("download_button")}
    assert list(buttons)[:2] == ["Download run as JSON", "Download for TensorBoard (zip)"]
    assert not buttons["Download for TensorBoard (zip)"].proto.disabled
    at.button(key="runs_delete").click().run()
    assert not at.exception
    assert RunStore().ids() == [stored[0], stored[2], other]
    assert set(at.dataframe[0].value["id"]) == {stored[0], stored[2], other}
    at.selectbox(key="runs_one").set_value(other).run()
    at.button(key="runs_delete").click().run()
    assert RunStore().ids() == [stored[0], stored[2]]


def test_filters_by_lesson_and_dataset():
    store = RunStore()
    lab_moons = store.save(fake("lab moons"))
    cnn_digits = store.save(fake("cnn digits", dataset="mnist5k", lesson="cnn"))
    cli_moons = store.save(fake("cli moons", lesson="cli"))
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert at.multiselect(key="runs_lessons").value == ["cli", "cnn", "training_lab"]
    assert at.multiselect(key="runs_datasets").value == ["mnist5k", "moons"]
    assert set(at.dataframe[0].value["id"]) == {lab_moons, cnn_digits, cli_moons}
    assert set(at.dataframe[0].value["lesson"]) == {"Command line", "CNNs", "Training lab"}
    at.multiselect(key="runs_lessons").set_value(["training_lab", "cli"]).run()
    assert set(at.dataframe[0].value["id"]) == {lab_moons, cli_moons}
    at.multiselect(key="runs_datasets").set_value(["mnist5k"]).run()
    assert not at.dataframe and any("No runs match" in i.value for i in at.info)
    at.multiselect(key="runs_lessons").set_value(["cnn"]).run()
    assert list(at.dataframe[0].value["id"]) == [cnn_digits]
    # a dataset that appears later joins the chosen ones, as the default "all" promises
    iris = store.save(fake("lab iris", dataset="iris"))
    at.multiselect(key="runs_lessons").set_value(["training_lab"]).run()
    assert "iris" in at.multiselect(key="runs_datasets").value
    assert list(at.dataframe[0].value["id"]) == [iris]


def test_default_overlay_holds_only_comparable_runs():
    store = RunStore()
    moons = [store.save(fake(f"moons {i}")) for i in range(2)]
    iris = [store.save(fake(f"iris {i}", dataset="iris")) for i in range(2)]
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert sorted(at.multiselect(key="runs_compare").value) == iris  # the newest run's group
    assert {t["name"] for t in plotly_traces(at)} == {f"#{i} iris {n}" for n, i in enumerate(iris)}
    assert not at.warning
    at.multiselect(key="runs_compare").set_value([moons[0], iris[0]]).run()
    assert not at.exception
    assert any("not comparable" in w.value for w in at.warning)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    by_title = {c["layout"]["title"]["text"]: [t["name"] for t in c["data"]] for c in charts}
    assert by_title == {"validation loss: moons (classification)": [f"#{moons[0]} moons 0"],
                        "validation loss: iris (classification)": [f"#{iris[0]} iris 0"]}


def test_shared_server_others_runs_are_read_only(monkeypatch):
    monkeypatch.setenv("NNPLAY_SHARED", "1")
    store = RunStore()
    mine = store.save(fake("mine", owner="browser-me"))
    theirs = store.save(fake("theirs", owner="browser-someone"))
    cli = store.save(fake("from the shell", owner="workshop", lesson="cli"))
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["nnplay_owner"] = "browser-me"  # as the browser's cookie would make it
    at.run()
    assert not at.exception
    owners = dict(zip(at.dataframe[0].value["id"], at.dataframe[0].value["owner"]))
    assert owners == {mine: "you", theirs: "another learner", cli: "workshop"}
    at.selectbox(key="runs_one").set_value(theirs).run()
    assert at.button(key="runs_delete").disabled
    assert any("only its owner can delete it" in c.value for c in at.caption)
    at.toggle(key="runs_mine").set_value(True).run()
    assert list(at.dataframe[0].value["id"]) == [mine]
    at.selectbox(key="runs_one").set_value(mine).run()
    assert not at.button(key="runs_delete").disabled
    at.button(key="runs_delete").click().run()
    assert RunStore().ids() == [theirs, cli]


def test_shared_server_gives_each_session_its_own_owner(monkeypatch):
    monkeypatch.setenv("NNPLAY_SHARED", "1")
    first = AppTest.from_file(PAGE, default_timeout=60).run()
    second = AppTest.from_file(PAGE, default_timeout=60).run()
    a, b = first.session_state["nnplay_owner"], second.session_state["nnplay_owner"]
    assert a.startswith("browser-") and b.startswith("browser-") and a != b
    first.run()
    assert first.session_state["nnplay_owner"] == a  # stable across reruns of a session


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
    assert at.file_uploader(key="runs_models_upload") is not None  # models still work
    assert bad.read_bytes() == content


def upload(at: AppTest, config: bytes, weights: bytes, name: str = "model.safetensors"):
    at.file_uploader(key="runs_models_upload").set_value([("model.json", config, "application/json"),
                                                   (name, weights, "application/octet-stream")])
    return at.run()


def model_record(moons) -> ModelRecord:
    return ModelRecord("m", SPEC, DatasetRef.of(moons), "notebook")


def test_uploaded_model_is_evaluated_and_registered_once(moons):
    trainer = trained(moons, 0.05, epochs=10)
    blob, config_json = modelio.export_model(trainer.model, model_record(moons), moons)
    at = upload(AppTest.from_file(PAGE, default_timeout=60).run(), config_json.encode(), blob)
    assert not at.exception and at.success
    expected = train.evaluate(trainer.model, moons)
    shown = {m.label: float(m.value) for m in at.metric}
    assert shown["Test accuracy"] == pytest.approx(expected["accuracy"], abs=1e-4)
    assert shown["Test loss"] == pytest.approx(expected["loss"], abs=1e-4)
    at.run()
    assert len(at.session_state["nnplay_workspace"]) == 1  # not registered again on rerun
    (entry,) = at.session_state["nnplay_workspace"].list()
    assert entry.lesson == "notebook" and entry.spec == ModelSpec.of(SPEC)   # as it was made


class _Exploit:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_hostile_uploads_get_a_clear_error(moons, tmp_path):
    import io

    import torch

    trainer = trained(moons, 0.05)
    _, config_json = modelio.export_model(trainer.model, model_record(moons), moons)
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


def test_a_model_zip_comes_back_with_identical_predictions(moons):
    trainer = trained(moons, 0.05, epochs=5)
    record = model_record(moons)
    bundle = modelio.export_bundle(trainer.model, record, moons)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.file_uploader(key="runs_models_upload").set_value(("m.zip", bundle, "application/zip")).run()
    assert not at.exception and at.success
    (entry,) = at.session_state["nnplay_workspace"].list()
    assert entry.record.to_dict() == record.to_dict()
    np.testing.assert_array_equal(train.predict_raw(trainer.model, moons.X_test),
                                  train.predict_raw(entry.model, entry.dataset.X_test))
