"""The run store: every finished or stopped training run, in SQLite (the default) or any
database SQLAlchemy reaches (PostgreSQL for a workshop's replicas).

A run record is a plain JSON-able dict: the training config, the model spec
``{"family", "params"}``, the dataset's name, task and parameters, the per-epoch history, the
final metrics, the status (completed | early_stopped | stopped | diverged), the device, the
training time in seconds, when it was made, the ``lesson`` that made it (an id from
``nnplay.lessons.SOURCES``: a lesson, or cli, notebook, upload), its ``owner`` (a browser's
owner id on a shared server, else the operating-system user) and, since Green AI, its
``green`` footprint (FLOPs, energy, CO2 and how they were estimated; ``nnplay.train.green``).
Listings show ``flops``, ``energy_kwh`` and ``co2_kg`` from it, or from the last epoch of the
history (runs recorded without it); older records simply have none.

Where: the environment variable NNPLAY_DB holds a file path (SQLite) or a database URL such as
``postgresql+psycopg://nnplay@127.0.0.1:5432/nnplay``; unset, runs.sqlite in the user's data
directory. The app creates the table and migrates older ones. Several threads, processes and
app replicas may save at once: each save is one transaction (SQLite: WAL mode, a busy timeout and
an immediate write lock; PostgreSQL: its own row locking, and an advisory lock while the schema
is created). A file that is not a readable SQLite database, or a database that cannot be reached,
raises RunStoreError naming it (the password hidden), and is never overwritten. A database
written before runs had a lesson and an owner gains those columns when it is first opened; its
old records keep reading (their ``source`` becomes ``lesson``, "lab" is "training_lab"; their
owner is unknown, "").
"""

from __future__ import annotations

import getpass
import json
import math
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from nnplay.train.record import check_source

ENV_VAR = "NNPLAY_DB"
STATUSES = ("completed", "early_stopped", "stopped", "diverged")
BUSY_TIMEOUT_S = 30.0
# Columns every listing has; metric columns (test_accuracy, val_loss, ...) follow them.
BASE_COLUMNS = ("id", "created", "lesson", "owner", "name", "dataset", "task", "family", "status",
                "epochs", "duration_s", "device")
# What older nnplay versions wrote as a record's "source", in today's lesson ids.
LEGACY_LESSONS = {"lab": "training_lab"}

# `source` holds the lesson again so that older nnplay versions sharing a file can still insert
# and filter; `lesson` and `owner` come last because older files gain them by ALTER TABLE.
_METADATA = sa.MetaData()
RUNS = sa.Table(
    "runs", _METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("dataset", sa.Text, nullable=False),
    sa.Column("device", sa.Text, nullable=False),
    sa.Column("duration_s", sa.Float),
    sa.Column("record", sa.Text, nullable=False),
    sa.Column("lesson", sa.Text, nullable=False, server_default=""),
    sa.Column("owner", sa.Text, nullable=False, server_default=""),
    sqlite_autoincrement=True,
)
_ADDED_COLUMNS = ("lesson", "owner")
_SCHEMA_LOCK = 734_551_120          # PostgreSQL advisory lock key while creating the table
_ENGINES: dict[str, sa.Engine] = {}
_ENGINES_LOCK = threading.Lock()


class RunStoreError(ValueError):
    """The runs database cannot be opened, read or written; the message names the database."""


def is_url(location) -> bool:
    """True for a database URL (``dialect[+driver]://...``), False for a file path."""
    return isinstance(location, str) and "://" in location


def default_location() -> str | Path:
    """$NNPLAY_DB when set (a path or a URL), else runs.sqlite in the user's data directory."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return env if is_url(env) else Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("nnplay")) / "runs.sqlite"


def default_path() -> Path | None:
    """The SQLite file the store uses by default (None when NNPLAY_DB is a database URL)."""
    where = default_location()
    return None if is_url(where) else where


def local_owner() -> str:
    """The operating-system user: who owns runs made from the CLI, a notebook or a local app."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in this environment
        return "local"


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


def record_lesson(record: dict) -> str:
    """The lesson id of a record, new (``lesson``) or old (``source``, "lab" meaning training_lab)."""
    lesson = record.get("lesson") or record.get("source") or ""
    return LEGACY_LESSONS.get(lesson, lesson)


def record_task(record: dict) -> str:
    """classification | regression | "" : from the dataset facts, else from the metrics' names."""
    task = (record.get("dataset") or {}).get("task")
    if task:
        return str(task)
    keys = set(record.get("metrics") or {}) | {k for row in record.get("history") or []
                                                for k in row}
    if keys & {"test_accuracy", "train_accuracy", "val_accuracy", "accuracy"}:
        return "classification"
    if keys & {"test_rmse", "test_r2", "val_rmse", "val_r2"}:
        return "regression"
    return ""


def _in(column: str, wanted):
    """``column = value`` for one value, ``column IN (...)`` for several (none matches nothing)."""
    values = [wanted] if isinstance(wanted, str) else list(wanted)
    return RUNS.c[column].in_(values) if len(values) != 1 else RUNS.c[column] == values[0]


def _sqlite_engine(path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.NullPool,
                              connect_args={"timeout": BUSY_TIMEOUT_S,
                                            "isolation_level": None})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):
        # Reading the schema first makes a file that is no database fail here, before any write.
        dbapi_conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        dbapi_conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        dbapi_conn.execute("PRAGMA journal_mode = WAL").fetchone()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):   # a write takes the lock at BEGIN, waiting up to the busy timeout
        write = conn.get_execution_options().get("nnplay_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _engine(location) -> sa.Engine:
    """One engine per database per process (a pool for servers; plain connections for SQLite)."""
    key = str(location)
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            if is_url(location):
                _ENGINES[key] = sa.create_engine(location, pool_pre_ping=True, pool_size=5,
                                                 max_overflow=5, pool_recycle=1800)
            else:
                _ENGINES[key] = _sqlite_engine(Path(location))
        return _ENGINES[key]


class RunStore:
    """Saves, lists, reads, deletes and exports run records in one database.

    ``where``: a SQLite file path or a database URL (default: ``default_location()``). Each call
    is one short transaction, so one RunStore may be shared by threads.
    """

    def __init__(self, where: str | os.PathLike | None = None):
        where = default_location() if where is None else where
        self.url = str(where) if is_url(where) else None
        self.path = None if self.url else Path(where).expanduser()
        try:
            self.engine = _engine(self.url or self.path)
        except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as err:
            raise self._fail(err) from None
        self._init_schema()

    @property
    def location(self) -> str:
        """Where the runs are, for a person: the file, or the URL without its password."""
        if self.url:
            return self.engine.url.render_as_string(hide_password=True)
        return str(self.path)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # ---- transactions ------------------------------------------------------------------------
    def _fail(self, err: Exception) -> RunStoreError:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if self.url:
            where = self.url
            try:
                where = sa.engine.make_url(self.url).render_as_string(hide_password=True)
            except ArgumentError:
                pass
            return RunStoreError(
                f"The runs database {where} cannot be used ({reason}). Runs are not being "
                f"saved; check that the server is running and the URL in {ENV_VAR} is right "
                "(e.g. postgresql+psycopg://user:password@host:5432/dbname), or unset it to use "
                "a local SQLite file.")
        return RunStoreError(
            f"The runs database {self.path} cannot be used ({reason}). Runs are not being saved; "
            f"move or delete that file (nnplay never overwrites it), or set {ENV_VAR} to "
            "another path.")

    def _run(self, work, write: bool = False):
        """``work(connection)`` in one transaction (committed when it returns, rolled back when
        it raises); database errors become RunStoreError."""
        try:
            with self.engine.connect() as conn:
                if not write:
                    return work(conn)
                conn = conn.execution_options(nnplay_write=True)
                with conn.begin():
                    return work(conn)
        except SQLAlchemyError as err:
            raise self._fail(getattr(err, "orig", None) or err) from None

    def _init_schema(self) -> None:
        if self.path is not None:
            if self.path.is_dir():
                raise RunStoreError(f"The runs database path {self.path} is a folder; "
                                    f"set {ENV_VAR} to a file path.")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise self._fail(err) from None

        def columns(conn) -> set[str]:
            inspector = sa.inspect(conn)
            if not inspector.has_table("runs"):
                return set()
            return {c["name"] for c in inspector.get_columns("runs")}

        if not set(_ADDED_COLUMNS) <= self._run(columns):  # new database, or one to migrate
            self._run(self._create_or_migrate, write=True)

    def _create_or_migrate(self, conn) -> None:
        """Create the table, or add ``lesson`` and ``owner`` to an older one, filled from each
        record. Inside the caller's write transaction: two processes opening an old database at
        once migrate it once (SQLite's write lock; PostgreSQL's advisory lock)."""
        if self.dialect == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
        _METADATA.create_all(conn, checkfirst=True)
        present = {c["name"] for c in sa.inspect(conn).get_columns("runs")}
        missing = [c for c in _ADDED_COLUMNS if c not in present]
        for column in missing:
            conn.exec_driver_sql(f"ALTER TABLE runs ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")
        if missing:
            rows = conn.execute(sa.select(RUNS.c.id, RUNS.c.record)).all()
            for rid, text in rows:
                rec = json.loads(text)
                conn.execute(RUNS.update().where(RUNS.c.id == rid).values(
                    lesson=record_lesson(rec), owner=str(rec.get("owner") or "")))

    # ---- the API -------------------------------------------------------------------------------
    def save(self, record: dict) -> int:
        """Store one run record (see ``make_record``); returns its new id.

        The record must name its lesson; a record without an owner belongs to ``local_owner()``.
        """
        rec = json_safe(dict(record))
        rec.pop("id", None)
        lesson = check_source(record_lesson(rec))
        rec.pop("source", None)
        rec["lesson"] = lesson
        rec["owner"] = owner = str(rec.get("owner") or local_owner())
        status = rec.get("status", "completed")
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}.")
        created = float(rec.setdefault("created", time.time()))
        dataset = rec.get("dataset") or {}
        row = {"created": created, "source": lesson, "lesson": lesson, "owner": owner,
               "name": str(rec.get("name", "")), "status": status,
               "dataset": str(dataset.get("name", "")), "device": str(rec.get("device", "")),
               "duration_s": rec.get("duration_s"),
               "record": json.dumps(rec, allow_nan=False, sort_keys=True)}
        return int(self._run(lambda conn: conn.execute(
            RUNS.insert().values(**row).returning(RUNS.c.id)).scalar_one(), write=True))

    def get(self, run_id: int) -> dict:
        """The full record of run ``run_id`` (with its id); ValueError when there is none."""
        rid = _as_id(run_id)
        row = self._run(lambda conn: conn.execute(
            sa.select(RUNS.c.id, RUNS.c.lesson, RUNS.c.owner, RUNS.c.record)
            .where(RUNS.c.id == rid)).first())
        if row is None:
            raise ValueError(f"No run with id {run_id} in {self.location}; `nnplay runs list` "
                             "shows the ids.")
        rid, lesson, owner, text = row
        return {"id": rid, **_current_shape(json.loads(text), lesson, owner)}

    def ids(self) -> list[int]:
        """Every stored run id, oldest first."""
        return list(self._run(lambda conn: conn.execute(
            sa.select(RUNS.c.id).order_by(RUNS.c.id)).scalars().all()))

    def list(self, order_by: str = "created", descending: bool = True,
             lesson: str | Iterable[str] | None = None, dataset: str | Iterable[str] | None = None,
             owner: str | Iterable[str] | None = None, limit: int | None = None) -> pd.DataFrame:
        """One row per run: BASE_COLUMNS then its final metrics, sorted by any column.

        ``lesson``, ``dataset`` and ``owner`` keep only runs with that value (or one of several
        values; an empty list keeps none). Runs missing the sort column (e.g. accuracy for a
        regression run) come last.
        """
        query = sa.select(RUNS.c.id, RUNS.c.lesson, RUNS.c.owner, RUNS.c.record)
        for column, wanted in (("lesson", lesson), ("dataset", dataset), ("owner", owner)):
            if wanted is not None:
                query = query.where(_in(column, wanted))
        rows = [_summary_row(rid, _current_shape(json.loads(text), les, own))
                for rid, les, own, text in self._run(lambda conn: conn.execute(query).all())]
        table = pd.DataFrame(rows)
        if table.empty:
            return pd.DataFrame(columns=list(BASE_COLUMNS))
        table = sort_runs(table, order_by, descending)
        return table if limit is None else table.head(int(limit))

    def distinct(self, column: str) -> list[str]:
        """The different values of ``lesson``, ``dataset`` or ``owner`` among stored runs, sorted."""
        if column not in ("lesson", "dataset", "owner"):
            raise ValueError(f"distinct takes lesson, dataset or owner, got {column!r}.")
        col = RUNS.c[column]
        return list(self._run(lambda conn: conn.execute(
            sa.select(col).distinct().order_by(col)).scalars().all()))

    def delete(self, run_id: int, owner: str | None = None) -> bool:
        """Remove a run; True when it existed.

        With ``owner`` given, a run that belongs to someone else is refused with a ValueError
        (nothing is deleted); without it any run may go (single-user use, the CLI).
        """
        rid = _as_id(run_id)

        def remove(conn) -> bool:
            row = conn.execute(sa.select(RUNS.c.owner).where(RUNS.c.id == rid)).first()
            if row is None:
                return False
            if owner is not None and row[0] != owner:
                who = row[0] or "no recorded owner (it was saved before runs had owners)"
                raise ValueError(f"Run {rid} belongs to {who}, not to {owner}; only its owner "
                                 "can delete it.")
            conn.execute(RUNS.delete().where(RUNS.c.id == rid))
            return True

        return self._run(remove, write=True)

    def export_json(self, run_id: int) -> str:
        """The run's full record as pretty JSON (no NaN: missing numbers are null)."""
        return json.dumps(self.get(run_id), indent=2, sort_keys=True, allow_nan=False)

    def __len__(self) -> int:
        return int(self._run(lambda conn: conn.execute(
            sa.select(sa.func.count()).select_from(RUNS)).scalar_one()))

    def __repr__(self) -> str:
        return f"RunStore({self.location!r})"


def _current_shape(rec: dict, lesson: str, owner: str) -> dict:
    """A stored record as today's shape: ``lesson`` and ``owner`` from the table, no ``source``."""
    rec = dict(rec)
    rec.pop("source", None)
    rec["lesson"], rec["owner"] = lesson, owner
    return rec


def _as_id(run_id) -> int:
    try:
        return int(run_id)
    except (TypeError, ValueError):
        raise ValueError(f"A run id is a whole number, got {run_id!r}.") from None


def _summary_row(run_id: int, rec: dict) -> dict:
    """A flat row for tables: the base facts plus every final metric."""
    row = {"id": run_id,
           "created": pd.Timestamp(rec.get("created", 0), unit="s").strftime("%Y-%m-%d %H:%M:%S"),
           "lesson": rec["lesson"], "owner": rec["owner"], "name": rec.get("name", ""),
           "dataset": (rec.get("dataset") or {}).get("name", ""), "task": record_task(rec),
           "family": (rec.get("model_spec") or {}).get("family", ""),
           "status": rec.get("status", ""), "epochs": rec.get("epochs_run"),
           "duration_s": rec.get("duration_s"), "device": rec.get("device", "")}
    for key, value in (rec.get("metrics") or {}).items():
        row[key] = np.nan if value is None else value
    row.update({k: v for k, v in record_footprint(rec).items() if v is not None})
    return row


def record_footprint(record: dict) -> dict:
    """``flops``, ``energy_kwh`` and ``co2_kg`` of a run record (None where it has none): from
    its ``green`` footprint, else the totals in its history's last epoch (no CO2 there)."""
    green = record.get("green") or {}
    last = (record.get("history") or [{}])[-1] or {}
    return {key: green.get(key, last.get(key)) for key in ("flops", "energy_kwh")} | {
        "co2_kg": green.get("co2_kg")}


def sort_runs(table: pd.DataFrame, order_by: str = "created", descending: bool = True
              ) -> pd.DataFrame:
    """A ``RunStore.list()`` frame sorted by one column, newest id first on ties, missing last."""
    if order_by not in table.columns:
        raise ValueError(f"Cannot sort runs by {order_by!r}; choose one of "
                         f"{', '.join(table.columns)}.")
    return table.sort_values([order_by, "id"], ascending=[not descending, not descending],
                             na_position="last", kind="stable").reset_index(drop=True)


def comparable_groups(table: pd.DataFrame, ids: Iterable[int] | None = None
                      ) -> dict[tuple[str, str], list[int]]:
    """Runs whose curves may share one plot: grouped by (dataset, task), in the table's order.

    ``table`` is a ``RunStore.list()`` frame; ``ids`` picks some of its runs (default: all).
    """
    wanted = None if ids is None else set(ids)
    groups: dict[tuple[str, str], list[int]] = {}
    for row in table.itertuples():
        if wanted is None or row.id in wanted:
            groups.setdefault((row.dataset, row.task), []).append(int(row.id))
    return groups


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


def make_record(trainer, model_spec: dict, lesson: str | None = None, device: str = "",
                name: str = "", metrics: dict | None = None, dataset_extra: dict | None = None,
                *, owner: str | None = None, source: str | None = None) -> dict:
    """A run record from a Trainer that has stopped (any terminal status or paused).

    ``lesson`` is the id of what made the run (``nnplay.lessons.SOURCES``; ``source`` is its old
    name and "lab" its old value for training_lab). ``owner`` defaults to ``local_owner()``;
    a page on a shared server passes ``nnplay.ui.owner.owner_id()``. ``metrics`` defaults to
    ``final_metrics(trainer)``; ``dataset_extra`` adds facts about the data beyond its loader
    parameters (e.g. how many training rows were kept).
    """
    ds = trainer.dataset
    status = trainer.status if trainer.status in STATUSES else "stopped"
    footprint = trainer.footprint() if hasattr(trainer, "footprint") else None
    return _record(
        lesson=_one_lesson(lesson, source), owner=owner,
        name=name or f"{model_spec.get('family', 'model')} on {ds.name}",
        status=status, stop_reason=trainer.stop_reason, config=trainer.config.to_dict(),
        model_spec=dict(model_spec),
        dataset={"name": ds.name, "params": dict(ds.params), "task": ds.task,
                 "n_train": ds.n_train, **(dataset_extra or {})},
        history=trainer.history_copy(),
        metrics=final_metrics(trainer) if metrics is None else dict(metrics),
        epochs_run=trainer.epoch, device=device or str(trainer.device),
        duration_s=round(trainer.train_seconds, 4),
        green=None if footprint is None else footprint.to_dict())


def _one_lesson(lesson: str | None, source: str | None) -> str:
    if lesson is not None and source is not None and lesson != source:
        raise ValueError(f"Give the lesson once: lesson={lesson!r} and source={source!r} differ.")
    given = lesson if lesson is not None else source
    if not given:
        raise ValueError("Say which lesson made this run: lesson='training_lab', 'cli', "
                         "'notebook', ...")
    return check_source(LEGACY_LESSONS.get(given, given))


def _record(*, lesson: str, owner: str | None, name: str, status: str, stop_reason: str,
            config: dict, model_spec: dict, dataset: dict, history: list[dict], metrics: dict,
            epochs_run: int, device: str, duration_s: float | None,
            green: dict | None = None) -> dict:
    """The one shape of a run record; ``make_record`` and the CLI's recorder fill it (``green``:
    the run's footprint, left out when it was not measured)."""
    return json_safe({
        "created": time.time(), "lesson": check_source(lesson), "owner": owner or local_owner(),
        "name": name, "status": status, "stop_reason": stop_reason, "config": config,
        "model_spec": model_spec, "dataset": dataset, "history": history, "metrics": metrics,
        "epochs_run": epochs_run, "device": device, "duration_s": duration_s,
        **({"green": green} if green is not None else {}),
    })
