"""The Playground's engine: TensorFlow Playground on nnplay's toy data, MLP and Trainer.

One frozen ``PlaygroundSettings`` holds every setting of an experiment (data, input features,
network, training, view) and is validated in one place; it round-trips through URL query
parameters so a link reproduces an experiment. ``PlaygroundSession`` builds the dataset (with the
chosen feature transforms), the network and the Trainer, and runs it in chunks paced so a
redraw stays short. ``output_grid`` evaluates the network and every hidden neuron over the input
plane in one batched forward pass, with the same transforms the training data went through.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
import torch
from torch import nn

from nnplay import data, models, train
from nnplay.data.dataset import Dataset
from nnplay.data.derive import FEATURES, transform_features
from nnplay.data.derive import with_features as featurize

DATASETS = {"classification": ("circle", "xor", "gauss", "spiral", "moons", "blobs"),
            "regression": ("plane", "gauss_regression")}
LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REG_RATES = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
BATCH_SIZES = (1, 2, 4, 5, 8, 10, 16, 20, 25, 30, 32, 64, 128, 0)   # 0 = full batch
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
REGULARIZATIONS = ("none", "l1", "l2")
OPTIMIZERS = ("sgd", "momentum", "adam")
SCHEDULES = ("constant", "step", "exponential", "cosine", "warmup_cosine", "onecycle")
N_POINTS = 500                 # TF Playground's number of points
TF_MAX_LAYERS, TF_MAX_NEURONS = 6, 8
MAX_LAYERS, MAX_NEURONS = 8, 32
MAX_EPOCHS = 20_000


@dataclass(frozen=True)
class PlaygroundSettings:
    """Every setting of one Playground experiment; field names double as URL keys."""

    problem: str = "classification"     # classification | regression (TF's "problem type")
    dataset: str = "circle"             # a name from DATASETS[problem]
    noise: int = 0                      # percent, 0..50 as on TF's slider
    train_pct: int = 50                 # share of points used for training, 10..90 %
    batch_size: int = 10                # one of BATCH_SIZES; 0 = full batch
    data_seed: int = 0                  # "regenerate" draws new points by bumping this
    n_classes: int = 3                  # blobs only: 3..5 classes
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[int, ...] = (4, 2)    # neurons per hidden layer; () is a linear model
    activation: str = "tanh"
    lr: float = 0.03
    regularization: str = "none"        # none | l1 | l2
    reg_rate: float = 0.0
    optimizer: str = "sgd"              # TF Playground trains with plain SGD
    dropout: float = 0.0
    schedule: str = "constant"
    early_stopping: int = 0             # patience in epochs on the test loss; 0 = off
    epochs: int = 1000                  # training stops here (schedules span these epochs)
    seed: int = 0                       # weights and shuffling; "reset" bumps it
    show_test: bool = False
    discretize: bool = False

    def __post_init__(self):
        validate(self)

    def replace(self, **changes) -> PlaygroundSettings:
        return replace(self, **changes)

    def dataset_params(self) -> dict:
        """Arguments for ``data.load(self.dataset, ...)``."""
        params = {"n": N_POINTS, "noise": self.noise / 100, "seed": self.data_seed,
                  "test_size": round(1 - self.train_pct / 100, 4)}
        if self.dataset == "blobs":
            params["n_classes"] = self.n_classes
        return params

    def train_config(self) -> train.TrainConfig:
        """The TrainConfig these settings mean (CPU: these nets are too small to gain on a GPU)."""
        rate = self.reg_rate
        return train.TrainConfig(
            optimizer=self.optimizer, lr=self.lr, batch_size=self.batch_size, epochs=self.epochs,
            l1=rate if self.regularization == "l1" else 0.0,
            l2=rate if self.regularization == "l2" else 0.0, schedule=self.schedule,
            step_size=max(1, self.epochs // 10), gamma=self.decay_gamma(),
            warmup_epochs=max(1, self.epochs // 20), early_stopping=self.early_stopping or None,
            seed=self.seed, device="cpu", track_grad_norm=False)

    def decay_gamma(self) -> float:
        """Step halves the rate every tenth of the run; exponential falls to 1% by the end."""
        return 0.01 ** (1 / self.epochs) if self.schedule == "exponential" else 0.5

    def model_affecting(self) -> tuple:
        """Everything except the view options: when this changes, training starts over."""
        return tuple(v for k, v in asdict(self).items() if k not in ("show_test", "discretize"))


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def check_hidden(hidden) -> tuple[int, ...]:
    """Hidden layer sizes within nnplay's limits (8 layers of 32), else a ValueError saying so."""
    sizes = tuple(int(h) for h in hidden)
    _check(len(sizes) <= MAX_LAYERS,
           f"At most {MAX_LAYERS} hidden layers (TF Playground allows {TF_MAX_LAYERS}); "
           f"remove {len(sizes) - MAX_LAYERS}.")
    _check(all(1 <= h <= MAX_NEURONS for h in sizes),
           f"Each hidden layer needs 1 to {MAX_NEURONS} neurons (TF Playground allows "
           f"{TF_MAX_NEURONS}); got {list(sizes)}.")
    return sizes


def validate(s: PlaygroundSettings) -> None:
    """Raise ValueError with what to change when a setting is impossible."""
    _check(s.problem in DATASETS, f"problem must be classification or regression, got {s.problem!r}.")
    _check(s.dataset in DATASETS[s.problem],
           f"Dataset {s.dataset!r} is not a {s.problem} set; choose one of "
           f"{', '.join(DATASETS[s.problem])}.")
    _check(0 <= s.noise <= 50, f"noise must be 0 to 50 (%), got {s.noise}.")
    _check(10 <= s.train_pct <= 90, f"train_pct must be 10 to 90 (%), got {s.train_pct}.")
    _check(s.batch_size in BATCH_SIZES,
           f"batch_size must be one of {', '.join(map(str, BATCH_SIZES))} (0 = full batch).")
    _check(s.n_classes in (3, 4, 5), f"n_classes must be 3, 4 or 5, got {s.n_classes}.")
    _check(s.data_seed >= 0 and s.seed >= 0, "seeds must be whole numbers >= 0.")
    _check(len(s.features) > 0, "Switch on at least one input feature.")
    unknown = [f for f in s.features if f not in FEATURES]
    _check(not unknown, f"Unknown feature(s) {unknown}; choose from {', '.join(FEATURES)}.")
    _check(len(set(s.features)) == len(s.features), "Each feature may be listed once.")
    check_hidden(s.hidden)
    for name, value, allowed in (("activation", s.activation, ACTIVATIONS),
                                 ("regularization", s.regularization, REGULARIZATIONS),
                                 ("optimizer", s.optimizer, OPTIMIZERS),
                                 ("schedule", s.schedule, SCHEDULES),
                                 ("lr", s.lr, LEARNING_RATES), ("reg_rate", s.reg_rate, REG_RATES)):
        _check(value in allowed, f"{name} must be one of {', '.join(map(str, allowed))}, "
                                 f"got {value!r}.")
    _check(0.0 <= s.dropout <= 0.5, f"dropout must be 0 to 0.5, got {s.dropout}.")
    _check(0 <= s.early_stopping <= 1000, "early_stopping patience must be 0 (off) to 1000.")
    _check(1 <= s.epochs <= MAX_EPOCHS, f"epochs must be 1 to {MAX_EPOCHS:,}, got {s.epochs}.")


def objective_latex(s: PlaygroundSettings) -> str:
    """The loss the optimizer minimises, with this run's regularisation rate in it."""
    base = (r"\frac{1}{n}\sum_i -\log p_\theta(y_i \mid x_i)" if s.problem == "classification"
            else r"\frac{1}{n}\sum_i (f_\theta(x_i) - y_i)^2")
    if s.regularization == "l1" and s.reg_rate > 0:
        return rf"L(\theta) = {base} + {s.reg_rate:g} \sum_w |w|"
    if s.regularization == "l2" and s.reg_rate > 0:
        # L2 is torch weight decay: every parameter, biases too, shrinks by rate * theta
        return rf"L(\theta) = {base} + \frac{{{s.reg_rate:g}}}{{2}} \sum_j \theta_j^2"
    return rf"L(\theta) = {base}"


# ---- data ------------------------------------------------------------------------------------
def load_raw(settings: PlaygroundSettings) -> Dataset:
    """The untransformed 2-D dataset the settings describe."""
    return data.load(settings.dataset, **settings.dataset_params())


def plane_limits(raw: Dataset) -> tuple[tuple[float, float], tuple[float, float]]:
    """The plotted input range: the dataset's own, else TF Playground's -6..6."""
    return tuple(raw.extra.get("xlim", (-6.0, 6.0))), tuple(raw.extra.get("ylim", (-6.0, 6.0)))


@contextlib.contextmanager
def single_thread():
    """Run torch on one thread: for nets this small, a second OpenMP thread only adds waiting,
    and on a busy CPU its spin-waits slow each step down many times over."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# ---- the live session ---------------------------------------------------------------------
class ChunkPacer:
    """Chooses epochs per chunk from the measured time per epoch, so one chunk of training takes
    about ``target_seconds`` (the rest of a redraw is drawing)."""

    def __init__(self, target_seconds: float = 0.04, max_epochs: int = 500):
        self.target_seconds, self.max_epochs = target_seconds, max_epochs
        self.seconds_per_epoch_: float | None = None

    def next_epochs(self) -> int:
        if self.seconds_per_epoch_ is None:
            return 1
        return int(min(self.max_epochs, max(1, self.target_seconds / self.seconds_per_epoch_)))

    def record(self, epochs: int, seconds: float) -> None:
        if epochs <= 0:
            return
        per_epoch = max(seconds / epochs, 1e-6)
        old = self.seconds_per_epoch_
        self.seconds_per_epoch_ = per_epoch if old is None else 0.5 * old + 0.5 * per_epoch

    def __repr__(self) -> str:
        return f"ChunkPacer(target_seconds={self.target_seconds}, next={self.next_epochs()})"


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
        self.trainer = train.Trainer(self.model, self.dataset, settings.train_config())
        self.pacer = pacer or ChunkPacer()

    @property
    def epoch(self) -> int:
        return self.trainer.epoch

    @property
    def spec(self) -> models.ModelSpec:
        """The network as a ModelSpec (what a saved copy needs to be rebuilt)."""
        s = self.settings
        return models.ModelSpec("mlp", {"hidden": list(s.hidden), "activation": s.activation,
                                        "dropout": s.dropout})

    def run_chunk(self, epochs: int | None = None) -> int:
        """Train one chunk (paced unless ``epochs`` is given); returns the epochs it ran."""
        before, t0 = self.trainer.epoch, time.perf_counter()
        with single_thread():
            self.trainer.run(self.pacer.next_epochs() if epochs is None else epochs)
        ran = self.trainer.epoch - before
        if epochs is None:
            self.pacer.record(ran, time.perf_counter() - t0)
        return ran

    def metrics(self) -> dict:
        """The last epoch's train and test loss and headline metric."""
        return last_metrics(self.trainer.history)

    def __repr__(self) -> str:
        return f"PlaygroundSession({settings_summary(self.settings)}, epoch={self.epoch})"


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
    neurons: one (n_neurons, res, res) array per hidden layer, after its activation.
    """

    xs: np.ndarray
    ys: np.ndarray
    output: np.ndarray
    confidence: np.ndarray | None
    neurons: list[np.ndarray]


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
    h = torch.as_tensor(transform_features(points, features))
    was_training = model.training
    model.eval()
    neurons = []
    with single_thread():
        for layer in model.layers:
            h = layer(h)
            if not isinstance(layer, (nn.Linear, nn.Flatten, nn.Dropout)):
                neurons.append(h.T.reshape(-1, resolution, resolution).numpy().copy())
    model.train(was_training)
    confidence = None
    if task == "regression":
        output = h[:, 0].reshape(resolution, resolution).numpy()
    else:
        probs = torch.softmax(h, dim=-1)
        if probs.shape[1] == 2:
            output = probs[:, 1].reshape(resolution, resolution).numpy()
        else:
            best, cls = probs.max(dim=-1)
            output = cls.reshape(resolution, resolution).numpy().astype(np.float32)
            confidence = best.reshape(resolution, resolution).numpy()
    return GridOutput(xs, ys, output, confidence, neurons)


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


def settings_summary(s: PlaygroundSettings) -> str:
    """A short one-line description, e.g. 'spiral · X₁,X₂ · 8-8-8 tanh · adam lr 0.03 · batch 32'."""
    arch = "-".join(map(str, s.hidden)) or "linear"
    feats = ",".join(FEATURES[f][0] for f in s.features)
    reg = "" if s.regularization == "none" else f" · {s.regularization} {s.reg_rate:g}"
    batch = "full batch" if s.batch_size == 0 else f"batch {s.batch_size}"
    return f"{s.dataset} · {feats} · {arch} {s.activation} · {s.optimizer} lr {s.lr:g} · {batch}{reg}"


def settings_diff(old: PlaygroundSettings, new: PlaygroundSettings) -> list[str]:
    """The settings that differ, as 'name: old → new' lines."""
    a, b = asdict(old), asdict(new)
    return [f"{k}: {_encode(a[k])} → {_encode(b[k])}" for k in a if a[k] != b[k]]


# ---- URL state ----------------------------------------------------------------------------
DEFAULTS = PlaygroundSettings()
HIDEABLE = tuple(f.name for f in fields(PlaygroundSettings))


def _encode(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _decode(name: str, text: str):
    default = getattr(DEFAULTS, name)
    text = text.strip()
    try:
        if isinstance(default, bool):
            _check(text in ("0", "1", "true", "false"), "use 1 or 0")
            return text in ("1", "true")
        if isinstance(default, tuple):
            parts = [] if text in ("", "none") else text.split(",")
            return tuple(int(p) for p in parts) if name == "hidden" else tuple(parts)
        if isinstance(default, float):
            return float(text)
        if isinstance(default, int):
            return int(text)
    except ValueError as err:
        raise ValueError(f"{name}={text!r} is not valid ({err})") from None
    return text


def to_query_params(settings: PlaygroundSettings, hide=()) -> dict[str, str]:
    """Every setting as a URL query parameter (plus ``hide`` when controls are hidden)."""
    params = {k: _encode(v) for k, v in asdict(settings).items()}
    if hide:
        params["hide"] = ",".join(sorted(hide))
    return params


def from_query_params(params) -> tuple[PlaygroundSettings, frozenset[str], list[str]]:
    """Settings, hidden controls and problems read from URL query parameters.

    Unknown or invalid values are skipped (their defaults kept) and described in the problems
    list, so a mistyped link still opens a working Playground.
    """
    problems, values = [], {}
    for name in HIDEABLE:
        if name in params:
            raw = params[name]
            raw = raw[-1] if isinstance(raw, list) else raw
            try:
                values[name] = _decode(name, str(raw))
            except ValueError as err:
                problems.append(str(err))
    if "dataset" in values and "problem" not in values:
        values["problem"] = next((p for p, names in DATASETS.items()
                                  if values["dataset"] in names), DEFAULTS.problem)
    hide_text = params.get("hide", "")
    hide_text = hide_text[-1] if isinstance(hide_text, list) else hide_text
    hide = frozenset(h.strip() for h in str(hide_text).split(",") if h.strip())
    if hide - set(HIDEABLE):
        problems.append(f"hide: unknown control(s) {', '.join(sorted(hide - set(HIDEABLE)))}")
        hide &= set(HIDEABLE)
    settings = DEFAULTS
    # Problem and dataset must agree, so they go in together; the rest one at a time, so one
    # bad value spoils only itself.
    together = {k: values.pop(k) for k in ("problem", "dataset") if k in values}
    for change in [together] + [{k: v} for k, v in values.items()]:
        try:
            settings = settings.replace(**change) if change else settings
        except (ValueError, TypeError) as err:
            problems.append(f"{', '.join(change)}: {err}")
    return settings, hide, problems
