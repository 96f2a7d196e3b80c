"""Headless tests of pages/monitoring.py: a session model monitored over a drifting stream (the
table holds the engine's numbers, delayed labels say so), settings that survive a visit to
another page, a scenario the data cannot have, retraining, and a model trained on the spot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nnplay.data.dataset import Dataset
from nnplay.lessons import monitoring as lesson
from nnplay.production import monitor
from nnplay.train.quick import quick_trainer
from nnplay.train.workspace import Workspace

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "monitoring.py")


def table_data(seed: int = 0, categories: bool = True) -> Dataset:
    """600 rows: three numbers, an integer code and (optionally) a one-hot 'colour' group."""
    rng = np.random.default_rng(seed)
    n = 900
    X = rng.normal(size=(n, 3))
    code = rng.integers(0, 4, n).astype(float)
    colour = rng.integers(0, 2, n)
    logit = 1.5 * X[:, 0] - X[:, 1] + (0.8 * colour if categories else 0) - 0.3
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    cols, names = [X], ["a", "b", "c"]
    if categories:
        cols += [code[:, None], colour[:, None], 1 - colour[:, None]]
        names += ["code", "colour=red", "colour=blue"]
    X = np.column_stack(cols)
    X = ((X - X[:500].mean(0)) / X[:500].std(0)).astype(np.float32)
    return Dataset("tables" if categories else "numbers", X[:500], y[:500], X[500:], y[500:],
                   "classification", names, ["no", "yes"])


@pytest.fixture(scope="module")
def trained():
    out = {}
    for categories in (True, False):
        ds = table_data(categories=categories)
        out[categories] = (ds, quick_trainer(ds, epochs=15).fit())
    return out


def session_page(*entries) -> AppTest:
    ws = Workspace()
    for ds, trainer in entries:
        ws.register(trainer.model, ds, trainer.spec, "notebook", name=f"{ds.name} net",
                    train_config=trainer.config, history=trainer.history)
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["nnplay_workspace"] = ws
    return at.run()


def frame(at: AppTest, column: str):
    """The first table on the page with ``column`` (the windows: 'estimated accuracy'; the
    alert log: 'check')."""
    return next(df.value for df in at.dataframe if column in df.value.columns)


def shown_text(at: AppTest) -> str:
    parts = [e.value for e in (*at.markdown, *at.caption, *at.metric, *at.error, *at.warning)]
    parts += [df.value.to_string() for df in at.dataframe]
    return "\n".join(map(str, parts))


def test_a_session_model_is_monitored_with_the_engines_numbers(trained):
    ds, trainer = trained[True]
    at = session_page((ds, trainer))
    assert not at.exception
    assert at.selectbox(key="mon_set_scenario").value == "new_category"   # the data has one
    table = frame(at, "estimated accuracy")
    windows, delay = at.slider(key="mon_set_windows").value, at.slider(key="mon_set_label_delay").value
    assert len(table) == windows
    stream = monitor.simulate_stream(ds, "new_category", lesson.default_strength("new_category"),
                                     at.slider(key="mon_set_start").value, windows,
                                     at.slider(key="mon_set_window_size").value, 0,
                                     at.selectbox(key="mon_set_feature_new_category").value)
    result = monitor.run_monitoring(trainer.model, ds, stream, delay, 0.5,
                                    at.slider(key="mon_set_reference_rows").value)
    expected = lesson.window_table(result)
    for col in ("estimated accuracy", "realised accuracy", "drifted columns", "dataset drift"):
        assert list(table[col]) == list(expected[col])
    assert list(table["realised accuracy"].iloc[-delay:]) == [lesson.NOT_LABELLED] * delay
    assert all(v.endswith("%") for v in table["estimated accuracy"])
    assert all(float(v.replace(",", "")) > 0 for v in table["throughput (rows/s)"])
    text = shown_text(at)
    assert "nan" not in text.lower().split() and "None" not in text
    assert "Wasserstein alarms in" in text   # the sample-size demonstration ran
    findings = at.session_state["nnplay_workspace"].get("tables net").findings
    assert findings["monitoring"]["windows"] == windows


def test_settings_survive_a_visit_to_another_page(trained):
    at = session_page(trained[True])
    at.selectbox(key="mon_set_scenario").set_value("label_shift").run()
    at.slider(key="mon_set_window_size").set_value(50).run()
    assert not at.exception
    # another page runs: Streamlit forgets this page's widgets, the rest of the session stays
    back = AppTest.from_file(PAGE, default_timeout=120)
    for key in ("nnplay_workspace", "mon_settings", "mon_results"):
        back.session_state[key] = at.session_state[key]
    at = back.run()
    assert not at.exception
    assert at.selectbox(key="mon_set_scenario").value == "label_shift"
    assert at.slider(key="mon_set_window_size").value == 50
    assert len(frame(at, "check")) > 0


def test_a_scenario_the_data_cannot_have_gets_a_message(trained):
    at = session_page(trained[False])
    assert at.selectbox(key="mon_set_scenario").value == "sudden"   # no categories here
    at.selectbox(key="mon_set_scenario").set_value("new_category").run()
    assert not at.exception
    message = " ".join(e.value for e in (*at.warning, *at.error))
    assert "no categorical or integer-coded column" in message
    at.selectbox(key="mon_set_scenario").set_value("seasonal").run()
    assert not at.exception and not at.error
    assert len(frame(at, "estimated accuracy")) == 12


def test_retraining_registers_a_model_and_compares_it(trained, finish_job):
    at = session_page(trained[True])
    at.button(key="mon_retrain").click().run()
    finish_job(at, "mon_retrain_job")
    names = [m.name for m in at.session_state["nnplay_workspace"].list(lesson="monitoring")]
    assert names == ["tables net retrained on recent data"]
    labels = {m.label: m.value for m in at.metric}
    assert labels["Retrained model"].endswith("%")
    assert labels["Current model on the latest windows"].endswith("%")


def test_the_page_trains_a_model_when_the_session_has_none(finish_job):
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    assert at.radio(key="mon_source").value == "Train one on the spot"
    at.selectbox(key="mon_spot_dataset").set_value("breast_cancer").run()
    at.number_input(key="mon_spot_epochs_1").set_value(5).run()
    at.button(key="mon_spot_go").click().run()
    finish_job(at, "mon_spot_job")
    (entry,) = at.session_state["nnplay_workspace"].list()
    assert entry.dataset.name == "breast_cancer" and entry.lesson == "monitoring"
    assert at.selectbox(key="mon_set_scenario").value == "sudden"   # no categories
    table = frame(at, "estimated accuracy")
    assert len(table) == 12 and table["estimated accuracy"].str.endswith("%").all()
