"""Lab 1: MNIST experiments. A grid of MLPs (hidden layers x neurons x activation) trained the
same way on the same digits, with test accuracy, parameters and seconds per cell; sentences about
the grid built from its own numbers; a drawn digit prepared as MNIST's were; the test digits a
model gets wrong.

``grid_experiment`` is the plain function (a DataFrame, one row per cell) that the CLI calls;
``MnistGrid`` is the same work as an estimator whose ``fit`` a background Job runs with progress
and Stop, keeping the best cell's trainer for the session's models. Cells are trained in order
and each starts from the same seed, so a cell's numbers do not depend on the cells before it.
The best cell is picked by validation accuracy (a share of the training digits held out), and
its test accuracy is measured once: choosing by the test set would flatter it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from nnplay.data.dataset import Dataset
from nnplay.device import torch_threads
from nnplay.models import build_model, count_parameters
from nnplay.models.activations import check_activation
from nnplay.train import TrainConfig, Trainer, evaluate, predict_proba, seed_everything
from nnplay.train.jobs import Cancelled, check_stop, fit_stoppable, progress_part

LESSON = "lab_mnist"
DEFAULT_LAYERS = (1, 2, 3)
DEFAULT_NEURONS = (32, 128, 512)
DEFAULT_ACTIVATIONS = ("relu", "sigmoid", "tanh")
# The default grid, 27 cells on mnist5k, took 28-68 s on this project's shared 2-core machine
# (one torch thread, load average about 5), about 300 s at a load average of 15.
DEFAULT_EPOCHS = 10
LAYER_CHOICES = (1, 2, 3, 4)
NEURON_CHOICES = (16, 32, 64, 128, 256, 512, 1024)
ACTIVATION_CHOICES = ("relu", "sigmoid", "tanh", "leaky_relu", "gelu")
MAX_EPOCHS = 100
VAL_FRACTION = 0.1        # of the training digits, held out to pick the best cell
RESULT_COLUMNS = ("layers", "neurons", "activation", "test_accuracy", "val_accuracy",
                  "parameters", "seconds", "epochs", "status", "run_id")
METRICS = {"test_accuracy": "test accuracy", "parameters": "parameters", "seconds": "seconds"}
SAME_POINTS = 0.5         # accuracy differences below this many points are "about the same"
# Said only when the measured table shows sigmoid losing the most with depth (findings); the
# engine test checks over seeds that a small grid shows it.
SIGMOID_DEPTH = ("Why sigmoid loses with depth: its slope is at most 0.25, so each sigmoid layer "
                 "passes back at most a quarter of the gradient it receives, and the first "
                 "layers of a deep sigmoid stack learn slowly; after {epochs} epochs they had not "
                 "caught up. ReLU passes the gradient on unchanged where it is active, tanh's "
                 "slope reaches 1.")


def _whole(value) -> int:
    if isinstance(value, bool) or not float(value).is_integer():
        raise ValueError(f"Layer and neuron counts are whole numbers, got {value!r}.")
    return int(value)


def _choices(name: str, values, cast) -> tuple:
    """``values`` cast one by one (a bad one raises its own message), in order, no repeats."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"The {name} are a list of values, got {values!r}.")
    chosen = tuple(dict.fromkeys(cast(v) for v in values))
    if not chosen:
        raise ValueError(f"The grid is empty: choose at least one value for the {name}.")
    return chosen


@dataclass(frozen=True)
class GridSettings:
    """One experiment grid: every combination of these is one MLP, all trained the same way."""

    layers: tuple[int, ...] = DEFAULT_LAYERS              # hidden layers per network
    neurons: tuple[int, ...] = DEFAULT_NEURONS            # neurons in each hidden layer
    activations: tuple[str, ...] = DEFAULT_ACTIVATIONS    # one activation for all hidden layers
    epochs: int = DEFAULT_EPOCHS                          # the same for every cell
    lr: float = 1e-3                                      # Adam's learning rate
    batch_size: int = 64
    seed: int = 0                                         # every cell starts from this seed
    val_fraction: float = VAL_FRACTION                    # training digits held out for picking

    def __post_init__(self):
        layers = _choices("hidden layer counts", self.layers, _whole)
        neurons = _choices("neuron counts", self.neurons, _whole)
        activations = _choices("activations", self.activations, check_activation)
        if min(layers) < 1 or max(layers) > 8:
            raise ValueError(f"Hidden layers go from 1 to 8, got {list(layers)}.")
        if min(neurons) < 1 or max(neurons) > 4096:
            raise ValueError(f"Neurons per layer go from 1 to 4,096, got {list(neurons)}.")
        if not 1 <= int(self.epochs) <= MAX_EPOCHS:
            raise ValueError(f"Train each cell for 1 to {MAX_EPOCHS} epochs, got {self.epochs}.")
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "neurons", neurons)
        object.__setattr__(self, "activations", activations)
        object.__setattr__(self, "epochs", int(self.epochs))
        self.config()   # TrainConfig checks the rest, with its own messages

    def cells(self) -> list[tuple[int, int, str]]:
        """(layers, neurons, activation) of every cell, in training order."""
        return list(itertools.product(self.layers, self.neurons, self.activations))

    def config(self) -> TrainConfig:
        """The one TrainConfig every cell trains with."""
        return TrainConfig(optimizer="adam", lr=self.lr, batch_size=self.batch_size,
                           epochs=self.epochs, val_fraction=self.val_fraction, seed=self.seed)

    @staticmethod
    def spec(layers: int, neurons: int, activation: str) -> dict:
        """The model spec of one cell."""
        return {"family": "mlp", "params": {"hidden": [int(neurons)] * int(layers),
                                            "activation": activation}}

    def __len__(self) -> int:
        return len(self.layers) * len(self.neurons) * len(self.activations)


def reads_digits(dataset: Dataset) -> bool:
    """Whether a model trained on ``dataset`` reads handwritten digits as MNIST does: 28x28
    grey images whose classes are digits (mnist5k, MNIST, the digit splits; not
    Fashion-MNIST's clothes)."""
    names = dataset.class_names or []
    return (tuple(dataset.input_shape) == (1, 28, 28) and len(names) >= 2
            and all(str(n).isdigit() and len(str(n)) == 1 for n in names))


def cell_name(layers: int, neurons: int, activation: str) -> str:
    """'2 x 128 relu': how the page and the run store name a cell."""
    return f"{layers} x {neurons} {activation}"


class MnistGrid:
    """Train one MLP per cell of ``settings`` on the same data; compare them.

    With ``store_runs`` every finished cell is saved in the run store (lesson ``lab_mnist``,
    ``owner`` or the local user); a store that cannot be written leaves ``store_error_`` set and
    the grid goes on. Fitted attributes: ``results_`` (one row per finished cell, RESULT_COLUMNS),
    ``best_`` (the Trainer of the cell with the highest validation accuracy, or None),
    ``best_spec_``, ``dataset_``, ``seconds_`` (wall time of the whole grid) and ``stopped_``.

    ``threads`` sets torch's CPU threads while the grid trains (process-wide; put back after):
    for networks this small a second thread mostly waits, and on a shared CPU its spin-waits made
    the default grid over ten times slower (171 s against 13 s for 4 epochs). None leaves it.
    """

    def __init__(self, settings: GridSettings | None = None, store_runs: bool = False,
                 owner: str | None = None, device: str = "auto", threads: int | None = 1):
        self.settings, self.store_runs, self.owner = settings, store_runs, owner
        self.device, self.threads = device, threads

    def fit(self, dataset: Dataset, progress: Callable[[int, int], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> MnistGrid:
        """Train the cells in order; ``progress(done, total)`` counts epochs over the grid and
        ``should_stop()`` is checked every epoch. A stop raises Cancelled(result=self) with the
        finished cells in ``results_`` (the cell in training is dropped: it is not comparable)."""
        settings = self.settings or GridSettings()
        if len(dataset.input_shape) != 3 or dataset.task != "classification":
            raise ValueError(f"The grid needs images of digits (mnist5k or MNIST); {dataset.name}"
                             " is not image classification data.")
        config = settings.config().replace(device=self.device)
        self.dataset_, self.best_, self.best_spec_, self._best_val = dataset, None, None, -1.0
        self.store_error_, self.stopped_, self.results_ = "", False, _table([])
        started = time.perf_counter()
        try:
            with torch_threads(self.threads):
                self._train_cells(settings, config, progress, should_stop)
        except Cancelled as stop:
            self.stopped_, self.seconds_ = True, time.perf_counter() - started
            raise Cancelled(result=self) from stop
        self.seconds_ = time.perf_counter() - started
        return self

    def _train_cells(self, settings: GridSettings, config: TrainConfig, progress,
                     should_stop) -> None:
        rows, total = [], len(settings) * settings.epochs
        for i, (layers, neurons, activation) in enumerate(settings.cells()):
            check_stop(should_stop)
            spec = settings.spec(layers, neurons, activation)
            seed_everything(config.seed)   # the same start for a cell, whatever came before
            trainer = Trainer(build_model(spec, self.dataset_), self.dataset_, config)
            trainer.spec = spec
            fit_stoppable(trainer, progress_part(progress, i * settings.epochs, total),
                          should_stop)
            row = self._row(trainer, layers, neurons, activation)
            rows.append(row)
            self.results_ = _table(rows)
            if self.best_ is None or row["val_accuracy"] > self._best_val:
                self.best_, self.best_spec_, self._best_val = trainer, spec, row["val_accuracy"]

    def _row(self, trainer: Trainer, layers: int, neurons: int, activation: str) -> dict:
        last = trainer.history[-1] if trainer.history else {}
        row = {"layers": layers, "neurons": neurons, "activation": activation,
               "test_accuracy": float(evaluate(trainer.model, trainer.dataset)["accuracy"]),
               "val_accuracy": float(last.get("val_accuracy", np.nan)),
               "parameters": count_parameters(trainer.model),
               "seconds": float(trainer.train_seconds), "epochs": trainer.epoch,
               "status": trainer.status, "run_id": None}
        if self.store_runs:
            row["run_id"] = self._store(trainer, row)
        return row

    def _store(self, trainer: Trainer, row: dict) -> int | None:
        from nnplay.device import device_name
        from nnplay.train import runs

        try:
            record = runs.make_record(
                trainer, trainer.spec, lesson=LESSON, owner=self.owner,
                device=device_name(trainer.device),
                name=f"grid {cell_name(row['layers'], row['neurons'], row['activation'])}",
                dataset_extra={"val_fraction": trainer.config.val_fraction})
            return runs.RunStore().save(record)
        except (runs.RunStoreError, ValueError) as err:
            self.store_error_ = str(err)
            return None

    def __repr__(self) -> str:
        s = self.settings or GridSettings()
        return (f"MnistGrid(layers={list(s.layers)}, neurons={list(s.neurons)}, "
                f"activations={list(s.activations)}, epochs={s.epochs}, "
                f"store_runs={self.store_runs})")





def _table(rows: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    return table.astype({"layers": int, "neurons": int, "parameters": int, "epochs": int})


def grid_experiment(dataset: Dataset, layers: Sequence[int] = DEFAULT_LAYERS,
                    neurons: Sequence[int] = DEFAULT_NEURONS,
                    activations: Sequence[str] = DEFAULT_ACTIVATIONS,
                    epochs: int = DEFAULT_EPOCHS, seed: int = 0, lr: float = 1e-3,
                    batch_size: int = 64, progress: Callable[[int, int], None] | None = None,
                    should_stop: Callable[[], bool] | None = None, store_runs: bool = False,
                    owner: str | None = None, device: str = "auto",
                    threads: int | None = 1) -> pd.DataFrame:
    """One row per cell (RESULT_COLUMNS): layers, neurons, activation, test_accuracy,
    val_accuracy, parameters, seconds, epochs, status and run_id (None unless ``store_runs``).

    Without Streamlit and, by default, without the run store. A stop raises
    Cancelled(result=<the finished rows>).
    """
    settings = GridSettings(tuple(layers), tuple(neurons), tuple(activations), epochs, lr,
                            batch_size, seed)
    grid = MnistGrid(settings, store_runs=store_runs, owner=owner, device=device, threads=threads)
    try:
        return grid.fit(dataset, progress, should_stop).results_
    except Cancelled as stop:
        raise Cancelled(result=grid.results_) from stop


def mlp_parameters(n_inputs: int, layers: int, neurons: int, n_outputs: int) -> int:
    """Weights and biases of an MLP with ``layers`` hidden layers of ``neurons`` each."""
    return (n_inputs * neurons + neurons + (layers - 1) * (neurons * neurons + neurons)
            + neurons * n_outputs + n_outputs)


def estimate_seconds(settings: GridSettings, dataset: Dataset, threads: int | None = 1,
                     steps: int = 4) -> float:
    """About how long the grid will train here: training steps of the smallest and the largest
    network are timed, a step's time is taken as linear in the parameters in between, and
    multiplied by the steps each cell takes (activations cost about the same)."""
    rows = dataset.n_train - max(1, round(settings.val_fraction * dataset.n_train))
    steps_per_cell = -(-rows // settings.batch_size) * settings.epochs
    shapes = [(layers, neurons) for layers in settings.layers for neurons in settings.neurons]
    sizes = {shape: mlp_parameters(dataset.n_features, *shape, dataset.n_outputs)
             for shape in shapes}
    x = torch.as_tensor(dataset.X_train[:settings.batch_size], dtype=torch.float32)
    y = torch.as_tensor(dataset.y_train[:settings.batch_size])
    timed = {}
    with torch_threads(threads):
        for shape in {min(sizes, key=sizes.get), max(sizes, key=sizes.get)}:
            model = build_model(settings.spec(*shape, "relu"), dataset)
            optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
            times = []
            for _ in range(steps + 1):   # the first step warms up and is not counted
                begin = time.perf_counter()
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()
                times.append(time.perf_counter() - begin)
            timed[sizes[shape]] = float(np.min(times[1:]))
    (p0, t0), (p1, t1) = min(timed.items()), max(timed.items())
    slope = (t1 - t0) / (p1 - p0) if p1 > p0 else 0.0
    per_step = [t0 + slope * (sizes[shape] - p0) for shape in shapes]
    return float(sum(per_step)) * steps_per_cell * len(settings.activations)


# ---- sentences from the measured table ----------------------------------------------------------

def plural(n: int, word: str) -> str:
    """'1 epoch', '10 epochs'."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def say_seconds(seconds: float) -> str:
    """'under a second', 'about 4 s', 'about 90 s': a time for a person."""
    if seconds < 1:
        return "under a second"
    return f"about {seconds:.0f} s"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _points(delta: float) -> str:
    """A change in accuracy as words: 'rose 2.3 points', 'fell 6.1 points', 'stayed within ...'."""
    points = 100 * delta
    if abs(points) < SAME_POINTS:
        return f"stayed within {SAME_POINTS:g} points"
    return f"{'rose' if points > 0 else 'fell'} {abs(points):.1f} points"


def best_cell(table: pd.DataFrame) -> pd.Series | None:
    """The row with the highest validation accuracy (ties: fewer parameters), or None."""
    if table.empty:
        return None
    return table.sort_values(["val_accuracy", "parameters"], ascending=[False, True]).iloc[0]


def findings(table: pd.DataFrame) -> list[str]:
    """Sentences about a finished (or stopped) grid, every number taken from ``table``."""
    best = best_cell(table)
    if best is None:
        return []
    said = [f"The best cell by validation accuracy is **{cell_name(*best[:3])}**: "
            f"{_pct(best['test_accuracy'])} test accuracy ({_pct(best['val_accuracy'])} on the "
            f"held-out validation digits), {best['parameters']:,} parameters, "
            f"{best['seconds']:.1f} s."]
    if table["activation"].nunique() > 1:
        means = table.groupby("activation", sort=False)["test_accuracy"].mean()
        means = means.sort_values(ascending=False)
        said.append("Averaged over the other settings, test accuracy was "
                    + ", ".join(f"{name} {_pct(v)}" for name, v in means.items()) + ".")
    if table["layers"].nunique() > 1:
        lo, hi = table["layers"].min(), table["layers"].max()
        parts = []
        for act, rows in table.groupby("activation", sort=False):
            by_depth = rows.groupby("layers")["test_accuracy"].mean()
            if lo in by_depth and hi in by_depth:
                parts.append((act, float(by_depth[hi] - by_depth[lo])))
        if parts:
            said.append(f"Going from {lo} to {hi} hidden layers (mean over the neuron counts), "
                        + "; ".join(f"with {act} it {_points(d)}" for act, d in parts) + ".")
            worst, drop = min(parts, key=lambda part: part[1])
            if worst == "sigmoid" and -drop * 100 >= 2 * SAME_POINTS and len(parts) > 1:
                said.append(SIGMOID_DEPTH.format(epochs=int(table["epochs"].max())))
    if table["neurons"].nunique() > 1:
        lo, hi = table["neurons"].min(), table["neurons"].max()
        small, large = table[table["neurons"] == lo], table[table["neurons"] == hi]
        said.append(f"{hi} neurons per layer instead of {lo}: accuracy "
                    f"{_points(large['test_accuracy'].mean() - small['test_accuracy'].mean())} "
                    f"on average, with {large['parameters'].mean() / small['parameters'].mean():.0f}x "
                    f"the parameters and {large['seconds'].mean() / small['seconds'].mean():.1f}x "
                    "the training time.")
    close = table[table["test_accuracy"] >= best["test_accuracy"] - 0.01]
    smallest = close.sort_values(["parameters", "test_accuracy"], ascending=[True, False]).iloc[0]
    if smallest["parameters"] < best["parameters"]:
        said.append(f"The smallest network within one point of the best cell's test accuracy is "
                    f"{cell_name(*smallest[:3])} ({_pct(smallest['test_accuracy'])}) with "
                    f"{smallest['parameters']:,} parameters, "
                    f"{smallest['parameters'] / best['parameters']:.0%} of the best cell's.")
    return said


def stored_run_id(row: pd.Series) -> int | None:
    """A cell's run id in the run store, or None when it was not stored."""
    value = row["run_id"]
    return None if value is None or pd.isna(value) else int(value)


def results_table(table: pd.DataFrame) -> pd.DataFrame:
    """The grid's table for a person: percentages, thousands separators, seconds, run ids."""
    def run(value) -> str:
        return "not stored" if value is None or pd.isna(value) else f"#{int(value)}"

    return pd.DataFrame({
        "layers": table["layers"].astype(int), "neurons": table["neurons"].astype(int),
        "activation": table["activation"],
        "test accuracy": [_pct(v) for v in table["test_accuracy"]],
        "validation accuracy": ["-" if pd.isna(v) else _pct(v) for v in table["val_accuracy"]],
        "parameters": [f"{int(v):,}" for v in table["parameters"]],
        "seconds": [f"{v:.1f}" for v in table["seconds"]],
        "run": [run(v) for v in table["run_id"]]})


# ---- what a model does with digits ----------------------------------------------------------------

def digit_probabilities(model: torch.nn.Module, image: np.ndarray) -> np.ndarray:
    """The model's softmax probabilities for one (1, 28, 28) image."""
    return predict_proba(model, np.asarray(image, dtype=np.float32)[None])[0]


def misclassified(model: torch.nn.Module, dataset: Dataset, k: int = 12) -> pd.DataFrame:
    """The test digits ``model`` gets wrong, the most confident mistakes first (at most ``k``).

    Columns: index (row of dataset.X_test), label, predicted, p_predicted, runner_up (the
    second most probable class), p_runner_up, p_label. ``attrs["errors"]`` and
    ``attrs["n_test"]`` count all mistakes and test digits.
    """
    if int(k) < 1:
        raise ValueError(f"Show at least one digit, got k={k}.")
    proba = predict_proba(model, dataset.X_test)
    order = np.argsort(-proba, axis=1)
    predicted, runner_up = order[:, 0], order[:, 1]
    wrong = np.flatnonzero(predicted != dataset.y_test)
    rows = np.arange(len(proba))
    table = pd.DataFrame({
        "index": wrong, "label": dataset.y_test[wrong], "predicted": predicted[wrong],
        "p_predicted": proba[rows, predicted][wrong], "runner_up": runner_up[wrong],
        "p_runner_up": proba[rows, runner_up][wrong],
        "p_label": proba[rows, dataset.y_test][wrong]})
    table = table.sort_values("p_predicted", ascending=False, kind="stable").head(int(k))
    table = table.reset_index(drop=True)
    table.attrs.update(errors=len(wrong), n_test=len(proba))
    return table
