"""Every learning-rate schedule: the Trainer's per-epoch rates and the preview equal torch's own.

The reference schedulers are built here, by hand, from torch.optim.lr_scheduler with the
settings the config documents, and stepped once per epoch on a throwaway parameter.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch.optim import lr_scheduler

from nnplay import data, models, train
from nnplay.train import SCHEDULES, TrainConfig

EPOCHS = 14
BASE = {"optimizer": "sgd", "lr": 0.1, "epochs": EPOCHS, "batch_size": 0, "step_size": 4,
        "gamma": 0.5, "warmup_epochs": 3, "min_lr": 0.002, "seed": 0, "device": "cpu"}


def torch_reference(schedule: str, epochs: int = EPOCHS) -> list[float]:
    """The learning rate of each epoch from a scheduler built directly with torch."""
    lr, step, gamma, warm, floor = BASE["lr"], BASE["step_size"], BASE["gamma"], \
        BASE["warmup_epochs"], BASE["min_lr"]
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    scheds = {
        "constant": lambda: None,
        "step": lambda: lr_scheduler.StepLR(opt, step_size=step, gamma=gamma),
        "exponential": lambda: lr_scheduler.ExponentialLR(opt, gamma=gamma),
        "cosine": lambda: lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=floor),
        "cosine_restarts": lambda: lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=step,
                                                                            eta_min=floor),
        "cyclic": lambda: lr_scheduler.CyclicLR(opt, base_lr=floor, max_lr=lr,
                                                step_size_up=step // 2, mode="triangular",
                                                cycle_momentum=False),
        "onecycle": lambda: lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs,
                                                    cycle_momentum=False),
        "warmup_cosine": lambda: lr_scheduler.SequentialLR(opt, [
            lr_scheduler.LinearLR(opt, start_factor=1 / (warm + 1), total_iters=warm),
            lr_scheduler.CosineAnnealingLR(opt, T_max=epochs - warm, eta_min=floor)],
            milestones=[warm]),
    }
    sched = scheds[schedule]()
    rates = []
    for _ in range(epochs):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        if sched is not None:
            sched.step()
    return rates


@pytest.fixture(scope="module")
def tiny():
    return data.load("moons", n=80, noise=0.2, seed=0)


def trained_rates(dataset, **changes) -> list[float]:
    cfg = TrainConfig(**{**BASE, **changes})
    train.seed_everything(0)
    net = models.mlp(dataset.n_features, [8], dataset.n_outputs)
    trainer = train.Trainer(net, dataset, cfg).fit()
    assert trainer.status == "completed"
    return [row["lr"] for row in trainer.history]


@pytest.mark.parametrize("schedule", [s for s in SCHEDULES if s != "plateau"])
def test_trainer_and_preview_follow_torch(schedule, tiny):
    expected = torch_reference(schedule)
    assert trained_rates(tiny, schedule=schedule) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    preview = train.lr_schedule_preview(TrainConfig(**{**BASE, "schedule": schedule}))
    assert preview == pytest.approx(expected, rel=1e-12, abs=1e-15)
    if schedule != "constant":  # every real schedule changes the rate within 14 epochs
        assert len({round(r, 12) for r in expected}) > 1


def test_closed_forms_agree_with_torch():
    """Independent arithmetic for three schedules, so the reference itself is checked."""
    lr, step, gamma, floor = BASE["lr"], BASE["step_size"], BASE["gamma"], BASE["min_lr"]
    assert torch_reference("step") == pytest.approx(
        [lr * gamma ** (e // step) for e in range(EPOCHS)])
    assert torch_reference("exponential") == pytest.approx([lr * gamma ** e for e in range(EPOCHS)])
    cosine = [floor + (lr - floor) * (1 + math.cos(math.pi * e / EPOCHS)) / 2
              for e in range(EPOCHS)]
    assert torch_reference("cosine") == pytest.approx(cosine)
    warm = torch_reference("warmup_cosine")
    assert warm[0] == pytest.approx(lr / 4) and warm[3] == pytest.approx(lr)
    one = torch_reference("onecycle")  # starts at max_lr / 25, peaks near max_lr, ends far below
    assert one[0] == pytest.approx(lr / 25) and max(one) == pytest.approx(lr, rel=0.02)
    assert one[-1] < one[0]


def test_plateau_follows_torch_stepped_with_the_validation_loss(tiny):
    cfg = TrainConfig(**{**BASE, "schedule": "plateau", "step_size": 10, "lr": 3.0,
                         "epochs": 30})
    train.seed_everything(0)
    trainer = train.Trainer(models.mlp(2, [8], 2), tiny, cfg).fit()
    rates = [row["lr"] for row in trainer.history]
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=3.0)
    ref = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    expected = []
    for row in trainer.history:
        expected.append(opt.param_groups[0]["lr"])
        ref.step(row["val_loss"])
    assert rates == pytest.approx(expected)
    assert rates[-1] < rates[0]  # the loss did stall at this rate, so the rate was cut
    # the rate it will take depends on losses to come, so the preview is flat
    assert set(train.lr_schedule_preview(cfg)) == {3.0}
