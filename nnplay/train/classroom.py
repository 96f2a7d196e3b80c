"""A workshop's class, kept beside the run store: learners' display names, who is active, the
instructor's broadcasts, and leaderboards per exercise.

Every app replica of a workshop reads and writes the same database as the run store (NNPLAY_DB:
a SQLite file on one machine, PostgreSQL behind several replicas), in two tables of its own:
``workshop_learners`` (owner id, display name, last page, last seen) and ``workshop_messages``
(the instructor's broadcasts: a text, an exercise link, and which exercise's leaderboard learners
see). Names are plain text to the app: pages show them through widgets that escape them, never
as HTML.

An exercise is the data a run learned: runs of the Playground and the Training lab on the same
dataset with the same parameters and training rows compete on one leaderboard, ranked by each
learner's lowest test loss.
"""

from __future__ import annotations

import json
import threading
import time
import unicodedata
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from nnplay.train.runs import RUNS, RunStore

EXERCISE_LESSONS = ("playground", "training_lab")
NAME_MAX = 24
ACTIVE_S = 300              # a learner seen in the last five minutes is active
TEXT_MAX, LINK_MAX = 300, 1000
_SCHEMA_LOCK = 734_551_121  # PostgreSQL advisory lock key while creating the tables

_METADATA = sa.MetaData()
LEARNERS = sa.Table(
    "workshop_learners", _METADATA,
    sa.Column("owner", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False, server_default=""),
    sa.Column("page", sa.Text, nullable=False, server_default=""),
    sa.Column("seen", sa.Float, nullable=False),
)
MESSAGES = sa.Table(
    "workshop_messages", _METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("link", sa.Text, nullable=False, server_default=""),
    sa.Column("exercise", sa.Text, nullable=False, server_default=""),
    sqlite_autoincrement=True,
)
_READY: set[str] = set()       # databases whose tables this process has made sure of
_READY_LOCK = threading.Lock()


class ClassStoreError(ValueError):
    """The class tables cannot be read or written; the message says where."""


def clean_name(text: str) -> str:
    """A display name as typed, trimmed; ValueError saying what to change when it cannot be one."""
    name = " ".join(str(text).split())
    if not name:
        raise ValueError("Type a name, e.g. your first name or a nickname.")
    if len(name) > NAME_MAX:
        raise ValueError(f"Keep the name to {NAME_MAX} characters (this one has {len(name)}).")
    if any(unicodedata.category(ch)[0] == "C" for ch in name):
        raise ValueError("The name has invisible control characters; type it again.")
    return name


def clean_link(link: str) -> str:
    """An exercise link: a page of this app (``playground?dataset=spiral``) or an http(s) URL."""
    link = str(link).strip()
    if not link:
        return ""
    if len(link) > LINK_MAX or any(ch.isspace() for ch in link):
        raise ValueError("An exercise link is one URL without spaces, at most "
                         f"{LINK_MAX} characters.")
    lowered = link.lower()
    if "://" in lowered:
        if not lowered.startswith(("http://", "https://")):
            raise ValueError("An exercise link starts with http:// or https://, or is a page of "
                             "this app such as playground?dataset=spiral.")
        return link
    if ":" in link.split("?")[0] or link.startswith("//"):
        raise ValueError("An exercise link is a page of this app (e.g. playground?dataset=spiral) "
                         "or an http(s) URL.")
    return "/" + link.lstrip("/")


@dataclass(frozen=True)
class Exercise:
    """The data a run learned, as a leaderboard's key, and how a person reads it."""

    key: str       # canonical JSON of the dataset's name, parameters and training rows
    label: str     # e.g. "spiral (noise 10, train_pct 50), 200 training rows"


def exercise_of(record: dict) -> Exercise:
    """The exercise a run record belongs to."""
    ds = record.get("dataset") or {}
    params = {k: v for k, v in sorted((ds.get("params") or {}).items())}
    key = json.dumps({"name": ds.get("name", ""), "params": params,
                      "n_train": ds.get("n_train")}, sort_keys=True, default=str)
    shown = ", ".join(f"{k} {v}" for k, v in params.items() if not isinstance(v, (dict, list)))
    label = f"{ds.get('name', '?')}" + (f" ({shown})" if shown else "")
    if ds.get("n_train"):
        label += f", {ds['n_train']:,} training rows"
    return Exercise(key, label)


def _model_words(record: dict) -> str:
    spec = record.get("model_spec") or {}
    hidden = (spec.get("params") or {}).get("hidden")
    layers = "-".join(str(h) for h in hidden) if isinstance(hidden, (list, tuple)) else ""
    return f"{spec.get('family', '?')} {layers}".strip()


class ClassStore:
    """Names, presence and broadcasts of one workshop, in the run store's database."""

    def __init__(self, runs: RunStore | None = None):
        self.runs = runs if runs is not None else RunStore()
        self.engine = self.runs.engine
        self._facts: dict[int, tuple[Exercise, str]] = {}   # run id -> (exercise, model words)
        with _READY_LOCK:
            if self.runs.location not in _READY:
                self._run(self._create, write=True)
                _READY.add(self.runs.location)

    def _run(self, work, write: bool = False):
        try:
            with self.engine.connect() as conn:
                if not write:
                    return work(conn)
                conn = conn.execution_options(nnplay_write=True)
                with conn.begin():
                    return work(conn)
        except SQLAlchemyError as err:
            reason = str(getattr(err, "orig", None) or err).strip().splitlines()[0]
            raise ClassStoreError(f"The workshop's tables in {self.runs.location} cannot be "
                                  f"used ({reason}).") from None

    def _create(self, conn) -> None:
        if self.engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
        _METADATA.create_all(conn, checkfirst=True)

    def _upsert(self, conn, owner: str, **values) -> None:
        """Insert the learner or update their row, in one statement (two replicas may race)."""
        dialect = self.engine.dialect.name
        if dialect in ("postgresql", "sqlite"):
            from sqlalchemy.dialects import postgresql, sqlite

            insert = (postgresql if dialect == "postgresql" else sqlite).insert(LEARNERS)
            conn.execute(insert.values(owner=owner, **{"seen": time.time(), **values})
                         .on_conflict_do_update(index_elements=[LEARNERS.c.owner], set_=values))
        elif conn.execute(sa.select(LEARNERS.c.owner).where(LEARNERS.c.owner == owner)).first():
            conn.execute(LEARNERS.update().where(LEARNERS.c.owner == owner).values(**values))
        else:
            conn.execute(LEARNERS.insert().values(owner=owner, **{"seen": time.time(), **values}))

    # ---- learners ------------------------------------------------------------------------------
    def set_name(self, owner: str, name: str) -> str:
        """Give ``owner`` a display name (cleaned, and not another learner's); returns it."""
        name = clean_name(name)

        def write(conn) -> None:
            taken = conn.execute(sa.select(LEARNERS.c.owner).where(
                sa.func.lower(LEARNERS.c.name) == name.lower(),
                LEARNERS.c.owner != owner)).first()
            if taken:
                raise ValueError(f"Another learner already uses the name “{name}”; add an "
                                 "initial or pick another.")
            self._upsert(conn, owner, name=name, seen=time.time())

        self._run(write, write=True)
        return name

    def name_of(self, owner: str) -> str:
        """``owner``'s display name, '' when none was chosen."""
        row = self._run(lambda c: c.execute(sa.select(LEARNERS.c.name).where(
            LEARNERS.c.owner == owner)).first())
        return row[0] if row else ""

    def names(self) -> dict[str, str]:
        """Every learner's display name by owner id (learners who chose one)."""
        rows = self._run(lambda c: c.execute(sa.select(LEARNERS.c.owner, LEARNERS.c.name).where(
            LEARNERS.c.name != "")).all())
        return dict(rows)

    def seen(self, owner: str, page: str = "") -> None:
        """Note that ``owner`` is here now, on ``page``."""
        self._run(lambda c: self._upsert(c, owner, page=str(page)[:100], seen=time.time()),
                  write=True)

    def active(self, within_s: float = ACTIVE_S) -> pd.DataFrame:
        """Learners seen in the last ``within_s`` seconds: name, page, seconds ago, runs stored."""
        since = time.time() - within_s
        rows = self._run(lambda c: c.execute(
            sa.select(LEARNERS.c.owner, LEARNERS.c.name, LEARNERS.c.page, LEARNERS.c.seen)
            .where(LEARNERS.c.seen >= since).order_by(LEARNERS.c.seen.desc())).all())
        counts = dict(self._run(lambda c: c.execute(
            sa.select(RUNS.c.owner, sa.func.count()).group_by(RUNS.c.owner)).all()))
        table = pd.DataFrame(
            [{"learner": name or "(no name yet)", "page": page,
              "seen_s_ago": max(0.0, time.time() - seen), "runs": int(counts.get(owner, 0)),
              "owner": owner} for owner, name, page, seen in rows],
            columns=["learner", "page", "seen_s_ago", "runs", "owner"])
        return table

    # ---- broadcasts ----------------------------------------------------------------------------
    def broadcast(self, text: str, link: str = "", exercise: str = "") -> int:
        """Send a message (and an exercise link, and the leaderboard to show) to every learner."""
        text = " ".join(str(text).split())
        if not text and not link:
            raise ValueError("Type a message or an exercise link to send.")
        if len(text) > TEXT_MAX:
            raise ValueError(f"Keep the message to {TEXT_MAX} characters.")
        values = {"created": time.time(), "text": text, "link": clean_link(link),
                  "exercise": str(exercise)}
        return int(self._run(lambda c: c.execute(MESSAGES.insert().values(**values)
                                                 .returning(MESSAGES.c.id)).scalar_one(),
                             write=True))

    def latest_message(self) -> dict | None:
        """The newest broadcast as a dict (id, created, text, link, exercise), None before any."""
        row = self._run(lambda c: c.execute(
            sa.select(MESSAGES).order_by(MESSAGES.c.id.desc()).limit(1)).mappings().first())
        return dict(row) if row else None

    # ---- leaderboards --------------------------------------------------------------------------
    def _runs_with_facts(self) -> pd.DataFrame:
        """Exercise runs (listing rows) with their exercise and model, each record read once."""
        table = self.runs.list(lesson=list(EXERCISE_LESSONS))
        if table.empty:
            return table.assign(exercise=[], label=[], model=[])
        for run_id in table["id"]:
            if int(run_id) not in self._facts:
                try:
                    record = self.runs.get(int(run_id))
                except ValueError:   # deleted since the listing
                    continue
                self._facts[int(run_id)] = (exercise_of(record), _model_words(record))
        known = table[table["id"].map(lambda i: int(i) in self._facts)].copy()
        known["exercise"] = [self._facts[int(i)][0].key for i in known["id"]]
        known["label"] = [self._facts[int(i)][0].label for i in known["id"]]
        known["model"] = [self._facts[int(i)][1] for i in known["id"]]
        return known

    def exercises(self) -> pd.DataFrame:
        """One row per exercise: key, label, runs, learners, best test loss; most runs first."""
        runs = self._runs_with_facts()
        columns = ["exercise", "label", "runs", "learners", "best_test_loss"]
        if runs.empty:
            return pd.DataFrame(columns=columns)
        loss = runs["test_loss"] if "test_loss" in runs else pd.Series(float("nan"), runs.index)
        table = (runs.assign(test_loss=loss).groupby(["exercise", "label"], sort=False)
                 .agg(runs=("id", "size"), learners=("owner", "nunique"),
                      best_test_loss=("test_loss", "min")).reset_index())
        return table.sort_values(["runs", "best_test_loss"], ascending=[False, True],
                                 kind="stable").reset_index(drop=True)[columns]

    def leaderboard(self, exercise: str, names: dict[str, str] | None = None) -> pd.DataFrame:
        """Each learner's best run of ``exercise`` (lowest test loss), best first: rank, learner,
        test loss, test accuracy (NaN for regression), model, epochs, run id and owner id.
        Learners without a name are "(no name yet)"."""
        names = self.names() if names is None else names
        runs = self._runs_with_facts()
        columns = ["rank", "learner", "test_loss", "test_accuracy", "model", "epochs", "run",
                   "owner"]
        if runs.empty or "test_loss" not in runs:
            return pd.DataFrame(columns=columns)
        runs = runs[(runs["exercise"] == exercise) & runs["test_loss"].notna()]
        if runs.empty:
            return pd.DataFrame(columns=columns)
        best = (runs.sort_values(["test_loss", "id"], kind="stable")
                .drop_duplicates("owner").reset_index(drop=True))
        return pd.DataFrame({
            "rank": range(1, len(best) + 1),
            "learner": [names.get(o) or "(no name yet)" for o in best["owner"]],
            "test_loss": best["test_loss"].astype(float),
            "test_accuracy": best["test_accuracy"] if "test_accuracy" in best else float("nan"),
            "model": best["model"], "epochs": best["epochs"], "run": best["id"].astype(int),
            "owner": best["owner"]}, columns=columns)

    def __repr__(self) -> str:
        return f"ClassStore({self.runs.location!r})"
