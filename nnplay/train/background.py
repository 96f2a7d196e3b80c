"""Training in a background thread, so a page (or a notebook) stays responsive while it runs.

The thread only calls ``trainer.fit()``; it never touches Streamlit. Readers poll
``progress()`` and ``trainer.history_copy()``; ``stop()`` uses the Trainer's thread-safe flag,
so what was learned so far is kept.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """A snapshot of a background run: epochs done, the share done and the time left."""

    epoch: int
    epochs: int
    fraction: float
    seconds: float
    seconds_left: float | None   # None until the first epoch has been timed
    status: str


class BackgroundTrainer:
    """Runs ``trainer.fit()`` in a daemon thread; start(), stop(), join(), progress()."""

    def __init__(self, trainer):
        self.trainer = trainer
        self.error_: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._stop_requested = threading.Event()

    def start(self) -> BackgroundTrainer:
        if self._thread is not None:
            raise RuntimeError("This background run was already started.")
        self._thread = threading.Thread(target=self._work, name="nnplay-train", daemon=True)
        self._thread.start()
        return self

    def _work(self) -> None:
        try:
            if not self._stop_requested.is_set():
                self.trainer.fit()
            if self._stop_requested.is_set() and not self.trainer.done:
                # stop() came before fit() cleared the trainer's flag: honour it anyway
                self.trainer.status, self.trainer.stop_reason = "stopped", "stopped by the user"
        except Exception as err:  # reported to the page instead of dying silently in the thread
            self.error_ = err
            self.trainer.status, self.trainer.stop_reason = "stopped", f"error: {err}"

    def stop(self) -> None:
        """Ask training to end after the current batch; the weights learned so far stay."""
        self._stop_requested.set()
        self.trainer.stop()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True when it has finished."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def finished(self) -> bool:
        """Started and no longer running (completed, early-stopped, diverged or stopped)."""
        return self._thread is not None and not self._thread.is_alive()

    def progress(self) -> Progress:
        t = self.trainer
        with t.lock:
            epoch, seconds = len(t.history), t.history[-1]["time"] if t.history else 0.0
        total = t.config.epochs
        left = seconds / epoch * (total - epoch) if epoch else None
        if t.done:
            left = 0.0
        return Progress(epoch, total, min(epoch / total, 1.0), seconds, left, t.status)

    def __repr__(self) -> str:
        return f"BackgroundTrainer({self.trainer!r}, running={self.running})"
