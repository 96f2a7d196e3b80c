"""Build any model family from a ModelSpec, so saved models can be rebuilt.

A ``ModelSpec(family, params)`` is frozen and validated in one place: the family must be
registered, and the parameters must be JSON-able settings its builder takes.
``build_model(spec, dataset)`` fills in the input and output sizes from the dataset. Each family
registers its builder here once, with the names of the settings a learner may give it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from torch import nn

from nnplay.data.dataset import Dataset

# family -> (builder(dataset, **params) -> nn.Module, accepted parameter names)
_BUILDERS: dict[str, tuple[Callable[..., nn.Module], frozenset[str]]] = {}


def register_family(name: str, builder: Callable[..., nn.Module],
                    params: Iterable[str] = ()) -> None:
    """Add a model family: builder(dataset, **params) returns a fresh nn.Module; ``params``
    names the settings it accepts (checked by ModelSpec)."""
    _BUILDERS[name] = (builder, frozenset(params))


def families() -> list[str]:
    return list(_BUILDERS)


@dataclass(frozen=True)
class ModelSpec:
    """Which network to build: a registered family and its settings (sizes come from the data)."""

    family: str = "mlp"                          # mlp | cnn | rnn | lstm | gru | transformer
    params: dict = field(default_factory=dict)   # the builder's settings, e.g. {"hidden": [32]}

    def __post_init__(self):
        if self.family not in _BUILDERS:
            raise ValueError(f"Unknown model family {self.family!r}; choose one of "
                             f"{', '.join(_BUILDERS)}.")
        if not isinstance(self.params, dict):
            raise ValueError(f"A model's params are a dict of settings, got {self.params!r}.")
        accepted = _BUILDERS[self.family][1]
        unknown = sorted(set(self.params) - accepted)
        if unknown:
            raise ValueError(f"A {self.family} model does not take {', '.join(unknown)}; it "
                             f"takes {', '.join(sorted(accepted))}.")
        try:  # JSON round trip: tuples become lists, so equal specs compare equal
            object.__setattr__(self, "params", json.loads(json.dumps(self.params)))
        except (TypeError, ValueError):
            raise ValueError(f"A {self.family} model's settings must be plain numbers, text, "
                             f"lists or true/false, got {self.params!r}.") from None

    def __hash__(self) -> int:
        return hash(self.to_json())

    def build(self, dataset: Dataset) -> nn.Module:
        """A fresh, randomly initialised model for ``dataset``."""
        return build_model(self, dataset)

    def to_dict(self) -> dict:
        return {"family": self.family, "params": dict(self.params)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def of(cls, spec: ModelSpec | dict) -> ModelSpec:
        """A ModelSpec from itself or from ``{"family": ..., "params": {...}}``."""
        if isinstance(spec, ModelSpec):
            return spec
        if not isinstance(spec, dict):
            raise ValueError(f"A model spec is {{'family': ..., 'params': {{...}}}}, got {spec!r}.")
        return cls(spec.get("family", "mlp"), dict(spec.get("params") or {}))

    def __repr__(self) -> str:
        return f"ModelSpec({self.family!r}, {self.params!r})"


def build_model(spec: ModelSpec | dict, dataset: Dataset) -> nn.Module:
    """A fresh model for ``dataset`` from a ModelSpec or ``{"family": ..., "params": {...}}``.

    Unknown families or parameters raise ValueError naming what to change.
    """
    spec = ModelSpec.of(spec)
    try:
        return _BUILDERS[spec.family][0](dataset, **spec.params)
    except TypeError as err:
        raise ValueError(f"Bad settings for a {spec.family} model: {err}") from None


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


def _settings(fn: Callable, sized: Iterable[str]) -> list[str]:
    """A builder function's parameter names, less those the dataset fills in."""
    import inspect

    return [p for p in inspect.signature(fn).parameters if p not in set(sized)]


def _register_builtin() -> None:
    from nnplay.models.cnn import cnn
    from nnplay.models.rnn import rnn
    from nnplay.models.transformer import transformer

    register_family("mlp", _mlp_for, ("hidden", "activation", "dropout", "init"))
    register_family("cnn", _cnn_for, _settings(cnn, ("input_shape", "n_outputs")))
    for cell in ("rnn", "lstm", "gru"):
        register_family(cell, _rnn_for(cell), _settings(rnn, ("n_features", "n_outputs")))
    register_family("transformer", _transformer_for, _settings(transformer, ("n_outputs",)))


_register_builtin()
