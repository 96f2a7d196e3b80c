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
