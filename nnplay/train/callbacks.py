"""Callbacks: code that watches or steers training without living in the loop itself."""

from __future__ import annotations

import copy
import sys
import time


class StopTraining(Exception):  # noqa: N818  (a signal, not an error)
    """Raised by a callback (or the stop flag) to end training at the next safe point."""

    def __init__(self, status: str = "stopped", reason: str = ""):
        super().__init__(reason or status)
        self.status, self.reason = status, reason


class Callback:
    """Base class: override any of the four events; each gets the trainer."""

    def on_fit_start(self, trainer) -> None: ...
    def on_epoch_end(self, trainer, logs: dict) -> None: ...
    def on_batch_end(self, trainer, batch: int, loss: float) -> None: ...
    def on_fit_end(self, trainer) -> None: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class EarlyStopping(Callback):
    """Stop when the monitored value has not improved by min_delta for `patience` epochs.

    With restore_best, the model's weights go back to those of the best epoch at the end.
    """

    def __init__(self, patience: int = 10, min_delta: float = 0.0, monitor: str = "val_loss",
                 restore_best: bool = True):
        self.patience, self.min_delta = patience, min_delta
        self.monitor, self.restore_best = monitor, restore_best
        self.best_, self.best_epoch_, self.wait_, self.best_state_ = float("inf"), None, 0, None

    def on_fit_start(self, trainer) -> None:
        if self.best_epoch_ is None:  # keep state across run() chunks
            self.wait_ = 0

    def on_epoch_end(self, trainer, logs: dict) -> None:
        value = logs.get(self.monitor)
        if value is None:
            return
        if value < self.best_ - self.min_delta:
            self.best_, self.best_epoch_, self.wait_ = value, logs["epoch"], 0
            if self.restore_best:
                self.best_state_ = copy.deepcopy(trainer.model.state_dict())
            return
        self.wait_ += 1
        if self.wait_ >= self.patience:
            if self.restore_best and self.best_state_ is not None:
                trainer.model.load_state_dict(self.best_state_)
            raise StopTraining("early_stopped",
                               f"no improvement in {self.monitor} for {self.patience} epochs; "
                               f"best epoch {self.best_epoch_}")

    def __repr__(self) -> str:
        return f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, monitor={self.monitor!r})"


class LambdaCallback(Callback):
    """Wrap plain functions as callbacks: LambdaCallback(on_epoch_end=lambda t, logs: ...)."""

    def __init__(self, on_fit_start=None, on_epoch_end=None, on_batch_end=None, on_fit_end=None):
        self._fns = {"on_fit_start": on_fit_start, "on_epoch_end": on_epoch_end,
                     "on_batch_end": on_batch_end, "on_fit_end": on_fit_end}

    def on_fit_start(self, trainer):
        if self._fns["on_fit_start"]:
            self._fns["on_fit_start"](trainer)

    def on_epoch_end(self, trainer, logs):
        if self._fns["on_epoch_end"]:
            self._fns["on_epoch_end"](trainer, logs)

    def on_batch_end(self, trainer, batch, loss):
        if self._fns["on_batch_end"]:
            self._fns["on_batch_end"](trainer, batch, loss)

    def on_fit_end(self, trainer):
        if self._fns["on_fit_end"]:
            self._fns["on_fit_end"](trainer)


class ProgressBar(Callback):
    """A one-line terminal progress bar with loss and time left (for the CLI)."""

    def __init__(self, total: int, stream=None, width: int = 30):
        self.total, self.stream, self.width = total, stream or sys.stderr, width
        self._start = None
        self._last = 0.0

    def on_fit_start(self, trainer):
        self._start = time.perf_counter()

    def on_epoch_end(self, trainer, logs):
        now = time.perf_counter()
        if now - self._last < 0.1 and logs["epoch"] < self.total:
            return
        self._last = now
        done = min(logs["epoch"] / self.total, 1.0)
        filled = int(self.width * done)
        elapsed = now - (self._start or now)
        left = elapsed / done - elapsed if done > 0 else 0.0
        val = logs.get("val_loss")
        val_txt = f" val_loss {val:.4f}" if val is not None else ""
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] epoch {logs['epoch']}/{self.total}"
                          f" loss {logs['loss']:.4f}{val_txt} ~{left:.0f}s left ")
        self.stream.flush()

    def on_fit_end(self, trainer):
        self.stream.write("\n")
        self.stream.flush()
