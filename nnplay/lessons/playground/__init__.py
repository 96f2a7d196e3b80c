"""The Playground's engine: TensorFlow Playground on nnplay's toy data, MLP and Trainer.

The settings (``settings.py``) describe an experiment. ``PlaygroundSession`` builds the dataset
(with the chosen feature transforms), the network and the Trainer, runs it in chunks paced so a
redraw stays short, and takes training changes live. ``output_grid`` evaluates the network and
every hidden neuron over the input plane in one batched forward pass, with the same transforms
the training data went through.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
from torch import nn

from nnplay import data, models, train
from nnplay.data.dataset import Dataset
from nnplay.data.derive import FEATURES, transform_features
from nnplay.data.derive import with_features as featurize
from nnplay.device import torch_threads
from nnplay.lessons.playground.settings import (
    ACTIVATIONS,
    BATCH_SIZES,
    DATASETS,
    DEFAULTS,
    HIDEABLE,
    LEARNING_RATES,
    LIVE,
    MAX_EPOCHS,
    MAX_LAYERS,
    MAX_NEURONS,
    N_POINTS,
    OPTIMIZERS,
    REG_RATES,
    REGULARIZATIONS,
    SCHEDULES,
    TF_MAX_LAYERS,
    TF_MAX_NEURONS,
    UPLOAD,
    VIEW,
    PlaygroundSettings,
    _check,
    check_hidden,
    data_label,
    from_query_params,
    objective_latex,
    parse_hide,
    settings_diff,
    settings_summary,
    structural_changes,
    to_query_params,
    validate,
)

__all__ = ["ACTIVATIONS", "BATCH_SIZES", "DATASETS", "DEFAULTS", "FEATURES", "HIDEABLE",
           "LEARNING_RATES", "LIVE", "MAX_EPOCHS", "MAX_LAYERS", "MAX_NEURONS", "N_POINTS",
           "OPTIMIZERS", "REGULARIZATIONS", "REG_RATES", "SCHEDULES", "TF_MAX_LAYERS",
           "TF_MAX_NEURONS", "UPLOAD", "VIEW", "ChunkPacer", "GridOutput", "PlaygroundSession",
           "PlaygroundSettings", "Snapshot", "best_epoch", "check_hidden", "data_label", "end_message",
           "featurize", "from_query_params", "last_metrics", "load_raw", "network_weights",
           "objective_latex", "output_grid", "parse_hide", "plane_limits", "settings_diff", "settings_summary",
           "single_thread", "structural_changes", "take_snapshot", "to_query_params",
           "transform_features", "validate"]


# ---- data ------------------------------------------------------------------------------------
def load_raw(settings: PlaygroundSettings) -> Dataset:
    """The untransformed 2-D dataset the settings describe."""
    return data.load(settings.dataset, **settings.dataset_params())


def plane_limits(raw: Dataset) -> tuple[tuple[float, float], tuple[float, float]]:
    """The plotted input range: the dataset's own, else TF Playground's -6..6."""
    return tuple(raw.extra.get("xlim", (-6.0, 6.0))), tuple(raw.extra.get("ylim", (-6.0, 6.0)))


single_thread = partial(torch_threads, 1)   # small nets: see nnplay.device.torch_threads


# ---- the live session ---------------------------------------------------------------------
# One Playground chunk trains at a time in a process. Tiny networks run thousands of small torch
# ops a second, and every op lets go of the GIL: with several learners' threads training at once,
# each op hands the GIL to another thread and waits to get it back. Taking turns (chunks are
# paced to tens of milliseconds) measured 2.1x the total epochs/s for 5 learners and 2.4x for
# 10 (engine only, 2-core CPU; bench/workshop_load.py measures it through Streamlit).
TRAIN_TURN = threading.Lock()


class ChunkPacer:
    """Chooses epochs per chunk so every playing learner of one server process keeps refreshing.

    Alone, a chunk takes about ``target_seconds`` (the rest of a refresh is drawing). With more
    sessions playing, they share ``round_seconds`` of training per round of refreshes: each chunk
    aims at ``min(target_seconds, round_seconds / playing)``, never below one epoch. A session
    counts as playing while its pacer asked for a chunk in the last ``window_seconds`` (a registry
    per process); pause and step never ask, so they stay instant. A chunk's cost is the thread's
    CPU time between ``next_epochs`` and ``record`` (``cpu_clock``): wall time under load counts
    the other sessions' work too, and would shrink every chunk to one epoch.
    """

    _registry: dict[int, float] = {}      # id(pacer) -> when it last asked, for this process
    _lock = threading.Lock()

    def __init__(self, target_seconds: float = 0.04, max_epochs: int = 500,
                 round_seconds: float = 0.25, window_seconds: float = 3.0,
                 playing: dict[int, float] | None = None, clock=time.monotonic,
                 cpu_clock=time.thread_time):
        self.target_seconds, self.max_epochs = target_seconds, max_epochs
        self.round_seconds, self.window_seconds = round_seconds, window_seconds
        self.playing = ChunkPacer._registry if playing is None else playing
        self.clock, self.cpu_clock = clock, cpu_clock
        self.seconds_per_epoch_: float | None = None
        self._cpu_start: float | None = None

    def playing_now(self) -> int:
        """Mark this session as playing; the sessions playing in this process, itself included."""
        now = self.clock()
        with self._lock:
            self.playing[id(self)] = now
            for key in [k for k, t in self.playing.items() if now - t > self.window_seconds]:
                del self.playing[key]
            return len(self.playing)

    def others_playing(self) -> int:
        """How many other sessions of this process are playing now (without marking this one)."""
        now = self.clock()
        with self._lock:
            return sum(1 for k, t in self.playing.items()
                       if k != id(self) and now - t <= self.window_seconds)

    def chunk_seconds(self, playing: int) -> float:
        """The training time one chunk aims at with ``playing`` sessions playing."""
        return min(self.target_seconds, self.round_seconds / max(1, playing))

    def next_epochs(self) -> int:
        share = self.chunk_seconds(self.playing_now())
        self._cpu_start = self.cpu_clock() if self.cpu_clock else None
        if self.seconds_per_epoch_ is None:
            return 1
        return int(min(self.max_epochs, max(1, share / self.seconds_per_epoch_)))

    def record(self, epochs: int, seconds: float) -> None:
        """Learn the cost of an epoch from a chunk: its CPU time when the pacer timed it, else
        the ``seconds`` given."""
        if self._cpu_start is not None:
            seconds, self._cpu_start = self.cpu_clock() - self._cpu_start, None
        if epochs <= 0:
            return
        per_epoch = max(seconds / epochs, 1e-6)
        old = self.seconds_per_epoch_
        self.seconds_per_epoch_ = per_epoch if old is None else 0.5 * old + 0.5 * per_epoch

    def leave(self) -> None:
        """Stop counting this session as playing (before its window runs out)."""
        with self._lock:
            self.playing.pop(id(self), None)

    def __repr__(self) -> str:
        return (f"ChunkPacer(target_seconds={self.target_seconds}, "
                f"round_seconds={self.round_seconds}, playing={len(self.playing)})")


class PlaygroundSession:
    """The dataset, network and Trainer for one PlaygroundSettings, trained in chunks."""

    def __init__(self, settings: PlaygroundSettings, raw: Dataset | None = None,
                 pacer: ChunkPacer | None = None):
        self.settings = settings
        self.raw = raw if raw is not None else load_raw(settings)
        self.dataset = featurize(self.raw, settings.features)
        train.seed_everything(settings.seed)
        self.model = models.mlp(len(settings.features), list(settings.hidden),
                                self.dataset.n_outputs, activation=settings.activation,
                                dropout=settings.dropout)
        self.trainer = train.Trainer(self.model, self.dataset, settings.session_config())
        self.pacer = pacer or ChunkPacer()
        self.lock = threading.RLock()     # one thread at a time trains, edits or reads the net

    @property
    def epoch(self) -> int:
        return self.trainer.epoch

    @property
    def spec(self) -> models.ModelSpec:
        """The network as a ModelSpec (what a saved copy needs to be rebuilt)."""
        s = self.settings
        return models.ModelSpec("mlp", {"hidden": list(s.hidden), "activation": s.activation,
                                        "dropout": s.dropout})

    def run_chunk(self, epochs: int | None = None, keep_going=None) -> int:
        """Train one chunk (paced unless ``epochs`` is given); returns the epochs it ran.

        ``keep_going()``, when given, is asked before every epoch: a pause that arrives while a
        chunk runs stops it after the epoch in progress. The chunk holds ``lock``, which
        everything that reads or changes the network takes too: Streamlit starts the run a
        click asks for on a new thread while the previous run is still training. It also
        holds TRAIN_TURN: one chunk at a time per process.
        """
        # The turn first, then the session: a pause waiting for the session is not held up
        # by other learners' chunks.
        with TRAIN_TURN, self.lock, single_thread():
            before, t0 = self.trainer.epoch, time.perf_counter()
            for _ in range(self.pacer.next_epochs() if epochs is None else epochs):
                if self.trainer.done or (keep_going is not None and not keep_going()):
                    break
                self.trainer.run(1)
            ran = self.trainer.epoch - before
            if epochs is None:
                self.pacer.record(ran, time.perf_counter() - t0)
        return ran

    def update_training(self, settings: PlaygroundSettings) -> list[str]:
        """Take new settings without a reset: training changes (learning rate, regularisation,
        batch size, optimizer, schedule) go into the running Trainer, keeping the weights and
        the epoch count; returns what changed, as 'name: old → new' lines. Settings that need
        a new network raise ValueError (make a new session for them)."""
        changed = structural_changes(self.settings, settings)
        _check(not changed, f"{'; '.join(changed)} needs a new network: start a new session.")
        with self.lock:
            old, new = self.trainer.config, settings.session_config()
            self.trainer.reconfigure(**{k: v for k, v in new.to_dict().items()
                                        if getattr(old, k) != v})
            lines, self.settings = settings_diff(self.settings, settings), settings
        return lines

    def trainer_to_save(self) -> train.Trainer:
        """The Trainer as a record should see it: the same model, data and history, with a
        config whose ``epochs`` is what it trained (a playing session's own has no cap)."""
        with self.lock:
            view = copy.copy(self.trainer)
            view.config = self.trainer.config.replace(epochs=max(1, self.trainer.epoch))
            view.model = copy.deepcopy(self.trainer.model)
            view.history = self.trainer.history_copy()
        return view

    def metrics(self) -> dict:
        """The last epoch's train and test loss and headline metric."""
        return last_metrics(self.trainer.history)

    def __repr__(self) -> str:
        return f"PlaygroundSession({settings_summary(self.settings)}, epoch={self.epoch})"


def end_message(session: PlaygroundSession) -> str:
    """Why training ended, and what to do to go on, for a person."""
    trainer, s = session.trainer, session.settings
    if trainer.status == "completed" and s.schedule == "constant":
        return (f"Training stopped at the Playground's limit of {MAX_EPOCHS:,} epochs; "
                "Reset to start again.")
    if trainer.status == "completed":
        return (f"The {s.schedule} schedule's {s.epochs:,} epochs are done; raise the schedule "
                "length to train on (the network is kept).")
    reason = f": {trainer.stop_reason}" if trainer.stop_reason else ""
    return f"Training {trainer.status.replace('_', ' ')}{reason}."


def last_metrics(history: list[dict]) -> dict:
    """Train/test loss (and accuracy or R²) of the last epoch; {} before the first."""
    if not history:
        return {}
    last = history[-1]
    keys = ("loss", "val_loss", "accuracy", "val_accuracy", "val_r2", "lr")
    return {k: last[k] for k in keys if k in last}


def best_epoch(history: list[dict], key: str = "val_loss") -> int | None:
    """The 1-based epoch with the lowest ``key`` (the one early stopping keeps), or None."""
    values = [(h[key], h["epoch"]) for h in history if key in h and np.isfinite(h[key])]
    return min(values)[1] if values else None


# ---- the network over the plane -----------------------------------------------------------
@dataclass
class GridOutput:
    """The network evaluated on a grid over the input plane.

    output: (res, res) P(positive class) for two classes, the predicted class for more, the
    value for regression; confidence: the winning class's probability (multi-class only);
    neurons: one (n_neurons, res, res) array per hidden layer, after its activation;
    probs: (n_classes, res, res) each class's probability (classification only).
    """

    xs: np.ndarray
    ys: np.ndarray
    output: np.ndarray
    confidence: np.ndarray | None
    neurons: list[np.ndarray]
    probs: np.ndarray | None = None


@torch.no_grad()
def output_grid(model: models.MLP, features, xlim, ylim, task: str,
                resolution: int = 60) -> GridOutput:
    """Evaluate the network and each hidden neuron on a resolution x resolution grid, in one
    batched forward pass over the same feature transforms as training."""
    _check(4 <= resolution <= 200, f"resolution must be 4 to 200, got {resolution}.")
    xs = np.linspace(*xlim, resolution, dtype=np.float32)
    ys = np.linspace(*ylim, resolution, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)       # row i is y = ys[i], as a heatmap expects
    points = np.column_stack([gx.ravel(), gy.ravel()])
    with single_thread():     # all of it: one op left on the shared pool costs milliseconds
        h = torch.as_tensor(transform_features(points, features))
        was_training = model.training
        model.eval()
        neurons = []
        for layer in model.layers:
            h = layer(h)
            if not isinstance(layer, (nn.Linear, nn.Flatten, nn.Dropout)):
                neurons.append(h.T.reshape(-1, resolution, resolution).numpy().copy())
        model.train(was_training)
        confidence = class_maps = None
        if task == "regression":
            output = h[:, 0].reshape(resolution, resolution).numpy()
        else:
            probs = torch.softmax(h, dim=-1)
            class_maps = probs.T.reshape(-1, resolution, resolution).numpy().copy()
            if probs.shape[1] == 2:
                output = probs[:, 1].reshape(resolution, resolution).numpy()
            else:
                best, cls = probs.max(dim=-1)
                output = cls.reshape(resolution, resolution).numpy().astype(np.float32)
                confidence = best.reshape(resolution, resolution).numpy()
    return GridOutput(xs, ys, output, confidence, neurons, class_maps)


def network_weights(model: models.MLP) -> list[np.ndarray]:
    """Each Linear layer's weight matrix (out, in), input layer first, as NumPy."""
    return [lin.weight.detach().cpu().numpy().copy() for lin in model.linear_layers()]


# ---- snapshots ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    """A kept run: its label, settings and loss history, to overlay on later runs."""

    label: str
    settings: PlaygroundSettings
    history: tuple[dict, ...]

    @property
    def best_epoch(self) -> int | None:
        return best_epoch(list(self.history))


def take_snapshot(session: PlaygroundSession, number: int) -> Snapshot:
    """Keep the session's run so far, labelled '#number: <settings summary>'."""
    _check(session.epoch > 0, "Train for at least one epoch before keeping a snapshot.")
    history = tuple(dict(h) for h in session.trainer.history_copy())
    return Snapshot(f"#{number}: {settings_summary(session.settings)}", session.settings, history)


