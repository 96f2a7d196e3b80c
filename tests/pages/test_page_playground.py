"""Headless tests of pages/playground.py: play, pause, step, reset, URL state and hidden controls."""

from __future__ import annotations

import base64
import json
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
    assert epoch(page) == 1                  # a training setting: the same network goes on
    page.selectbox(key="pg_activation").set_value("relu").run()
    assert epoch(page) == 0                  # a setting that shapes the network: a new one
    assert any("activation: tanh → relu" in t.value for t in page.toast)
    assert "torch.optim.SGD" in page.code[0].value
    page.radio(key="pg_problem").set_value("regression").run()
    assert page.selectbox(key="pg_dataset").value == "plane" and not page.exception


APP = str(Path(__file__).resolve().parents[2] / "app.py")


def switch(at: AppTest, page: str) -> AppTest:
    """Go to another page through the navigation, as the sidebar does (the browser drops the
    query string on a page switch)."""
    at.query_params.clear()
    return at.switch_page(page).run()


def test_a_round_trip_through_another_page_keeps_settings_url_and_network():
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    switch(at, "pages/playground.py")
    at.select_slider(key="pg_lr").set_value(0.1).run()
    at.slider(key="pg_train_pct").set_value(70).run()
    at.select_slider(key="pg_batch_size").set_value(32).run()
    at.checkbox(key="pg_feat_sin_x1").check().run()
    at.button(key="pg_add_layer").click().run()
    for _ in range(3):
        at.button(key="pg_step").click().run()
    session = at.session_state["pg_session"]
    assert session.epoch == 3 and not at.exception
    switch(at, "pages/home.py")
    assert not at.exception
    switch(at, "pages/playground.py")
    assert not at.exception and not at.error
    assert at.select_slider(key="pg_lr").value == 0.1
    assert at.slider(key="pg_train_pct").value == 70
    assert at.select_slider(key="pg_batch_size").value == 32
    assert at.checkbox(key="pg_feat_sin_x1").value and at.checkbox(key="pg_feat_x1").value
    assert at.session_state["pg_session"] is session and epoch(at) == 3   # the same network
    assert session.settings.hidden == (4, 2, 2)
    assert url(at, "lr") == "0.1" and url(at, "features") == "x1,x2,sin_x1"   # URL written again
    assert url(at, "train_pct") == "70" and url(at, "hidden") == "4,2,2"


def test_training_changes_apply_live_and_keep_the_epoch_count(page):
    for _ in range(3):
        page.button(key="pg_step").click().run()
    session = page.session_state["pg_session"]
    weights = first_weights(page)
    page.select_slider(key="pg_lr").set_value(0.1).run()
    page.select_slider(key="pg_batch_size").set_value(32).run()
    page.selectbox(key="pg_regularization").set_value("l2").run()
    page.select_slider(key="pg_reg_rate").set_value(0.001).run()
    page.selectbox(key="pg_optimizer").set_value("adam").run()
    assert page.session_state["pg_session"] is session and epoch(page) == 3
    np.testing.assert_array_equal(first_weights(page), weights)      # the same network
    cfg = session.trainer.config
    assert (cfg.lr, cfg.batch_size, cfg.l2, cfg.optimizer) == (0.1, 32, 0.001, "adam")
    assert not page.toast                                             # no reset notice
    page.button(key="pg_play").click().run()
    page.run()
    assert epoch(page) > 3 and session.trainer.history[-1]["lr"] == 0.1
    assert url(page, "lr") == "0.1" and url(page, "optimizer") == "adam"


def test_play_has_no_epoch_cap_and_a_schedule_can_be_lengthened():
    at = open_page(dataset="gauss", hidden="3", epochs="20")
    assert at.session_state["pg_session"].trainer.config.epochs == pg.MAX_EPOCHS   # constant rate
    at = open_page(dataset="gauss", hidden="3", schedule="cosine", epochs="2")
    for _ in range(2):
        at.button(key="pg_step").click().run()
    assert at.button(key="pg_step").disabled and any("schedule" in i.value for i in at.info)
    at.number_input(key="pg_epochs").set_value(4).run()
    assert not at.button(key="pg_step").disabled and epoch(at) == 2   # the network is kept
    at.button(key="pg_step").click().run()
    assert epoch(at) == 3 and not at.exception


def test_epoch_zero_shows_the_untrained_loss_and_saving_says_so(page):
    values = {m.label: m.value for m in page.metric}
    assert values["Epoch"] == "0"
    for label in ("Train loss", "Test loss", "Test accuracy"):
        float(values[label])                                          # a number, not nan
    (loss_chart,) = [c for c in page.get("plotly_chart") if "Loss" in c.proto.spec]
    spec = json.loads(loss_chart.proto.spec)
    train_curve = next(t for t in spec["data"] if t["name"] == "this run: train")
    y = np.frombuffer(base64.b64decode(train_curve["y"]["bdata"]), train_curve["y"]["dtype"])
    assert len(y) == 1 and np.isfinite(y[0]) and "markers" in train_curve["mode"]
    assert {t["line"]["dash"] for t in spec["data"]} == {"solid", "dash"}
    page.button(key="pg_save").click().run()
    assert any("at least one epoch" in t.value for t in page.toast)
    page.button(key="pg_step").click().run()
    page.button(key="pg_save").click().run()
    assert any("Saved “Playground gauss” (epoch 1)" in t.value for t in page.toast)
    assert page.session_state["nnplay_workspace"].list()[0].train_config.epochs == 1


# ---- beyond TF Playground: your own CSV, locked controls, exercise links ----------------------
def moons_csv(n: int = 200) -> bytes:
    from sklearn.datasets import make_moons

    X, y = make_moons(n, noise=0.1, random_state=0)
    rows = ["height,weight,kind"] + [f"{1000 + 50 * a:.4f},{0.01 * b:.6f},{'ab'[c]}"
                                     for (a, b), c in zip(X, y)]
    return "\n".join(rows).encode()


def test_uploaded_csv_trains_and_a_bad_file_keeps_the_page_running():
    at = open_page()
    at.selectbox(key="pg_dataset").set_value(pg.UPLOAD).run()
    assert not at.exception and any("Upload a CSV" in i.value for i in at.info)
    at.file_uploader(key="pg_csv_file").upload("moons.csv", moons_csv(), "text/csv").run()
    assert not at.exception
    assert at.selectbox(key="pg_csv_x1").value == "height"
    assert at.selectbox(key="pg_csv_label").value == "kind"
    session = at.session_state["pg_session"]
    assert session.settings.dataset == pg.UPLOAD and session.raw.class_names == ["a", "b"]
    assert any("standardised" in c.value for c in at.caption)
    for _ in range(3):
        at.button(key="pg_step").click().run()
    assert epoch(at) == 3 and not at.exception
    assert url(at, "dataset") == "upload" and url(at, "upload").startswith("moons.csv")
    # the link names the file; opening it says a link cannot carry one and shows built-in data
    shared = open_page(**{k: url(at, k) for k in ("dataset", "upload", "lr")})
    assert shared.session_state["pg_session"].settings.dataset == "circle"
    assert any("cannot carry a file" in w.value for w in shared.warning)
    # a file with one numeric column: a message, and the uploaded moons stay in use
    bad = b"name,size,kind\n" + b"".join(f"n{i},{i},a\n".encode() for i in range(20))
    at.file_uploader(key="pg_csv_file").upload("bad.csv", bad, "text/csv").run()
    assert not at.exception and any("two numeric columns" in e.value for e in at.error)
    assert at.session_state["pg_session"].settings.dataset == pg.UPLOAD
    # x2 chosen as the label too: a message, built-in data meanwhile, nothing raised
    at.selectbox(key="pg_csv_label").set_value("weight").run()
    assert not at.exception and any("three different columns" in e.value for e in at.error)
    assert at.session_state["pg_session"].settings.dataset == "circle"


def test_locked_controls_show_their_value_read_only():
    at = open_page(dataset="xor", lr="0.1", batch_size="0", hidden="5,3",
                   hide="lr,batch_size,hidden,features")
    captions = " ".join(c.value for c in at.caption)
    assert "Learning rate: **0.1** (set by your instructor)" in captions
    assert "Batch size: **full batch**" in captions and "5, 3 neurons" in captions
    assert "X₁, X₂" in captions
    assert not [b for b in at.button if b.key == "pg_add_layer"]


def test_an_unknown_hide_name_lists_the_valid_ones_and_the_builder_makes_a_link():
    at = open_page(hide="lr,learningRate")
    (warning,) = [w.value for w in at.warning if "hide" in w.value]
    assert "'learningRate'" in warning and "activation" in warning and "reg_rate" in warning
    assert at.session_state["pg_hide"] == {"lr"}
    at.multiselect(key="pg_lock").set_value(["activation", "lr"]).run()
    link = [c.value for c in at.code if "hide=" in c.value]
    assert link and "hide=activation%2Clr" in link[0] and "dataset=circle" in link[0]
    assert any("hide=" in m.value for m in at.markdown)
    downloads = [e for e in at.get("download_button")]
    assert len(downloads) >= 2
