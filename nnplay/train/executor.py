"""Where long jobs run: threads of this process (the default), or a Dask cluster started outside.

One interface, ``get_executor().submit(job, owner)``, for every page's background work:

- On a laptop (the default) a job starts in its own thread at once, exactly as ``job.start()``.
- On a workshop server (NNPLAY_WORKSHOP=1 or NNPLAY_SHARED=1) jobs wait in a FairQueue: at most
  NNPLAY_JOB_SLOTS run at once in this process (default: one per core), one per learner, and turns
  go round the learners, so nobody's five jobs hold up everyone else. A learner may have
  NNPLAY_JOBS_PER_LEARNER jobs running or waiting (default 3); a waiting job's ``describe()`` says
  its place ("Waiting for a free trainer: 2 jobs ahead of yours").
- With NNPLAY_DASK=tcp://host:8786, a training job (``Job.for_trainer`` on a plain Trainer) runs on
  a Dask worker of a cluster started outside the app (`dask scheduler`, `dask worker`): the app only
  connects a Client, never starts a cluster. The job is a RemoteTrainingJob (nnplay.train.remote):
  the same Job API, with the history streamed back as it grows, Stop reaching the worker, and the
  trained weights coming back as safetensors. Other jobs (races, baselines) stay in this process.
  A cluster that cannot be reached is said once (``problem``) and jobs run here instead.

Dask was chosen over Ray for this (bench/executor_startup.py): a pure-Python install of about
25 MB next to our pins instead of 240 MB, two plain processes to start instead of seven, several
times faster to a first task and lighter in memory, and its Client runs inside a Streamlit
process without starting anything there.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable

from nnplay.train.jobs import Job

DASK_ENV = "NNPLAY_DASK"
SLOTS_ENV = "NNPLAY_JOB_SLOTS"
PER_LEARNER_ENV = "NNPLAY_JOBS_PER_LEARNER"
SHARED_ENVS = ("NNPLAY_WORKSHOP", "NNPLAY_SHARED")
DEFAULT_PER_LEARNER = 3          # one running and two waiting
LOCAL, CLUSTER = "local", "cluster"   # the two pools a job can wait for


class QueueFull(ValueError):  # noqa: N818  (a person's message, like the other ValueErrors)
    """A learner asked for more jobs than a workshop server lets one learner have at once."""


def shared_setting() -> bool:
    """True on a workshop server: NNPLAY_WORKSHOP=1 or NNPLAY_SHARED=1."""
    return any(os.environ.get(name, "").strip() == "1" for name in SHARED_ENVS)


def _int_env(name: str, default: int | None) -> int | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {text!r}.") from None
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}.")
    return value


class FairQueue:
    """Jobs waiting for a turn, per pool: at most ``slots[pool]`` started at once (None: no
    limit), at most one started per learner, and turns going round the learners (the one served
    longest ago first). ``per_learner`` caps a learner's started plus waiting jobs."""

    def __init__(self, slots: dict[str, int | None], per_learner: int | None = None):
        self.slots, self.per_learner = dict(slots), per_learner
        self._lock = threading.Lock()
        self._waiting: dict[str, deque] = {}          # owner -> (job, pool, launch) in order
        self._started: dict[Job, tuple[str, str]] = {}  # job -> (owner, pool)
        self._last_turn: dict[str, tuple[int, int]] = {}  # owner -> (turn served, arrival)
        self._turn = 0

    def submit(self, job: Job, owner: str, launch: Callable[[Job], None],
               pool: str = LOCAL) -> Job:
        """Queue ``job`` for ``owner``; ``launch(job)`` starts it when its turn comes (maybe at
        once). QueueFull when the learner already has ``per_learner`` jobs. Returns the job."""
        if pool not in self.slots:
            raise ValueError(f"pool must be one of {', '.join(self.slots)}, got {pool!r}.")
        with self._lock:
            mine = len(self._waiting.get(owner, ())) + sum(
                1 for who, _ in self._started.values() if who == owner)
            if self.per_learner is not None and mine >= self.per_learner:
                raise QueueFull(f"You already have {mine} jobs running or waiting, the most one "
                                "learner can have on this server; stop one or wait for it.")
            job.owner = owner
            job.mark_queued(lambda: self.note(job))
            self._waiting.setdefault(owner, deque()).append((job, pool, launch))
            # a learner new to the queue goes ahead of those already served
            self._last_turn.setdefault(owner, (-1, self._turn))
        job.when_finished(self._finished)
        self._dispatch()
        return job

    def _startable(self, owner: str) -> bool:
        pool = self._waiting[owner][0][1]
        if any(who == owner for who, _ in self._started.values()):
            return False
        limit = self.slots[pool]
        return limit is None or sum(1 for _, p in self._started.values() if p == pool) < limit

    def _turns(self) -> list[str]:
        """Owners in the order of their next turn: served longest ago (or never) first."""
        return sorted(self._last_turn, key=self._last_turn.get)

    def _dispatch(self) -> None:
        launches = []
        with self._lock:
            while True:
                owner = next((o for o in self._turns()
                              if self._waiting.get(o) and self._startable(o)), None)
                if owner is None:
                    break
                job, pool, launch = self._waiting[owner].popleft()
                self._started[job] = (owner, pool)
                self._turn += 1
                self._last_turn[owner] = (self._turn, self._last_turn[owner][1])  # to the back
                launches.append((launch, job))
        for launch, job in launches:
            try:
                launch(job)
            except Exception as err:  # noqa: BLE001 - the learner sees why, the queue goes on
                job._finish("failed", None, str(err) or type(err).__name__)

    def _finished(self, job: Job) -> None:
        with self._lock:
            self._started.pop(job, None)
            for owner, waiting in list(self._waiting.items()):
                for entry in list(waiting):
                    if entry[0] is job:
                        waiting.remove(entry)
                if not waiting and not any(o == owner for o, _ in self._started.values()):
                    del self._waiting[owner]
                    del self._last_turn[owner]
        self._dispatch()

    def order(self) -> list[Job]:
        """The waiting jobs in the order they will start: round after round, each learner's
        next job in the turn order."""
        with self._lock:
            lines = [list(self._waiting.get(o, ())) for o in self._turns()]
        ordered, depth = [], 0
        while any(depth < len(line) for line in lines):
            ordered += [line[depth][0] for line in lines if depth < len(line)]
            depth += 1
        return ordered

    def place(self, job: Job) -> int | None:
        """1 for the next job to start, 2 after it, ...; None when ``job`` is not waiting."""
        ordered = self.order()
        return ordered.index(job) + 1 if job in ordered else None

    def running(self) -> int:
        with self._lock:
            return len(self._started)

    def note(self, job: Job) -> str:
        """Where a waiting job stands, for its progress line."""
        place = self.place(job)
        if place is None:
            return "Starting"
        with self._lock:
            busy = any(who == job.owner and other is not job
                       for other, (who, _) in self._started.items())
        ahead = f"{place - 1} job{'s' if place != 2 else ''} ahead of yours" if place > 1 \
            else "yours is next"
        if busy:
            return f"Waiting for your other job to finish ({ahead})"
        return f"Waiting for a free trainer: {ahead} ({self.running()} running)"

    def __len__(self) -> int:
        with self._lock:
            return sum(len(w) for w in self._waiting.values())

    def __repr__(self) -> str:
        return (f"FairQueue(slots={self.slots}, per_learner={self.per_learner}, "
                f"waiting={len(self)}, running={self.running()})")


class Executor:
    """Runs jobs for learners: in threads here, and training jobs on a Dask cluster if one is
    configured. ``queue`` is None on a laptop (every job starts at once)."""

    def __init__(self, slots: int | None = None, per_learner: int | None = None,
                 shared: bool = False, dask_address: str = ""):
        self.dask_address = dask_address.strip()
        self.cluster = None
        if self.dask_address:
            from nnplay.train.remote import DaskCluster

            self.cluster = DaskCluster(self.dask_address)
        self.queue = (FairQueue({LOCAL: slots, CLUSTER: None}, per_learner)
                      if shared or slots is not None or per_learner is not None else None)

    @classmethod
    def from_env(cls) -> Executor:
        """The executor the environment describes (see the module docstring)."""
        shared = shared_setting()
        return cls(slots=_int_env(SLOTS_ENV, (os.cpu_count() or 1) if shared else None),
                   per_learner=_int_env(PER_LEARNER_ENV, DEFAULT_PER_LEARNER if shared else None),
                   shared=shared, dask_address=os.environ.get(DASK_ENV, ""))

    @property
    def backend(self) -> str:
        """"dask" when training jobs go to a cluster, else "threads"."""
        return "dask" if self.cluster is not None else "threads"

    @property
    def problem(self) -> str:
        """Why the configured cluster is not used right now ('' when it is, or none is set)."""
        return self.cluster.problem if self.cluster is not None else ""

    def submit(self, job: Job, owner: str = "") -> Job:
        """Start ``job`` (or queue it) for ``owner``; returns the job to keep and poll, which is
        a RemoteTrainingJob standing in for a training job sent to the cluster."""
        pool, launch = LOCAL, Job.start
        if self.cluster is not None and self.cluster.accepts(job):
            job, pool, launch = self.cluster.job_for(job), CLUSTER, self.cluster.launch
        if self.queue is None:
            launch(job)
            return job
        return self.queue.submit(job, owner, launch, pool)

    def __repr__(self) -> str:
        return f"Executor(backend={self.backend!r}, queue={self.queue!r})"


_executor: Executor | None = None
_executor_lock = threading.Lock()


def get_executor() -> Executor:
    """This process's executor, made from the environment on first use."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = Executor.from_env()
        return _executor


def reset_executor(executor: Executor | None = None) -> None:
    """Forget (or replace) this process's executor: for tests and notebooks that change the
    environment. Jobs already started go on."""
    global _executor
    with _executor_lock:
        old, _executor = _executor, executor
    if old is not None and old is not executor and old.cluster is not None:
        old.cluster.close()
