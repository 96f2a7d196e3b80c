"""`nnplay train` records its run; `nnplay runs list|show|export` read them back, as JSON or as
TensorBoard event files (read back with TensorBoard's own reader)."""

from __future__ import annotations

import io
import json
import math
import os
import sys

import pytest

from nnplay.cli import main
from nnplay.cli.runs import record_cli_run
from nnplay.train.runs import RunStore, local_owner

TRAIN = ["train", "--dataset", "moons", "--n", "120", "--hidden", "8", "--epochs", "5", "--json"]


def last_json(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def test_train_records_its_run_and_runs_show_it(capsys, tmp_path):
    assert main(TRAIN) == 0
    summary = last_json(capsys.readouterr().out)
    run_id = summary["run_id"]
    record = RunStore().get(run_id)
    assert record["lesson"] == "cli" and record["owner"] == local_owner()
    assert record["status"] == "completed"
    assert len(record["history"]) == 5 and record["epochs_run"] == 5
    assert record["metrics"]["test_accuracy"] == pytest.approx(summary["test_accuracy"])
    assert record["duration_s"] == pytest.approx(summary["train_seconds"])
    assert record["model_spec"] == {"family": "mlp", "params": {"hidden": [8], "activation": "relu",
                                                                "dropout": 0.0}}
    assert record["dataset"] == {"name": "moons", "task": "classification",
                                 "params": {"n": 120, "noise": 0.0, "test_size": 0.5, "seed": 0}}

    assert main(["runs", "list", "--sort", "test_accuracy"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert "test_accuracy" in listing[0] and listing[1].split()[0] == str(run_id)

    assert main(["runs", "show", str(run_id)]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == run_id

    target = tmp_path / "run.json"
    assert main(["runs", "export", str(run_id), str(target)]) == 0
    assert json.loads(target.read_text())["history"] == record["history"]


def test_no_record_skips_the_store(capsys):
    assert main([*TRAIN, "--no-record"]) == 0
    assert "run_id" not in last_json(capsys.readouterr().out)
    assert len(RunStore()) == 0
    assert main(["runs", "list"]) == 0
    assert "No runs stored yet" in capsys.readouterr().out


@pytest.mark.parametrize("argv, needle", [
    (["runs", "show", "42"], "No run with id 42"),
    (["runs", "list", "--sort", "bogus"], "Cannot sort runs by 'bogus'"),
    (["runs"], "say what to do"),
])
def test_bad_requests_are_one_line_errors(capsys, argv, needle):
    if argv[-1] == "bogus":
        RunStore().save({"lesson": "cli", "status": "completed", "dataset": {"name": "x"}})
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_corrupt_database_does_not_stop_training(capsys, tmp_path, monkeypatch):
    bad = tmp_path / "broken.sqlite"
    content = os.urandom(1000)
    bad.write_bytes(content)
    monkeypatch.setenv("NNPLAY_DB", str(bad))
    assert main(TRAIN) == 0
    captured = capsys.readouterr()
    assert last_json(captured.out)["status"] == "completed"
    assert "not recorded" in captured.err and str(bad) in captured.err
    assert bad.read_bytes() == content
    assert main(["runs", "list"]) == 2
    assert str(bad) in capsys.readouterr().err


def test_record_cli_run_keeps_diverged_history_without_nan():
    history = [{"epoch": 1, "loss": 3.0, "val_loss": 4.0},
               {"epoch": 2, "loss": float("inf"), "val_loss": float("nan")}]
    summary = {"dataset": "plane", "model": "MLP", "status": "diverged", "epochs_run": 2,
               "train_loss": float("inf"), "test_loss": None, "train_seconds": 0.5,
               "device": "CPU", "config": {"lr": 90.0}}
    run_id = record_cli_run(summary, history, err=io.StringIO())
    text = RunStore().export_json(run_id)
    assert "NaN" not in text and "Infinity" not in text
    back = json.loads(text)
    assert back["status"] == "diverged" and back["history"][1]["loss"] is None
    assert back["history"][0] == history[0]


def fake(dataset: str, lesson: str, owner: str) -> dict:
    return {"lesson": lesson, "owner": owner, "name": f"{lesson} on {dataset}",
            "status": "completed", "dataset": {"name": dataset}, "history": [],
            "metrics": {"test_accuracy": 0.5}}


def test_list_filters_by_lesson_dataset_and_owner(capsys):
    store = RunStore()
    a = store.save(fake("moons", "training_lab", "ada"))
    b = store.save(fake("iris", "cli", "bob"))
    for argv, expected in [([], {a, b}), (["--lesson", "cli"], {b}),
                           (["--dataset", "moons"], {a}), (["--owner", "bob"], {b})]:
        assert main(["runs", "list", *argv]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert "lesson" in lines[0] and "owner" in lines[0]
        assert {int(line.split()[0]) for line in lines[1:]} == expected, argv
    assert main(["runs", "list", "--lesson", "cnn"]) == 0
    assert "No runs match" in capsys.readouterr().out


def read_scalars(directory):
    """{tag: [(step, value), ...]} and the EventAccumulator, read with TensorBoard's own reader."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(directory))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)]
            for tag in events.Tags()["scalars"]}, events


def test_tensorboard_export_reads_back_as_the_history(capsys, tmp_path):
    assert main([*TRAIN, "--epochs", "4"]) == 0
    run_id = last_json(capsys.readouterr().out)["run_id"]
    record = RunStore().get(run_id)
    target = tmp_path / "tb"
    assert main(["runs", "export", str(run_id), str(target), "--format", "tensorboard"]) == 0
    assert "tensorboard --logdir" in capsys.readouterr().out
    scalars, events = read_scalars(target)
    history = record["history"]
    for key, tag in [("loss", "train/loss"), ("accuracy", "train/accuracy"), ("lr", "train/lr"),
                     ("grad_norm", "train/grad_norm"), ("val_loss", "val/loss"),
                     ("val_accuracy", "val/accuracy")]:
        assert [s for s, _ in scalars[tag]] == [row["epoch"] for row in history] == [1, 2, 3, 4]
        assert [v for _, v in scalars[tag]] == pytest.approx([row[key] for row in history],
                                                             rel=1e-6), tag
    assert scalars["test/accuracy"] == [(4, pytest.approx(record["metrics"]["test_accuracy"]))]
    text = events.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
    assert '"lr": 0.01' in text and '"lesson": "cli"' in text
    from tensorboard.plugins.hparams import plugin_data_pb2

    start = plugin_data_pb2.HParamsPluginData.FromString(
        events.PluginTagToContent("hparams")["_hparams_/session_start_info"]).session_start_info
    assert start.hparams["lr"].number_value == pytest.approx(record["config"]["lr"])
    assert start.hparams["dataset"].string_value == "moons"
    # a folder that already holds files is refused, not mixed with another run
    assert main(["runs", "export", str(run_id), str(target), "--format", "tensorboard"]) == 2
    assert "not an empty folder" in capsys.readouterr().err


def test_tensorboard_export_skips_non_finite_points(tmp_path):
    from nnplay.train.tensorboard import export_tensorboard

    history = [{"epoch": 1, "loss": 3.0, "val_loss": 4.0}, {"epoch": 2, "loss": None,
                                                            "val_loss": 5.0}]
    scalars, _ = read_scalars(export_tensorboard({"lesson": "cli", "history": history},
                                                 tmp_path / "tb"))
    assert scalars["train/loss"] == [(1, 3.0)] and scalars["val/loss"] == [(1, 4.0), (2, 5.0)]
    assert all(math.isfinite(v) for points in scalars.values() for _, v in points)


def test_tensorboard_missing_is_one_line_and_exit_2(capsys, tmp_path, monkeypatch):
    run_id = RunStore().save(fake("moons", "cli", "ada"))
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import now fails
    target = tmp_path / "tb"
    assert main(["runs", "export", str(run_id), str(target), "--format", "tensorboard"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nnplay[tensorboard]" in err and "Traceback" not in err
    assert not target.exists()
