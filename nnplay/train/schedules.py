"""Optimizers and learning-rate schedules by name, all built from torch.optim."""

from __future__ import annotations

import torch
from torch.optim import lr_scheduler

from nnplay.train.config import TrainConfig


def make_optimizer(params, cfg: TrainConfig, fused: bool | None = None) -> torch.optim.Optimizer:
    """The torch optimizer a config names; l2 becomes weight decay.

    SGD, Adam and AdamW use torch's fused kernels when the parameters allow it (about 30% faster
    per step for small networks on the CPU); ``fused=False`` asks for the default implementation.
    """
    params = list(params)
    name, lr, wd = cfg.optimizer, cfg.lr, cfg.l2
    if fused is None:
        fused = bool(params) and all(p.is_floating_point() and p.device.type in ("cpu", "cuda")
                                     for p in params)
    kw = {"fused": True} if fused else {}
    if name == "sgd":
        return _with_fallback(torch.optim.SGD, params, kw, lr=lr, weight_decay=wd)
    if name == "momentum":
        return _with_fallback(torch.optim.SGD, params, kw, lr=lr, momentum=cfg.momentum, weight_decay=wd)
    if name == "nesterov":
        return _with_fallback(torch.optim.SGD, params, kw, lr=lr, momentum=cfg.momentum or 0.9,
                              nesterov=True, weight_decay=wd)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=0.0, weight_decay=wd)
    if name == "adam":
        return _with_fallback(torch.optim.Adam, params, kw, lr=lr, weight_decay=wd)
    if name == "adamw":
        return _with_fallback(torch.optim.AdamW, params, kw, lr=lr, weight_decay=wd)
    raise ValueError(f"Unknown optimizer {name!r}")


def _with_fallback(cls, params, kw, **settings):
    """Build with the fused kernel when this torch build has it, else the default one."""
    if kw:
        try:
            return cls(params, **settings, **kw)
        except (RuntimeError, TypeError, ValueError):
            pass
    return cls(params, **settings)


def make_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig):
    """The torch scheduler for cfg.schedule, stepped once per epoch (None for constant).

    plateau is ReduceLROnPlateau and must be stepped with the validation loss.
    """
    s, n = cfg.schedule, cfg.epochs
    if s == "constant":
        return None
    if s == "step":
        return lr_scheduler.StepLR(optimizer, step_size=cfg.step_size, gamma=cfg.gamma)
    if s == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, gamma=cfg.gamma)
    if s == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=n, eta_min=cfg.min_lr)
    if s == "cosine_restarts":
        return lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=cfg.step_size, eta_min=cfg.min_lr)
    if s == "cyclic":
        return lr_scheduler.CyclicLR(optimizer, base_lr=cfg.min_lr or cfg.lr / 10, max_lr=cfg.lr,
                                     step_size_up=max(1, cfg.step_size // 2), mode="triangular",
                                     cycle_momentum=False)
    if s == "onecycle":
        return lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=max(n, 2),
                                       cycle_momentum=False)
    if s == "warmup_cosine":
        warm = min(cfg.warmup_epochs, max(n - 1, 0))
        if warm == 0:
            return lr_scheduler.CosineAnnealingLR(optimizer, T_max=n, eta_min=cfg.min_lr)
        return lr_scheduler.SequentialLR(optimizer, [
            lr_scheduler.LinearLR(optimizer, start_factor=1.0 / (warm + 1), total_iters=warm),
            lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(n - warm, 1), eta_min=cfg.min_lr),
        ], milestones=[warm])
    if s == "plateau":
        return lr_scheduler.ReduceLROnPlateau(optimizer, factor=cfg.gamma,
                                              patience=max(1, cfg.step_size // 10))
    raise ValueError(f"Unknown schedule {s!r}")


def lr_schedule_preview(cfg: TrainConfig, epochs: int | None = None) -> list[float]:
    """The learning rate of each planned epoch, from a throwaway optimizer and scheduler.

    For plateau the rate depends on the losses to come, so the preview is flat.
    """
    n = epochs or cfg.epochs
    param = torch.nn.Parameter(torch.zeros(1))
    opt = make_optimizer([param], cfg)
    sched = make_scheduler(opt, cfg)
    rates = []
    for _ in range(n):
        rates.append(opt.param_groups[0]["lr"])
        if sched is not None and not isinstance(sched, lr_scheduler.ReduceLROnPlateau):
            opt.step()
            sched.step()
    return rates
