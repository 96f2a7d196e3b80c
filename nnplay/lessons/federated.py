"""Lesson: federated learning. FedAvg (McMahan et al., 2017) simulated in plain PyTorch: the
training rows are split among N clients, either IID (shuffled, equal shares) or non-IID (sorted
by label, cut into 2N shards, two shards per client, so most clients see two digits). Each round
a fraction C of the clients is drawn, each trains the global model for E local epochs of SGD on
its own rows, and the server averages the returned weights, weighted by rows. Centralised
training of the same network with the same optimizer on the same rows is the reference.

Only weights travel: per round every drawn client downloads the model and uploads its update,
parameters x 4 bytes (float32) x clients x 2 directions. Frameworks people deploy with (Flower,
for one) run this same loop across real devices; this module keeps it in one process.

``fedavg(...)`` returns one row per round and needs no Streamlit (the CLI prints it as JSON);
``FedAvg(config).fit(dataset)`` keeps the global model and the partition too;
``compare_splits`` runs IID, non-IID and central training for the page, in one background job.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace
from functools import partial

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from nnplay.data.dataset import Dataset
from nnplay.device import torch_threads
from nnplay.models.mlp import count_parameters, mlp
from nnplay.train.callbacks import LambdaCallback
from nnplay.train.config import TrainConfig
from nnplay.train.jobs import Cancelled, check_stop, fit_stoppable, progress_part
from nnplay.train.trainer import Trainer, seed_everything

DATASETS = {"digits": "scikit-learn digits (8x8)", "mnist5k": "MNIST, 5,000 digits (28x28)"}
SPLITS = {"iid": "IID (shuffled, equal shares)", "shards": "non-IID (two label shards each)"}
SETTINGS = {"iid": "FedAvg, IID", "shards": "FedAvg, non-IID", "central": "central training"}
BYTES_PER_PARAMETER = 4   # float32 weights
SHARDS_PER_CLIENT = 2
LIMITS = {"clients": (2, 100), "rounds": (1, 500), "local_epochs": (1, 20),
          "batch_size": (1, 1000), "hidden": (1, 1024)}
HISTORY_COLUMNS = ["round", "accuracy", "loss", "clients", "bytes_round", "bytes_total",
                   "seconds"]


@dataclass(frozen=True)
class FedConfig:
    """One FedAvg simulation: the data, how it is split, and each round's work."""

    dataset: str = "digits"     # digits | mnist5k
    clients: int = 10           # N: clients holding the training rows
    split: str = "iid"          # iid | shards (non-IID: two label shards per client)
    rounds: int = 30            # communication rounds
    local_epochs: int = 1       # E: passes over its own rows a client makes per round
    fraction: float = 0.5       # C: share of clients drawn each round (at least one)
    batch_size: int = 10        # B: local mini-batch size
    lr: float = 0.1             # local SGD learning rate (central training uses it too)
    hidden: int = 64            # the MLP's hidden units
    seed: int = 0               # partition, client draws, initial weights and shuffling

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise ValueError(f"Choose the dataset from {', '.join(DATASETS)}, got "
                             f"{self.dataset!r}.")
        if self.split not in SPLITS:
            raise ValueError(f"The split is 'iid' or 'shards' (non-IID), got {self.split!r}.")
        for name, (lo, hi) in LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"{name} must be a whole number, got {value!r}.")
            if not lo <= value <= hi:
                raise ValueError(f"{name} must be between {lo} and {hi}, got {value}.")
        if not (isinstance(self.fraction, (int, float)) and 0 < self.fraction <= 1):
            raise ValueError(f"The client fraction C must be above 0 and at most 1, got "
                             f"{self.fraction!r}.")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr)
                and 0 < self.lr <= 10):
            raise ValueError(f"The learning rate must be above 0 and at most 10, got {self.lr!r}.")

    @property
    def clients_per_round(self) -> int:
        """m = max(C * N, 1), rounded to the nearest client."""
        return max(1, int(round(self.fraction * self.clients)))

    def replace(self, **changes) -> FedConfig:
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)


_single_thread = partial(torch_threads, 1)   # small nets: see nnplay.device.torch_threads


def load_data(name: str = "digits") -> Dataset:
    """The dataset by name, split as the registry splits it (seed 0)."""
    from nnplay import data

    if name not in DATASETS:
        raise ValueError(f"Choose the dataset from {', '.join(DATASETS)}, got {name!r}.")
    return data.load(name)


def partition(y: np.ndarray, clients: int, split: str, seed: int = 0) -> list[np.ndarray]:
    """Row indices of each client. IID: a shuffled, even split. Shards: rows sorted by label
    (ties in random order) cut into 2 x clients shards, two random shards per client."""
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    if split == "iid":
        if len(y) < clients:
            raise ValueError(f"{len(y)} rows cannot be shared among {clients} clients.")
        return [np.sort(p) for p in np.array_split(rng.permutation(len(y)), clients)]
    if split != "shards":
        raise ValueError(f"The split is 'iid' or 'shards' (non-IID), got {split!r}.")
    n_shards = SHARDS_PER_CLIENT * clients
    if len(y) < n_shards:
        raise ValueError(f"{len(y)} rows make fewer than {n_shards} shards; use at most "
                         f"{len(y) // SHARDS_PER_CLIENT} clients.")
    shuffled = rng.permutation(len(y))
    by_label = shuffled[np.argsort(y[shuffled], kind="stable")]
    shards = np.array_split(by_label, n_shards)
    order = rng.permutation(n_shards)
    return [np.sort(np.concatenate([shards[s] for s in order[k::clients]]))
            for k in range(clients)]


def class_counts(y: np.ndarray, parts: list[np.ndarray], n_classes: int) -> np.ndarray:
    """(clients, classes): how many rows of each class every client holds."""
    return np.stack([np.bincount(np.asarray(y)[p], minlength=n_classes) for p in parts])


def bytes_per_round(n_parameters: int, clients_per_round: int) -> int:
    """What travels in one round: parameters x 4 bytes x clients x 2 (download and upload)."""
    return int(n_parameters) * BYTES_PER_PARAMETER * int(clients_per_round) * 2


def build_model(dataset: Dataset, hidden: int, seed: int) -> nn.Module:
    """The MLP every client, the server and central training share: inputs -> hidden -> classes."""
    seed_everything(seed)
    return mlp(dataset.n_features, [int(hidden)], dataset.n_outputs, activation="relu")


@torch.no_grad()
def _evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    out = model(X)
    return float((out.argmax(-1) == y).float().mean()), float(F.cross_entropy(out, y))


def _local_sgd(model: nn.Module, X: torch.Tensor, y: torch.Tensor, epochs: int,
               batch_size: int, lr: float, gen: torch.Generator) -> None:
    # plain SGD written out: an optimizer object per client and round only adds overhead
    params = list(model.parameters())
    for _ in range(epochs):
        for idx in torch.randperm(len(X), generator=gen).split(batch_size):
            grads = torch.autograd.grad(F.cross_entropy(model(X[idx]), y[idx]), params)
            with torch.no_grad():
                for p, g in zip(params, grads):
                    p.sub_(g, alpha=lr)


class FedAvg:
    """Federated averaging over simulated clients (scikit-learn style: ``fit`` returns self).

    Fitted: ``history_`` (a DataFrame, one row per round: round, accuracy and loss of the
    global model on the test rows, clients drawn, bytes that round and so far, seconds),
    ``model_`` (the global model), ``partition_`` (each client's row indices),
    ``class_counts_`` (clients x classes) and ``n_parameters_``.
    """

    def __init__(self, config: FedConfig | None = None):
        self.config = config or FedConfig()

    def fit(self, dataset: Dataset | None = None, progress=None, should_stop=None) -> FedAvg:
        """Run the rounds; a stop between rounds raises Cancelled carrying this object with
        the rounds done so far."""
        cfg = self.config
        ds = dataset if dataset is not None else load_data(cfg.dataset)
        self.partition_ = partition(ds.y_train, cfg.clients, cfg.split, cfg.seed)
        self.class_counts_ = class_counts(ds.y_train, self.partition_, ds.n_outputs)
        self.model_ = build_model(ds, cfg.hidden, cfg.seed)
        self.n_parameters_ = count_parameters(self.model_)
        worker = build_model(ds, cfg.hidden, cfg.seed)   # a client's copy, reused
        X, y = torch.as_tensor(ds.X_train).float(), torch.as_tensor(ds.y_train)
        X_test, y_test = torch.as_tensor(ds.X_test).float(), torch.as_tensor(ds.y_test)
        sizes = np.array([len(p) for p in self.partition_], dtype=np.float64)
        rng, gen = np.random.default_rng(cfg.seed + 1), torch.Generator().manual_seed(cfg.seed)
        m = cfg.clients_per_round
        sent = bytes_per_round(self.n_parameters_, m)
        rows, total = [], 0
        global_vec = nn.utils.parameters_to_vector(self.model_.parameters()).detach()
        with _single_thread():
            for r in range(1, cfg.rounds + 1):
                try:
                    check_stop(should_stop)
                except Cancelled:
                    self.history_ = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
                    raise Cancelled(result=self) from None
                t0 = time.perf_counter()
                chosen = np.sort(rng.choice(cfg.clients, m, replace=False))
                weights = sizes[chosen] / sizes[chosen].sum()
                new = torch.zeros_like(global_vec)
                for k, w in zip(chosen, weights):
                    # a copy: vector_to_parameters makes the parameters views of the vector
                    nn.utils.vector_to_parameters(global_vec.clone(), worker.parameters())
                    rows_k = torch.as_tensor(self.partition_[k])
                    _local_sgd(worker, X[rows_k], y[rows_k], cfg.local_epochs, cfg.batch_size,
                               cfg.lr, gen)
                    new += float(w) * nn.utils.parameters_to_vector(worker.parameters()).detach()
                global_vec = new
                nn.utils.vector_to_parameters(global_vec.clone(), self.model_.parameters())
                accuracy, loss = _evaluate(self.model_, X_test, y_test)
                total += sent
                rows.append({"round": r, "accuracy": accuracy, "loss": loss, "clients": m,
                             "bytes_round": sent, "bytes_total": total,
                             "seconds": time.perf_counter() - t0})
                if progress is not None:
                    progress(r, cfg.rounds)
        self.history_ = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
        return self

    def __repr__(self) -> str:
        done = len(self.history_) if hasattr(self, "history_") else 0
        return f"FedAvg({self.config!r}, rounds_done={done})"


def fedavg(dataset: Dataset | str = "digits", clients: int = 10, split: str = "iid",
           rounds: int = 30, local_epochs: int = 1, fraction: float = 0.5, seed: int = 0,
           progress=None, should_stop=None, **settings) -> pd.DataFrame:
    """FedAvg's test accuracy and loss per round (see FedAvg); ``settings`` may set
    batch_size, lr and hidden. ``dataset`` is a name from DATASETS or a loaded Dataset."""
    name = dataset if isinstance(dataset, str) else dataset.name
    data = None if isinstance(dataset, str) else dataset
    # a Dataset passed in is used as it is; the config names it when it is one of ours
    config = FedConfig(name if data is None or name in DATASETS else "digits", clients, split,
                       rounds, local_epochs, fraction, seed=seed, **settings)
    try:
        return FedAvg(config).fit(data, progress, should_stop).history_
    except Cancelled as stop:
        raise Cancelled(result=stop.result.history_) from None


def fedavg_report(dataset: str = "digits", clients: int = 10, split: str = "iid",
                  rounds: int = 30, local_epochs: int = 1, fraction: float = 0.5, seed: int = 0,
                  progress=None, should_stop=None, **settings) -> dict:
    """One JSON-able dict for the command line: the settings, the final test accuracy, the
    parameters and bytes moved, and every round (``nnplay federated ... --json``)."""
    config = FedConfig(dataset, clients, split, rounds, local_epochs, fraction, seed=seed,
                       **settings)
    run = FedAvg(config).fit(None, progress, should_stop)
    history = run.history_
    last = history.iloc[-1]
    return {**config.to_dict(), "clients_per_round": config.clients_per_round,
            "parameters": int(run.n_parameters_), "final_accuracy": float(last["accuracy"]),
            "final_loss": float(last["loss"]), "bytes_per_round": int(last["bytes_round"]),
            "bytes_total": int(last["bytes_total"]),
            "seconds": round(float(history["seconds"].sum()), 3),
            "history": [{k: (int(v) if k in ("round", "clients", "bytes_round", "bytes_total")
                             else float(v)) for k, v in row.items()}
                        for row in history.to_dict(orient="records")]}


def central_training(dataset: Dataset, config: FedConfig, progress=None,
                     should_stop=None) -> tuple[pd.DataFrame, Trainer]:
    """The same MLP trained on all the training rows with the same SGD, E epochs per round:
    (one row per round with round, accuracy and loss on the test rows; the Trainer)."""
    cfg = config
    train_cfg = TrainConfig(optimizer="sgd", lr=cfg.lr, batch_size=cfg.batch_size,
                            epochs=cfg.rounds * cfg.local_epochs, seed=cfg.seed,
                            track_grad_norm=False)
    model = build_model(dataset, cfg.hidden, cfg.seed)   # the same start as FedAvg's
    rows = []

    def per_round(trainer, logs) -> None:
        if trainer.epoch % cfg.local_epochs == 0:
            rows.append({"round": trainer.epoch // cfg.local_epochs,
                         "accuracy": logs["val_accuracy"], "loss": logs["val_loss"]})

    trainer = Trainer(model, dataset, train_cfg, callbacks=[LambdaCallback(on_epoch_end=per_round)])
    trainer.spec = {"family": "mlp", "params": {"hidden": [cfg.hidden], "activation": "relu"}}
    with _single_thread():
        try:
            fit_stoppable(trainer, progress, should_stop)
        except Cancelled:
            raise Cancelled(result=(pd.DataFrame(rows), trainer)) from None
    return pd.DataFrame(rows, columns=["round", "accuracy", "loss"]), trainer


@dataclass
class Comparison:
    """IID, non-IID and central training on the same data: one long history and the models."""

    config: FedConfig
    history: pd.DataFrame         # round, setting (iid | shards | central), accuracy, loss, ...
    runs: dict                    # "iid" / "shards": fitted FedAvg
    central: Trainer | None = None
    complete: bool = True

    def final(self) -> dict[str, float]:
        """Each setting's test accuracy after its last round."""
        last = self.history.sort_values("round").groupby("setting").tail(1)
        return dict(zip(last["setting"], last["accuracy"]))


def compare_splits(config: FedConfig | None = None, dataset: Dataset | None = None,
                   progress=None, should_stop=None) -> Comparison:
    """FedAvg on the IID and the non-IID split, then central training, all with ``config``
    (its split ignored); stopped, Cancelled carries the settings finished so far."""
    config = config or FedConfig()
    ds = dataset if dataset is not None else load_data(config.dataset)
    fed_steps, central_steps = 2 * config.rounds, config.rounds * config.local_epochs
    total = fed_steps + central_steps
    parts, runs, central = [], {}, None

    def partial() -> Comparison:
        history = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
            columns=["round", "setting", "accuracy", "loss"])
        return Comparison(config, history, runs, central, complete=False)

    try:
        for i, split in enumerate(("iid", "shards")):
            try:
                run = FedAvg(config.replace(split=split)).fit(
                    ds, progress_part(progress, i * config.rounds, total), should_stop)
            except Cancelled as stop:
                run = stop.result
                runs[split] = run
                parts.append(run.history_.assign(setting=split))
                raise
            runs[split] = run
            parts.append(run.history_.assign(setting=split))
        try:
            history, central = central_training(ds, config,
                                                progress_part(progress, fed_steps, total),
                                                should_stop)
        except Cancelled as stop:
            history, central = stop.result
            parts.append(history.assign(setting="central"))
            raise
        parts.append(history.assign(setting="central"))
    except Cancelled:
        raise Cancelled(result=partial()) from None
    return Comparison(config, pd.concat(parts, ignore_index=True), runs, central)


# ---- what the page says, from the numbers ---------------------------------------------------
def human_bytes(n: float) -> str:
    """1,234 bytes as '1.2 kB', and so on up to GB (powers of 1,000)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} bytes"


def traffic_sentence(config: FedConfig, n_parameters: int) -> str:
    """The bytes per round and in all, with the formula's numbers."""
    m = config.clients_per_round
    per_round = bytes_per_round(n_parameters, m)
    return (f"Each round {m} of {config.clients} clients download the model and upload their "
            f"update: {n_parameters:,} parameters × {BYTES_PER_PARAMETER} bytes × {m} clients × "
            f"2 directions = {human_bytes(per_round)}; {config.rounds} rounds move "
            f"{human_bytes(per_round * config.rounds)}. The rows themselves never leave the "
            "clients.")


def comparison_sentence(result: Comparison) -> str:
    """IID against non-IID against central, at the last round all three reached."""
    h = result.history
    if h.empty:
        return "No round finished; run the comparison again."
    reached = h.groupby("setting")["round"].max()
    r = int(reached.min())
    at = h[h["round"] == r].set_index("setting")["accuracy"]
    parts = [f"{SETTINGS[s]} {at[s]:.1%}" for s in ("iid", "shards", "central") if s in at]
    text = f"After {r} round{'s' if r != 1 else ''}: " + ", ".join(parts) + "."
    if "iid" in at and "shards" in at:
        gap = at["iid"] - at["shards"]
        if gap > 0.01:
            text += (f" The non-IID clients trail by {100 * gap:.1f} points: each one's "
                     "local epochs pull the model towards its two digits, and averaging "
                     "such updates moves more slowly than averaging updates that all see "
                     "every digit.")
        else:
            text += (f" Here the split made little difference ({100 * gap:+.1f} points); "
                     "more local epochs or fewer clients per round widen the gap.")
    if "central" in at and "iid" in at:
        text += (f" Central training, which sees all rows every epoch, is "
                 f"{100 * (at['central'] - at['iid']):+.1f} points from FedAvg on the IID split.")
    return text
