"""Choosing an architecture: which network suits which data, and a race that shows it.

``ARCHITECTURE_GUIDE`` maps a kind of data to the family that fits it and why; ``suggest_families``
applies it to a Dataset. ``ArchRace`` trains an MLP and a CNN on the same image data with the same
Trainer settings and records parameters, test accuracy and seconds for each, so the choice is
seen rather than read. With ``shuffle_pixels`` every image gets the same fixed pixel shuffle:
an MLP does not care (it never knew which pixels were neighbours), a CNN loses its advantage.

The default race (``RACE_DATASETS[0]`` and ArchRace's defaults) is the one the page starts with;
tests/lessons/test_architectures.py checks over seeds 0-4 that it shows what the page says.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from nnplay.data.dataset import Dataset
from nnplay.data.derive import shuffle_pixels
from nnplay.models import build_model, count_parameters
from nnplay.train import TrainConfig, Trainer, evaluate, seed_everything
from nnplay.train.jobs import Cancelled, check_stop, fit_stoppable, progress_part
from nnplay.train.workspace import input_kind

ARCHITECTURE_GUIDE: tuple[dict, ...] = (
    {"data": "Tabular (rows of measurements)", "kind": "tabular", "family": "mlp",
     "why": "Features have no order or neighbours to exploit; dense layers mix them all.",
     "try_it": "breast_cancer, wine, german_credit"},
    {"data": "Images (pixels on a grid)", "kind": "image", "family": "cnn",
     "why": "Nearby pixels belong together and a pattern means the same anywhere: small shared "
            "kernels slide over the image, far fewer weights than dense layers.",
     "try_it": "mnist5k (on the tiny 8x8 digits an MLP keeps up)"},
    {"data": "Time series and signals", "kind": "sequence", "family": "lstm",
     "why": "Order matters and the length varies: a recurrent state carries the past forward; "
            "LSTM and GRU gates keep it over long gaps.",
     "try_it": "sine_forecast, adding_problem, first_token_recall"},
    {"data": "Token sequences (text, symbols)", "kind": "sequence", "family": "transformer",
     "why": "Any token may depend on any other: attention links every pair in one step, and "
            "positional encodings say where each token is.",
     "try_it": "reverse_sequence, sort_sequence"},
)


def guide_table() -> pd.DataFrame:
    """The guide as a table: data, family, why, datasets to try it on."""
    return pd.DataFrame(ARCHITECTURE_GUIDE)[["data", "family", "why", "try_it"]]


def suggest_families(dataset: Dataset) -> list[str]:
    """The families that suit this dataset's kind of input, the best first."""
    kind = input_kind(dataset)
    if kind == "sequence":
        # token ids point to a Transformer, float signals to a recurrent net
        tokens = dataset.X_train.dtype.kind in "iu"
        return ["transformer", "lstm", "gru"] if tokens else ["lstm", "gru", "transformer"]
    if kind == "image":
        return ["cnn", "mlp"]
    return ["mlp"]


# The default race. On mnist5k's 28x28 digits the CNN beats the MLP on every seed with about half
# its parameters, in seconds on one CPU core; the 8x8 digits leave kernels too little to find.
RACE_DATASETS = ("mnist5k", "digits")   # the first is the default
DEFAULT_MLP_HIDDEN = (128,)
DEFAULT_CNN_CHANNELS = (8, 16)
DEFAULT_EPOCHS = 8

RESULT_COLUMNS = ("family", "params", "test_accuracy", "train_seconds", "epochs", "status")


class ArchRace:
    """Train an MLP and a CNN on the same images with the same TrainConfig; compare them.

    Fitted attributes: ``results_`` (a DataFrame with one row per family: params, test_accuracy,
    train_seconds, epochs, status), ``trainers_`` (family -> Trainer), ``specs_`` (family ->
    build_model spec) and ``dataset_`` (the data both saw).
    """

    FAMILIES = ("mlp", "cnn")

    def __init__(self, mlp_hidden: Sequence[int] = DEFAULT_MLP_HIDDEN,
                 cnn_channels: Sequence[int] = DEFAULT_CNN_CHANNELS, epochs: int = DEFAULT_EPOCHS,
                 lr: float = 0.003, batch_size: int = 64,
                 shuffle_pixels: bool = False, seed: int = 0, device: str = "auto"):
        self.mlp_hidden, self.cnn_channels = mlp_hidden, cnn_channels
        self.epochs, self.lr, self.batch_size = epochs, lr, batch_size
        self.shuffle_pixels, self.seed, self.device = shuffle_pixels, seed, device

    def config(self) -> TrainConfig:
        """The one TrainConfig both models train with (validated: bad values raise ValueError)."""
        # cosine decay to zero: the weights compared are settled, not one lucky or unlucky last step
        return TrainConfig(optimizer="adam", lr=self.lr, schedule="cosine",
                           batch_size=self.batch_size, epochs=int(self.epochs), seed=self.seed,
                           device=self.device)

    def model_specs(self) -> dict[str, dict]:
        return {"mlp": {"family": "mlp", "params": {"hidden": [int(h) for h in self.mlp_hidden]}},
                "cnn": {"family": "cnn", "params": {"channels": [int(c) for c in self.cnn_channels],
                                                    "hidden": [64]}}}

    def fit(self, dataset: Dataset, progress: Callable[[int, int], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> ArchRace:
        """Train both models one after the other; ``progress(done, total)`` counts epochs and
        ``should_stop()`` (checked every epoch) stops. Returns self.

        A stop raises Cancelled(result=self): the families finished before it stay in
        ``results_`` and ``trainers_`` (the one in training is dropped: it is not comparable).
        """
        if len(dataset.input_shape) != 3 or dataset.task != "classification":
            raise ValueError("The race needs an image classification dataset such as digits or "
                             f"mnist5k; {dataset.name} is not one.")
        cfg = self.config()
        ds = shuffle_pixels(dataset, self.seed) if self.shuffle_pixels else dataset
        specs = self.model_specs()
        total, rows = cfg.epochs * len(self.FAMILIES), []
        self.trainers_, self.specs_, self.dataset_ = {}, specs, ds
        self.results_ = pd.DataFrame(rows, columns=list(RESULT_COLUMNS)).set_index("family")
        try:
            for i, family in enumerate(self.FAMILIES):
                check_stop(should_stop)
                seed_everything(cfg.seed)  # each model starts from the same seeded state
                model = build_model(specs[family], ds)
                trainer = fit_stoppable(Trainer(model, ds, cfg),
                                        progress_part(progress, i * cfg.epochs, total), should_stop)
                self.trainers_[family] = trainer
                rows.append({"family": family, "params": count_parameters(model),
                             "test_accuracy": evaluate(model, ds)["accuracy"],
                             "train_seconds": trainer.train_seconds, "epochs": trainer.epoch,
                             "status": trainer.status})
                self.results_ = pd.DataFrame(rows, columns=list(RESULT_COLUMNS)).set_index("family")
        except Cancelled as stop:
            raise Cancelled(result=self) from stop
        return self

    def verdict(self) -> str:
        """One sentence on the finished race: who won, by how much, with what share of parameters."""
        table = self.results_
        if list(table.index) != list(self.FAMILIES):
            return "The race did not finish; there is nothing to compare."
        mlp, cnn = table.loc["mlp"], table.loc["cnn"]
        share = f"{cnn['params'] / mlp['params']:.0%} of the MLP's parameters"
        gap = float(cnn["test_accuracy"] - mlp["test_accuracy"])
        if abs(gap) < 0.0005:
            return f"A tie: the CNN matched the MLP's test accuracy with {share}."
        winner, loser = ("CNN", "MLP") if gap > 0 else ("MLP", "CNN")
        return (f"The {winner} beat the {loser} by {abs(gap):.3f} test accuracy; the CNN has "
                f"{share}.")

    def __repr__(self) -> str:
        return (f"ArchRace(mlp_hidden={list(self.mlp_hidden)}, cnn_channels="
                f"{list(self.cnn_channels)}, epochs={self.epochs}, lr={self.lr}, "
                f"batch_size={self.batch_size}, shuffle_pixels={self.shuffle_pixels}, "
                f"seed={self.seed})")
