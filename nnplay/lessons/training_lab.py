"""The Training lab's setups: the overfitting preset, the techniques that close its gap, helpers.

The preset is scikit-learn's two moons with heavy noise (0.45): the moons overlap, so some points
lie on the other moon's side and even the best possible boundary gets only about 84% of new points
right. A large network (two layers of 256) trained with Adam at a high rate for 200 epochs on 150 of those
points bends its boundary around nearly every training point, so its training accuracy runs about
0.15 above its test accuracy. A fifth of the 150 points is held out as a validation set
(``val_fraction``), which early stopping watches, so no technique ever looks at the test split;
the train figures of ``generalisation_gap`` count those held-out points too.

Each technique is a function from one LabSetup to another, so switching techniques on is composing
them, and every number the page shows comes from training. tests/lessons/test_training_lab.py
checks over seeds 0-4 that L2, dropout, early stopping and more data each narrow the accuracy gap
without lowering test accuracy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from nnplay.data.dataset import Dataset
from nnplay.data.derive import subsample_train
from nnplay.models.registry import ModelSpec
from nnplay.train.config import TrainConfig


@dataclass(frozen=True)
class LabSetup:
    """Everything one lab run needs: the data, how many training rows, the model and the config."""

    dataset: str                                  # a registered dataset name
    train_rows: int | None                        # keep this many training rows; None = all
    model_spec: dict                              # {"family": ..., "params": {...}}
    config: TrainConfig
    dataset_params: dict = field(default_factory=dict)
    label: str = ""                               # a short name for run lists, e.g. "preset + L2"


@dataclass(frozen=True)
class Technique:
    """A way to fight overfitting, what it does, and how it changes a LabSetup."""

    name: str
    title: str
    explains: str
    apply: Callable[[LabSetup], LabSetup]


OVERFITTING = LabSetup(
    dataset="moons", train_rows=150,
    # 1,000 training points to sample from ("more data" uses them all), 1,500 test points so
    # that one seed's test accuracy is measured to about a percentage point
    dataset_params={"n": 2500, "noise": 0.45, "test_size": 0.6},
    model_spec={"family": "mlp", "params": {"hidden": [256, 256], "activation": "relu",
                                            "dropout": 0.0}},
    config=TrainConfig(optimizer="adam", lr=0.01, batch_size=32, epochs=200, val_fraction=0.2,
                       seed=0),
)
L2_STRENGTH = 1e-2
DROPOUT_RATE = 0.5
PATIENCE = 15


def _with_params(setup: LabSetup, **params) -> LabSetup:
    spec = {"family": setup.model_spec["family"], "params": {**setup.model_spec["params"], **params}}
    return replace(setup, model_spec=spec)


TECHNIQUES: dict[str, Technique] = {t.name: t for t in (
    Technique("l2", f"L2 weight decay ({L2_STRENGTH:g})",
              "Pulls every weight towards zero each step, so the network cannot grow the huge "
              "weights it needs to memorise individual examples.",
              lambda s: replace(s, config=s.config.replace(l2=L2_STRENGTH))),
    Technique("dropout", f"Dropout ({DROPOUT_RATE:g})",
              "Switches off a random half of the hidden neurons at every step, so no neuron can "
              "rely on a few others to recognise one particular example.",
              lambda s: _with_params(s, dropout=DROPOUT_RATE)),
    Technique("early_stopping", f"Early stopping (patience {PATIENCE})",
              "Watches the loss on the held-out validation points and stops when it has not "
              "improved for a while, putting back the weights of the best epoch.",
              lambda s: replace(s, config=s.config.replace(early_stopping=PATIENCE,
                                                           restore_best=True))),
    Technique("more_data", "More data (every training row)",
              f"Uses every training row instead of {OVERFITTING.train_rows}: with many noisy "
              "points around each one, no single point can pull the boundary aside. The real "
              "cure, when you can get it.",
              lambda s: replace(s, train_rows=None)),
)}


def overfitting_setup(techniques: Iterable[str] = ()) -> LabSetup:
    """The overfitting preset with the named techniques (keys of TECHNIQUES) switched on."""
    setup, names = OVERFITTING, list(techniques)
    for name in names:
        if name not in TECHNIQUES:
            raise ValueError(f"Unknown technique {name!r}; choose from {', '.join(TECHNIQUES)}.")
        setup = TECHNIQUES[name].apply(setup)
    label = " + ".join(TECHNIQUES[n].title.split(" (")[0] for n in names) or "no technique"
    return replace(setup, label=f"overfitting preset, {label}")


def lab_trainer(setup: LabSetup, dataset: Dataset | None = None, start_model=None):
    """A Trainer for a setup, ready to fit: the data loaded and trimmed to ``train_rows``, and a
    freshly initialised network (seeded by the config), or a copy of ``start_model`` to go on
    training, so the session's model stays as it was.

    ``dataset``, when given, is the setup's data already loaded (from a cache, say); one loaded
    with other ``dataset_params`` than the setup's is refused with a ValueError, since the preset's
    lesson depends on them (the noise, above all)."""
    import copy

    from nnplay import data
    from nnplay.train import Trainer
    from nnplay.train.quick import quick_trainer

    if dataset is None:
        ds = data.load(setup.dataset, **setup.dataset_params)
    else:
        ds = dataset
        loaded = ds.params or {}
        wrong = sorted(k for k, v in setup.dataset_params.items() if loaded.get(k, v) != v)
        if wrong:
            raise ValueError(
                f"The {ds.name} data given was loaded with "
                f"{', '.join(f'{k}={loaded[k]!r}' for k in wrong)}, but this setup needs "
                f"{', '.join(f'{k}={setup.dataset_params[k]!r}' for k in wrong)}; load it "
                "with the setup's dataset_params.")
    ds = subsample_train(ds, setup.train_rows, seed=setup.config.seed)
    if start_model is None:
        return quick_trainer(ds, setup.model_spec, setup.config)
    trainer = Trainer(copy.deepcopy(start_model), ds, setup.config)
    trainer.spec = ModelSpec.of(setup.model_spec)
    return trainer


def generalisation_gap(model, dataset: Dataset) -> dict:
    """Loss and headline metric on the training rows and the test rows, and their differences."""
    from nnplay.train import evaluate

    train, test = evaluate(model, dataset, "train"), evaluate(model, dataset, "test")
    gap = {"train_loss": train["loss"], "test_loss": test["loss"],
           "loss_gap": test["loss"] - train["loss"]}
    if "accuracy" in train:
        gap.update(train_accuracy=train["accuracy"], test_accuracy=test["accuracy"],
                   accuracy_gap=train["accuracy"] - test["accuracy"])
    else:
        gap.update(train_r2=train["r2"], test_r2=test["r2"], r2_gap=train["r2"] - test["r2"])
    return gap


def parse_hidden(text: str) -> list[int]:
    """'64,32' -> [64, 32]; '' or '0' -> [] (no hidden layer). ValueError says what to type."""
    text = str(text).strip()
    if text in ("", "0", "none"):
        return []
    try:
        sizes = [int(part) for part in text.replace(" ", "").split(",")]
    except ValueError:
        raise ValueError(f"Hidden layers are comma-separated sizes such as 64,32; got {text!r}.") \
            from None
    if any(not 1 <= s <= 4096 for s in sizes) or len(sizes) > 10:
        raise ValueError(f"Use 1 to 10 hidden layers of 1 to 4096 neurons each; got {text!r}.")
    return sizes


def families_for(dataset: Dataset) -> list[str]:
    """Model families that can take this dataset: mlp always, cnn for images once registered."""
    from nnplay.models import families
    from nnplay.train.workspace import input_kind

    kind = input_kind(dataset)
    out = ["mlp"]
    if kind == "image" and "cnn" in families():
        out.append("cnn")
    return out
