"""Headless tests of pages/playground.py: play, pause, step, reset, URL state and hidden controls."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nnplay.lessons import playground as pg

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "playground.py")


def epoch(at: AppTest) -> int:
    (counter,) = [m for m in at.metric if m.label == "Epoch"]
    return int(counter.value.replace(",", ""))


def open_page(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params.update(query)
    at.run()
    assert not at.exception
    return at


@pytest.fixture
def page() -> AppTest:
    return open_page(dataset="gauss", hidden="3", epochs="500")


def url(at: AppTest, key: str) -> str:
    value = at.query_params[key]
    return value[-1] if isinstance(value, list) else value


def first_weights(at: AppTest) -> np.ndarray:
    return pg.network_weights(at.session_state["pg_session"].model)[0]


def test_play_advances_pause_stops_step_adds_one(page):
    assert epoch(page) == 0
    page.button(key="pg_play").click().run()
    first = epoch(page)
    assert first >= 1 and not page.exception
    page.run()                               # what the fragment's timer does in the browser
    second = epoch(page)
    assert second > first
    page.button(key="pg_pause").click().run()
    paused = epoch(page)
    page.run()
    assert epoch(page) == paused >= second
    page.button(key="pg_step").click().run()
    assert epoch(page) == paused + 1
    workspace = page.session_state["nnplay_workspace"]
    assert len(workspace) == 1               # pausing saved the model for other pages
    assert workspace.list()[0].metrics["accuracy"] > 0.5


def test_reset_returns_to_epoch_zero_with_new_weights(page):
    before = first_weights(page)
    page.button(key="pg_step").click().run()
    page.button(key="pg_step").click().run()
    assert epoch(page) == 2
    page.button(key="pg_reset").click().run()
    assert epoch(page) == 0 and not page.exception
    assert not np.allclose(first_weights(page), before)
    assert url(page, "seed") == "1"        # the link follows the new weights


def test_url_restores_settings():
    at = open_page(problem="regression", dataset="gauss_regression", noise="20", lr="0.3",
                   activation="relu", hidden="8,8,8", features="x1,x2,sin_x1", batch_size="0",
                   optimizer="adam", seed="4")
    assert at.radio(key="pg_problem").value == "regression"
    assert at.selectbox(key="pg_dataset").value == "gauss_regression"
    assert at.slider(key="pg_noise").value == 20
    assert at.select_slider(key="pg_lr").value == 0.3
    assert at.select_slider(key="pg_batch_size").value == 0
    assert at.selectbox(key="pg_activation").value == "relu"
    assert at.checkbox(key="pg_feat_sin_x1").value and not at.checkbox(key="pg_feat_x1_sq").value
    settings = at.session_state["pg_session"].settings
    assert settings.hidden == (8, 8, 8) and settings.seed == 4 and settings.optimizer == "adam"
    assert any("Test R²" == m.label for m in at.metric)


def test_hidden_controls_are_absent_but_their_values_apply():
    at = open_page(dataset="xor", lr="0.1", activation="relu", hide="lr,activation")
    keys = {w.key for w in [*at.select_slider, *at.selectbox]}
    assert "pg_lr" not in keys and "pg_activation" not in keys
    assert "pg_dataset" in keys and "pg_optimizer" in keys
    settings = at.session_state["pg_session"].settings
    assert settings.lr == 0.1 and settings.activation == "relu"
    at.button(key="pg_step").click().run()
    assert url(at, "hide") == "activation,lr" and url(at, "lr") == "0.1"


def test_layer_buttons_and_the_limit_message():
    at = open_page(hidden="31,2")
    at.button(key="pg_add_neuron_0").click().run()
    assert at.session_state["pg_session"].settings.hidden == (32, 2)
    at.button(key="pg_add_neuron_0").click().run()
    assert any("1 to 32 neurons" in w.value for w in at.warning)
    at.button(key="pg_remove_layer").click().run()
    assert at.session_state["pg_session"].settings.hidden == (32,) and not at.exception


def test_bad_link_value_shows_a_warning_not_a_traceback():
    at = open_page(lr="fast", dataset="spiral")
    assert any("lr" in w.value for w in at.warning)
    assert at.selectbox(key="pg_dataset").value == "spiral"


def test_snapshot_export_and_regression_switch(page):
    page.button(key="pg_step").click().run()
    page.button(key="pg_snapshot").click().run()
    assert any("Snapshot #1" in c.value for c in page.caption)
    page.select_slider(key="pg_lr").set_value(0.1).run()
    assert any("lr: 0.03 → 0.1" in c.value for c in page.caption)
    assert epoch(page) == 0                  # a model setting changed: a fresh run
    assert "torch.optim.SGD" in page.code[0].value
    page.radio(key="pg_problem").set_value("regression").run()
    assert page.selectbox(key="pg_dataset").value == "plane" and not page.exception
