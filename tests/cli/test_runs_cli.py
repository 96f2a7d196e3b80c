"""`nnplay train` records its run; `nnplay runs list|show|export` read them back."""

from __future__ import annotations

import io
import json
import os

import pytest

from nnplay.cli import main
from nnplay.cli.runs import record_cli_run
from nnplay.train.runs import RunStore

TRAIN = ["train", "--dataset", "moons", "--n", "120", "--hidden", "8", "--epochs", "5", "--json"]


def last_json(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def test_train_records_its_run_and_runs_show_it(capsys, tmp_path):
    assert main(TRAIN) == 0
    summary = last_json(capsys.readouterr().out)
    run_id = summary["run_id"]
    record = RunStore().get(run_id)
    assert record["source"] == "cli" and record["status"] == "completed"
    assert len(record["history"]) == 5 and record["epochs_run"] == 5
    assert record["metrics"]["test_accuracy"] == pytest.approx(summary["test_accuracy"])
    assert record["duration_s"] == pytest.approx(summary["train_seconds"])
    assert record["model_spec"] == {"family": "mlp", "params": {"hidden": [8], "activation": "relu",
                                                                "dropout": 0.0}}
    assert record["dataset"] == {"name": "moons", "params": {"n": 120, "noise": 0.0,
                                                             "test_size": 0.5, "seed": 0}}

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
        RunStore().save({"status": "completed", "dataset": {"name": "x"}})
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
