"""Inference helpers: a trained model's raw outputs, probabilities, labels and test metrics."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from nnplay.data.dataset import Dataset
from nnplay.train.trainer import EVAL_BATCH, _tensor, task_loss


def model_device(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


@torch.no_grad()
def predict_raw(model: nn.Module, X: np.ndarray | torch.Tensor) -> np.ndarray:
    """The model's outputs (logits, or values for regression) for X, in eval mode, as NumPy."""
    device = model_device(model)
    was_training = model.training
    model.eval()
    X = X.to(device) if isinstance(X, torch.Tensor) else _tensor(np.asarray(X), device)
    out = torch.cat([model(xb) for xb in X.split(EVAL_BATCH)]) if len(X) else torch.empty(0)
    model.train(was_training)
    return out.float().cpu().numpy()


def predict_proba(model: nn.Module, X) -> np.ndarray:
    """Class probabilities (softmax of the logits), shape (n, n_classes)."""
    logits = torch.as_tensor(predict_raw(model, X))
    return torch.softmax(logits, dim=-1).numpy()


def predict(model: nn.Module, X, task: str = "classification") -> np.ndarray:
    """Predicted class indices (classification) or values (regression)."""
    out = predict_raw(model, X)
    if task == "classification":
        return out.argmax(-1)
    return out.reshape(len(out), -1)[:, 0] if out.ndim > 1 and out.shape[-1] == 1 else out


def evaluate(model: nn.Module, dataset: Dataset, split: str = "test") -> dict:
    """Loss and the task's headline metrics on a split: {loss, accuracy} or {loss, rmse, r2}."""
    from sklearn.metrics import accuracy_score, mean_squared_error, r2_score

    X, y = (dataset.X_test, dataset.y_test) if split == "test" else (dataset.X_train, dataset.y_train)
    out = predict_raw(model, X)
    yt = torch.as_tensor(y)
    loss = float(task_loss(dataset.task, torch.as_tensor(out), yt))
    if dataset.task == "classification":
        pred = out.argmax(-1)
        return {"loss": loss, "accuracy": float(accuracy_score(np.ravel(y), np.ravel(pred)))}
    pred = out.reshape(np.shape(y))
    if not np.all(np.isfinite(pred)):
        return {"loss": loss, "rmse": float("nan"), "r2": float("nan")}
    mse = float(mean_squared_error(y, pred))
    return {"loss": loss, "rmse": math.sqrt(mse), "r2": float(r2_score(y, pred))}
