"""Long computations (KernelSHAP over a test set, LIME, occlusion, k-fold baselines) in a thread.

A page starts a BackgroundJob, keeps it in its session state and polls ``progress`` and
``status``; the thread never touches Streamlit. The work function receives two callables:
``progress(done, total)`` to report how far it got and ``should_stop()`` to ask whether the
learner pressed cancel. Engine functions raise Cancelled when ``should_stop()`` turns true.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

JOB_STATUSES = ("ready", "running", "completed", "cancelled", "failed")


class Cancelled(Exception):
    """Raised inside a computation when the person asked it to stop."""


def check_stop(should_stop: Callable[[], bool] | None) -> None:
    """Raise Cancelled when ``should_stop`` says so (None means never)."""
    if should_stop is not None and should_stop():
        raise Cancelled("cancelled")


class BackgroundJob:
    """Runs ``fn(*args, progress=..., should_stop=..., **kwargs)`` once in a daemon thread.

    ``result`` holds the return value when ``status == "completed"``; ``error`` holds the message of
    a ValueError (something the person can change) or of any other exception, when it failed.
    """

    def __init__(self, fn: Callable[..., Any], *args, label: str = "", **kwargs):
        self.fn, self.args, self.kwargs, self.label = fn, args, kwargs, label
        self.status = "ready"
        self.result: Any = None
        self.error = ""
        self.done_steps, self.total_steps = 0, 0
        self.started_at: float | None = None
        self.seconds = 0.0
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # the two callables the work function receives ----------------------------------------
    def report(self, done: int, total: int) -> None:
        """Progress from the worker: ``done`` of ``total`` steps."""
        with self._lock:
            self.done_steps, self.total_steps = int(done), int(total)

    def should_stop(self) -> bool:
        return self._cancel.is_set()

    # control --------------------------------------------------------------------------------
    def start(self) -> BackgroundJob:
        """Start the thread (once); returns self."""
        if self._thread is not None:
            return self
        self.status, self.started_at = "running", time.perf_counter()
        self._thread = threading.Thread(target=self._work, name=f"nnplay-job-{self.label}",
                                        daemon=True)
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Ask the worker to stop at its next check; status becomes 'cancelled' when it does."""
        self._cancel.set()

    def join(self, timeout: float | None = None) -> BackgroundJob:
        """Wait for the thread (for notebooks and tests); returns self."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "cancelled", "failed")

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

    def _work(self) -> None:
        status, result, error = "completed", None, ""
        try:
            result = self.fn(*self.args, progress=self.report, should_stop=self.should_stop,
                             **self.kwargs)
        except Cancelled:
            status = "cancelled"
        except Exception as err:  # noqa: BLE001 - reported to the page, which shows st.error
            status, error = "failed", str(err) or type(err).__name__
        # everything else is in place before status says finished: pollers read without a lock
        self.seconds = time.perf_counter() - (self.started_at or time.perf_counter())
        self.result, self.error = result, error
        self.status = status

    def __repr__(self) -> str:
        return (f"BackgroundJob({self.label!r}, status={self.status!r}, "
                f"progress={self.done_steps}/{self.total_steps})")
