"""The Playground engine: feature transforms, limits, URL state, grids, pacing, and that it learns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nnplay import train
from nnplay.lessons import playground as pg

ROOT = Path(__file__).resolve().parents[2]


def test_transform_features_computes_each_playground_input():
    X = np.array([[1.0, 2.0], [-0.5, 3.0]], dtype=np.float32)
    out = pg.transform_features(X, list(pg.FEATURES))
    expected = [[1, 2, 1, 4, 2, np.sin(1), np.sin(2)],
                [-0.5, 3, 0.25, 9, -1.5, np.sin(-0.5), np.sin(3)]]
    assert out.dtype == np.float32 and out.shape == (2, 7)
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_featurize_keeps_labels_and_names_the_features():
    raw = pg.load_raw(pg.PlaygroundSettings(dataset="xor"))
    ds = pg.featurize(raw, ("x1x2", "sin_x2"))
    assert ds.feature_names == ["X₁·X₂", "sin X₂"] and ds.n_features == 2
    np.testing.assert_array_equal(ds.y_test, raw.y_test)
    np.testing.assert_allclose(ds.X_train[:, 0], raw.X_train[:, 0] * raw.X_train[:, 1], rtol=1e-5)


def test_grid_uses_the_training_transforms_and_matches_predict_proba():
    s = pg.PlaygroundSettings(dataset="circle", features=("x1", "x1_sq", "sin_x2"), hidden=(5, 3))
    session = pg.PlaygroundSession(s)
    session.run_chunk(epochs=3)
    grid = pg.output_grid(session.model, s.features, (-6, 6), (-6, 6), "classification",
                          resolution=12)
    gx, gy = np.meshgrid(grid.xs, grid.ys)
    points = pg.transform_features(np.column_stack([gx.ravel(), gy.ravel()]), s.features)
    expected = train.predict_proba(session.model, points)[:, 1].reshape(12, 12)
    np.testing.assert_allclose(grid.output, expected, atol=1e-6)
    assert [n.shape for n in grid.neurons] == [(5, 12, 12), (3, 12, 12)]
    first = session.model.linear_layers()[0]
    with torch.no_grad():
        layer1 = torch.tanh(first(torch.as_tensor(points))).T.reshape(5, 12, 12).numpy()
    np.testing.assert_allclose(grid.neurons[0], layer1, atol=1e-6)
    assert grid.neurons[0].std() > 0.01   # the neurons' maps vary over the plane


def test_zero_hidden_layers_is_a_linear_model_that_solves_circle_with_squares():
    s = pg.PlaygroundSettings(dataset="circle", features=("x1_sq", "x2_sq"), hidden=(),
                              optimizer="adam", lr=0.1, batch_size=0, epochs=150)
    session = pg.PlaygroundSession(s)
    session.run_chunk(epochs=150)
    assert len(pg.network_weights(session.model)) == 1
    assert session.metrics()["val_accuracy"] >= 0.95
    grid = pg.output_grid(session.model, s.features, (-6, 6), (-6, 6), "classification", 8)
    assert grid.neurons == []


def test_same_settings_same_numbers():
    s = pg.PlaygroundSettings(dataset="spiral", noise=20, hidden=(6, 6), dropout=0.1,
                              optimizer="momentum", lr=0.1)
    # One after the other: the Trainer draws dropout masks from torch's global generator.
    a = pg.PlaygroundSession(s)
    a.run_chunk(epochs=4)
    b = pg.PlaygroundSession(s)
    b.run_chunk(epochs=2)
    b.run_chunk(epochs=2)
    assert [h["loss"] for h in a.trainer.history] == [h["loss"] for h in b.trainer.history]


def test_regression_and_multiclass_outputs():
    reg = pg.PlaygroundSession(pg.PlaygroundSettings(problem="regression", dataset="plane",
                                                     hidden=(), optimizer="adam", batch_size=0))
    reg.run_chunk(epochs=200)
    assert reg.metrics()["val_r2"] > 0.95
    blobs = pg.PlaygroundSession(pg.PlaygroundSettings(dataset="blobs", n_classes=5, hidden=(8,),
                                                       optimizer="adam", batch_size=0))
    blobs.run_chunk(epochs=100)
    grid = pg.output_grid(blobs.model, ("x1", "x2"), (-6, 6), (-6, 6), "classification", 10)
    assert set(np.unique(grid.output)) <= {0, 1, 2, 3, 4} and len(np.unique(grid.output)) == 5
    assert grid.confidence.min() >= 0.2 and blobs.metrics()["val_accuracy"] > 0.9


@pytest.mark.parametrize("hidden, fragment", [((4,) * 9, "At most 8 hidden layers"),
                                              ((33,), "1 to 32 neurons"), ((4, 0), "1 to 32")])
def test_network_limits(hidden, fragment):
    with pytest.raises(ValueError, match=fragment):
        pg.PlaygroundSettings(hidden=hidden)
    assert pg.check_hidden((32,) * 8) == (32,) * 8


@pytest.mark.parametrize("changes, fragment", [
    ({"dataset": "plane"}, "not a classification set"), ({"lr": 0.05}, "lr must be one of"),
    ({"features": ()}, "at least one input feature"), ({"noise": 60}, "noise must be 0 to 50"),
    ({"batch_size": 7}, "batch_size must be one of"), ({"features": ("x3",)}, "Unknown feature"),
])
def test_impossible_settings_say_what_to_change(changes, fragment):
    with pytest.raises(ValueError, match=fragment):
        pg.PlaygroundSettings(**changes)


def test_url_round_trip_keeps_every_setting():
    s = pg.PlaygroundSettings(problem="regression", dataset="gauss_regression", noise=15,
                              train_pct=70, batch_size=0, data_seed=3, features=("x1", "sin_x2"),
                              hidden=(), activation="relu", lr=0.3, regularization="l2",
                              reg_rate=0.01, optimizer="adam", dropout=0.2, schedule="cosine",
                              early_stopping=20, epochs=500, seed=7, show_test=True)
    params = pg.to_query_params(s, hide={"lr", "activation"})
    assert params["hidden"] == "none" and params["hide"] == "activation,lr"
    back, hide, problems = pg.from_query_params(params)
    assert back == s and hide == {"lr", "activation"} and problems == []


def test_bad_url_values_are_reported_and_skipped():
    back, hide, problems = pg.from_query_params(
        {"dataset": "spiral", "lr": "fast", "hidden": "8,99", "hide": "lr,colour", "noise": "10"})
    assert back.dataset == "spiral" and back.noise == 10
    assert back.lr == pg.DEFAULTS.lr and back.hidden == pg.DEFAULTS.hidden
    assert hide == {"lr"} and len(problems) == 3
    assert any("colour" in p for p in problems) and any("32 neurons" in p for p in problems)
    regression, _, problems = pg.from_query_params({"dataset": "plane"})
    assert regression.problem == "regression" and problems == []


def test_chunk_pacer_aims_at_its_time_budget():
    pacer = pg.ChunkPacer(target_seconds=0.05, max_epochs=200, playing={}, cpu_clock=None)
    assert pacer.next_epochs() == 1
    pacer.record(10, 0.1)                 # 10 ms per epoch
    assert pacer.next_epochs() == 5
    pacer.record(5, 0.005)                # 1 ms per epoch: the average moves halfway
    assert pacer.next_epochs() == int(0.05 / 0.0055)
    for _ in range(20):
        pacer.record(100, 1e-5)
    assert pacer.next_epochs() == 200


def test_snapshots_best_epoch_and_diff():
    s = pg.PlaygroundSettings(dataset="gauss", hidden=(2,))
    session = pg.PlaygroundSession(s)
    with pytest.raises(ValueError, match="at least one epoch"):
        pg.take_snapshot(session, 1)
    session.run_chunk(epochs=6)
    snap = pg.take_snapshot(session, 1)
    losses = [h["val_loss"] for h in snap.history]
    assert snap.best_epoch == int(np.argmin(losses)) + 1 and snap.label.startswith("#1: gauss")
    session.run_chunk(epochs=2)
    assert len(snap.history) == 6      # a snapshot does not follow the run
    assert pg.settings_diff(s, s.replace(lr=0.1, hidden=(4, 4))) == ["hidden: 2 → 4,4",
                                                                      "lr: 0.03 → 0.1"]


def test_objective_shows_the_regularisation_rate():
    assert r"0.003 \sum_w |w|" in pg.objective_latex(
        pg.PlaygroundSettings(regularization="l1", reg_rate=0.003))
    assert "y_i)^2" in pg.objective_latex(pg.PlaygroundSettings(problem="regression",
                                                                dataset="plane"))


SPIRAL = pg.PlaygroundSettings(dataset="spiral", noise=0, train_pct=50, features=("x1", "x2"),
                               hidden=(8, 8, 8), activation="tanh", optimizer="adam", lr=0.03,
                               batch_size=32, epochs=1000, seed=0)


@pytest.mark.slow
def test_spiral_reaches_95_percent_within_1000_epochs():
    session = pg.PlaygroundSession(SPIRAL)
    session.run_chunk(epochs=1000)
    accuracy = [h["val_accuracy"] for h in session.trainer.history]
    assert len(accuracy) == 1000
    assert max(accuracy) >= 0.95 and accuracy[-1] >= 0.95


@pytest.mark.slow
def test_spiral_through_the_cli():
    cmd = [sys.executable, "-m", "nnplay", "train", "--dataset", "spiral", "--n", "500",
           "--test-size", "0.5", "--noise", "0", "--hidden", "8,8,8", "--activation", "tanh",
           "--optimizer", "adam", "--lr", "0.03", "--batch-size", "32", "--epochs", "1000",
           "--seed", "0", "--json"]
    # One OpenMP thread: on a busy 2-core machine a second one makes tiny nets ~30x slower.
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["epochs_run"] == 1000 and summary["test_accuracy"] >= 0.95


def test_single_thread_restores_the_thread_count():
    before = torch.get_num_threads()
    with pg.single_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_training_changes_go_into_the_running_network():
    s = pg.PlaygroundSettings(dataset="gauss", hidden=(3,), lr=0.03, batch_size=10)
    session = pg.PlaygroundSession(s)
    session.run_chunk(epochs=4)
    trainer, weights = session.trainer, pg.network_weights(session.model)
    changed = session.update_training(s.replace(lr=0.3, batch_size=32, regularization="l2",
                                                reg_rate=0.01, optimizer="momentum"))
    assert changed == ["batch_size: 10 → 32", "lr: 0.03 → 0.3", "regularization: none → l2",
                       "reg_rate: 0 → 0.01", "optimizer: sgd → momentum"]
    assert session.trainer is trainer and session.epoch == 4
    np.testing.assert_array_equal(pg.network_weights(session.model)[0], weights[0])
    cfg = trainer.config
    assert (cfg.lr, cfg.batch_size, cfg.l2, cfg.optimizer) == (0.3, 32, 0.01, "momentum")
    session.run_chunk(epochs=2)
    assert session.epoch == 6 and trainer.history[-1]["lr"] == 0.3
    with pytest.raises(ValueError, match="activation: tanh → relu needs a new network"):
        session.update_training(session.settings.replace(activation="relu"))
    assert session.settings.activation == "tanh"


def test_which_settings_need_a_new_network():
    s = pg.PlaygroundSettings()
    for name, value in (("lr", 0.1), ("batch_size", 32), ("regularization", "l1"),
                        ("optimizer", "adam"), ("schedule", "cosine"), ("epochs", 50),
                        ("early_stopping", 5), ("show_test", True)):
        assert s.replace(**{name: value}).model_affecting() == s.model_affecting(), name
    for name, value in (("dataset", "xor"), ("noise", 10), ("train_pct", 70), ("seed", 1),
                        ("features", ("x1",)), ("hidden", (3,)), ("activation", "relu"),
                        ("dropout", 0.1), ("data_seed", 2)):
        assert pg.structural_changes(s, s.replace(**{name: value})), name
    assert pg.structural_changes(s, s.replace(problem="regression", dataset="plane")) == [
        "problem: classification → regression", "dataset: circle → plane"]


def test_play_has_no_epoch_cap_but_a_schedule_ends_and_can_be_lengthened():
    assert pg.PlaygroundSettings(epochs=10).session_config().epochs == pg.MAX_EPOCHS
    s = pg.PlaygroundSettings(dataset="gauss", hidden=(2,), schedule="step", epochs=3)
    session = pg.PlaygroundSession(s)
    session.run_chunk(epochs=10)
    assert session.epoch == 3 and session.trainer.done and "raise" in pg.end_message(session)
    session.update_training(s.replace(epochs=6))
    assert not session.trainer.done and session.run_chunk(epochs=10) == 3
    saved = session.trainer_to_save()
    assert saved.config.epochs == 6 and saved.model is not session.model   # a copy: play goes on
    assert all(torch.equal(a, b) for a, b in zip(saved.model.state_dict().values(),
                                                 session.model.state_dict().values()))
    assert len(saved.history) == 6
    assert session.trainer.config.epochs == 6      # the session's own config is left alone


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 0.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_chunk_pacer_splits_the_round_among_playing_sessions():
    playing, clock = {}, FakeClock(100.0)
    pacers = [pg.ChunkPacer(target_seconds=0.04, round_seconds=0.2, window_seconds=3.0,
                            playing=playing, clock=clock, cpu_clock=None) for _ in range(10)]
    solo = pacers[0]
    solo.next_epochs()
    solo.record(10, 0.01)                 # 1 ms per epoch
    assert solo.next_epochs() == 40       # alone: the whole 40 ms target
    for other in pacers[1:]:
        other.next_epochs()
    assert len(playing) == 10
    assert solo.chunk_seconds(10) == pytest.approx(0.02)
    assert solo.next_epochs() == 20       # 0.2 s per round shared by 10
    slow = pacers[1]
    slow.record(1, 0.5)                   # one epoch costs more than its share: the floor
    assert slow.next_epochs() == 1


def test_chunk_pacer_forgets_sessions_that_stopped_asking():
    playing, clock = {}, FakeClock(0.0)
    a, b = (pg.ChunkPacer(round_seconds=0.1, window_seconds=3.0, playing=playing, clock=clock,
                          cpu_clock=None) for _ in range(2))
    a.next_epochs(), b.next_epochs()
    assert a.playing_now() == 2
    clock.now = 2.0
    assert a.playing_now() == 2           # b paused 2 s ago: still inside the window
    clock.now = 4.0
    assert a.playing_now() == 1           # b stopped asking (paused, stepped or left)
    b.next_epochs()
    b.leave()
    assert a.playing_now() == 1 and id(b) not in playing


def test_chunk_pacer_times_a_chunk_by_cpu_time_not_wall_time():
    cpu = FakeClock(0.0)
    pacer = pg.ChunkPacer(target_seconds=0.04, playing={}, clock=FakeClock(), cpu_clock=cpu)
    pacer.next_epochs()
    cpu.now += 0.008                      # 8 ms of this thread's CPU for 4 epochs...
    pacer.record(4, 0.4)                  # ...though 0.4 s passed while others held the GIL
    assert pacer.seconds_per_epoch_ == pytest.approx(0.002)
    assert pacer.next_epochs() == 20
    assert "playing=1" in repr(pacer)


def test_a_pause_that_arrives_mid_chunk_stops_it_after_the_epoch_in_progress():
    session = pg.PlaygroundSession(pg.PlaygroundSettings(dataset="xor", hidden=(3,)))
    asked = []

    def keep_going() -> bool:
        asked.append(session.epoch)
        return len(asked) <= 2            # the learner pauses while epoch 2 trains

    assert session.run_chunk(epochs=50, keep_going=keep_going) == 2 and session.epoch == 2


def test_a_reader_waits_for_the_chunk_that_another_thread_is_training():
    import threading

    session = pg.PlaygroundSession(pg.PlaygroundSettings(dataset="spiral", hidden=(8, 8)))
    started, seen = threading.Event(), []

    def keep_going() -> bool:
        started.set()
        return True

    worker = threading.Thread(target=session.run_chunk, kwargs={"epochs": 20,
                                                               "keep_going": keep_going})
    worker.start()
    started.wait(5)
    from nnplay.lessons.playground import view
    seen.append(view.view_payload(session)["epoch"])   # waits for the lock, not mid-step
    worker.join()
    assert seen == [20]


def test_others_playing_counts_the_other_sessions_without_marking_this_one():
    clock, playing = FakeClock(), {}
    me, other = (pg.ChunkPacer(playing=playing, clock=clock) for _ in range(2))
    assert me.others_playing() == 0
    other.next_epochs()
    assert me.others_playing() == 1 and id(me) not in playing
    clock.now = 10.0                          # the other stopped asking: its window ran out
    assert me.others_playing() == 0
