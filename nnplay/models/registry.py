"""Build any model family from a plain, JSON-able spec, so saved models can be rebuilt.

A spec is ``{"family": "mlp", "params": {...}}``; ``build_model(spec, dataset)`` fills in the
input and output sizes from the dataset. Each family registers its builder here once.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from nnplay.data.dataset import Dataset

# family -> builder(dataset, **params) -> nn.Module
_BUILDERS: dict[str, Callable[..., nn.Module]] = {}


def register_family(name: str, builder: Callable[..., nn.Module]) -> None:
    """Add a model family: builder(dataset, **params) returns a fresh nn.Module."""
    _BUILDERS[name] = builder


def families() -> list[str]:
    return list(_BUILDERS)


def build_model(spec: dict, dataset: Dataset) -> nn.Module:
    """A fresh model for ``dataset`` from ``{"family": ..., "params": {...}}``.

    Unknown families or parameters raise ValueError naming what to change.
    """
    family = spec.get("family", "mlp")
    if family not in _BUILDERS:
        raise ValueError(f"Unknown model family {family!r}; choose one of {', '.join(_BUILDERS)}.")
    params = dict(spec.get("params", {}))
    try:
        return _BUILDERS[family](dataset, **params)
    except TypeError as err:
        raise ValueError(f"Bad settings for a {family} model: {err}") from None


def _mlp_for(dataset: Dataset, hidden=(16, 16), activation="relu", dropout=0.0, init="default"):
    from nnplay.models.mlp import mlp

    return mlp(dataset.n_features, list(hidden), dataset.n_outputs, activation=activation,
               dropout=dropout, init=init)


register_family("mlp", _mlp_for)
