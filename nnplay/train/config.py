"""TrainConfig: every training setting in one frozen, hashable, validated dataclass."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields, replace

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
SCHEDULES = ("constant", "step", "exponential", "cosine", "cosine_restarts", "cyclic",
             "onecycle", "warmup_cosine", "plateau")
EARLY_STOPPING_MODES = ("min", "max", "auto")
LIMITS = {"epochs": 100_000, "batch_size": 1_000_000}


@dataclass(frozen=True)
class TrainConfig:
    """How to train: optimizer, learning rate and its schedule, regularisation, stopping, seed."""

    optimizer: str = "adam"        # sgd | momentum | nesterov | rmsprop | adam | adamw
    lr: float = 0.01               # base learning rate
    batch_size: int = 32           # 0 means full batch (one step per epoch)
    epochs: int = 100              # planned epochs; fit() stops there, run(k) may go on
    l1: float = 0.0                # L1 penalty on weights, added to the loss
    l2: float = 0.0                # L2 penalty as the optimizer's weight decay
    momentum: float = 0.9          # for momentum, nesterov and rmsprop
    schedule: str = "constant"     # a name from SCHEDULES; stepped once per epoch
    step_size: int = 30            # step: epochs between decays; cosine_restarts: first period
    gamma: float = 0.5             # step/exponential/plateau decay factor
    warmup_epochs: int = 5         # warmup_cosine: linear warm-up length
    min_lr: float = 0.0            # floor for cosine-type schedules
    early_stopping: int | None = None  # patience in epochs; None = off
    early_stopping_monitor: str = "val_loss"  # the logged metric early stopping watches
    early_stopping_mode: str = "auto"  # min | max | auto (max for accuracy, r2, auc, f1)
    min_delta: float = 0.0         # improvement smaller than this does not count
    restore_best: bool = True      # early stopping puts back the best epoch's weights
    val_fraction: float = 0.0      # >0: hold out this share of train as validation; 0: use test
    seed: int = 0                  # seeds shuffling, dropout and (via seed_everything) the init
    device: str = "auto"           # auto | cpu | cuda | mps
    track_grad_norm: bool = True   # record the gradient norm of each epoch's last step
    grad_clip: float | None = None  # clip the total gradient norm to this (recurrent nets need it)

    def __post_init__(self):
        validate(self)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """Build from a dict, ignoring keys this version does not know."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def replace(self, **changes) -> TrainConfig:
        return replace(self, **changes)


def _finite(name: str, value, lo: float | None = None, hi: float | None = None,
            lo_open: bool = False) -> None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}.") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {value!r}.")
    if lo is not None and (v <= lo if lo_open else v < lo):
        raise ValueError(f"{name} must be {'>' if lo_open else '>='} {lo}, got {value}.")
    if hi is not None and v > hi:
        raise ValueError(f"{name} must be <= {hi}, got {value}.")


def validate(cfg: TrainConfig) -> None:
    """Raise ValueError with what to change when a setting is impossible."""
    if cfg.optimizer not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer {cfg.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}.")
    if cfg.schedule not in SCHEDULES:
        raise ValueError(f"Unknown schedule {cfg.schedule!r}; choose one of {', '.join(SCHEDULES)}.")
    _finite("lr (learning rate)", cfg.lr, 0.0, 100.0, lo_open=True)
    for name in ("l1", "l2"):
        _finite(name, getattr(cfg, name), 0.0, 10.0)
    _finite("momentum", cfg.momentum, 0.0, 0.999)
    _finite("gamma", cfg.gamma, 0.0, 1.0, lo_open=True)
    _finite("min_lr", cfg.min_lr, 0.0)
    _finite("min_delta", cfg.min_delta, 0.0)
    _finite("val_fraction", cfg.val_fraction, 0.0, 0.9)
    for name in ("epochs", "batch_size", "step_size", "warmup_epochs", "seed"):
        v = getattr(cfg, name)
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"{name} must be a whole number, got {v!r}.")
    if not 1 <= cfg.epochs <= LIMITS["epochs"]:
        raise ValueError(f"epochs must be between 1 and {LIMITS['epochs']:,}, got {cfg.epochs}.")
    if not 0 <= cfg.batch_size <= LIMITS["batch_size"]:
        raise ValueError(f"batch_size must be 0 (full batch) or a positive number, got {cfg.batch_size}.")
    if cfg.step_size < 1:
        raise ValueError(f"step_size must be at least 1, got {cfg.step_size}.")
    if cfg.warmup_epochs < 0:
        raise ValueError(f"warmup_epochs must be >= 0, got {cfg.warmup_epochs}.")
    if cfg.early_stopping is not None and (
            isinstance(cfg.early_stopping, bool) or not isinstance(cfg.early_stopping, int)
            or cfg.early_stopping < 1):
        raise ValueError(f"early_stopping patience must be a whole number >= 1 or None, got {cfg.early_stopping!r}.")
    if not isinstance(cfg.early_stopping_monitor, str) or not cfg.early_stopping_monitor.strip():
        raise ValueError("early_stopping_monitor must name a logged metric such as 'val_loss' or "
                         f"'val_accuracy', got {cfg.early_stopping_monitor!r}.")
    if cfg.early_stopping_mode not in EARLY_STOPPING_MODES:
        raise ValueError(f"early_stopping_mode must be one of {', '.join(EARLY_STOPPING_MODES)} "
                         f"(auto: max for accuracy, r2, auc and f1, min otherwise), "
                         f"got {cfg.early_stopping_mode!r}.")
    if cfg.grad_clip is not None:
        _finite("grad_clip", cfg.grad_clip, 0.0, lo_open=True)
    if cfg.device not in ("auto", "cpu", "cuda", "mps") and not str(cfg.device).startswith("cuda:"):
        raise ValueError(f"Unknown device {cfg.device!r}; choose auto, cpu, cuda or mps.")
