"""Train on the spot: a small, sensible network for any dataset, on the one Trainer.

A page that needs a model (evaluate, explain, audit, attack) offers the session's models first;
otherwise it trains one of these in the background. ``quick_trainer`` returns a Trainer that has
not run yet, so the caller chooses: ``.fit()`` here, or ``nnplay.train.jobs`` in a thread with
progress and a stop button. The same seed gives the same network and the same numbers.
"""

from __future__ import annotations

from nnplay.data.dataset import Dataset
from nnplay.models.registry import ModelSpec
from nnplay.train.callbacks import Callback
from nnplay.train.config import TrainConfig
from nnplay.train.trainer import Trainer, seed_everything

FAMILIES = ("auto", "mlp", "cnn", "lstm", "transformer")
MAX_QUICK_EPOCHS = 1000


def default_spec(dataset: Dataset, family: str = "auto", hidden=(32, 16)) -> ModelSpec:
    """A small network that suits the data: a CNN for images, an LSTM for sequences of
    features, a Transformer for token ids, an MLP for tables ('auto'), or the family asked for."""
    ndim = len(dataset.input_shape)
    tokens = dataset.X_train.dtype.kind in "iu"
    if family == "auto":
        family = "cnn" if ndim == 3 else "transformer" if tokens else "lstm" if ndim == 2 \
            else "mlp"
    if family not in FAMILIES:
        raise ValueError(f"Unknown family {family!r} for a quick network; choose one of "
                         f"{', '.join(FAMILIES)}.")
    if family == "cnn":
        if ndim != 3:
            raise ValueError("A CNN needs image data (channels, height, width); use an MLP.")
        return ModelSpec("cnn", {"channels": [8, 16], "hidden": [32]})
    if family == "lstm":
        return ModelSpec("lstm", {"hidden_size": 32})
    if family == "transformer":
        return ModelSpec("transformer", {"d_model": 32, "n_heads": 2, "n_layers": 2})
    return ModelSpec("mlp", {"hidden": [int(h) for h in hidden], "activation": "relu"})


def default_config(epochs: int = 30, seed: int = 0, lr: float = 0.01,
                   batch_size: int = 64) -> TrainConfig:
    """Adam at a rate that trains every default network in a few dozen epochs."""
    if not 1 <= int(epochs) <= MAX_QUICK_EPOCHS:
        raise ValueError(f"Train for between 1 and {MAX_QUICK_EPOCHS} epochs, got {epochs}.")
    return TrainConfig(optimizer="adam", lr=lr, batch_size=batch_size, epochs=int(epochs),
                       seed=seed)


def quick_trainer(dataset: Dataset, spec: ModelSpec | dict | None = None,
                  config: TrainConfig | None = None, *, family: str = "auto", epochs: int = 30,
                  seed: int | None = None, callbacks: list[Callback] | None = None) -> Trainer:
    """A Trainer for a freshly initialised network on ``dataset``, ready to ``fit()``.

    ``spec`` defaults to ``default_spec(dataset, family)``, ``config`` to ``default_config``.
    The model is initialised from ``seed`` (default: the config's seed).
    """
    spec = default_spec(dataset, family) if spec is None else ModelSpec.of(spec)
    config = config or default_config(epochs, seed or 0)
    seed_everything(config.seed if seed is None else seed)
    trainer = Trainer(spec.build(dataset), dataset, config, callbacks=callbacks)
    trainer.spec = spec   # what registering the model needs to rebuild it
    return trainer
