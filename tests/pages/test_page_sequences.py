"""Headless tests of pages/sequences.py: a short forecaster with its insides, and the memory race
at a chosen T: results shown against chance, cached per (T, cell, seed), models registered."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nnplay.train import evaluate

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "sequences.py")


@pytest.fixture
def page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    return at


def finish(at: AppTest, key: str) -> AppTest:
    """Wait for the background job, then run the page once more to draw its result."""
    at.session_state[key]["worker"].join(120)
    at.run()
    assert not at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_forecaster_trains_and_shows_its_states_gates_and_gradients(page):
    page.number_input(key="seq_epochs").set_value(2).run()
    page.select_slider(key="seq_n").set_value(300).run()
    page.button(key="seq_train").click().run()
    finish(page, "seq_job")
    trainer = page.session_state["seq_job"]["worker"].trainer
    assert trainer.status == "completed" and trainer.model.cell == "lstm"
    expected = evaluate(trainer.model, trainer.dataset)
    assert metrics(page)["Test RMSE"] == f"{expected['rmse']:.4f}"
    assert metrics(page)["Test R²"] == f"{expected['r2']:.3f}"
    keys = {c.proto.id for c in page.get("plotly_chart")}
    assert len(keys) >= 6  # curves, forecasts, hidden states, trajectory, gates, gradients
    assert "lstm forecaster" in page.session_state["nnplay_workspace"]
    page.radio(key="seq_source").set_value("A recurrent model from this session").run()
    assert not page.exception and page.selectbox(key="seq_pick").value == "lstm forecaster"


def test_memory_race_shows_each_cell_against_chance_and_caches_per_t(page):
    page.slider(key="seq_mem_T").set_value(10).run()
    page.select_slider(key="seq_mem_n").set_value(200).run()
    page.number_input(key="seq_mem_epochs").set_value(2).run()
    page.button(key="seq_mem_train").click().run()
    finish(page, "seq_memory_job")
    job = page.session_state["seq_memory_job"]
    assert job["worker"].status == "completed", (job["worker"].status, job["worker"].error)
    results = page.session_state["seq_memory_results"]
    assert {key[:2] for key in results} == {(10, "rnn"), (10, "lstm"), (10, "gru")}
    shown = metrics(page)
    for cell, title in (("rnn", "plain RNN"), ("lstm", "LSTM"), ("gru", "GRU")):
        result = results[(10, cell, 0, 200, 2)]
        assert shown[f"{title} accuracy"] == f"{result.accuracy:.3f}"
        assert 0.0 <= result.accuracy <= 1.0 and result.chance == 0.25
    assert page.button(key="seq_mem_train").disabled  # nothing left to train at this T
    # another T has nothing yet; moving back shows the cached results without training
    page.slider(key="seq_mem_T").set_value(15).run()
    assert not page.exception and not page.button(key="seq_mem_train").disabled
    assert not any(m.label.endswith("accuracy") and "RNN" in m.label for m in page.metric)
    page.slider(key="seq_mem_T").set_value(10).run()
    assert metrics(page)["LSTM accuracy"] == shown["LSTM accuracy"]
    names = [m.name for m in page.session_state["nnplay_workspace"].list()]
    assert {"rnn memory T=10", "lstm memory T=10", "gru memory T=10"} <= set(names)
