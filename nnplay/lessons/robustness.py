"""The robustness lesson's setup: the data and networks its page offers and how long each trains
by default, so a learner who opens the page sees a network trained and attacked within seconds.
The measurements themselves are the shared concept ``nnplay.responsible.robustness``."""

from __future__ import annotations

from pathlib import Path

from nnplay.data.dataset import Dataset
from nnplay.models.registry import ModelSpec

IMAGE_SETS = ("mnist5k", "digits")
IMAGE_FAMILIES = ("cnn", "mlp")
IMAGE_EPOCHS = 3
TABLE_DEFAULT = "breast_cancer"
TABLE_EPOCHS = 30
SEVERITIES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
# A CNN trained on mnist5k by assets/make_checkpoints.py: the page opens with it at once.
CHECKPOINT = Path(__file__).resolve().parents[2] / "assets" / "checkpoints" / \
    "robustness_mnist5k_cnn.zip"


def load_checkpoint(dataset: Dataset | None = None):
    """The shipped default image model (a modelio.LoadedModel), or None when it is not there
    (an installed package without the repository's assets/ folder)."""
    from nnplay.models import modelio

    if not CHECKPOINT.is_file():
        return None
    return modelio.load_bundle(CHECKPOINT, dataset=dataset)


def image_spec(dataset: Dataset, family: str = "cnn") -> ModelSpec:
    """A small CNN (or MLP) for the image part; ValueError for data that is not images."""
    if len(dataset.input_shape) != 3:
        raise ValueError(f"The image part needs images; {dataset.name} has examples shaped "
                         f"{dataset.input_shape}. Use the Tables part.")
    if family == "cnn":
        return ModelSpec("cnn", {"channels": [8, 16], "hidden": [64]})
    if family == "mlp":
        return ModelSpec("mlp", {"hidden": [64]})
    raise ValueError(f"Choose a network from {', '.join(IMAGE_FAMILIES)}, got {family!r}.")


def finding(previous: dict | None, n_rows: int, **curves) -> dict:
    """What the model card keeps (Workspace.add_finding): each accuracy curve given
    (``corruptions``, ``attacks``, ``tabular``: DataFrames, None when not measured) as rows,
    merged over what was measured on the model before."""
    out = {**(previous or {}), "n_rows": int(n_rows)}
    out.update({key: curve.to_dict("records") for key, curve in curves.items()
                if curve is not None})
    return out


def table_spec(dataset: Dataset) -> ModelSpec:
    """A two-layer MLP for the tables part; ValueError for image or sequence data."""
    if len(dataset.input_shape) != 1:
        raise ValueError(f"The tables part needs rows of features; {dataset.name} has examples "
                         f"shaped {dataset.input_shape}. Use the Images part for images.")
    return ModelSpec("mlp", {"hidden": [32, 16], "activation": "relu"})
