"""Callbacks: code that watches or steers training without living in the loop itself."""

from __future__ import annotations

import copy
import math
import sys

from nnplay.train.config import EARLY_STOPPING_MODES

MAXIMISED_METRICS = ("accuracy", "r2", "auc", "f1")   # "auto" mode: higher is better for these


def higher_is_better(monitor: str, mode: str = "auto") -> bool:
    """Whether a larger ``monitor`` is an improvement: ``mode`` "max", "min" or "auto" (decided by
    the name: accuracy, r2, auc and f1 go up, losses and errors go down)."""
    if mode not in EARLY_STOPPING_MODES:
        raise ValueError(f"Early stopping mode must be one of {', '.join(EARLY_STOPPING_MODES)}, "
                         f"got {mode!r}.")
    if mode == "auto":
        return any(name in monitor.lower() for name in MAXIMISED_METRICS)
    return mode == "max"


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
    """Stop when ``monitor`` (any logged metric: val_loss, val_accuracy, val_r2, ...) has not
    improved by ``min_delta`` for ``patience`` epochs.

    ``mode`` says which way is better: "min", "max" or "auto" (max for names containing
    accuracy, r2, auc or f1; min otherwise). With restore_best, the model's weights go back to
    those of the best epoch when it stops. State is reset when a fit starts and kept across the
    run() chunks of that fit.
    """

    def __init__(self, patience: int = 10, min_delta: float = 0.0, monitor: str = "val_loss",
                 restore_best: bool = True, mode: str = "auto"):
        self.patience, self.min_delta = patience, min_delta
        self.monitor, self.restore_best, self.mode = monitor, restore_best, mode
        self.higher_is_better_ = higher_is_better(monitor, mode)
        self._reset()

    def _reset(self) -> None:
        self.best_ = -math.inf if self.higher_is_better_ else math.inf
        self.best_epoch_, self.wait_, self.best_state_ = None, 0, None

    def on_fit_start(self, trainer) -> None:
        self._reset()  # the Trainer calls this once per fit, not once per run() chunk

    def _improved(self, value: float) -> bool:
        if self.higher_is_better_:
            return value > self.best_ + self.min_delta
        return value < self.best_ - self.min_delta

    def on_epoch_end(self, trainer, logs: dict) -> None:
        if self.monitor not in logs:
            watched = ", ".join(k for k in logs if k not in ("epoch", "lr", "seconds", "time"))
            raise ValueError(f"Early stopping watches {self.monitor!r}, which this training does "
                             f"not log; choose one of: {watched}.")
        value = logs[self.monitor]
        if self._improved(value):
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
        return (f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, "
                f"monitor={self.monitor!r}, mode={self.mode!r}, restore_best={self.restore_best})")


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
    """A tqdm progress bar on stderr, one step per epoch with the loss (for the CLI).

    Created when the fit starts and closed when it ends, so stdout stays clean for --json.
    """

    def __init__(self, total: int, stream=None, **tqdm_kwargs):
        self.total, self.stream, self.tqdm_kwargs = total, stream, tqdm_kwargs
        self.bar_ = None

    def on_fit_start(self, trainer) -> None:
        from tqdm import tqdm

        self.bar_ = tqdm(total=self.total, initial=trainer.epoch, unit="epoch",
                         file=self.stream or sys.stderr, dynamic_ncols=True, **self.tqdm_kwargs)

    def on_epoch_end(self, trainer, logs: dict) -> None:
        if self.bar_ is None:
            return
        shown = {k: f"{logs[k]:.4f}" for k in ("loss", "val_loss") if k in logs}
        self.bar_.set_postfix(shown, refresh=False)
        self.bar_.update(1)

    def on_fit_end(self, trainer) -> None:
        if self.bar_ is not None:
            self.bar_.close()
            self.bar_ = None

    def __repr__(self) -> str:
        return f"ProgressBar(total={self.total})"
