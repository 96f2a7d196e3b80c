"""Lab: transfer learning. A pretrained network's features against training from scratch, by the
number of labelled images per class: the engine behind pages/lab_transfer.py and the CLI.

- ``load_task`` gives the new task's data: Fashion-MNIST, the offline digits 0-4 -> 5-9, or a
  person's zip of images (falling back to the digits, with a notice, when Fashion-MNIST is not
  installed).
- ``train_transfer`` trains one model in one mode (nnplay.models.pretrained.MODES) on N
  labelled images per class and returns a ``TransferResult`` (model, test accuracy, seconds).
- ``TransferExperiment`` / ``transfer_curve`` run every mode at every N and tabulate test
  accuracy; ``curve_findings`` turns the table into the sentences the page shows.

The backbone runs once per (backbone, weights, resolution, data): its trunk's outputs and its
features (the last block's output, flattened) are kept on disk in a ``FeatureCache``. So the
frozen mode trains a linear head on cached features and fine-tuning the last block trains that
block on cached trunk outputs, in seconds; only full fine-tuning runs the whole network at every
step. Fine-tuning starts from the frozen model's trained head (LP-FT: a random head's large early
gradients would distort the pretrained features).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from nnplay import data
from nnplay.data import images  # noqa: F401  (registers fashion_mnist and the digit splits)
from nnplay.data.dataset import Dataset
from nnplay.data.derive import subsample_train
from nnplay.device import resolve_device
from nnplay.models import pretrained
from nnplay.models.pretrained import (
    BACKBONES,
    MODES,
    AfterTrunk,
    check_backbone,
    check_mode,
)
from nnplay.models.registry import ModelSpec
from nnplay.train.config import TrainConfig
from nnplay.train.jobs import Cancelled, check_stop, fit_stoppable
from nnplay.train.predict import evaluate
from nnplay.train.trainer import Trainer, seed_everything

TASKS = {"fashion_mnist": "Fashion-MNIST (clothes, 10 classes)",
         "digits_5to9": "Digits 5-9 with a CNN pretrained on 0-4 (offline)",
         "zip": "Your own images (a zip, one folder per class)"}
MODE_LABELS = {"scratch": "CNN from scratch", "frozen": "frozen features + linear head",
               "finetune_last": "fine-tune the last block", "finetune_all": "full fine-tuning"}
MODE_NOUNS = {"finetune_last": "fine-tuning the last block", "finetune_all": "full fine-tuning"}
MODE_HELP = ("From scratch: nnplay's small CNN from random weights on the images themselves. "
             "Frozen: the pretrained network, without the layers closest to its old task, is a "
             "fixed feature extractor and only a new linear head learns. Fine-tune the last "
             "block: its last block learns too, starting from the frozen model. Full "
             "fine-tuning: every weight learns (slow on a CPU: the whole network runs forward "
             "and backward at every step).")
PER_CLASS = (10, 50, 200)
DEFAULT_MODES = ("scratch", "frozen", "finetune_last")
FASHION_TEST = 1000
FEATURE_BATCH = 128
MONITOR = 100          # test images watched per epoch while fine-tuning (a curve, not a score)


@dataclass(frozen=True)
class Plan:
    """How one mode trains: Adam at ``lr`` for about ``steps`` updates, within the epoch bounds."""

    lr: float
    batch_size: int        # 0: full batch
    steps: int             # updates aimed at, whatever the number of images
    min_epochs: int
    max_epochs: int
    l2: float = 0.0


# The scratch CNN gets enough updates to converge (measured on Fashion-MNIST: 5 epochs on 200
# images per class gave 77%, 25 epochs 83%): a baseline starved of steps would flatter transfer.
PLANS = {"scratch": Plan(1e-3, 32, 800, 8, 80),
         "frozen": Plan(1e-2, 0, 150, 150, 150, l2=1e-4),     # a convex problem: full batch
         "finetune_last": Plan(3e-4, 32, 100, 3, 30),   # ~60 ms a step at 96 px on a CPU
         "finetune_all": Plan(1e-4, 32, 60, 2, 15)}


def epochs_for(mode: str, n_train: int, epochs: int | None = None) -> int:
    """Epochs for ``mode`` on ``n_train`` images: ``epochs`` when given, else the plan's steps."""
    if epochs is not None:
        return max(1, int(epochs))
    plan = PLANS[check_mode(mode)]
    per_epoch = 1 if plan.batch_size == 0 else math.ceil(n_train / plan.batch_size)
    return int(min(plan.max_epochs, max(plan.min_epochs, math.ceil(plan.steps / per_epoch))))


# ---- what the pretrained network already knows ---------------------------------------------------
SAMPLE_PHOTOS = {"a cat (Chelsea)": "chelsea", "a cup of coffee": "coffee",
                 "an astronaut": "astronaut", "a rocket": "rocket", "a photographer": "camera",
                 "a motorcycle": "stereo_motorcycle"}   # all ship inside scikit-image


def sample_photo(title: str) -> np.ndarray:
    """One of scikit-image's sample photos as (H, W, 3) uint8."""
    import skimage.data

    if title not in SAMPLE_PHOTOS:
        raise ValueError(f"Unknown sample photo {title!r}; choose one of "
                         f"{', '.join(SAMPLE_PHOTOS)}.")
    image = getattr(skimage.data, SAMPLE_PHOTOS[title])()
    return pretrained.photo_array(image[0] if isinstance(image, tuple) else image)


def prediction_sentence(predictions: list[tuple[str, float]]) -> str:
    """What the top-k list says, for a caption."""
    (best, p), rest = predictions[0], predictions[1:]
    others = ", ".join(f"{name} ({q:.1%})" for name, q in rest)
    return (f"Its best guess is {best} ({p:.1%})" + (f", then {others}" if others else "")
            + ". It only knows ImageNet's 1,000 classes: a photo of anything else gets the "
            "nearest of those.")


# ---- the new task's data -------------------------------------------------------------------------
def load_task(name: str, max_per_class: int = max(PER_CLASS), zip_bytes: bytes | None = None,
              seed: int = 0) -> tuple[Dataset, str]:
    """(dataset, notice): the task's data, and '' or why another task was loaded instead."""
    if name == "zip":
        if zip_bytes is None:
            raise ValueError("Upload a zip of images with one folder per class.")
        return images.from_image_zip(zip_bytes, seed=seed), ""
    if name == "fashion_mnist":
        try:
            return data.load("fashion_mnist", n_train=max(2000, 10 * int(max_per_class)),
                             n_test=FASHION_TEST, seed=seed), ""
        except ValueError as err:
            return data.load("digits_5to9", seed=seed), f"{err} Showing the digits task instead."
    if name == "digits_5to9":
        return data.load("digits_5to9", seed=seed), ""
    raise ValueError(f"Unknown task {name!r}; choose one of {', '.join(TASKS)}.")


def default_modes(backbone: str) -> tuple[str, ...]:
    """Every mode for nnplay's small CNN; full fine-tuning of an ImageNet network is opt-in
    (minutes on a CPU)."""
    return MODES if backbone == "nnplay_cnn" else DEFAULT_MODES


def default_backbone(dataset: Dataset) -> str:
    return "nnplay_cnn" if dataset.name.startswith("digits_") else "efficientnet_lite0"


def usable_counts(dataset: Dataset, per_class) -> tuple[list[int], str]:
    """The labelled-images-per-class counts the training split can give every class, and a note
    when some were lowered to the smallest class's count."""
    smallest = int(np.bincount(dataset.y_train, minlength=dataset.n_outputs).min())
    wanted = sorted({int(n) for n in per_class if int(n) >= 1})
    counts = [n for n in wanted if n <= smallest]
    note = ""
    if len(counts) < len(wanted):
        counts.append(smallest)
        note = (f"The smallest class has {smallest} training images, so "
                f"{', '.join(str(n) for n in wanted if n > smallest)} per class became {smallest}.")
    return sorted(set(counts)), note


def _train_rows(dataset: Dataset, per_class: int, seed: int) -> tuple[np.ndarray, Dataset]:
    """Training row indices for ``per_class`` images per class, and that subset as a Dataset
    (nnplay.data.derive.subsample_train, so a saved model's data can be rebuilt)."""
    n_rows = per_class * dataset.n_outputs
    index = dataclasses.replace(dataset, X_train=np.arange(dataset.n_train).reshape(-1, 1),
                                extra={k: v for k, v in dataset.extra.items()
                                       if k != "sensitive_train"})
    rows = subsample_train(index, n_rows, seed).X_train[:, 0]
    return rows, subsample_train(dataset, n_rows, seed)


# ---- features, computed once ---------------------------------------------------------------------
class FeatureCache:
    """Arrays a pretrained backbone computed, as .npy files named by a hash of what made them
    (backbone, its weights, resolution, the images), under ``folder`` (default: the nnplay cache,
    NNPLAY_CACHE). ``hits`` and ``misses`` count lookups; a cache that cannot be written is
    skipped."""

    def __init__(self, folder: str | os.PathLike | None = None):
        self.folder = Path(folder) if folder else pretrained.cache_dir() / "features"
        self.hits = self.misses = 0

    def key(self, **fields) -> str:
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]

    def get(self, key: str) -> np.ndarray | None:
        path = self.folder / f"{key}.npy"
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            self.misses += 1
            return None
        self.hits += 1
        return array

    def put(self, key: str, array: np.ndarray) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f"{key}.{os.getpid()}.tmp.npy"
            np.save(tmp, array, allow_pickle=False)
            os.replace(tmp, self.folder / f"{key}.npy")   # atomic: readers never see half a file
        except OSError:
            pass

    def __repr__(self) -> str:
        return f"FeatureCache({str(self.folder)!r}, hits={self.hits}, misses={self.misses})"


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.shape}{a.dtype}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def weights_digest(net: pretrained.TransferNet) -> str:
    """A hash of the backbone's weights (so fine-tuned weights never reuse stale features)."""
    h = hashlib.sha256()
    for name, tensor in sorted(net.backbone.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


@torch.inference_mode()
def _run(fn, X: np.ndarray, device, should_stop=None) -> np.ndarray:
    out = []
    for i in range(0, len(X), FEATURE_BATCH):
        check_stop(should_stop)
        out.append(fn(torch.as_tensor(X[i:i + FEATURE_BATCH]).float().to(device)).cpu().numpy())
    return np.concatenate(out).astype(np.float32)


@dataclass
class Features:
    """A dataset's trunk outputs and features (train rows first, then test rows)."""

    trunk: np.ndarray      # (n, C, h, w): the last block's input, what fine-tuning it trains on
    features: np.ndarray   # (n, D): the last block's output flattened, what a frozen head reads
    n_train: int
    seconds: float
    from_cache: bool

    @property
    def ms_per_image(self) -> float:
        return 1000 * self.seconds / max(1, len(self.trunk))


def feature_net(dataset: Dataset, backbone: str, resolution: int | None = None):
    """The pretrained network that computes Features (ValueError when its weights are missing)."""
    net = pretrained.TransferNet(dataset.input_shape, dataset.n_outputs, backbone, "frozen",
                                 resolution)
    if not net.pretrained:
        raise ValueError(pretrained.missing_weights_message(backbone))
    return net


def dataset_features(net: pretrained.TransferNet, dataset: Dataset,
                     cache: FeatureCache | None = None, device="auto",
                     should_stop=None) -> Features:
    """The trunk's outputs and the features for every train and test image, from ``cache``
    when it holds them (else computed once and stored)."""
    cache = cache if cache is not None else FeatureCache()
    device = resolve_device(device)
    start = time.perf_counter()
    fields = {"v": 2, "backbone": net.info.name, "resolution": net.resolution,
              "weights": weights_digest(net), "data": _digest(dataset.X_train, dataset.X_test)}
    keys = {part: cache.key(part=part, **fields) for part in ("trunk", "features")}
    trunk, features = cache.get(keys["trunk"]), cache.get(keys["features"])
    hit = trunk is not None and features is not None
    if not hit:
        net.to(device).eval()
        trunk = _run(net.trunk_features, np.concatenate([dataset.X_train, dataset.X_test]),
                     device, should_stop)
        features = _run(lambda h: torch.flatten(net.backbone.last(h), 1), trunk, device)
        cache.put(keys["trunk"], trunk)
        cache.put(keys["features"], features)
    return Features(trunk, features, dataset.n_train, time.perf_counter() - start, hit)


# ---- one run ----------------------------------------------------------------------------------------
@dataclass
class TransferResult:
    """One trained model: how it learned (mode, images per class, seed) and how it scored."""

    model: torch.nn.Module = field(repr=False)
    spec: ModelSpec
    dataset: Dataset = field(repr=False)     # the training subset (test split unchanged)
    mode: str
    backbone: str
    per_class: int
    seed: int
    test_accuracy: float
    train_seconds: float
    status: str
    epochs: int
    config: TrainConfig = field(repr=False)
    history: list = field(default_factory=list, repr=False)

    @property
    def metrics(self) -> dict:
        return {"accuracy": self.test_accuracy}

    @property
    def name(self) -> str:
        backbone = "small CNN" if self.mode == "scratch" else BACKBONES[self.backbone].title
        return f"{backbone}, {MODE_LABELS[self.mode]}, {self.per_class}/class"

    def record(self, lesson: str = "cli", name: str = ""):
        """The ModelRecord that saves this model with nnplay.models.modelio."""
        from nnplay.data.ref import DatasetRef
        from nnplay.train.record import ModelRecord

        return ModelRecord(name or self.name, self.spec, DatasetRef.of(self.dataset), lesson,
                           self.config, tuple(self.history), self.metrics, self.status)


def _arrays(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, classes,
            watch: bool = False) -> Dataset:
    if watch:   # watched on a slice of the test set each epoch; tested on all of it at the end
        X_test, y_test = X_test[:MONITOR], y_test[:MONITOR]
    return Dataset("features", X, y, X_test, y_test, "classification", [], list(classes))


def _fit(model, ds: Dataset, mode: str, epochs: int, seed: int, device, should_stop) -> Trainer:
    plan = PLANS[mode]
    config = TrainConfig(optimizer="adam", lr=plan.lr, batch_size=plan.batch_size,
                         epochs=epochs, l2=plan.l2, seed=seed, device=str(device),
                         track_grad_norm=False)
    return fit_stoppable(Trainer(model, ds, config), should_stop=should_stop)


def train_transfer(dataset: Dataset | str = "fashion_mnist", per_class: int = 10,
                   mode: str = "frozen", epochs: int | None = None, seed: int = 0,
                   backbone: str | None = None, resolution: int | None = None,
                   device="auto", cache: FeatureCache | None = None,
                   features: Features | None = None, should_stop=None) -> TransferResult:
    """Train one model on ``per_class`` labelled images per class in ``mode`` and test it.

    ``dataset`` is a Dataset or a task name (load_task). ``epochs`` defaults to the mode's plan
    (PLANS). Pretrained modes read the backbone's outputs from ``features`` or ``cache``
    (computed once otherwise). Raises ValueError for missing weights or impossible settings,
    Cancelled(result=trainer) when ``should_stop()`` turns true.
    """
    if isinstance(dataset, str):
        dataset, _ = load_task(dataset, per_class, seed=seed)
    mode, backbone = check_mode(mode), backbone or default_backbone(dataset)
    check_backbone(backbone)
    if int(per_class) < 1:
        raise ValueError(f"Use at least 1 labelled image per class, got {per_class}.")
    rows, train_ds = _train_rows(dataset, int(per_class), seed)
    device = resolve_device(device)
    params = {"backbone": backbone, "mode": mode}
    if resolution is not None and backbone != "nnplay_cnn":
        params["resolution"] = int(resolution)
    spec = ModelSpec("transfer", params)
    seed_everything(seed)
    model = spec.build(dataset)
    if mode != "scratch" and not model.pretrained:
        raise ValueError(pretrained.missing_weights_message(backbone))
    if mode != "scratch" and features is None:   # before any training: pretrained weights
        features = dataset_features(model, dataset, cache, device, should_stop)
    n_epochs = epochs_for(mode, len(rows), epochs)
    start = time.perf_counter()
    if mode == "scratch":
        trainer = _fit(model, _arrays(train_ds.X_train, train_ds.y_train, dataset.X_test,
                                      dataset.y_test, dataset.class_names, watch=True),
                       mode, n_epochs, seed, device, should_stop)
    else:
        test, y, classes = slice(features.n_train, None), dataset.y_train[rows], \
            dataset.class_names
        frozen = _arrays(features.features[rows], y, features.features[test], dataset.y_test,
                         classes)
        # frozen: the head learns on the features; fine-tuning starts from that head (LP-FT)
        trainer = _fit(model.head, frozen, "frozen",
                       epochs_for("frozen", len(rows), epochs if mode == "frozen" else None),
                       seed, device, should_stop)
        if mode == "finetune_last":
            trunk = _arrays(features.trunk[rows], y, features.trunk[test], dataset.y_test,
                            classes)
            trainer = _fit(AfterTrunk(model), dataclasses.replace(
                trunk, X_test=trunk.X_test[:MONITOR], y_test=trunk.y_test[:MONITOR]),
                mode, n_epochs, seed, device, should_stop)
        elif mode == "finetune_all":
            trainer = _fit(model, _arrays(train_ds.X_train, y, dataset.X_test, dataset.y_test,
                                          classes, watch=True),
                           mode, n_epochs, seed, device, should_stop)
    model.to(device).eval()
    seconds = time.perf_counter() - start
    if mode == "frozen":   # its last epoch's test accuracy, on every test image
        accuracy = trainer.history[-1]["val_accuracy"]
    elif mode == "finetune_last":
        accuracy = evaluate(AfterTrunk(model), trunk)["accuracy"]
    else:
        accuracy = evaluate(model, dataset)["accuracy"]
    return TransferResult(model, spec, train_ds, mode, backbone, int(per_class), seed,
                          float(accuracy), seconds, trainer.status, trainer.epoch,
                          trainer.config, trainer.history_copy())


# ---- the curve: every mode at every count ---------------------------------------------------------
class TransferExperiment:
    """Test accuracy of each mode at each number of labelled images per class, over seeds.

    Follows scikit-learn: ``__init__`` stores the settings, ``fit(progress, should_stop)`` runs
    and returns self. Fitted: ``table_`` (one row per run), ``results_`` (the TransferResult of
    each mode at the largest count, first seed: the models a page keeps), ``counts_``,
    ``notes_``, ``feature_seconds_``, ``features_from_cache_``, ``ms_per_image_`` (the backbone's
    forward pass, to estimate full fine-tuning). A stop raises Cancelled(result=self) holding the
    runs finished so far.
    """

    def __init__(self, dataset: Dataset, backbone: str | None = None, modes=DEFAULT_MODES,
                 per_class=PER_CLASS, seeds=(0,), resolution: int | None = None, device="auto",
                 cache: FeatureCache | None = None, epochs: int | None = None):
        self.dataset, self.backbone, self.modes = dataset, backbone, modes
        self.per_class, self.seeds, self.resolution = per_class, seeds, resolution
        self.device, self.cache, self.epochs = device, cache, epochs

    def fit(self, progress=None, should_stop=None) -> TransferExperiment:
        ds = self.dataset
        backbone = self.backbone or default_backbone(ds)
        modes = [check_mode(m) for m in dict.fromkeys(self.modes)]
        if not modes:
            raise ValueError(f"Choose at least one mode: {', '.join(MODES)}.")
        self.counts_, note = usable_counts(ds, self.per_class)
        self.notes_ = [note] if note else []
        if not self.counts_:
            raise ValueError("Choose at least one number of labelled images per class.")
        seeds = [int(s) for s in self.seeds] or [0]
        runs = [(m, n, s) for m in modes for n in self.counts_ for s in seeds]
        total = len(runs) + 1
        self.rows_, self.results_ = [], {}
        self.feature_seconds_, self.features_from_cache_, self.ms_per_image_ = 0.0, False, None
        feats = None
        if any(m != "scratch" for m in modes):
            feats = dataset_features(feature_net(ds, backbone, self.resolution), ds, self.cache,
                                     self.device, should_stop)
            self.feature_seconds_, self.features_from_cache_ = feats.seconds, feats.from_cache
            if not feats.from_cache:
                self.ms_per_image_ = feats.ms_per_image
        if progress is not None:
            progress(1, total)
        for done, (mode, n, seed) in enumerate(runs, start=2):
            try:
                result = train_transfer(ds, n, mode, self.epochs, seed, backbone,
                                        self.resolution, self.device, features=feats,
                                        should_stop=should_stop)
            except Cancelled:
                raise Cancelled(result=self) from None
            self.rows_.append({"mode": mode, "mode_label": MODE_LABELS[mode], "per_class": n,
                               "n_train": len(result.dataset.y_train), "seed": seed,
                               "test_accuracy": result.test_accuracy,
                               "train_seconds": result.train_seconds, "epochs": result.epochs,
                               "status": result.status})
            if n == max(self.counts_) and seed == seeds[0]:
                self.results_[mode] = result
            if progress is not None:
                progress(done, total)
        return self

    @property
    def table_(self) -> pd.DataFrame:
        columns = ["mode", "mode_label", "per_class", "n_train", "seed", "test_accuracy",
                   "train_seconds", "epochs", "status"]
        return pd.DataFrame(getattr(self, "rows_", []), columns=columns)

    def __repr__(self) -> str:
        name = getattr(self.dataset, "name", self.dataset)
        return (f"TransferExperiment({name!r}, backbone={self.backbone!r}, modes={self.modes}, "
                f"per_class={self.per_class}, seeds={self.seeds})")


def transfer_curve(dataset: Dataset | str = "fashion_mnist", backbone: str | None = None,
                   modes=DEFAULT_MODES, per_class=PER_CLASS, seed: int = 0, n_seeds: int = 1,
                   progress=None, should_stop=None, **options) -> pd.DataFrame:
    """Test accuracy against labelled images per class, one row per (mode, count, seed); see
    TransferExperiment (``options``: resolution, device, cache, epochs)."""
    if isinstance(dataset, str):
        dataset, _ = load_task(dataset, max(per_class), seed=seed)
    seeds = range(int(seed), int(seed) + max(1, int(n_seeds)))
    return TransferExperiment(dataset, backbone, modes, per_class, seeds, **options).fit(
        progress, should_stop).table_


# ---- what the curve shows, in words ---------------------------------------------------------------
def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, lowest and highest test accuracy and mean seconds per (mode, per_class)."""
    return (table.groupby(["mode", "per_class"], sort=False)
            .agg(accuracy=("test_accuracy", "mean"), low=("test_accuracy", "min"),
                 high=("test_accuracy", "max"), seconds=("train_seconds", "mean"),
                 seeds=("seed", "nunique"))
            .reset_index())


def _points(diff: float) -> str:
    return f"{abs(diff) * 100:.1f} points"


def curve_findings(table: pd.DataFrame) -> list[str]:
    """Sentences built from the measured numbers: pretrained against scratch with the fewest and
    the most labels, fine-tuning against frozen features, and training time."""
    if table is None or table.empty:
        return []
    s = summary(table)
    # rounded as shown (0.1%), so a difference is the difference of the numbers a learner reads
    acc = {(r.mode, r.per_class): round(float(r.accuracy), 3) for r in s.itertuples()}
    counts = sorted(s["per_class"].unique())
    seeds = int(s["seeds"].max())
    over = f" (mean of {seeds} seeds)" if seeds > 1 else ""
    out = []
    pretrained_modes = [m for m in MODES if m != "scratch" and m in set(s["mode"])]
    for n in dict.fromkeys((counts[0], counts[-1])):
        have = [m for m in pretrained_modes if (m, n) in acc]
        if ("scratch", n) not in acc or not have:
            continue
        best = max(have, key=lambda m: acc[(m, n)])
        diff = acc[(best, n)] - acc[("scratch", n)]
        verdict = (f"pretraining is ahead by {_points(diff)}" if diff > 0 else
                   f"training from scratch is ahead by {_points(diff)}" if diff < 0 else
                   "they tie")
        out.append(f"With {n} labelled images per class, the best pretrained model "
                   f"({MODE_LABELS[best]}) scores {acc[(best, n)]:.1%} test accuracy against "
                   f"{acc[('scratch', n)]:.1%} for a CNN trained from scratch: {verdict}{over}.")
    if len(out) == 2:
        gaps = [max(acc[(m, n)] for m in pretrained_modes if (m, n) in acc) - acc[("scratch", n)]
                for n in (counts[0], counts[-1])]
        gaps = [round(g * 100, 1) for g in gaps]
        if gaps[0] == gaps[1]:
            out.append(f"The gap stays at {gaps[0]:+.1f} points as labels grow from {counts[0]} "
                       f"to {counts[-1]} per class.")
        else:
            trend = "shrinks" if gaps[1] < gaps[0] else "grows"
            out.append(f"The gap {trend} from {gaps[0]:+.1f} to {gaps[1]:+.1f} points as labels "
                       f"grow from {counts[0]} to {counts[-1]} per class"
                       + (": pretrained features matter most when labels are scarce."
                          if gaps[0] > gaps[1] else "."))
    n = counts[-1]
    for mode in ("finetune_last", "finetune_all"):
        if (mode, n) in acc and ("frozen", n) in acc:
            diff = acc[(mode, n)] - acc[("frozen", n)]
            where = ("the same as" if round(diff, 3) == 0 else
                     f"{_points(diff)} {'above' if diff > 0 else 'below'}")
            out.append(f"At {n} per class, {MODE_NOUNS[mode]} scores {acc[(mode, n)]:.1%}, "
                       f"{where} frozen features ({acc[('frozen', n)]:.1%}).")
    secs = s.groupby("mode")["seconds"].mean()
    out.append("Average training time per run: " + ", ".join(
        f"{MODE_LABELS[m]} {secs[m]:.1f} s" for m in MODES if m in secs.index) + ".")
    return out


def timing_sentence(experiment: TransferExperiment) -> str:
    """How long the backbone's features took, or that they came from the cache."""
    if not getattr(experiment, "rows_", None):
        return ""
    if all(row["mode"] == "scratch" for row in experiment.rows_):
        return "No pretrained features were needed: every run trained from scratch."
    n = experiment.dataset.n_train + experiment.dataset.n_test
    if experiment.features_from_cache_:
        return (f"The backbone's features of all {n:,} images came from the disk cache "
                f"({experiment.feature_seconds_:.1f} s): computed once, reused by every run.")
    return (f"The backbone ran once over all {n:,} images ({experiment.feature_seconds_:.1f} s, "
            f"{experiment.ms_per_image_:.1f} ms per image); every frozen and last-block run "
            "reused those features, and the next run with this data reads them from disk.")
