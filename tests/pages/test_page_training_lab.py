"""Headless tests of pages/training_lab.py: short background trainings, stop, stored runs, faults."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nnplay import train
from nnplay.lessons import training_lab as labpresets
from nnplay.train.runs import RunStore

ROOT = Path(__file__).resolve().parents[2]
LAB, RUNS = str(ROOT / "pages" / "training_lab.py"), str(ROOT / "pages" / "runs.py")


def metric_value(at: AppTest, label: str) -> float:
    (match,) = [m for m in at.metric if m.label == label]
    return float(match.value)


def wait_for_result(at: AppTest, seconds: float = 120) -> AppTest:
    """Rerun the page until the background run has finished and its result is shown."""
    deadline = time.monotonic() + seconds
    while not at.success and time.monotonic() < deadline:
        time.sleep(0.2)
        at.run()
        assert not at.exception
    assert at.success, "the background training did not finish"
    return at


@pytest.fixture
def lab() -> AppTest:
    at = AppTest.from_file(LAB, default_timeout=60).run()
    assert not at.exception
    at.selectbox(key="lab_dataset").set_value("iris").run()
    at.number_input(key="lab_epochs").set_value(6).run()
    at.text_input(key="lab_hidden").set_value("16").run()
    assert not at.exception
    return at


def test_short_training_is_stored_registered_and_on_the_runs_page(lab):
    lab.selectbox(key="lab_schedule").set_value("step").run()
    lab.button(key="lab_train").click().run()
    wait_for_result(lab)
    job = lab.session_state["lab_job"]
    trainer = job["worker"].trainer
    assert trainer.status == "completed" and trainer.epoch == 6
    # the shown numbers are the engine's for this model
    gap = labpresets.generalisation_gap(trainer.model, trainer.dataset)
    assert metric_value(lab, "Test accuracy") == pytest.approx(gap["test_accuracy"], abs=5e-4)
    assert metric_value(lab, "Gap (accuracy)") == pytest.approx(gap["accuracy_gap"], abs=5e-4)
    record = RunStore().get(job["run_id"])
    assert record["lesson"] == "training_lab" and record["status"] == "completed"
    assert record["history"] == [{k: v for k, v in row.items()} for row in trainer.history]
    assert record["config"]["schedule"] == "step" and record["dataset"]["name"] == "iris"
    assert record["metrics"]["test_accuracy"] == pytest.approx(gap["test_accuracy"])
    workspace = lab.session_state["nnplay_workspace"]
    assert workspace.get(job["name"]).model is trainer.model
    assert [b.label for b in lab.get("download_button")] == ["Download this model (zip)"]
    # a second run is overlaid with the first
    lab.button(key="lab_train").click().run()
    wait_for_result(lab)
    assert len(lab.session_state["lab_compare"]) == 2

    runs_page = AppTest.from_file(RUNS, default_timeout=60).run()
    assert not runs_page.exception
    shown = runs_page.dataframe[0].value
    assert set(shown["id"]) == set(RunStore().ids()) and job["run_id"] in set(shown["id"])
    assert len(runs_page.multiselect(key="runs_compare").value) == 2


def test_stop_keeps_what_was_learned(lab):
    lab.number_input(key="lab_epochs").set_value(2000).run()
    lab.selectbox(key="lab_batch").set_value(16).run()
    lab.button(key="lab_train").click().run()
    deadline = time.monotonic() + 60
    while not lab.session_state["lab_job"]["worker"].trainer.history and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not lab.button(key="lab_stop").disabled
    lab.button(key="lab_stop").click().run()
    wait_for_result(lab)
    trainer = lab.session_state["lab_job"]["worker"].trainer
    assert trainer.status == "stopped" and 1 <= trainer.epoch < 2000
    record = RunStore().get(lab.session_state["lab_job"]["run_id"])
    assert record["status"] == "stopped" and len(record["history"]) == trainer.epoch
    # what was learned is kept: the stored test accuracy is that of the model in the workspace
    assert record["metrics"]["test_accuracy"] == pytest.approx(
        train.evaluate(trainer.model, trainer.dataset)["accuracy"])


def test_corrupt_database_trains_but_says_it_did_not_store(lab, tmp_path, monkeypatch):
    bad = tmp_path / "broken.sqlite"
    content = os.urandom(2048)
    bad.write_bytes(content)
    monkeypatch.setenv("NNPLAY_DB", str(bad))
    lab.run()
    assert any(str(bad) in w.value for w in lab.warning)
    lab.button(key="lab_train").click().run()
    wait_for_result(lab)
    assert any("not stored" in w.value and str(bad) in w.value for w in lab.warning)
    assert "nnplay_workspace" in lab.session_state and len(lab.session_state["nnplay_workspace"])
    assert bad.read_bytes() == content


def test_bad_hidden_layers_is_a_message_not_a_traceback(lab):
    lab.text_input(key="lab_hidden").set_value("sixteen").run()
    assert not lab.exception
    assert any("sixteen" in e.value for e in lab.error)


def test_preset_shows_techniques_and_their_settings():
    at = AppTest.from_file(LAB, default_timeout=60).run()
    at.toggle(key="lab_preset").set_value(True).run()
    assert not at.exception
    for name, tech in labpresets.TECHNIQUES.items():
        assert at.checkbox(key=f"lab_tech_{name}").label == tech.title
    base = labpresets.OVERFITTING
    assert any(f"{base.train_rows} training points" in m.value and f"{base.config.epochs} epochs"
               in m.value for m in at.markdown)


def test_continue_training_a_session_model(lab):
    lab.button(key="lab_train").click().run()
    wait_for_result(lab)
    first = lab.session_state["lab_job"]["worker"].trainer
    lab.radio(key="lab_start").set_value("a model from this session").run()
    assert not lab.exception
    lab.button(key="lab_train").click().run()
    wait_for_result(lab)
    second = lab.session_state["lab_job"]["worker"].trainer
    assert second.model is not first.model  # the session's model was copied, not changed
    assert second.history[0]["loss"] < first.history[0]["loss"]  # it started from learned weights
