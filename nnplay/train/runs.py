"""The run store: every finished or stopped training run, kept in one SQLite file.

A run record is a plain JSON-able dict: the training config, the model spec
``{"family", "params"}``, the dataset's name and parameters, the per-epoch history, the final
metrics, the status (completed | early_stopped | stopped | diverged), the device, the training
time in seconds, when it was made and which part of nnplay made it (cli, lab, playground...).

The file lives under the user's data directory unless the environment variable NNPLAY_DB names
another path. Several threads and processes may save at once: the database runs in WAL mode with
a busy timeout and each save is one transaction. A file that is not a readable SQLite database
raises RunStoreError naming it, and is never overwritten.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from pathlib import Path

import numpy as np
import pandas as pd

ENV_VAR = "NNPLAY_DB"
STATUSES = ("completed", "early_stopped", "stopped", "diverged")
BUSY_TIMEOUT_S = 30.0
# Columns every listing has; metric columns (test_accuracy, val_loss, ...) follow them.
BASE_COLUMNS = ("id", "created", "source", "name", "dataset", "family", "status", "epochs",
                "duration_s", "device")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    source TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    dataset TEXT NOT NULL,
    device TEXT NOT NULL,
    duration_s REAL,
    record TEXT NOT NULL
)
"""


class RunStoreError(ValueError):
    """The runs database cannot be opened, read or written; the message names the file."""


def default_path() -> Path:
    """$NNPLAY_DB when set, else runs.sqlite in the user's data directory for nnplay."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("nnplay")) / "runs.sqlite"


def json_safe(value):
    """A copy of ``value`` that JSON can hold: NaN and infinities become None, NumPy becomes Python."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class RunStore:
    """Saves, lists, reads, deletes and exports run records in one SQLite file.

    Each call opens its own short-lived connection, so one RunStore may be shared by threads.
    """

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path).expanduser() if path is not None else default_path()
        self._init_schema()

    # ---- connections -------------------------------------------------------------------------
    def _fail(self, err: Exception) -> RunStoreError:
        return RunStoreError(
            f"The runs database {self.path} cannot be used ({err}). Runs are not being saved; "
            f"move or delete that file (nnplay never overwrites it), or set {ENV_VAR} to "
            "another path.")

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            return conn
        except sqlite3.Error as err:
            raise self._fail(err) from None

    def _execute(self, sql: str, params: tuple = (), write: bool = False) -> list[tuple]:
        """Run one statement in its own transaction; sqlite errors become RunStoreError."""
        conn = self._connect()
        try:
            if write:
                conn.execute("BEGIN IMMEDIATE")  # take the write lock now, waiting up to the timeout
            rows = conn.execute(sql, params).fetchall()
            if write:
                conn.execute("COMMIT")
            return rows
        except sqlite3.Error as err:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise self._fail(err) from None
        finally:
            conn.close()

    def _init_schema(self) -> None:
        if self.path.is_dir():
            raise RunStoreError(f"The runs database path {self.path} is a folder; "
                                f"set {ENV_VAR} to a file path.")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise self._fail(err) from None
        conn = self._connect()
        try:
            # Reading the schema first makes a non-database file fail here, before any write.
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
            conn.execute(_SCHEMA)
        except sqlite3.Error as err:
            raise self._fail(err) from None
        finally:
            conn.close()

    # ---- the API -------------------------------------------------------------------------------
    def save(self, record: dict) -> int:
        """Store one run record (see ``make_record``); returns its new id."""
        rec = json_safe(dict(record))
        rec.pop("id", None)
        status = rec.get("status", "completed")
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}.")
        created = float(rec.setdefault("created", time.time()))
        dataset = rec.get("dataset") or {}
        row = (created, str(rec.get("source", "")), str(rec.get("name", "")), status,
               str(dataset.get("name", "")), str(rec.get("device", "")),
               rec.get("duration_s"), json.dumps(rec, allow_nan=False, sort_keys=True))
        rows = self._execute("INSERT INTO runs (created, source, name, status, dataset, device, "
                             "duration_s, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                             row, write=True)
        return int(rows[0][0])

    def get(self, run_id: int) -> dict:
        """The full record of run ``run_id`` (with its id); ValueError when there is none."""
        rows = self._execute("SELECT id, record FROM runs WHERE id = ?", (_as_id(run_id),))
        if not rows:
            raise ValueError(f"No run with id {run_id} in {self.path}; `nnplay runs list` "
                             "shows the ids.")
        return {"id": rows[0][0], **json.loads(rows[0][1])}

    def ids(self) -> list[int]:
        """Every stored run id, oldest first."""
        return [r[0] for r in self._execute("SELECT id FROM runs ORDER BY id")]

    def list(self, order_by: str = "created", descending: bool = True,
             source: str | None = None, limit: int | None = None) -> pd.DataFrame:
        """One row per run: BASE_COLUMNS then its final metrics, sorted by any column.

        Runs missing the sort column (e.g. accuracy for a regression run) come last.
        """
        sql, params = "SELECT id, record FROM runs", ()
        if source is not None:
            sql, params = sql + " WHERE source = ?", (source,)
        rows = [_summary_row(rid, json.loads(text)) for rid, text in self._execute(sql, params)]
        table = pd.DataFrame(rows)
        if table.empty:
            return pd.DataFrame(columns=list(BASE_COLUMNS))
        if order_by not in table.columns:
            raise ValueError(f"Cannot sort runs by {order_by!r}; choose one of "
                             f"{', '.join(table.columns)}.")
        table = table.sort_values([order_by, "id"], ascending=[not descending, not descending],
                                  na_position="last", kind="stable")
        if limit is not None:
            table = table.head(int(limit))
        return table.reset_index(drop=True)

    def delete(self, run_id: int) -> bool:
        """Remove a run; True when it existed."""
        rows = self._execute("DELETE FROM runs WHERE id = ? RETURNING id", (_as_id(run_id),),
                             write=True)
        return bool(rows)

    def export_json(self, run_id: int) -> str:
        """The run's full record as pretty JSON (no NaN: missing numbers are null)."""
        return json.dumps(self.get(run_id), indent=2, sort_keys=True, allow_nan=False)

    def __len__(self) -> int:
        return int(self._execute("SELECT count(*) FROM runs")[0][0])

    def __repr__(self) -> str:
        return f"RunStore({str(self.path)!r})"


def _as_id(run_id) -> int:
    try:
        return int(run_id)
    except (TypeError, ValueError):
        raise ValueError(f"A run id is a whole number, got {run_id!r}.") from None


def _summary_row(run_id: int, rec: dict) -> dict:
    """A flat row for tables: the base facts plus every final metric."""
    row = {"id": run_id,
           "created": pd.Timestamp(rec.get("created", 0), unit="s").strftime("%Y-%m-%d %H:%M:%S"),
           "source": rec.get("source", ""), "name": rec.get("name", ""),
           "dataset": (rec.get("dataset") or {}).get("name", ""),
           "family": (rec.get("model_spec") or {}).get("family", ""),
           "status": rec.get("status", ""), "epochs": rec.get("epochs_run"),
           "duration_s": rec.get("duration_s"), "device": rec.get("device", "")}
    for key, value in (rec.get("metrics") or {}).items():
        row[key] = np.nan if value is None else value
    return row


# ---- building records ----------------------------------------------------------------------------
def final_metrics(trainer) -> dict:
    """The last epoch's train/validation numbers plus test metrics (None where not finite)."""
    from nnplay.train import evaluate

    last = trainer.history[-1] if trainer.history else {}
    metrics = {k: last[k] for k in ("loss", "accuracy", "val_loss", "val_accuracy", "val_rmse",
                                    "val_r2") if k in last}
    metrics["train_loss"] = metrics.pop("loss", None)
    if "accuracy" in metrics:
        metrics["train_accuracy"] = metrics.pop("accuracy")
    if trainer.status != "diverged" and trainer.history:
        test = evaluate(trainer.model, trainer.dataset)
        metrics.update({f"test_{k}": v for k, v in test.items()})
    return json_safe(metrics)


def make_record(trainer, model_spec: dict, source: str, device: str = "",
                name: str = "", metrics: dict | None = None, dataset_extra: dict | None = None
                ) -> dict:
    """A run record from a Trainer that has stopped (any terminal status or paused).

    ``metrics`` defaults to ``final_metrics(trainer)``; ``dataset_extra`` adds facts about the
    data beyond its loader parameters (e.g. how many training rows were kept).
    """
    ds = trainer.dataset
    status = trainer.status if trainer.status in STATUSES else "stopped"
    return json_safe({
        "created": time.time(), "source": source, "name": name or f"{model_spec.get('family', 'model')} "
                                                                   f"on {ds.name}",
        "status": status, "stop_reason": trainer.stop_reason,
        "config": trainer.config.to_dict(), "model_spec": dict(model_spec),
        "dataset": {"name": ds.name, "params": dict(ds.params), "task": ds.task,
                    "n_train": ds.n_train, **(dataset_extra or {})},
        "history": trainer.history_copy(),
        "metrics": final_metrics(trainer) if metrics is None else dict(metrics),
        "epochs_run": trainer.epoch, "device": device or str(trainer.device),
        "duration_s": round(trainer.train_seconds, 4),
    })
