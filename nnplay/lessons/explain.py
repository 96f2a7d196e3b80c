"""The explainability lesson's setup: the model it trains on the spot when a learner arrives with
none (an MLP on a table, a CNN on images). The explanations themselves are the shared concept
``nnplay.explain``."""

from __future__ import annotations

from nnplay.data.dataset import Dataset
from nnplay.models.registry import ModelSpec
from nnplay.train.quick import default_spec

DEFAULT_DATASET = "breast_cancer"
TABLE_EPOCHS = 40
IMAGE_EPOCHS = 3


def families_for(dataset: Dataset) -> list[str]:
    """The networks the page offers for this data: a CNN first for images."""
    return ["cnn", "mlp"] if len(dataset.input_shape) == 3 else ["mlp"]


def spec_for(dataset: Dataset, family: str | None = None) -> ModelSpec:
    return default_spec(dataset, family or families_for(dataset)[0])


def epochs_for(dataset: Dataset) -> int:
    return IMAGE_EPOCHS if len(dataset.input_shape) == 3 else TABLE_EPOCHS
