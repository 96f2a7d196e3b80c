"""Export a Playground experiment as a standalone PyTorch script (it needs only torch and numpy)
or as a Jupyter notebook with the same code, one cell per step (``# %%`` marks them in the script).

The script draws the same points as nnplay (the TF Playground generators are copied from
nnplay.data.toy, moons and blobs are NumPy versions of scikit-learn's generators), applies the
same input features, builds the same network with the same seed (so the same initial weights)
and trains it with the same optimizer, batch size, regularisation, schedule and early stopping.
The train/test split is drawn with NumPy, so which points land in the test set differs from
the app's (scikit-learn) split; the share and the points are the same. A person's CSV cannot be
regenerated: its points go into the export as numbers, already standardised as the app shows them.
"""

from __future__ import annotations

import inspect
import re
import textwrap

import numpy as np

from nnplay.data import toy
from nnplay.data.dataset import Dataset
from nnplay.lessons.playground import FEATURES, UPLOAD, PlaygroundSettings, settings_summary

FEATURE_CODE = {"x1": "a", "x2": "b", "x1_sq": "a * a", "x2_sq": "b * b", "x1x2": "a * b",
                "sin_x1": "np.sin(a)", "sin_x2": "np.sin(b)"}
ACTIVATION_CODE = {"relu": "nn.ReLU()", "tanh": "nn.Tanh()", "sigmoid": "nn.Sigmoid()",
                   "linear": "nn.Identity()"}

MOONS_CODE = '''
def moons_points(n, noise, seed):
    """scikit-learn's make_moons(n, noise=noise, random_state=seed), in NumPy."""
    rng = np.random.RandomState(seed)
    n_out, n_in = n // 2, n - n // 2
    outer = np.linspace(0, np.pi, n_out)
    inner = np.linspace(0, np.pi, n_in)
    X = np.vstack([np.append(np.cos(outer), 1 - np.cos(inner)),
                   np.append(np.sin(outer), 1 - np.sin(inner) - 0.5)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    order = np.arange(n)
    rng.shuffle(order)
    X, y = X[order], y[order]
    if noise:
        X += rng.normal(scale=noise, size=X.shape)
    return X, y
'''

BLOBS_CODE = '''
def blobs_points(n, noise, seed, n_classes):
    """scikit-learn's make_blobs around evenly spaced centres, in NumPy."""
    rng = np.random.RandomState(seed)
    angles = np.pi / 2 + 2 * np.pi * np.arange(n_classes) / n_classes
    centres = np.column_stack([4.0 * np.cos(angles), 4.0 * np.sin(angles)])
    std = np.sqrt(0.5 + (4 - 0.5) * noise / 0.5)
    counts = [n // n_classes + (1 if k < n % n_classes else 0) for k in range(n_classes)]
    X = np.concatenate([rng.normal(loc=c, scale=std, size=(k, 2)) for c, k in zip(centres, counts)])
    y = np.concatenate([np.full(k, label) for label, k in enumerate(counts)])
    order = np.arange(n)
    rng.shuffle(order)
    return X[order], y[order]
'''

SCHEDULE_CODE = {
    "constant": "None",
    "step": "torch.optim.lr_scheduler.StepLR(optimizer, step_size={step_size}, gamma={gamma!r})",
    "exponential": "torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma={gamma!r})",
    "cosine": "torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=EPOCHS)",
    "warmup_cosine": ("torch.optim.lr_scheduler.SequentialLR(optimizer, [\n"
                      "    torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1 / {warm1}, "
                      "total_iters={warm}),\n"
                      "    torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, "
                      "T_max=max(EPOCHS - {warm}, 1)),\n], milestones=[{warm}])"),
    "onecycle": ("torch.optim.lr_scheduler.OneCycleLR(\n"
                 "    optimizer, max_lr=LR, total_steps=max(EPOCHS, 2), cycle_momentum=False)"),
}
OPTIMIZER_CODE = {
    "sgd": "torch.optim.SGD(model.parameters(), lr=LR, weight_decay=L2)",
    "momentum": "torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9, weight_decay=L2)",
    "adam": "torch.optim.Adam(model.parameters(), lr=LR, weight_decay=L2)",
}


def _numbers(values: np.ndarray, fmt: str) -> str:
    """A NumPy array literal's numbers, wrapped to fit the exported code's line length."""
    text = ", ".join(format(v, fmt) for v in values.ravel().tolist())
    return "\n".join(textwrap.wrap(text, 88, initial_indent="    ", subsequent_indent="    "))


def upload_code(raw: Dataset) -> tuple[str, str]:
    """The uploaded CSV's points (train and test, as the app scaled them) written into the code."""
    X = np.concatenate([raw.X_train, raw.X_test]).astype(np.float64)
    y = np.concatenate([raw.y_train, raw.y_test])
    x1, x2 = raw.extra.get("plane_columns", ("x1", "x2"))
    classes = f"classes {raw.class_names}" if raw.class_names else "standardised values"
    source = (f"def uploaded_points():\n"
              f'    """Your CSV {raw.name!r}: x1 = {x1!r}, x2 = {x2!r} (standardised and times '
              f'{raw.extra.get("plane_scale", 1):g}),\n'
              f'    label {raw.extra.get("target")!r} ({classes})."""\n'
              f"    X = np.array([\n{_numbers(X, '.6g')}\n    ]).reshape(-1, 2)\n"
              f"    y = np.array([\n{_numbers(y, 'd' if raw.class_names else '.6g')}\n    ])\n"
              f"    return X, y\n")
    return source, "X, y = uploaded_points()"


def data_code(settings: PlaygroundSettings, raw: Dataset | None = None) -> tuple[str, str]:
    """Source of the point generator and the line that calls it (X, y = ...)."""
    name, p = settings.dataset, settings.dataset_params()
    if name == UPLOAD:
        if raw is None:
            raise ValueError("Exporting an uploaded CSV's experiment needs its points: pass raw.")
        return upload_code(raw)
    if name == "moons":
        return MOONS_CODE, "X, y = moons_points(N, NOISE, DATA_SEED)"
    if name == "blobs":
        return BLOBS_CODE, f"X, y = blobs_points(N, NOISE, DATA_SEED, {p['n_classes']})"
    points_fn = toy.TF_GENERATORS[name][0]
    parts = [inspect.getsource(toy._tf_labels), inspect.getsource(toy._half_counts)]
    if name == "gauss_regression":
        parts.append(f"GAUSS_BUMPS = {toy.GAUSS_BUMPS!r}\n")
    parts.append(inspect.getsource(points_fn))
    call = f"X, y = {points_fn.__name__}(N, NOISE, np.random.default_rng(DATA_SEED))"
    return "\n\n".join(parts), call


def model_code(settings: PlaygroundSettings, n_outputs: int) -> str:
    """nn.Sequential lines that build the layers in the same order as nnplay's MLP."""
    lines, width = ["nn.Flatten(),"], len(settings.features)
    for h in settings.hidden:
        lines.append(f"nn.Linear({width}, {h}), {ACTIVATION_CODE[settings.activation]},")
        if settings.dropout > 0:
            lines.append(f"nn.Dropout({settings.dropout!r}),")
        width = h
    lines.append(f"nn.Linear({width}, {n_outputs}),")
    return "\n".join("    " + line for line in lines)


SCRIPT = '''"""nnplay Playground experiment, exported as a standalone PyTorch script.

{summary}
Inputs: {feature_labels}.  Needs only torch and numpy:  python this_script.py
"""
# %% Settings
import numpy as np
import torch
from torch import nn

N, NOISE, DATA_SEED, TEST_SIZE = {n}, {noise!r}, {data_seed}, {test_size!r}
SEED, EPOCHS, BATCH_SIZE, LR = {seed}, {epochs}, {batch_size}, {lr!r}  # batch 0 = full batch
L1, L2, PATIENCE = {l1!r}, {l2!r}, {patience}  # patience 0 = no early stopping
CLASSIFICATION = {classify}


# %% The points: {data_title}
{generator}


# %% A seeded train/test split
def split(y, test_size, seed, stratify):
    """Seeded train/test indices; with stratify, each class is split in the same share."""
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(y == c) for c in np.unique(y)] if stratify else [np.arange(len(y))]
    test = np.concatenate([rng.permutation(g)[:int(round(test_size * len(g)))] for g in groups])
    train = np.setdiff1d(np.arange(len(y)), test)
    return rng.permutation(train), np.sort(test)


# %% Input features, computed from the two coordinates
def features(X):
    """The input features, computed from the raw coordinates."""
    a, b = X[:, 0].astype(np.float64), X[:, 1].astype(np.float64)
    return np.column_stack([{features}]).astype(np.float32)


# %% Loss and score
def loss_fn(out, y):
    return {loss}


def score_fn(out, y):
    return {metric}


# %% Train and test data
{call}
train_idx, test_idx = split(y, TEST_SIZE, DATA_SEED, stratify=CLASSIFICATION)
target_type = torch.long if CLASSIFICATION else torch.float32
X_train = torch.tensor(features(X[train_idx]))
y_train = torch.tensor(y[train_idx], dtype=target_type)
X_test = torch.tensor(features(X[test_idx]))
y_test = torch.tensor(y[test_idx], dtype=target_type)

# %% The network, with the same initial weights as in nnplay
torch.manual_seed(SEED)  # the same seed gives the same initial weights as in nnplay
model = nn.Sequential(
{model}
)
for layer in model:  # nnplay's MLP initialises its layers a second time, in this order
    if isinstance(layer, nn.Linear):
        layer.reset_parameters()
weights = [p for p in model.parameters() if p.dim() > 1]
optimizer = {optimizer}
scheduler = {schedule}
shuffle = torch.Generator().manual_seed(SEED)
best_loss, best_epoch, best_state, waited = float("inf"), 0, None, 0

# %% Training
for epoch in range(1, EPOCHS + 1):
    model.train()
    n = len(X_train)
    batch = BATCH_SIZE if 0 < BATCH_SIZE < n else n
    order = torch.randperm(n, generator=shuffle) if batch < n else torch.arange(n)
    total = 0.0
    for idx in order.split(batch):
        out = model(X_train[idx])
        loss = loss_fn(out, y_train[idx])
        penalty = L1 * sum(w.abs().sum() for w in weights) if L1 > 0 else 0.0
        optimizer.zero_grad()
        (loss + penalty).backward()
        optimizer.step()
        total += loss.item() * len(idx)
    model.eval()
    with torch.no_grad():
        out = model(X_test)
        test_loss, score = loss_fn(out, y_test).item(), score_fn(out, y_test)
    if scheduler is not None and epoch < EPOCHS:
        scheduler.step()
    if epoch % {print_every} == 0 or epoch == 1:
        print(f"epoch {{epoch}}: train loss {{total / n:.4f}}, test loss {{test_loss:.4f}}, "
              f"{metric_name} {{score:.4f}}")
    if test_loss < best_loss:
        best_loss, best_epoch, waited = test_loss, epoch, 0
        best_state = {{k: v.clone() for k, v in model.state_dict().items()}}
    elif PATIENCE:
        waited += 1
        if waited >= PATIENCE:
            model.load_state_dict(best_state)
            print(f"early stopping at epoch {{epoch}}; best epoch {{best_epoch}}")
            break

# %% The trained network on the test data
model.eval()
with torch.no_grad():
    print(f"final {metric_name}={{score_fn(model(X_test), y_test):.4f}}")
'''


def export_script(settings: PlaygroundSettings, n_outputs: int | None = None,
                  print_every: int = 100, raw: Dataset | None = None) -> str:
    """A runnable Python script that rebuilds the data and trains the same network (``raw``:
    the 2-D points, needed for an uploaded CSV's experiment)."""
    classify = settings.problem == "classification"
    if n_outputs is None and raw is not None:
        n_outputs = raw.n_outputs
    if n_outputs is None:
        n_outputs = (settings.n_classes if settings.dataset == "blobs" else 2) if classify else 1
    cfg = settings.train_config()
    generator, call = data_code(settings, raw)
    p = {"n": len(raw.X_train) + len(raw.X_test) if raw is not None else 0, "noise": 0.0,
         **settings.dataset_params()}
    return SCRIPT.format(
        summary=settings_summary(settings), data_title=(
            "your CSV's, as numbers" if settings.dataset == UPLOAD else
            f"{settings.dataset}, drawn as nnplay draws them"),
        feature_labels=", ".join(FEATURES[f][0] for f in settings.features),
        n=p["n"], noise=p["noise"], data_seed=settings.data_seed, test_size=p["test_size"],
        seed=settings.seed, epochs=settings.epochs, batch_size=settings.batch_size,
        lr=settings.lr, l1=cfg.l1, l2=cfg.l2, patience=settings.early_stopping,
        classify=classify, generator=generator.strip(), call=call,
        features=", ".join(FEATURE_CODE[f] for f in settings.features),
        loss=("nn.functional.cross_entropy(out, y)" if classify
              else "nn.functional.mse_loss(out.reshape(y.shape), y)"),
        metric=("(out.argmax(-1) == y).float().mean().item()" if classify else
                "1 - ((out.reshape(y.shape) - y) ** 2).mean().item() / y.var(unbiased=False).item()"),
        metric_name="test_accuracy" if classify else "test_r2",
        model=model_code(settings, n_outputs), optimizer=OPTIMIZER_CODE[settings.optimizer],
        schedule=SCHEDULE_CODE[settings.schedule].format(
            step_size=cfg.step_size, gamma=cfg.gamma, warm=cfg.warmup_epochs,
            warm1=cfg.warmup_epochs + 1),
        print_every=print_every)


def export_notebook(settings: PlaygroundSettings, n_outputs: int | None = None,
                    print_every: int = 100, raw: Dataset | None = None) -> str:
    """The same experiment as a Jupyter notebook (nbformat 4 JSON): the script's docstring as
    the first text cell, then each ``# %% title`` part as a heading and a code cell."""
    import nbformat
    from nbformat import v4

    script = export_script(settings, n_outputs, print_every, raw)
    head, *parts = re.split(r"^# %% (.*)$", script, flags=re.MULTILINE)
    intro = head.strip().strip('"').strip().splitlines()
    title = intro[0].replace("a standalone PyTorch script", "a Jupyter notebook")
    cells = [v4.new_markdown_cell("# " + title + "\n\n" + "\n".join(intro[1:]).replace(
        "python this_script.py", "run every cell, top to bottom").strip())]
    for title, code in zip(parts[::2], parts[1::2]):
        cells += [v4.new_markdown_cell(f"## {title.strip()}"), v4.new_code_cell(code.strip())]
    notebook = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.validate(notebook)
    return nbformat.writes(notebook)
