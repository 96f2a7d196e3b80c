"""The run store: round trips, lesson and owner, filters, migrating an old file, sorting,
deleting (only your own when an owner is given), JSON export, concurrency and corrupt files."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from nnplay import models, train
from nnplay.train.runs import (
    RunStore,
    RunStoreError,
    comparable_groups,
    default_path,
    json_safe,
    local_owner,
    make_record,
)

ROOT = Path(__file__).resolve().parents[2]


def fake_record(i: int, accuracy: float | None = 0.5, status: str = "completed",
                lesson: str = "notebook", owner: str = "ada", dataset: str = "moons") -> dict:
    return {"lesson": lesson, "owner": owner, "name": f"run {i}", "status": status,
            "device": "CPU", "duration_s": 0.1 * i, "config": {"lr": 0.01 * i},
            "model_spec": {"family": "mlp", "params": {"hidden": [i]}},
            "dataset": {"name": dataset, "params": {"n": 100}},
            "history": [{"epoch": 1, "loss": 1.0 / i, "val_loss": 1.5 / i}],
            "metrics": {"test_accuracy": accuracy, "test_loss": 1.0 / i}, "epochs_run": 1}


def test_default_path_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("NNPLAY_DB", str(tmp_path / "x" / "mine.sqlite"))
    store = RunStore()
    assert store.path == tmp_path / "x" / "mine.sqlite" and store.path.is_file()
    monkeypatch.delenv("NNPLAY_DB")
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_data_dir", lambda app: str(tmp_path / "data" / app))
    assert default_path() == tmp_path / "data" / "nnplay" / "runs.sqlite"


def test_trained_run_round_trips(moons):
    train.seed_everything(0)
    net = models.mlp(2, [8], 2)
    trainer = train.Trainer(net, moons, train.TrainConfig(epochs=5, batch_size=64, seed=0)).fit()
    record = make_record(trainer, {"family": "mlp", "params": {"hidden": [8]}},
                         lesson="training_lab", owner="browser-abc", device="CPU")
    store = RunStore()
    run_id = store.save(record)
    back = store.get(run_id)
    assert back["id"] == run_id and back["status"] == "completed"
    assert back["lesson"] == "training_lab" and back["owner"] == "browser-abc"
    assert "source" not in back and back["dataset"]["task"] == "classification"
    assert back["history"] == json.loads(json.dumps(trainer.history))
    assert back["config"] == trainer.config.to_dict()
    assert train.TrainConfig.from_dict(back["config"]) == trainer.config
    assert back["dataset"]["name"] == "moons" and back["dataset"]["params"] == moons.params
    assert back["metrics"]["test_accuracy"] == pytest.approx(train.evaluate(net, moons)["accuracy"])
    assert back["duration_s"] == pytest.approx(trainer.train_seconds, abs=1e-4)
    assert back["epochs_run"] == 5 and back["device"] == "CPU"


def test_make_record_keeps_the_old_call_and_names_lesson_and_owner(moons):
    trainer = train.Trainer(models.mlp(2, [4], 2), moons,
                            train.TrainConfig(epochs=2, batch_size=64, seed=0)).fit()
    spec = {"family": "mlp", "params": {"hidden": [4]}}
    old = make_record(trainer, spec, "lab", device="CPU", name="mine", metrics={"x": 1.0},
                      dataset_extra={"train_rows": 7})
    assert old["lesson"] == "training_lab" and old["owner"] == local_owner() != ""
    assert old["name"] == "mine" and old["metrics"] == {"x": 1.0}
    assert old["dataset"]["train_rows"] == 7 and "source" not in old
    assert make_record(trainer, spec, source="cli")["lesson"] == "cli"
    assert make_record(trainer, spec, lesson="cnn", owner="browser-1")["owner"] == "browser-1"
    with pytest.raises(ValueError, match="Unknown lesson 'test'"):
        make_record(trainer, spec, "test")
    with pytest.raises(ValueError, match="differ"):
        make_record(trainer, spec, lesson="cnn", source="cli")
    with pytest.raises(ValueError, match="Say which lesson"):
        make_record(trainer, spec)


def test_save_needs_a_known_lesson_and_defaults_the_owner():
    store = RunStore()
    with pytest.raises(ValueError, match="Unknown lesson 'proc'"):
        store.save({**fake_record(1), "lesson": "proc"})
    record = fake_record(1)
    del record["owner"]
    assert store.get(store.save(record))["owner"] == local_owner()
    assert len(store) == 1


def test_list_filters_by_lesson_dataset_and_owner():
    store = RunStore()
    a = store.save(fake_record(1, lesson="training_lab", owner="ada", dataset="moons"))
    b = store.save(fake_record(2, lesson="cnn", owner="bob", dataset="mnist5k"))
    c = store.save(fake_record(3, lesson="training_lab", owner="bob", dataset="iris"))
    ids = lambda **kw: sorted(store.list(**kw)["id"])  # noqa: E731
    assert ids() == [a, b, c]
    assert ids(lesson="training_lab") == [a, c]
    assert ids(lesson=["cnn", "cli"]) == [b]
    assert ids(dataset=["moons", "iris"]) == [a, c]
    assert ids(owner="bob") == [b, c]
    assert ids(lesson="training_lab", owner="bob") == [c]
    assert ids(lesson=[]) == []
    row = store.list(owner="ada").iloc[0]
    assert (row["lesson"], row["owner"], row["task"]) == ("training_lab", "ada", "classification")
    assert store.distinct("lesson") == ["cnn", "training_lab"]
    assert store.distinct("dataset") == ["iris", "mnist5k", "moons"]
    with pytest.raises(ValueError, match="distinct takes"):
        store.distinct("record")


def test_comparable_groups_split_by_dataset_and_task():
    store = RunStore()
    a = store.save(fake_record(1, dataset="moons"))
    b = store.save(fake_record(2, dataset="iris"))
    c = store.save(fake_record(3, dataset="moons"))
    regression = fake_record(4, dataset="moons")
    regression["metrics"] = {"test_rmse": 0.3}
    d = store.save(regression)
    table = store.list(order_by="id", descending=False)
    assert comparable_groups(table) == {("moons", "classification"): [a, c],
                                        ("iris", "classification"): [b],
                                        ("moons", "regression"): [d]}
    assert comparable_groups(table, [c, d]) == {("moons", "classification"): [c],
                                                ("moons", "regression"): [d]}


def test_delete_with_an_owner_refuses_someone_elses_run():
    store = RunStore()
    a, b = store.save(fake_record(1, owner="ada")), store.save(fake_record(2, owner="bob"))
    with pytest.raises(ValueError, match="Run .* belongs to ada.*only its owner can delete it"):
        store.delete(a, owner="bob")
    assert store.ids() == [a, b]  # nothing was deleted
    assert store.delete(a, owner="ada") is True
    assert store.delete(a, owner="ada") is False  # gone already: not an ownership question
    assert store.delete(b) is True  # no owner given: single-user use, the CLI
    assert store.ids() == []


OLD_SCHEMA = """CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL,
    source TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL, dataset TEXT NOT NULL,
    device TEXT NOT NULL, duration_s REAL, record TEXT NOT NULL)"""


def old_database(path: Path) -> None:
    """A runs file as nnplay wrote it before runs had a lesson and an owner."""
    conn = sqlite3.connect(path)
    conn.execute(OLD_SCHEMA)
    for i, source in enumerate(["lab", "cli"], 1):
        rec = {k: v for k, v in fake_record(i).items() if k not in ("lesson", "owner")}
        rec.update(source=source, created=1000.0 + i)
        conn.execute("INSERT INTO runs (created, source, name, status, dataset, device, "
                     "duration_s, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (rec["created"], source, rec["name"], "completed", "moons", "CPU", 0.1,
                      json.dumps(rec)))
    conn.commit()
    conn.close()


def test_an_old_database_gains_lesson_and_owner_and_keeps_its_runs(tmp_path):
    path = tmp_path / "old.sqlite"
    old_database(path)
    store = RunStore(path)
    conn = sqlite3.connect(path)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(runs)")]
    stored = conn.execute("SELECT source, lesson, owner FROM runs ORDER BY id").fetchall()
    conn.close()
    assert columns[-2:] == ["lesson", "owner"]
    assert stored == [("lab", "training_lab", ""), ("cli", "cli", "")]
    lab = store.get(1)
    assert lab["lesson"] == "training_lab" and lab["owner"] == "" and "source" not in lab
    assert lab["history"] == fake_record(1)["history"]
    assert list(store.list(lesson="training_lab")["id"]) == [1]
    new = store.save(fake_record(3, lesson="cnn", owner="ada"))  # the old NOT NULL source is set
    with pytest.raises(ValueError, match="no recorded owner"):
        store.delete(1, owner="ada")
    assert len(RunStore(path)) == 3 and RunStore(path).get(new)["owner"] == "ada"  # opened again


def test_two_threads_opening_an_old_database_migrate_it_once(tmp_path):
    path = tmp_path / "old.sqlite"
    old_database(path)
    barrier, errors = threading.Barrier(2), []

    def open_store():
        barrier.wait()
        try:
            RunStore(path)
        except Exception as err:  # collected so the main thread can fail the test
            errors.append(err)

    threads = [threading.Thread(target=open_store) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(RunStore(path).list()["lesson"]) == ["cli", "training_lab"]


def test_list_sorts_by_any_metric_and_puts_missing_last():
    store = RunStore()
    ids = [store.save(fake_record(i, acc)) for i, acc in enumerate([0.7, None, 0.9, 0.8], 1)]
    table = store.list(order_by="test_accuracy", descending=True)
    assert list(table["id"]) == [ids[2], ids[3], ids[0], ids[1]]
    table = store.list(order_by="test_accuracy", descending=False)
    assert list(table["id"]) == [ids[0], ids[3], ids[2], ids[1]]
    assert list(store.list(order_by="duration_s")["id"]) == ids[::-1]
    assert list(store.list(limit=2)["id"]) == [ids[3], ids[2]]  # newest first by default
    with pytest.raises(ValueError, match="Cannot sort runs by 'nope'"):
        store.list(order_by="nope")


def test_delete_and_export():
    store = RunStore()
    a, b = store.save(fake_record(1)), store.save(fake_record(2))
    exported = json.loads(store.export_json(b))
    assert exported["id"] == b and exported["name"] == "run 2"
    assert store.delete(a) is True and store.delete(a) is False
    assert store.ids() == [b] and len(store) == 1
    with pytest.raises(ValueError, match=f"No run with id {a}"):
        store.get(a)


def test_diverged_run_keeps_its_history_and_json_has_no_nan(plane):
    train.seed_everything(0)
    net = models.mlp(2, [32, 32], 1, activation="linear")
    cfg = train.TrainConfig(optimizer="sgd", lr=50.0, batch_size=0, epochs=40, seed=0)
    trainer = train.Trainer(net, plane, cfg).fit()
    assert trainer.status == "diverged" and trainer.epoch < 40
    store = RunStore()
    run_id = store.save(make_record(trainer, {"family": "mlp", "params": {}}, lesson="notebook"))
    text = store.export_json(run_id)
    assert "NaN" not in text and "Infinity" not in text
    back = json.loads(text)
    assert back["status"] == "diverged" and len(back["history"]) == trainer.epoch
    last = trainer.history[-1]
    bad = [k for k, v in last.items() if isinstance(v, float) and not math.isfinite(v)]
    assert bad and all(back["history"][-1][k] is None for k in bad)
    assert store.list()["status"].tolist() == ["diverged"]


def test_json_safe_converts_numpy_and_non_finite():
    import numpy as np

    out = json_safe({"a": np.float32(1.5), "b": [float("nan"), np.inf], "c": np.arange(2)})
    assert out == {"a": 1.5, "b": [None, None], "c": [0, 1]}


def test_bad_status_is_refused():
    with pytest.raises(ValueError, match="status must be one of"):
        RunStore().save(fake_record(1, status="great"))


@pytest.mark.parametrize("content", [os.urandom(4096), b"not a database at all, just text\n"])
def test_corrupt_file_is_named_and_never_overwritten(tmp_path, content):
    path = tmp_path / "runs.sqlite"
    path.write_bytes(content)
    with pytest.raises(RunStoreError, match=str(path)) as info:
        RunStore(path).save(fake_record(1))
    assert "move or delete" in str(info.value)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.sqlite"]


def test_folder_path_is_a_clear_error(tmp_path):
    with pytest.raises(RunStoreError, match="is a folder"):
        RunStore(tmp_path)


def test_two_threads_saving_at_once_lose_nothing():
    store = RunStore()
    barrier = threading.Barrier(2)
    errors = []

    def worker(offset: int):
        barrier.wait()
        try:
            for i in range(25):
                store.save(fake_record(offset + i + 1))
        except Exception as err:  # collected so the main thread can fail the test
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(k * 100,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    names = sorted(store.list()["name"])
    assert names == sorted([f"run {k * 100 + i + 1}" for k in range(2) for i in range(25)])


WRITER = """
import sys
sys.path.insert(0, {root!r})
from nnplay.train.runs import RunStore
store = RunStore({path!r})
tag = sys.argv[1]
for i in range(20):
    store.save({{"lesson": "cli", "name": f"{{tag}}-{{i}}", "status": "completed",
                "dataset": {{"name": "moons"}}, "history": [], "metrics": {{}}}})
"""


def test_two_processes_saving_at_once_lose_nothing(tmp_path):
    path = tmp_path / "shared.sqlite"
    RunStore(path)  # create the schema once, as the app would
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(root=str(ROOT), path=str(path)))
    procs = [subprocess.Popen([sys.executable, str(script), tag], stderr=subprocess.PIPE,
                              text=True) for tag in ("a", "b")]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    names = set(RunStore(path).list()["name"])
    assert names == {f"{tag}-{i}" for tag in ("a", "b") for i in range(20)}


def test_tensorboard_zip_holds_one_run_folder_of_event_files():
    import io
    import zipfile

    from nnplay.train.tensorboard import tensorboard_zip

    store = RunStore()
    record = store.get(store.save(fake_record(3)))
    names = zipfile.ZipFile(io.BytesIO(tensorboard_zip(record))).namelist()
    assert names and all(n.startswith(f"run-{record['id']}/events.out.tfevents.") for n in names)
