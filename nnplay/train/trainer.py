"""The Trainer: one training loop for every model and page, runnable in chunks or to the end.

The UI calls ``run(epochs=k)`` again and again (a chunk per redraw); notebooks and the CLI call
``fit()``. The loop is split into small steps that notify callbacks; stopping is an exception
(StopTraining) raised by a callback, by divergence detection or by the stop flag.
"""

from __future__ import annotations

import math
import random
import threading
import time
import warnings
from dataclasses import fields

import numpy as np
import torch
from torch import nn
from torch.optim import lr_scheduler

from nnplay.data.dataset import Dataset
from nnplay.device import resolve_device
from nnplay.train import green
from nnplay.train.callbacks import Callback, EarlyStopping, StopTraining
from nnplay.train.config import TrainConfig
from nnplay.train.schedules import make_optimizer, make_scheduler

TERMINAL = ("completed", "early_stopped", "diverged", "stopped")
EVAL_BATCH = 4096
# Modules that behave the same in train and eval mode: a model made only of these skips the
# train()/eval() toggles, which cost ~10% of an epoch for the Playground's tiny networks.
_MODE_FREE = (nn.Linear, nn.Flatten, nn.Sequential, nn.Identity, nn.ReLU, nn.LeakyReLU, nn.GELU,
              nn.Tanh, nn.Sigmoid, nn.Conv1d, nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)


def _mode_matters(model: nn.Module) -> bool:
    """True unless every submodule is a known mode-free torch module (or a plain container)."""
    from nnplay.models.mlp import MLP

    return not all(isinstance(m, _MODE_FREE) or (type(m) is MLP and m.dropout == 0)
                   for m in model.modules())


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so model initialisation is reproducible."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def _tensor(a: np.ndarray, device: torch.device) -> torch.Tensor:
    t = torch.as_tensor(np.ascontiguousarray(a))
    if t.is_floating_point():
        t = t.float()
    return t.to(device)


def task_loss(task: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy on logits for classification (per sequence or per token), MSE for regression."""
    if task == "classification":
        if out.dim() == 3:  # (batch, T, classes) against (batch, T) per-token targets
            return nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        return nn.functional.cross_entropy(out, y)
    return nn.functional.mse_loss(out.reshape(y.shape), y)


class Trainer:
    """Trains ``model`` on ``dataset`` with ``config``; keeps the optimizer, schedule and history.

    history: a list of per-epoch dicts (epoch, loss, val_loss, accuracy/val_accuracy or
    val_rmse/val_r2, lr, grad_norm, seconds, time, and the run's flops and energy_kwh so far)
    that plots directly. Reads from other threads should copy it under ``lock``
    (``history_copy()``). ``green`` measures FLOPs and energy (``nnplay.train.green``; None when
    NNPLAY_GREEN=0); ``footprint()`` sums them up.
    """

    def __init__(self, model: nn.Module, dataset: Dataset, config: TrainConfig | None = None,
                 callbacks: list[Callback] | None = None):
        self.config = cfg = config or TrainConfig()
        self.model, self.dataset = model, dataset
        self.device = resolve_device(cfg.device)
        self.task = dataset.task
        # This trainer's own random stream for dropout masks (CPU generator state): run() swaps it
        # in and out, so chunks of two trainers interleaved on one thread stay reproducible.
        self._rng_state = torch.Generator().manual_seed(cfg.seed).get_state()
        self._gen = torch.Generator().manual_seed(cfg.seed)  # shuffling
        self.model.to(self.device)
        X, y = dataset.X_train, dataset.y_train
        if cfg.val_fraction > 0:
            rng = np.random.default_rng(cfg.seed)
            order = rng.permutation(len(X))
            n_val = max(1, int(round(cfg.val_fraction * len(X))))
            val_idx, tr_idx = order[:n_val], order[n_val:]
            if len(tr_idx) == 0:
                raise ValueError("val_fraction leaves no training rows; lower it.")
            X_val, y_val, X, y = X[val_idx], y[val_idx], X[tr_idx], y[tr_idx]
        else:
            X_val, y_val = dataset.X_test, dataset.y_test
        self._X, self._y = _tensor(X, self.device), _tensor(y, self.device)
        self._Xv, self._yv = _tensor(X_val, self.device), _tensor(y_val, self.device)
        self.optimizer = make_optimizer(self.model.parameters(), cfg)
        self.scheduler = make_scheduler(self.optimizer, cfg)
        self._weights = [p for n, p in self.model.named_parameters() if p.dim() > 1]
        self.callbacks = list(callbacks or [])
        if cfg.early_stopping:
            self.callbacks.append(EarlyStopping(cfg.early_stopping, cfg.min_delta,
                                                monitor=cfg.early_stopping_monitor,
                                                restore_best=cfg.restore_best,
                                                mode=cfg.early_stopping_mode))
        self._toggle_mode = _mode_matters(self.model)
        self.model.train()
        self._batch_hooks = [c for c in self.callbacks
                             if type(c).on_batch_end is not Callback.on_batch_end]
        self.history: list[dict] = []
        self.lock = threading.Lock()
        self.epoch = 0
        self.status = "ready"
        self.stop_reason = ""
        self.train_seconds = 0.0
        self._stop_flag = threading.Event()
        self._started = False
        self._val_var = None  # variance of the validation targets (regression), computed once
        self.green = green.GreenMeter(self.device) if green.enabled() else None
        # epoch 0: the losses before any training step (computed now, before any thread trains)
        self.start_logs: dict = self._start_logs()

    # ---- control -------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask a running loop (maybe in another thread) to stop after the current batch."""
        self._stop_flag.set()

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    def footprint(self, country: str | None = None) -> green.Footprint:
        """FLOPs, seconds, energy and CO2 (on ``country``'s grid) of the training so far."""
        if self.green is None:
            return green.unavailable_footprint(f"measurement is switched off ({green.ENV_VAR}=0)")
        return self.green.footprint(country)

    def history_copy(self) -> list[dict]:
        with self.lock:
            return list(self.history)

    def curve_history(self) -> list[dict]:
        """The history with epoch 0 (the untrained network's losses) in front: what a training
        curve should start from. Records and counts use ``history``, which starts at epoch 1."""
        return [self.start_logs] + self.history_copy()

    @torch.no_grad()
    def _start_logs(self) -> dict:
        """Loss (and accuracy) on the training rows and the validation numbers, before training."""
        if self._toggle_mode:
            self.model.eval()
        out = (self.model(self._X) if len(self._X) <= EVAL_BATCH else
               torch.cat([self.model(xb) for xb in self._X.split(EVAL_BATCH)]))
        logs = {"epoch": 0, "loss": float(task_loss(self.task, out, self._y))}
        if self.task == "classification":
            logs["accuracy"] = float((out.argmax(-1) == self._y).float().mean())
        logs.update(self._validate())
        if self._toggle_mode:
            self.model.train()
        return logs

    def fit(self) -> Trainer:
        """Train until config.epochs (or until stopped); returns self."""
        return self.run(self.config.epochs - self.epoch)

    def run(self, epochs: int = 1) -> Trainer:
        """Train up to ``epochs`` more epochs, never past config.epochs; returns self."""
        if self.done:
            return self
        epochs = min(int(epochs), self.config.epochs - self.epoch)
        self._stop_flag.clear()
        if not self._started:
            self._started = True
            for cb in self.callbacks:
                cb.on_fit_start(self)
        self.status = "running"
        try:
            with torch.random.fork_rng(devices=[]):
                torch.set_rng_state(self._rng_state)
                try:
                    for _ in range(epochs):
                        if self._stop_flag.is_set():
                            raise StopTraining("stopped", "stopped by the user")
                        self._run_epoch()
                finally:
                    self._rng_state = torch.get_rng_state()
        except StopTraining as stop:
            self.status, self.stop_reason = stop.status, stop.reason
        else:
            self.status = "completed" if self.epoch >= self.config.epochs else "paused"
        if self.done:
            for cb in self.callbacks:
                cb.on_fit_end(self)
        return self

    # ---- changing settings between chunks --------------------------------------------------
    # Fixed for a Trainer's life: they decide the data split and the random streams.
    FIXED = ("seed", "device", "val_fraction")
    _SCHEDULE_FIELDS = ("schedule", "epochs", "step_size", "gamma", "warmup_epochs", "min_lr")
    _STOPPING_FIELDS = ("early_stopping", "early_stopping_monitor", "early_stopping_mode",
                        "min_delta", "restore_best")

    def reconfigure(self, **changes) -> Trainer:
        """Change training settings between chunks, keeping the weights, the epoch count and the
        history (TensorFlow Playground's live learning-rate change); returns self.

        The new config is validated by TrainConfig (a ValueError says what to change). The
        learning rate, weight decay (l2) and momentum change in the optimizer's param groups, so
        its state (momentum buffers, Adam's moments) is kept; a new optimizer type starts a new
        optimizer on the same weights. A changed schedule, or a new rate under a schedule, is
        rebuilt and brought forward to the current epoch. Raising ``epochs`` after a run
        completed lets it go on. Call it between ``run()`` chunks, not while one runs.
        """
        fixed = sorted(set(changes) & set(self.FIXED))
        if fixed:
            raise ValueError(f"{', '.join(fixed)} cannot change during a run; build a new Trainer "
                             "for that.")
        names = {f.name for f in fields(TrainConfig)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"Unknown training setting(s) {', '.join(unknown)}; choose from "
                             f"{', '.join(sorted(names - set(self.FIXED)))}.")
        old, new = self.config, self.config.replace(**changes)   # validates
        if new == old:
            return self
        self.config = new
        if new.optimizer != old.optimizer:
            self.optimizer = make_optimizer(self.model.parameters(), new)
        else:
            for group in self.optimizer.param_groups:
                group["lr"], group["weight_decay"] = new.lr, new.l2
                if new.optimizer == "momentum":
                    group["momentum"] = new.momentum
                elif new.optimizer == "nesterov":   # as make_optimizer: nesterov needs momentum
                    group["momentum"] = new.momentum or 0.9
        scheduled = old.schedule != "constant" or new.schedule != "constant"
        schedule_changed = new.lr != old.lr or any(getattr(new, k) != getattr(old, k)
                                                   for k in self._SCHEDULE_FIELDS)
        if new.optimizer != old.optimizer or (scheduled and schedule_changed):
            self.scheduler = self._scheduler_from_start()
        if any(getattr(new, k) != getattr(old, k) for k in self._STOPPING_FIELDS):
            self._replace_early_stopping(old)
        if self.status == "completed" and self.epoch < new.epochs:
            self.status = "paused"     # more epochs planned: the run goes on
        return self

    def _scheduler_from_start(self):
        """A new scheduler for the config, stepped once per epoch already trained."""
        for group in self.optimizer.param_groups:
            group["lr"] = self.config.lr
            group.pop("initial_lr", None)   # schedulers take their base rate from here
        scheduler = make_scheduler(self.optimizer, self.config)
        if scheduler is None or isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):
            return scheduler
        with warnings.catch_warnings():   # "scheduler.step() before optimizer.step()"
            warnings.simplefilter("ignore")
            for _ in range(min(self.epoch, self.config.epochs - 1)):
                scheduler.step()
        return scheduler

    def _replace_early_stopping(self, old: TrainConfig) -> None:
        """Swap the EarlyStopping the old config added for one the new config asks for."""
        cfg = self.config
        if old.early_stopping:
            made = [c for c in self.callbacks if isinstance(c, EarlyStopping)]
            if made:   # the config's own is added last, after the caller's callbacks
                self.callbacks.remove(made[-1])
        if cfg.early_stopping:
            stopper = EarlyStopping(cfg.early_stopping, cfg.min_delta,
                                    monitor=cfg.early_stopping_monitor,
                                    restore_best=cfg.restore_best, mode=cfg.early_stopping_mode)
            if self._started:
                stopper.on_fit_start(self)
            self.callbacks.append(stopper)
        if self.status == "early_stopped":
            self.status = "paused"     # stopping was relaxed: the run may go on

    # ---- the loop, in small steps -----------------------------------------------------------
    def _run_epoch(self) -> None:
        t0 = time.perf_counter()
        model, opt, cfg, meter = self.model, self.optimizer, self.config, self.green
        params = [p for group in opt.param_groups for p in group["params"]]
        if meter is not None:
            meter.epoch_start()
        if self._toggle_mode:
            model.train()
        n = len(self._X)
        bs = cfg.batch_size if 0 < cfg.batch_size < n else n
        if bs == n:
            batches = [(self._X, self._y)]
        else:
            perm = torch.randperm(n, generator=self._gen).to(self.device)
            batches = ((self._X[idx], self._y[idx]) for idx in perm.split(bs))
        loss_sum, correct = 0.0, 0
        classify = self.task == "classification"
        for b, (xb, yb) in enumerate(batches):
            if meter is None:
                out, loss = self._forward_backward(xb, yb, params)
            else:   # the same step; its FLOPs are counted (once per batch shape)
                out, loss = meter.train_step(self._forward_backward, xb, yb, params)
            if cfg.grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            # full batch: the loss is the epoch's loss; mini-batches: a size-weighted sum
            loss_sum = loss.detach() if bs == n else loss_sum + loss.detach() * len(yb)
            if classify:
                correct = correct + (out.detach().argmax(-1) == yb).sum()
            if self._batch_hooks:
                for cb in self._batch_hooks:
                    cb.on_batch_end(self, b, float(loss.detach()))
            if self._stop_flag.is_set():
                break
        grad_norm = self._grad_norm() if cfg.track_grad_norm else None
        lr = opt.param_groups[0]["lr"]
        if classify:  # one device sync for both numbers
            loss_value, n_correct = torch.stack([torch.as_tensor(loss_sum).float(),
                                                 torch.as_tensor(correct).float()]).tolist()
        else:
            loss_value = float(loss_sum)
        logs = {"epoch": self.epoch + 1, "loss": loss_value if bs == n else loss_value / n, "lr": lr}
        if classify:
            logs["accuracy"] = n_correct / self._y.numel()
        logs.update(self._validate())
        if grad_norm is not None:
            logs["grad_norm"] = grad_norm
        self._step_scheduler(logs)
        if meter is not None:
            meter.epoch_end(logs)   # the run's flops and energy_kwh so far
        seconds = time.perf_counter() - t0
        self.train_seconds += seconds
        logs["seconds"], logs["time"] = seconds, self.train_seconds
        self.epoch += 1
        with self.lock:
            self.history.append(logs)
        if not (math.isfinite(logs["loss"]) and math.isfinite(logs.get("val_loss", 0.0))):
            raise StopTraining("diverged", f"the loss became {logs['loss']} at epoch {self.epoch}; "
                                           "lower the learning rate")
        for cb in self.callbacks:
            cb.on_epoch_end(self, logs)

    def _forward_backward(self, xb: torch.Tensor, yb: torch.Tensor, params: list):
        """One step's forward and backward pass (the optimizer steps after); (output, loss)."""
        out = self.model(xb)
        loss = task_loss(self.task, out, yb)
        total = loss
        if self.config.l1 > 0:
            total = loss + self.config.l1 * sum(w.abs().sum() for w in self._weights)
        for param in params:   # opt.zero_grad(set_to_none=True), without its overhead
            param.grad = None
        total.backward()
        return out, loss

    def _grad_norm(self) -> float:
        grads = [p.grad for p in self.model.parameters() if p.grad is not None]
        if not grads:
            return 0.0
        return float(torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads))))

    @torch.no_grad()
    def _validate(self) -> dict:
        """Validation loss and the task's metric, with one device-to-host copy per epoch."""
        if len(self._Xv) == 0:
            return {}
        if self._toggle_mode:
            self.model.eval()
        if len(self._Xv) <= EVAL_BATCH:
            out = self.model(self._Xv)
        else:
            out = torch.cat([self.model(xb) for xb in self._Xv.split(EVAL_BATCH)])
        y = self._yv
        loss = task_loss(self.task, out, y)
        if self.task == "classification":
            loss_value, acc = torch.stack([loss, (out.argmax(-1) == y).float().mean()]).tolist()
            return {"val_loss": loss_value, "val_accuracy": acc}
        mse = float(loss)  # task_loss is the MSE for regression
        if self._val_var is None:
            self._val_var = float(((y - y.mean()) ** 2).mean())
        return {"val_loss": mse, "val_rmse": math.sqrt(mse) if math.isfinite(mse) else float("nan"),
                "val_r2": 1.0 - mse / self._val_var if self._val_var > 0 else float("nan")}

    def _step_scheduler(self, logs: dict) -> None:
        if self.scheduler is None or self.epoch >= self.config.epochs:
            return
        if isinstance(self.scheduler, lr_scheduler.ReduceLROnPlateau):
            value = logs.get("val_loss", logs["loss"])
            if math.isfinite(value):
                self.scheduler.step(value)
        else:
            self.scheduler.step()

    def __repr__(self) -> str:
        return (f"Trainer(model={type(self.model).__name__}, dataset={self.dataset.name!r}, "
                f"epoch={self.epoch}/{self.config.epochs}, status={self.status!r})")
