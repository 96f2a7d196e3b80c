"""Training: a frozen TrainConfig, one Trainer, callbacks, schedules, background jobs and
inference helpers."""

from nnplay.train.callbacks import (
           Callback,
           EarlyStopping,
           LambdaCallback,
           ProgressBar,
           StopTraining,
)
from nnplay.train.config import OPTIMIZERS, SCHEDULES, TrainConfig
from nnplay.train.jobs import Cancelled, Job, check_stop
from nnplay.train.predict import evaluate, predict, predict_proba, predict_raw
from nnplay.train.schedules import lr_schedule_preview, make_optimizer, make_scheduler
from nnplay.train.trainer import Trainer, seed_everything, task_loss

__all__ = ["OPTIMIZERS", "SCHEDULES", "Callback", "Cancelled", "EarlyStopping", "Job",
           "LambdaCallback", "ProgressBar", "StopTraining", "TrainConfig", "Trainer", "check_stop",
           "evaluate", "lr_schedule_preview", "make_optimizer", "make_scheduler", "predict",
           "predict_proba", "predict_raw", "seed_everything", "task_loss"]
