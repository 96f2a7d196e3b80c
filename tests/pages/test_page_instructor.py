"""Headless tests of workshop mode: the instructor page (how to start a workshop on a laptop, the
token, the class's leaderboard and who is active, a broadcast) and a learner's side of app.py (a
name to choose, the broadcast banner, the class leaderboard); the laptop app is unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nnplay import data, train
from nnplay.train.classroom import ClassStore
from nnplay.train.executor import reset_executor
from nnplay.train.quick import quick_trainer
from nnplay.train.runs import RunStore, make_record

ROOT = Path(__file__).resolve().parents[2]
PAGE, APP = str(ROOT / "pages" / "instructor.py"), str(ROOT / "app.py")
TOKEN = "s3cret-token-for-tests"
SPEC = {"family": "mlp", "params": {"hidden": [8]}}


@pytest.fixture
def workshop(monkeypatch):
    monkeypatch.setenv("NNPLAY_WORKSHOP", "1")
    monkeypatch.setenv("NNPLAY_INSTRUCTOR_TOKEN", TOKEN)
    reset_executor()
    yield ClassStore(RunStore())
    reset_executor()


def save_run(owner: str, lr: float) -> int:
    ds = data.load("moons", n=120, noise=0.2, seed=0)
    trainer = quick_trainer(ds, SPEC, train.TrainConfig(lr=lr, epochs=3, seed=0)).fit()
    return RunStore().save(make_record(trainer, SPEC, lesson="playground", owner=owner))


def shown(cell: str) -> str:
    """What a person reads in a table cell whose Markdown characters were escaped."""
    return cell.replace("\\", "")


def texts(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "caption", "info", "warning", "error",
                                              "success", "text", "subheader")
                    for e in at.get(kind))


def test_on_a_laptop_the_page_says_how_to_start_a_workshop(monkeypatch):
    monkeypatch.delenv("NNPLAY_WORKSHOP", raising=False)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert "NNPLAY_WORKSHOP=1" in texts(at) and not at.text_input


def test_without_a_token_on_the_server_nobody_gets_in(workshop, monkeypatch):
    monkeypatch.delenv("NNPLAY_INSTRUCTOR_TOKEN")
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception and "Set NNPLAY_INSTRUCTOR_TOKEN" in texts(at)
    assert not at.text_input


def test_the_token_opens_the_class_with_its_leaderboard_and_broadcast(workshop):
    workshop.set_name("browser-a", "Ada")
    workshop.set_name("browser-b", "<img src=x onerror=1>")
    workshop.seen("browser-a", "Playground")
    for owner, lr in (("browser-a", 0.1), ("browser-b", 0.001)):
        save_run(owner, lr)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.text_input(key="instructor_token").input("wrong")
    at.button[0].click().run()
    assert not at.exception and "not the instructor token" in texts(at)
    assert "Leaderboards" not in texts(at)
    at.text_input(key="instructor_token").input(TOKEN)
    at.button[0].click().run()
    assert not at.exception
    assert "Active learners: 2" in texts(at) and "Leaderboards" in texts(at)
    active, board = (t.value for t in at.table)
    assert {shown(n) for n in active.index} == {"Ada", "<img src=x onerror=1>"}
    # a name is a Markdown cell with every punctuation mark escaped: shown as typed
    assert [shown(n) for n in board["Learner"]] == ["Ada", "<img src=x onerror=1>"]
    assert board["Learner"].iloc[1] == "\\<img src\\=x onerror\\=1\\>"
    assert board["Test loss"].str.match(r"^\d+\.\d{4}$").all()
    assert board["Test accuracy"].str.endswith("%").all()
    (chart,) = at.get("plotly_chart")                  # the same board as bars, names escaped
    bars = json.loads(chart.proto.spec)["data"][0]
    assert bars["y"] == ["1. Ada", "2. &lt;img src=x onerror=1&gt;"]
    exercise = workshop.exercises()["exercise"][0]
    form = {w.label: w for w in at.text_input}
    form["Message"].input("Beat 0.3 on the moons")
    form["Exercise link"].input("playground?dataset=moons")
    board_choice = next(s for s in at.selectbox if s.label == "Leaderboard learners see")
    board_choice.select(exercise)
    next(b for b in at.button if b.label == "Send to the class").click().run()
    assert not at.exception and "Sent" in texts(at)
    message = workshop.latest_message()
    assert (message["text"], message["link"], message["exercise"]) == \
        ("Beat 0.3 on the moons", "/playground?dataset=moons", exercise)


def learner_page():
    """A page of the app as a learner sees it in workshop mode (app.py calls this on every page;
    AppTest reruns only the page, not app.py, after the first run)."""
    from nnplay.ui.workshop import learner_panel

    learner_panel("Playground")


def test_the_app_shows_a_learner_the_broadcast_and_asks_for_a_name(workshop):
    workshop.broadcast("Try the moons", "playground?dataset=moons")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "From your instructor:** Try the moons" in texts(at)
    assert [w.key for w in at.text_input] == ["workshop_name_input"]


def test_a_learner_chooses_a_name_and_sees_the_broadcast_and_leaderboard(workshop):
    save_run("browser-x", 0.1)
    workshop.set_name("browser-x", "Grace")
    at = AppTest.from_function(learner_page, default_timeout=60).run()
    assert not at.exception and "From your instructor" not in texts(at)
    at.text_input(key="workshop_name_input").input("Grace")
    at.button[0].click().run()
    assert "Another learner already uses the name" in texts(at)
    at.text_input(key="workshop_name_input").input("Ada")
    at.button[0].click().run()
    assert not at.exception and "Workshop: you are Ada" in texts(at)
    assert set(workshop.names().values()) == {"Ada", "Grace"}
    assert workshop.active()["learner"].tolist() == ["Ada", "Grace"]   # newest first
    exercise = workshop.exercises()["exercise"][0]
    workshop.broadcast("Try the moons", "playground?dataset=moons", exercise)
    import nnplay.ui.workshop as ui_workshop

    ui_workshop._cache.clear()    # what CACHE_S seconds do on a server
    at.run()
    assert "From your instructor:** Try the moons" in texts(at)
    board = at.table[0].value
    assert [shown(n) for n in board["Learner"]] == ["Grace"]


def test_the_laptop_app_has_no_workshop_parts(monkeypatch):
    monkeypatch.delenv("NNPLAY_WORKSHOP", raising=False)
    monkeypatch.delenv("NNPLAY_SHARED", raising=False)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "From your instructor" not in texts(at) and "you are" not in texts(at)
    assert not [w for w in at.text_input if w.key == "workshop_name_input"]


def test_the_leaderboard_figure_leaves_out_diverged_runs_and_cuts_long_names():
    import pandas as pd

    from nnplay.plots import instructor

    table = pd.DataFrame({"rank": [1, 2, 3], "learner": ["Ada", "x" * 40, "Bo"],
                          "test_loss": [0.1, 0.2, float("inf")]})
    fig = instructor.leaderboard_figure(table)
    assert list(fig.data[0].y) == ["1. Ada", "2. " + "x" * 23 + "…"]
    assert "1 diverged, not drawn" in fig.layout.title.text
