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


def _cnn_for(dataset: Dataset, **params):
    from nnplay.models.cnn import cnn

    if len(dataset.input_shape) != 3:
        raise ValueError(f"A CNN needs image data shaped (channels, height, width); "
                         f"{dataset.name} has examples shaped {dataset.input_shape}.")
    return cnn(dataset.input_shape, dataset.n_outputs, **params)


def _rnn_for(cell: str):
    def build(dataset: Dataset, **params):
        from nnplay.models.rnn import rnn

        if len(dataset.input_shape) != 2:
            raise ValueError(f"A recurrent net needs sequences shaped (time, features); "
                             f"{dataset.name} has examples shaped {dataset.input_shape}.")
        params.setdefault("cell", cell)
        return rnn(dataset.input_shape[-1], dataset.n_outputs, **params)

    return build


def _transformer_for(dataset: Dataset, **params):
    from nnplay.models.transformer import transformer

    if dataset.X_train.dtype.kind in "iu":  # token ids; per-token targets when y is (n, T)
        vocab = int(max(dataset.X_train.max(), dataset.X_test.max())) + 1
        params.setdefault("vocab_size", max(vocab, dataset.n_outputs))
        if dataset.y_train.ndim == 2:
            params.setdefault("pooling", "none")
    elif len(dataset.input_shape) == 2:
        params.setdefault("n_features", dataset.input_shape[-1])
    else:
        raise ValueError(f"A Transformer needs sequences (token ids or (time, features)); "
                         f"{dataset.name} has examples shaped {dataset.input_shape}.")
    return transformer(dataset.n_outputs, **params)


register_family("mlp", _mlp_for)
register_family("cnn", _cnn_for)
for _cell in ("rnn", "lstm", "gru"):
    register_family(_cell, _rnn_for(_cell))
register_family("transformer", _transformer_for)
