"""The workshop's class in the run store's database: names (clean, unique), presence, broadcasts
with safe links, and leaderboards per exercise (each learner's best test loss, exercises told
apart by their data). On SQLite here; tests/deploy uses the same tables on PostgreSQL."""

import pytest

from nnplay import data, train
from nnplay.train.classroom import ClassStore, clean_link, clean_name, exercise_of
from nnplay.train.quick import quick_trainer
from nnplay.train.runs import RunStore, make_record

SPEC = {"family": "mlp", "params": {"hidden": [8]}}


def run_record(owner: str, lr: float, noise: float = 0.2, lesson: str = "playground"):
    ds = data.load("moons", n=120, noise=noise, seed=0)
    trainer = quick_trainer(ds, SPEC, train.TrainConfig(lr=lr, epochs=3, seed=0)).fit()
    return make_record(trainer, SPEC, lesson=lesson, owner=owner)


@pytest.fixture
def store():
    return ClassStore(RunStore())


def test_names_are_cleaned_checked_and_unique(store):
    assert clean_name("  Ada   Lovelace ") == "Ada Lovelace"
    for bad, why in (("", "Type a name"), ("x" * 25, "24 characters"), ("a\u0007b", "control")):
        with pytest.raises(ValueError, match=why):
            clean_name(bad)
    assert store.set_name("browser-1", "<b>Ada</b>") == "<b>Ada</b>"   # kept as text, never HTML
    assert store.name_of("browser-1") == "<b>Ada</b>" and store.name_of("browser-2") == ""
    with pytest.raises(ValueError, match="Another learner already uses"):
        store.set_name("browser-2", "<B>ADA</B>")
    store.set_name("browser-1", "Ada")                     # renaming yourself is fine
    store.set_name("browser-2", "Grace")
    assert store.names() == {"browser-1": "Ada", "browser-2": "Grace"}


def test_presence_lists_who_was_seen_lately_with_their_runs(store):
    store.set_name("browser-1", "Ada")
    store.seen("browser-1", "Playground")
    store.seen("browser-3", "Runs")
    store.runs.save(run_record("browser-1", 0.05))
    active = store.active()
    assert list(active["learner"]) == ["(no name yet)", "Ada"]          # newest first
    assert dict(zip(active["learner"], active["runs"])) == {"(no name yet)": 0, "Ada": 1}
    assert active.set_index("learner").loc["Ada", "page"] == "Playground"
    assert store.active(within_s=-1).empty


def test_broadcasts_keep_the_newest_and_only_safe_links(store):
    assert store.latest_message() is None
    store.broadcast("Warm up", "playground?dataset=xor")
    second = store.broadcast("Beat 0.1", "https://example.org/x", exercise="key")
    latest = store.latest_message()
    assert (latest["id"], latest["text"], latest["link"], latest["exercise"]) == \
        (second, "Beat 0.1", "https://example.org/x", "key")
    assert clean_link("playground?dataset=xor") == "/playground?dataset=xor"
    for bad in ("javascript:alert(1)", "//evil.example/x", "ftp://x/y", "a b"):
        with pytest.raises(ValueError):
            clean_link(bad)
    with pytest.raises(ValueError, match="Type a message"):
        store.broadcast("  ")


def test_leaderboard_ranks_each_learners_best_run_per_exercise(store):
    store.set_name("browser-1", "Ada")
    store.set_name("browser-2", "Grace")
    ids = {lr: store.runs.save(run_record("browser-1", lr)) for lr in (0.001, 0.1)}
    store.runs.save(run_record("browser-2", 0.03, lesson="training_lab"))
    store.runs.save(run_record("browser-2", 0.1, noise=0.3))              # another exercise
    store.runs.save(run_record("browser-3", 0.1, lesson="notebook"))      # not an exercise
    exercises = store.exercises()
    assert list(exercises["runs"]) == [3, 1] and list(exercises["learners"]) == [2, 1]
    spiral = exercises["exercise"][0]
    assert "moons" in exercises["label"][0] and "noise 0.2" in exercises["label"][0]
    board = store.leaderboard(spiral)
    assert list(board["rank"]) == [1, 2] and set(board["learner"]) == {"Ada", "Grace"}
    assert board["test_loss"].is_monotonic_increasing
    ada = board.set_index("learner").loc["Ada"]
    assert ada["run"] == min(ids.values(), key=lambda i: store.runs.get(i)["metrics"]["test_loss"])
    assert store.leaderboard("no such exercise").empty


def test_an_exercise_is_the_data_not_the_model():
    a = {"dataset": {"name": "spiral", "params": {"noise": 0.1, "n": 200}, "n_train": 100},
         "model_spec": {"family": "mlp", "params": {"hidden": [8]}}}
    b = {**a, "model_spec": {"family": "mlp", "params": {"hidden": [32, 32]}}}
    c = {**a, "dataset": {**a["dataset"], "n_train": 50}}
    assert exercise_of(a) == exercise_of(b) and exercise_of(a).key != exercise_of(c).key
    assert exercise_of(a).label == "spiral (n 200, noise 0.1), 100 training rows"
