"""Background jobs: long work (a training run, a race, KernelSHAP, k-fold baselines) in a thread.

A page (or a notebook) starts a Job, keeps it and polls ``status``, ``fraction`` and
``describe()``; the thread never touches Streamlit. The work function receives two callables:
``progress(done, total)`` to report how far it got and ``should_stop()`` to ask whether the
person pressed Stop. Stopping is cooperative, with one protocol for every loop:

- between pieces of work a loop calls ``check_stop(should_stop)``, which raises Cancelled;
- a Trainer inside a loop is trained with ``fit_stoppable``: the Trainer's own StopTraining ends
  it at the next epoch's end (its weights stay) and Cancelled carries on up the loop.

A stopped job keeps what was produced: ``Cancelled(result=...)`` carries a partial result, which
becomes the job's ``result`` (ArchRace, memory_race and BaselineComparison raise it with what
they finished); a function that raises a bare Cancelled leaves ``result`` None.
``Job.for_trainer(trainer)`` runs ``trainer.fit()``; its result is the trainer, stopped or not.

Where a job runs is nnplay.train.executor's business: on a laptop ``start()`` starts the thread at
once; on a workshop server a job may first wait in a fair queue (status "queued", ``describe()``
says its place) and a training job may run on a Dask worker, mirrored into the same Job API.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from nnplay.train.callbacks import Callback, StopTraining

JOB_STATUSES = ("ready", "running", "completed", "stopped", "failed")
QUEUED = "queued"   # a status too, only where a queue holds the job (nnplay.train.executor)
FINISHED = ("completed", "stopped", "failed")
STOPPED_BY_USER = "stopped by the user"


class Cancelled(Exception):  # noqa: N818  (a signal, like StopTraining)
    """Raised inside a computation when the person asked it to stop; ``result`` holds what was
    finished before (None when nothing usable was)."""

    def __init__(self, message: str = "stopped", result: Any = None):
        super().__init__(message)
        self.result = result


def check_stop(should_stop: Callable[[], bool] | None) -> None:
    """Raise Cancelled when ``should_stop`` says so (None means never)."""
    if should_stop is not None and should_stop():
        raise Cancelled()


def progress_part(progress: Callable[[int, int], None] | None, done_before: int,
                  total: int) -> Callable[[int, int], None] | None:
    """The progress callable for one piece of a longer job: the piece's ``done`` counts on from
    ``done_before``, out of the whole job's ``total``."""
    if progress is None:
        return None
    return lambda done, _piece_total: progress(done_before + done, total)


class _TrainerLink(Callback):
    """Connects a Trainer to the job running it: progress after each epoch, and a StopTraining at
    the end of the epoch in which ``should_stop()`` turned true (none after the last epoch)."""

    def __init__(self, progress=None, should_stop=None):
        self.progress, self.should_stop = progress, should_stop

    def on_epoch_end(self, trainer, logs: dict) -> None:
        if self.progress is not None:
            self.progress(trainer.epoch, trainer.config.epochs)
        if (self.should_stop is not None and self.should_stop()
                and trainer.epoch < trainer.config.epochs):
            raise StopTraining("stopped", STOPPED_BY_USER)


def _mark_stopped(trainer, reason: str) -> None:
    # a trainer that will never run again (stopped before it began, or it raised) says so
    trainer.status, trainer.stop_reason = "stopped", reason


def fit_stoppable(trainer, progress: Callable[[int, int], None] | None = None,
                  should_stop: Callable[[], bool] | None = None):
    """``trainer.fit()`` that reports ``progress(epoch, epochs)`` after every epoch and stops once
    ``should_stop()`` is true; the trainer keeps what it learned and Cancelled(result=trainer)
    is raised. Returns the trainer when it finished (completed, early-stopped or diverged)."""
    if should_stop is not None and should_stop() and not trainer.done:
        _mark_stopped(trainer, STOPPED_BY_USER)
        raise Cancelled(result=trainer)
    link = _TrainerLink(progress, should_stop)
    trainer.callbacks.insert(0, link)  # first: progress is reported before an early stop
    try:
        trainer.fit()
    finally:
        trainer.callbacks.remove(link)
    if trainer.status == "stopped" and should_stop is not None and should_stop():
        raise Cancelled(result=trainer)
    return trainer


class Job:
    """Runs ``fn(*args, progress=..., should_stop=..., **kwargs)`` once in a daemon thread.

    ``status`` is one of JOB_STATUSES (or QUEUED while a queue holds it). ``result`` is the return value when completed, or what a
    Cancelled carried when stopped; ``error`` is the message of the exception when failed ('' when
    none). For a training job (``Job.for_trainer``) ``trainer`` is the Trainer, ``result`` too.
    """

    def __init__(self, fn: Callable[..., Any], *args, label: str = "", **kwargs):
        self.fn, self.args, self.kwargs, self.label = fn, args, kwargs, label
        self.trainer = None
        self.status = "ready"
        self.result: Any = None
        self.error = ""
        self.done_steps, self.total_steps = 0, 0
        self.started_at: float | None = None
        self.seconds = 0.0
        self._done_at_start = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._ended = threading.Event()          # set once the status says finished
        self.owner = ""                          # who asked for it (an owner id), for fair queues
        self.queue_note: Callable[[], str] | None = None   # "2 jobs ahead of yours" while queued
        self._on_finish: list[Callable[[Job], None]] = []

    @classmethod
    def for_trainer(cls, trainer, label: str = "") -> Job:
        """A job that runs ``trainer.fit()``, counting epochs; stop() keeps what was learned."""
        job = cls(fit_stoppable, trainer, label=label or f"train {trainer.dataset.name}")
        job.trainer = trainer
        job.report(trainer.epoch, trainer.config.epochs)
        return job

    # the two callables the work function receives ----------------------------------------
    def report(self, done: int, total: int) -> None:
        """Progress from the worker: ``done`` of ``total`` steps."""
        with self._lock:
            self.done_steps, self.total_steps = int(done), int(total)

    def should_stop(self) -> bool:
        return self._stop.is_set()

    # control --------------------------------------------------------------------------------
    def start(self) -> Job:
        """Start the thread (once); returns self. A job stopped while queued never starts."""
        with self._lock:   # a queued job is started by a queue while its owner may press Stop
            if self._thread is not None or self.finished:
                return self
            self.status, self.started_at = "running", time.perf_counter()
            self._done_at_start = self.done_steps
            self._thread = threading.Thread(target=self._work, name=f"nnplay-job-{self.label}",
                                            daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the work to stop at its next check (a trainer: after the current batch); what was
        finished stays in ``result``. A stop before start() means the work never runs."""
        self._stop.set()
        if self.trainer is not None:
            self.trainer.stop()
        with self._lock:
            never_ran = self.status == QUEUED
            if never_ran:            # it ends now, without waiting for a turn
                self.status = "stopped"
        if never_ran:
            if self.trainer is not None and not self.trainer.done:
                _mark_stopped(self.trainer, STOPPED_BY_USER)
            self._finish("stopped", self.trainer, "")

    def join(self, timeout: float | None = None) -> Job:
        """Wait until the job has finished (for notebooks and tests); returns self at once when
        it was never started or queued."""
        if self.status != "ready":
            self._ended.wait(timeout)
        return self

    # queues and other runners -------------------------------------------------------------
    def mark_queued(self, note: Callable[[], str] | None = None) -> Job:
        """Say the job waits for a turn; ``note()`` tells where it stands. Returns self."""
        if self.status == "ready":
            self.status, self.queue_note = QUEUED, note
        return self

    def when_finished(self, callback: Callable[[Job], None]) -> None:
        """Call ``callback(job)`` once the job has finished (at once if it already has)."""
        with self._lock:
            if not self._ended.is_set():
                self._on_finish.append(callback)
                return
        callback(self)

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    # progress -------------------------------------------------------------------------------
    @property
    def fraction(self) -> float:
        """Share of the work done, in [0, 1]."""
        with self._lock:
            if self.total_steps <= 0:
                return 1.0 if self.status == "completed" else 0.0
            return min(1.0, self.done_steps / self.total_steps)

    def elapsed_seconds(self) -> float:
        if self.finished or self.started_at is None:
            return self.seconds
        return time.perf_counter() - self.started_at

    @property
    def seconds_left(self) -> float | None:
        """Estimated seconds to the end from the pace so far; None until a step is done."""
        if self.finished:
            return 0.0
        with self._lock:
            done = self.done_steps - self._done_at_start  # steps this run has timed
            remaining = max(0, self.total_steps - self.done_steps)
        if self.started_at is None or done <= 0:
            return None
        return self.elapsed_seconds() / done * remaining

    def describe(self, unit: str = "steps") -> str:
        """A progress line: "Epoch 12/50, about 3 s left" for training, "3 of 10 folds, 1.2 s";
        while queued, where it stands ("Waiting for a free trainer: 2 jobs ahead of yours")."""
        if self.status == QUEUED:
            return (self.queue_note() if self.queue_note is not None else "") or \
                "Waiting for a free trainer"
        with self._lock:
            done, total = self.done_steps, self.total_steps
        if self.trainer is not None:
            left = None if self.finished else self.seconds_left
            return f"Epoch {done}/{total}" + ("" if left is None else f", about {left:.0f} s left")
        count = f"{done} of {total} {unit}" if total else f"{self.fraction:.0%}"
        return f"{count}, {self.elapsed_seconds():.1f} s"

    # the thread -----------------------------------------------------------------------------
    def _work(self) -> None:
        status, result, error = "completed", None, ""
        try:
            if self._stop.is_set() and self.trainer is None:
                raise Cancelled()  # stopped before it began (fit_stoppable handles a trainer)
            result = self.fn(*self.args, progress=self.report, should_stop=self.should_stop,
                             **self.kwargs)
        except Cancelled as stop:
            status, result = "stopped", stop.result
        except Exception as err:  # noqa: BLE001 - reported to the page, which shows st.error
            status, error = "failed", str(err) or type(err).__name__
            if self.trainer is not None and not self.trainer.done:
                _mark_stopped(self.trainer, f"error: {error}")
        self._finish(status, result, error)

    def _finish(self, status: str, result: Any, error: str) -> None:
        """Record how the job ended, then tell whoever waits (queues, join)."""
        # everything else is in place before status says finished: pollers read without a lock
        self.seconds = time.perf_counter() - (self.started_at or time.perf_counter())
        self.result, self.error = result, error
        self.status = status
        with self._lock:
            self._ended.set()
            callbacks, self._on_finish = self._on_finish, []
        for callback in callbacks:
            callback(self)

    def __repr__(self) -> str:
        return (f"Job({self.label!r}, status={self.status!r}, "
                f"progress={self.done_steps}/{self.total_steps})")
