"""The Playground's settings: one frozen ``PlaygroundSettings`` per experiment (data, input
features, network, training, view), validated in one place, split into what changes the network
(a new run at epoch 0) and what a running network takes live (learning rate, regularisation,
batch size, optimizer, schedule), and round-tripped through URL query parameters so a link
reproduces an experiment. A link cannot carry an uploaded CSV: it names the file, and opening it
falls back to a built-in dataset with a notice saying which file to upload.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from nnplay import train
from nnplay.data.derive import FEATURES
from nnplay.train.config import LIMITS

DATASETS = {"classification": ("circle", "xor", "gauss", "spiral", "moons", "blobs"),
            "regression": ("plane", "gauss_regression")}
UPLOAD = "upload"              # the dataset name of a person's own CSV (either problem type)
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
MAX_EPOCHS = LIMITS["epochs"]  # 100,000: an hour of play; only a guard, never a goal
# Settings a running network takes without a reset (TF Playground's live changes); the view
# options need no training at all. Every other setting builds a new network at epoch 0.
LIVE = ("batch_size", "lr", "regularization", "reg_rate", "optimizer", "schedule",
        "early_stopping", "epochs")
VIEW = ("show_test", "discretize")


@dataclass(frozen=True)
class PlaygroundSettings:
    """Every setting of one Playground experiment; field names double as URL keys."""

    problem: str = "classification"     # classification | regression (TF's "problem type")
    dataset: str = "circle"             # a name from DATASETS[problem], or UPLOAD
    upload: str = ""                    # UPLOAD only: the file and columns (upload.plane_key)
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
        """Arguments for ``data.load(self.dataset, ...)`` (for UPLOAD: the split's)."""
        if self.dataset == UPLOAD:
            return {"test_size": round(1 - self.train_pct / 100, 4), "seed": self.data_seed}
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

    def session_config(self) -> train.TrainConfig:
        """The live session's TrainConfig: as ``train_config`` but, with a constant rate, no
        epoch cap (play runs until paused; MAX_EPOCHS only guards a forgotten tab). A schedule
        spans ``epochs`` and the run completes with it."""
        cfg = self.train_config()
        return cfg.replace(epochs=MAX_EPOCHS) if self.schedule == "constant" else cfg

    def model_affecting(self) -> tuple:
        """The settings that need a new network (epoch 0, fresh weights) when they change."""
        return tuple(v for k, v in asdict(self).items() if k not in LIVE + VIEW)


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
    _check(s.dataset in DATASETS[s.problem] or s.dataset == UPLOAD,
           f"Dataset {s.dataset!r} is not a {s.problem} set; choose one of "
           f"{', '.join(DATASETS[s.problem])} or {UPLOAD} (your CSV).")
    _check((s.dataset == UPLOAD) == bool(s.upload),
           "upload names the CSV of dataset 'upload' and is empty for every other dataset.")
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


def data_label(s: PlaygroundSettings) -> str:
    """The dataset for a person: its name, or the CSV's name and columns for an upload."""
    return s.upload.split(" · ")[0] if s.dataset == UPLOAD else s.dataset


def settings_summary(s: PlaygroundSettings) -> str:
    """A short one-line description, e.g. 'spiral · X₁,X₂ · 8-8-8 tanh · adam lr 0.03 · batch 32'."""
    arch = "-".join(map(str, s.hidden)) or "linear"
    feats = ",".join(FEATURES[f][0] for f in s.features)
    reg = "" if s.regularization == "none" else f" · {s.regularization} {s.reg_rate:g}"
    batch = "full batch" if s.batch_size == 0 else f"batch {s.batch_size}"
    return f"{data_label(s)} · {feats} · {arch} {s.activation} · {s.optimizer} lr {s.lr:g} · {batch}{reg}"


def settings_diff(old: PlaygroundSettings, new: PlaygroundSettings,
                  names: tuple[str, ...] | None = None) -> list[str]:
    """The settings that differ (only ``names`` when given), as 'name: old → new' lines."""
    a, b = asdict(old), asdict(new)
    return [f"{k}: {_encode(a[k])} → {_encode(b[k])}" for k in a
            if a[k] != b[k] and (names is None or k in names)]


def structural_changes(old: PlaygroundSettings, new: PlaygroundSettings) -> list[str]:
    """The changed settings that need a new network, as 'name: old → new' lines."""
    return settings_diff(old, new, tuple(k for k in asdict(new) if k not in LIVE + VIEW))


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
    params = {k: _encode(v) for k, v in asdict(settings).items() if k != "upload" or v}
    if hide:
        params["hide"] = ",".join(sorted(hide))
    return params


def parse_hide(text: str) -> tuple[frozenset[str], list[str]]:
    """The controls ``hide=a,b`` locks, and a problem naming the valid names for unknown ones."""
    hide = frozenset(h.strip() for h in str(text).split(",") if h.strip())
    unknown = sorted(hide - set(HIDEABLE))
    if not unknown:
        return hide, []
    return hide - set(unknown), [
        f"hide: there is no control called {', '.join(map(repr, unknown))}; the names hide= "
        f"knows are {', '.join(HIDEABLE)}."]


def from_query_params(params) -> tuple[PlaygroundSettings, frozenset[str], list[str]]:
    """Settings, hidden controls and problems read from URL query parameters.

    Unknown or invalid values are skipped (their defaults kept) and described in the problems
    list, so a mistyped link still opens a working Playground. A link made on an uploaded CSV
    opens the problem type's first built-in dataset instead, and says which file it needs.
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
    hide, hide_problems = parse_hide(hide_text)
    problems += hide_problems
    if values.get("dataset") == UPLOAD:
        fallback = DATASETS.get(values.get("problem"), DATASETS[DEFAULTS.problem])[0]
        file = values.pop("upload", "").split(" · ")[0] or "a CSV file"
        values["dataset"] = fallback
        problems.append(f"dataset: this link was made on an uploaded CSV ({file}), and a link "
                        f"cannot carry a file, so the Playground opened {fallback!r}. To go on "
                        "with that data, choose 'your CSV' as the dataset and upload the file.")
    values.pop("upload", None)
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
