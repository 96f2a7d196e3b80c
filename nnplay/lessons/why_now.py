"""Why neural networks now: the three causes (data, hardware, algorithms), each an experiment
measured on this machine.

- ``DataScaling``: test accuracy against training-set size for a linear model (logistic
  regression: a network with no hidden layer) and an MLP on real digits, every model given the
  same number of optimizer steps. The network keeps turning more data into accuracy when the
  linear model flattens out.
- ``HardwareBench``: matrix-multiply GFLOP/s and training throughput on one CPU thread, on all
  of them, and on the GPU when there is one.
- ``RecipeRace``: the same deep network trained with the 1990s recipe (sigmoid, plain SGD,
  weights drawn from N(0, 1)) and the 2015 recipe (ReLU, Adam, Kaiming initialisation), each
  with and without batch normalisation: same data, same epochs, curves side by side.

Each follows scikit-learn's conventions (``__init__`` stores settings, ``fit`` returns self,
results end in ``_``) and the jobs protocol (``progress``, ``should_stop``, a stop keeps what was
finished); each has a ``verdict()`` built from its numbers. tests/lessons/test_why_now.py checks
the claims over seeds.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable, Sequence

import pandas as pd
import torch
from torch import nn

from nnplay.data.dataset import Dataset
from nnplay.data.derive import subsample_train
from nnplay.device import device_name, resolve_device
from nnplay.models import mlp
from nnplay.production.compress.measurement import all_threads, torch_threads
from nnplay.train import (
    LambdaCallback,
    StopTraining,
    TrainConfig,
    Trainer,
    evaluate,
    seed_everything,
)
from nnplay.train.jobs import Cancelled, check_stop, fit_stoppable, progress_part

DATASET = "mnist5k"           # every experiment's data: 5,000 real handwritten digits
DIGITS = "digits"             # the 8x8 digits: small enough for ten-layer networks in seconds
VALIDATION_ROWS = 200         # test rows scored every epoch (the full test split at the end)


def _light(dataset: Dataset) -> Dataset:
    """The dataset with only the first VALIDATION_ROWS test rows: the Trainer scores the test
    split every epoch, which costs more than training when a tiny training set runs many epochs.
    Final accuracies are measured on the whole test split."""
    return dataclasses.replace(dataset, X_test=dataset.X_test[:VALIDATION_ROWS],
                               y_test=dataset.y_test[:VALIDATION_ROWS])


# ---- data -----------------------------------------------------------------------------------------
SIZES = (100, 300, 1000, 3750)      # training images kept (3,750 is all of mnist5k's training split)
DATA_MODELS = {"linear": (), "network": (256,)}   # hidden layers: none is logistic regression
STEPS = 300                          # optimizer steps per model, whatever the data size
DATA_COLUMNS = ("model", "n_train", "seed", "test_accuracy", "epochs", "seconds")


class DataScaling:
    """Test accuracy by training-set size for a linear model and a network.

    Both are trained by the same Trainer (Adam, learning rate 1e-3, batches of 64) for the same
    ``steps`` optimizer steps at every size, so more data does not mean more compute. Fitted:
    ``results_`` (one row per model, size and seed: DATA_COLUMNS).
    """

    def __init__(self, sizes: Sequence[int] = SIZES, seeds: Sequence[int] = (0,),
                 steps: int = STEPS, hidden: Sequence[int] = DATA_MODELS["network"]):
        self.sizes, self.seeds, self.steps, self.hidden = sizes, seeds, steps, hidden

    def models(self) -> dict[str, list[int]]:
        return {"linear": [], "network": [int(h) for h in self.hidden]}

    def check(self, dataset: Dataset) -> list[int]:
        """The sorted sizes; ValueError saying what to change when a setting cannot be used."""
        sizes = sorted({int(s) for s in self.sizes})
        if len(sizes) < 2:
            raise ValueError("Give at least two training-set sizes to draw a curve.")
        if sizes[0] < (dataset.n_classes or 2) or sizes[-1] > dataset.n_train:
            raise ValueError(f"Sizes must be between {dataset.n_classes or 2} (one image per "
                             f"class) and {dataset.n_train:,} (every training image).")
        if not 10 <= int(self.steps) <= 20_000:
            raise ValueError(f"Train for between 10 and 20,000 steps, got {self.steps}.")
        return sizes

    def fit(self, dataset: Dataset, progress: Callable[[int, int], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> DataScaling:
        """Train every (seed, size, model); ``progress`` counts trainings. A stop raises
        Cancelled(result=self) with the finished rows in ``results_``."""
        sizes = self.check(dataset)
        runs = [(seed, n, name) for seed in self.seeds for n in sizes for name in self.models()]
        rows: list[dict] = []
        self.results_ = pd.DataFrame(rows, columns=list(DATA_COLUMNS))
        try:
            for i, (seed, n, name) in enumerate(runs):
                check_stop(should_stop)
                rows.append(self._one(dataset, seed, n, name, should_stop))
                self.results_ = pd.DataFrame(rows, columns=list(DATA_COLUMNS))
                if progress is not None:
                    progress(i + 1, len(runs))
        except Cancelled as stop:
            raise Cancelled(result=self) from stop
        return self

    def _one(self, dataset, seed, n, name, should_stop) -> dict:
        train_set = _light(subsample_train(dataset, n, seed=seed))
        batches = math.ceil(n / 64)
        epochs = max(3, math.ceil(self.steps / batches))
        seed_everything(seed)
        net = mlp(dataset.n_features, self.models()[name], dataset.n_outputs)
        config = TrainConfig(optimizer="adam", lr=1e-3, batch_size=64, epochs=epochs, seed=seed,
                             track_grad_norm=False, device="cpu")
        trainer = fit_stoppable(Trainer(net, train_set, config), should_stop=should_stop)
        return {"model": name, "n_train": n, "seed": seed,
                "test_accuracy": evaluate(net, dataset)["accuracy"], "epochs": trainer.epoch,
                "seconds": trainer.train_seconds}

    def curve(self) -> pd.DataFrame:
        """Mean test accuracy by model and size (over the seeds), sizes as columns."""
        return self.results_.pivot_table(index="model", columns="n_train",
                                         values="test_accuracy", aggfunc="mean")

    def gains(self) -> dict[str, float] | None:
        """Accuracy gained by each model over the last step of sizes (None before two sizes)."""
        curve = self.curve()
        if curve.shape[1] < 2 or set(curve.index) != set(self.models()):
            return None
        last, before = curve.columns[-1], curve.columns[-2]
        return {m: float(curve.loc[m, last] - curve.loc[m, before]) for m in curve.index}

    def verdict(self) -> str:
        """What the measured curve shows, in one or two sentences from its numbers."""
        gains = self.gains()
        if gains is None:
            return "The experiment did not finish; there is no curve to read yet."
        curve = self.curve()
        small, big, last = curve.columns[0], curve.columns[-2], curve.columns[-1]
        lin, net = gains["linear"], gains["network"]
        start_gap = curve.loc["network", small] - curve.loc["linear", small]
        end_gap = curve.loc["network", last] - curve.loc["linear", last]
        text = (f"From {big:,} to {last:,} training images ({last / big:.2g}x the data) the "
                f"linear model gained {100 * lin:.1f} points of test accuracy and the network "
                f"{100 * net:.1f}. ")
        if net > lin + 0.005:
            text += ("The network keeps turning data into accuracy where the linear model "
                     "flattens out")
        else:
            text += "This time the linear model kept up: the gains are too close to call"
        return text + (f"; the gap between them went from {100 * start_gap:.1f} points at "
                       f"{small:,} images to {100 * end_gap:.1f} at {last:,}.")

    def __repr__(self) -> str:
        return (f"DataScaling(sizes={list(self.sizes)}, seeds={list(self.seeds)}, "
                f"steps={self.steps}, hidden={list(self.hidden)})")


# ---- hardware -------------------------------------------------------------------------------------
MATMUL_SIZE = 1024            # a 1024x1024 float32 product: 2.1 GFLOP
HW_COLUMNS = ("setting", "device", "threads", "matmul_gflops", "train_examples_per_s")


def matmul_gflops(size: int = MATMUL_SIZE, device: str | torch.device = "cpu",
                  min_seconds: float = 0.3) -> float:
    """Best GFLOP/s of a size x size float32 matrix product (2 size^3 FLOPs) over repeats that
    fill at least ``min_seconds``, after one warm-up product."""
    dev = resolve_device(device)
    a = torch.randn(size, size, device=dev)
    b = torch.randn(size, size, device=dev)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    a @ b
    sync()
    best, spent = math.inf, 0.0
    while spent < min_seconds or best == math.inf:
        t0 = time.perf_counter()
        a @ b
        sync()
        took = time.perf_counter() - t0
        best, spent = min(best, took), spent + took
    return 2 * size**3 / best / 1e9


def training_throughput(dataset: Dataset, device: str | torch.device = "cpu",
                        rows: int = 1024, hidden: Sequence[int] = (256,),
                        budget_s: float = 2.0) -> float:
    """Training examples per second of an MLP on ``rows`` images (batches of 64): the fastest
    epoch of up to five, stopping once two are done and ``budget_s`` has passed (the first
    epoch's warm-up does not count when a second one is faster)."""
    data = _light(subsample_train(dataset, min(rows, dataset.n_train), seed=0))
    seed_everything(0)
    net = mlp(dataset.n_features, list(hidden), dataset.n_outputs)
    config = TrainConfig(optimizer="adam", lr=1e-3, batch_size=64, epochs=5,
                         track_grad_norm=False, device=str(resolve_device(device)))

    def enough(trainer, logs):
        if trainer.epoch >= 2 and logs["time"] > budget_s:
            raise StopTraining("stopped", "time budget spent")

    trainer = Trainer(net, data, config, callbacks=[LambdaCallback(on_epoch_end=enough)]).fit()
    return data.n_train / min(h["seconds"] for h in trainer.history)


def _ratio(value: float) -> str:
    """'1.1x', '0.091x', '42x', '120x': two significant digits, whole numbers from 10."""
    return f"{value:.2g}x" if value < 10 else f"{value:,.0f}x"


class HardwareBench:
    """Matrix-multiply GFLOP/s and MLP training throughput on 1 CPU thread, all CPU threads and
    the GPU (when ``resolve_device("auto")`` finds one). Fitted: ``results_`` (HW_COLUMNS) and
    ``machine_`` (cores, load average, devices: what the caveats need)."""

    def __init__(self, size: int = MATMUL_SIZE, rows: int = 1024, device: str = "auto"):
        self.size, self.rows, self.device = size, rows, device

    def settings(self) -> list[tuple[str, str, int]]:
        cores = all_threads()
        found = [("1 CPU thread", "cpu", 1)]
        if cores > 1:
            found.append((f"all {cores} CPU threads", "cpu", cores))
        gpu = resolve_device(self.device)
        if gpu.type != "cpu":
            found.append((device_name(gpu), str(gpu), 0))
        return found

    def fit(self, dataset: Dataset, progress: Callable[[int, int], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> HardwareBench:
        if not 64 <= int(self.size) <= 8192:
            raise ValueError(f"Matrix size must be between 64 and 8192, got {self.size}.")
        settings, rows = self.settings(), []
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        self.machine_ = {"cores": all_threads(), "load_average": load,
                         "devices": [s[0] for s in settings]}
        self.results_ = pd.DataFrame(rows, columns=list(HW_COLUMNS))
        try:
            for i, (label, device, threads) in enumerate(settings):
                check_stop(should_stop)
                with torch_threads(threads or torch.get_num_threads()):
                    speed = matmul_gflops(self.size, device)
                    throughput = training_throughput(dataset, device, self.rows)
                rows.append({"setting": label, "device": device, "threads": threads or None,
                             "matmul_gflops": speed, "train_examples_per_s": throughput})
                self.results_ = pd.DataFrame(rows, columns=list(HW_COLUMNS))
                if progress is not None:
                    progress(i + 1, len(settings))
        except Cancelled as stop:
            raise Cancelled(result=self) from stop
        return self

    def verdict(self) -> str:
        table = self.results_
        if len(table) < 2:
            return ("Only one setting was measured: this machine has one CPU thread and no GPU, "
                    "so there is nothing to compare it with.") if len(table) else \
                "Nothing was measured."
        one = table.iloc[0]
        parts = [f"{row['setting'][0].upper() + row['setting'][1:]} multiplied matrices "
                 f"{_ratio(row['matmul_gflops'] / one['matmul_gflops'])} as fast as one CPU thread "
                 f"({row['matmul_gflops']:,.1f} against {one['matmul_gflops']:,.1f} GFLOP/s) "
                 f"and trained the network at "
                 f"{_ratio(row['train_examples_per_s'] / one['train_examples_per_s'])} its speed "
                 f"({row['train_examples_per_s']:,.0f} against "
                 f"{one['train_examples_per_s']:,.0f} images a second)."
                 for _, row in table.iloc[1:].iterrows()]
        return " ".join(parts)

    def caveats(self) -> list[str]:
        """What limits these numbers here, from what was measured about the machine."""
        m, notes = self.machine_, []
        if m["load_average"] is not None and m["load_average"] > 0.5 * m["cores"]:
            notes.append(f"This machine was busy (load average {m['load_average']:.1f} on "
                         f"{m['cores']} cores): other work shared the CPU, so the all-threads "
                         "numbers are lower than an idle machine gives.")
        if not any(d.startswith("GPU") for d in m["devices"]):
            notes.append("No GPU here: the GPU row appears on a machine with CUDA or Apple "
                         "MPS.")
        cpu = self.results_[self.results_["device"] == "cpu"]
        if len(cpu) > 1 and cpu["train_examples_per_s"].iloc[-1] < cpu["train_examples_per_s"].iloc[0]:
            notes.append("Training on all threads was slower than on one here: a small network's "
                         "many small operations make the threads wait for each other, and on a "
                         "shared CPU each wait is long.")
        notes.append("A small network moves little work per step: Python and memory traffic "
                     "take a larger share than in a big model, so training gains less from "
                     "more threads than the bare matrix product does.")
        return notes

    def __repr__(self) -> str:
        return f"HardwareBench(size={self.size}, rows={self.rows}, device={self.device!r})"


# ---- algorithms -----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a deep network is built and trained: activation, optimizer and initialisation."""

    name: str
    activation: str       # sigmoid | relu
    optimizer: str        # sgd | adam
    lr: float
    init: str             # normal: weights from N(0, 1); kaiming: N(0, 2 / fan_in)


RECIPES = (Recipe("1990s: sigmoid, SGD, N(0, 1) weights", "sigmoid", "sgd", 0.1, "normal"),
           Recipe("2015: ReLU, Adam, Kaiming init", "relu", "adam", 1e-3, "kaiming"))
DEPTH, WIDTH, RECIPE_EPOCHS, RECIPE_BATCH = 10, 64, 20, 128


def deep_net(n_inputs: int, n_outputs: int, recipe: Recipe, depth: int = DEPTH,
             width: int = WIDTH, batch_norm: bool = False) -> nn.Sequential:
    """``depth`` hidden layers of ``width`` units (Linear, BatchNorm when asked, activation)
    and a linear output layer, initialised the recipe's way (biases at zero)."""
    layers: list[nn.Module] = [nn.Flatten()]
    fan_in = n_inputs
    for _ in range(depth):
        linear = nn.Linear(fan_in, width)
        if recipe.init == "normal":
            nn.init.normal_(linear.weight, 0.0, 1.0)
        else:
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        nn.init.zeros_(linear.bias)
        layers.append(linear)
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.Sigmoid() if recipe.activation == "sigmoid" else nn.ReLU())
        fan_in = width
    layers.append(nn.Linear(fan_in, n_outputs))
    return nn.Sequential(*layers)


def variant_name(recipe: Recipe, batch_norm: bool) -> str:
    return recipe.name + (" + BatchNorm" if batch_norm else "")


class RecipeRace:
    """The same deep network trained with each recipe, with and without batch normalisation.

    Same data, epochs, batches and seed for every variant. Fitted: ``histories_`` (variant ->
    the Trainer's curve history from epoch 0) and ``results_`` (variant, recipe, batch_norm,
    final and best test accuracy, seconds).
    """

    def __init__(self, depth: int = DEPTH, width: int = WIDTH, epochs: int = RECIPE_EPOCHS,
                 batch_size: int = RECIPE_BATCH, seed: int = 0, recipes=RECIPES,
                 norms: Sequence[bool] = (False, True)):
        self.depth, self.width, self.epochs, self.batch_size = depth, width, epochs, batch_size
        self.seed, self.recipes, self.norms = seed, recipes, norms

    def variants(self) -> list[tuple[Recipe, bool]]:
        return [(r, bn) for r in self.recipes for bn in self.norms]

    def check(self) -> TrainConfig:
        """The shared TrainConfig; ValueError saying what to change for impossible settings."""
        if not 2 <= int(self.depth) <= 30 or not 4 <= int(self.width) <= 1024:
            raise ValueError("Choose 2 to 30 layers of 4 to 1,024 units.")
        return TrainConfig(optimizer="sgd", lr=0.1, batch_size=self.batch_size,
                           epochs=int(self.epochs), seed=self.seed, track_grad_norm=False,
                           device="cpu")      # validates epochs, batch size and seed

    def fit(self, dataset: Dataset, progress: Callable[[int, int], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> RecipeRace:
        config = self.check()
        variants, rows = self.variants(), []
        self.histories_: dict[str, list[dict]] = {}
        self.results_ = pd.DataFrame(rows)
        try:
            for i, (recipe, bn) in enumerate(variants):
                check_stop(should_stop)
                seed_everything(self.seed)
                net = deep_net(dataset.n_features, dataset.n_outputs, recipe, self.depth,
                               self.width, bn)
                cfg = config.replace(optimizer=recipe.optimizer, lr=recipe.lr)
                trainer = fit_stoppable(
                    Trainer(net, dataset, cfg),
                    progress_part(progress, i * cfg.epochs, cfg.epochs * len(variants)),
                    should_stop)
                name = variant_name(recipe, bn)
                curve = trainer.curve_history()
                self.histories_[name] = curve
                accuracies = [h["val_accuracy"] for h in curve[1:]]
                rows.append({"variant": name, "recipe": recipe.name, "batch_norm": bn,
                             "final_accuracy": accuracies[-1], "best_accuracy": max(accuracies),
                             "seconds": trainer.train_seconds, "status": trainer.status})
                self.results_ = pd.DataFrame(rows)
        except Cancelled as stop:
            raise Cancelled(result=self) from stop
        return self

    def final(self, recipe: Recipe, batch_norm: bool) -> float | None:
        """Final test accuracy of one variant (None when it was not trained)."""
        found = self.results_[self.results_["variant"] == variant_name(recipe, batch_norm)] \
            if len(self.results_) else self.results_
        return float(found["final_accuracy"].iloc[0]) if len(found) else None

    def verdict(self) -> str:
        old, new = self.recipes[0], self.recipes[-1]
        a, b = self.final(old, False), self.final(new, False)
        if a is None or b is None:
            return "The race did not finish; there is nothing to compare yet."
        text = (f"After {self.epochs} epochs the {self.depth}-layer network reached "
                f"{b:.1%} test accuracy with the 2015 recipe and {a:.1%} with the 1990s one.")
        a_bn, b_bn = self.final(old, True), self.final(new, True)
        if a_bn is not None:
            text += (f" Batch normalisation took the 1990s recipe to {a_bn:.1%}" +
                     (f" (the 2015 recipe: {b_bn:.1%})" if b_bn is not None else "") + ": "
                     + ("normalising every layer's input rescues the saturated sigmoids."
                        if a_bn > a + 0.05 else "here it did not rescue it."))
        return text

    def __repr__(self) -> str:
        return (f"RecipeRace(depth={self.depth}, width={self.width}, epochs={self.epochs}, "
                f"batch_size={self.batch_size}, seed={self.seed})")
