"""The evaluation lesson's setup: the model it trains on the spot when a learner arrives with
none, and the verdict it gives on the network against the baselines. The metrics themselves are
the shared concept ``nnplay.evaluation``."""

from __future__ import annotations

import math

from nnplay.data.dataset import Dataset
from nnplay.models.registry import ModelSpec
from nnplay.train.quick import default_spec

DEFAULT_DATASET = "breast_cancer"
EPOCHS = 40
# Beating the dummy baseline by less than this (accuracy or R² points) is not worth a network.
CLEAR_MARGIN = 0.05


def spec_for(dataset: Dataset) -> ModelSpec:
    """The network the page trains: a small MLP (a CNN for images)."""
    return default_spec(dataset)


def baseline_verdict(network: float, dummy: float, best_other: float, best_name: str,
                     metric: str = "accuracy") -> tuple[str, str]:
    """(level, sentence) on the network's cross-validated score against the baselines.

    level is "error" when the network does no better than predicting the majority (or the mean),
    "warning" when it beats that by less than CLEAR_MARGIN or loses to another baseline, and
    "success" otherwise. Scores are higher-is-better (accuracy, F1, R²).
    """
    if any(not math.isfinite(v) for v in (network, dummy, best_other)):
        return "warning", "Some scores could not be computed; compare the table instead."
    gain = network - dummy
    if gain <= 0:
        return "error", (f"The network ({network:.3f} {metric}) does no better than always "
                         f"predicting the majority class or the mean ({dummy:.3f}): it has "
                         "learned nothing useful here.")
    if gain < CLEAR_MARGIN:
        return "warning", (f"The network ({network:.3f}) barely beats the dummy baseline "
                           f"({dummy:.3f}, +{gain:.3f}): most of its {metric} comes from the "
                           "class balance, not from the features.")
    if best_other > network:
        return "warning", (f"{best_name} ({best_other:.3f}) beats the network ({network:.3f}) "
                           "on this data: a simpler model is the better choice.")
    return "success", (f"The network ({network:.3f}) beats the dummy baseline ({dummy:.3f}) "
                       f"by {gain:.3f} and every other baseline.")


def comparable_models(entry, models) -> list:
    """The other models tested on exactly the same rows as ``entry``: same data reference (so the
    same test split) and same task."""
    ref = entry.record.dataset.to_json()
    return [m for m in models if m.name != entry.name and m.task == entry.task
            and m.record.dataset.to_json() == ref]


def side_by_side(models, dataset) -> tuple:
    """(metrics table with one column per model, the test rows where their predictions differ).

    Classification: accuracy, balanced accuracy, macro F1, ROC AUC and log loss from
    ``nnplay.evaluation.metrics``; regression: MAE, RMSE and R². The second item is a DataFrame
    of the disagreeing rows (index: test row; one column of predictions per model, and the truth).
    """
    import pandas as pd

    from nnplay.evaluation import metrics
    from nnplay.train import predict, predict_proba

    names = [m.name for m in models]
    if len(set(names)) != len(names):
        raise ValueError("Pick two different models to compare.")
    table, preds = {}, {}
    for m in models:
        if dataset.task == "classification":
            proba = predict_proba(m.model, dataset.X_test)
            scores = metrics.classification_metrics(dataset.y_test, proba)
            table[m.name] = {k: scores[k] for k in ("accuracy", "balanced_accuracy", "f1_macro",
                                                    "roc_auc", "log_loss") if k in scores}
            preds[m.name] = proba.argmax(1)
        else:
            pred = predict(m.model, dataset.X_test, "regression")
            scores = metrics.regression_metrics(dataset.y_test, pred)
            table[m.name] = {k: scores[k] for k in ("mae", "rmse", "r2")}
            preds[m.name] = pred
    frame = pd.DataFrame(preds)
    frame["truth"] = dataset.y_test
    if dataset.task == "classification":
        differ = frame[names].nunique(axis=1) > 1
    else:   # regression: predictions more than a tenth of the target's spread apart
        spread = float(dataset.y_test.std()) or 1.0
        differ = (frame[names].max(axis=1) - frame[names].min(axis=1)) > 0.1 * spread
    return pd.DataFrame(table), frame[differ]
