"""Robustness checks for any classifier: adversarial attacks, image corruptions, tabular noise.

Attacks (``fgsm``, ``pgd``) are plain torch: one gradient of the cross-entropy with respect to
the input, or several projected steps. Adversarial inputs stay within ``eps`` of the original
(L-infinity) and inside the valid input range ``clip`` ([0, 1] for images; None for
standardised tabular data). ``corrupt`` applies the common image corruptions at a severity from
0 (nothing) to 1 (strong); ``tabular_noise`` and ``with_missing_values`` damage table rows.
Every ``*_curve`` function returns a DataFrame of accuracy against the damage, ready to plot.
``adversarial_finetune`` retrains a copy of a model on clean plus adversarial examples.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from nnplay.data.dataset import Dataset

CORRUPTIONS = ("gaussian_noise", "blur", "contrast", "rotation", "occlusion")
ATTACKS = ("fgsm", "pgd")
NOISE_STD_MAX = 0.5        # gaussian_noise at severity 1: std in pixel units ([0, 1] images)
BLUR_SIGMA_MAX = 0.1       # blur at severity 1: sigma as a share of the image side
ROTATION_MAX_DEG = 90.0    # rotation at severity 1
OCCLUSION_MAX = 0.6        # occlusion at severity 1: the grey square's side as a share of the image
OCCLUSION_FILL = 0.5       # grey, so the patch is visible on both black and white backgrounds
BATCH = 512
Clip = tuple[float, float] | None


def _device(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _as_tensor(x, device) -> tuple[torch.Tensor, bool]:
    """(float tensor on device, whether the caller gave NumPy)."""
    if isinstance(x, torch.Tensor):
        return x.detach().float().to(device), False
    return torch.as_tensor(np.asarray(x, dtype=np.float32)).to(device), True


def _back(x: torch.Tensor, numpy: bool):
    return x.detach().cpu().numpy() if numpy else x.detach()


def _check_eps(eps: float) -> float:
    eps = float(eps)
    if not math.isfinite(eps) or eps < 0:
        raise ValueError(f"eps must be a number >= 0, got {eps}.")
    return eps


def _input_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    loss = nn.functional.cross_entropy(model(x), y)
    (grad,) = torch.autograd.grad(loss, x)
    return grad


def _attack(model: nn.Module, x, y, eps: float, step: Callable, clip: Clip):
    """Shared frame of both attacks: eval mode, batching, projection onto the eps-ball."""
    eps = _check_eps(eps)
    device = _device(model)
    xt, numpy = _as_tensor(x, device)
    if eps == 0:
        return _back(xt.clone(), numpy)
    yt = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y).long().to(device)
    was_training = model.training
    model.eval()
    try:
        outs = []
        for xb, yb in zip(xt.split(BATCH), yt.split(BATCH), strict=True):
            adv = step(xb, yb)
            adv = torch.min(torch.max(adv, xb - eps), xb + eps)
            if clip is not None:
                adv = adv.clamp(*clip)
            outs.append(adv.detach())
        return _back(torch.cat(outs) if outs else xt.clone(), numpy)
    finally:
        model.train(was_training)


def fgsm(model: nn.Module, x, y, eps: float, clip: Clip = (0.0, 1.0)):
    """Fast gradient sign method: x + eps * sign(d loss / d x), clamped to ``clip``.

    x and y are tensors or NumPy arrays (the result has x's type). eps 0 returns x unchanged.
    """
    return _attack(model, x, y, eps,
                   lambda xb, yb: xb + eps * _input_gradient(model, xb, yb).sign(), clip)


def pgd(model: nn.Module, x, y, eps: float, alpha: float | None = None, steps: int = 10,
        clip: Clip = (0.0, 1.0), random_start: bool = False, seed: int = 0):
    """Projected gradient descent (Madry et al.): ``steps`` FGSM steps of size ``alpha``
    (default 2.5 * eps / steps), each projected back into the eps-ball around x and ``clip``.
    """
    if int(steps) < 1:
        raise ValueError(f"steps must be at least 1, got {steps}.")
    alpha = 2.5 * float(eps) / int(steps) if alpha is None else float(alpha)
    generator = torch.Generator().manual_seed(seed)

    def step(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        adv = xb.clone()
        if random_start:
            noise = torch.rand(xb.shape, generator=generator).to(xb.device) * 2 - 1
            adv = adv + eps * noise
        for _ in range(int(steps)):
            adv = adv + alpha * _input_gradient(model, adv, yb).sign()
            adv = torch.min(torch.max(adv, xb - eps), xb + eps)
            if clip is not None:
                adv = adv.clamp(*clip)
        return adv

    return _attack(model, x, y, eps, step, clip)


def accuracy(model: nn.Module, X, y) -> float:
    """Share of rows of X the model labels as y."""
    from nnplay.train import predict

    return float(np.mean(predict(model, X) == np.asarray(y))) if len(y) else float("nan")


def accuracy_under_attack(model: nn.Module, X, y, eps_list: Sequence[float],
                          method: str = "fgsm", alpha: float | None = None, steps: int = 10,
                          clip: Clip = (0.0, 1.0)) -> pd.DataFrame:
    """Accuracy on adversarial versions of (X, y) for each eps: columns method, eps, accuracy."""
    if method not in ATTACKS:
        raise ValueError(f"method must be one of {', '.join(ATTACKS)}, got {method!r}.")
    rows = []
    for eps in eps_list:
        if method == "fgsm":
            adv = fgsm(model, X, y, eps, clip=clip)
        else:
            adv = pgd(model, X, y, eps, alpha=alpha, steps=steps, clip=clip)
        rows.append({"method": method, "eps": float(eps), "accuracy": accuracy(model, adv, y)})
    return pd.DataFrame(rows)


def adversarial_examples(model: nn.Module, X, y, eps: float, method: str = "fgsm",
                         steps: int = 10, clip: Clip = (0.0, 1.0)) -> dict:
    """For a gallery: original, perturbation and adversarial inputs with predicted labels and
    confidences (the softmax probability of the predicted class) before and after."""
    from nnplay.train import predict_proba

    X = np.asarray(X, dtype=np.float32)
    adv = fgsm(model, X, y, eps, clip) if method == "fgsm" else pgd(model, X, y, eps,
                                                                      steps=steps, clip=clip)
    p_clean, p_adv = predict_proba(model, X), predict_proba(model, adv)
    return {"original": X, "adversarial": adv, "perturbation": adv - X, "label": np.asarray(y),
            "pred": p_clean.argmax(1), "confidence": p_clean.max(1),
            "adv_pred": p_adv.argmax(1), "adv_confidence": p_adv.max(1)}


# ---- image corruptions ----------------------------------------------------------------------

def _check_severity(severity: float) -> float:
    severity = float(severity)
    if not 0.0 <= severity <= 1.0:
        raise ValueError(f"severity must be between 0 (none) and 1 (strong), got {severity}.")
    return severity


def _gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, int(math.ceil(3 * sigma)))
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-offsets**2 / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    channels = images.shape[1]
    row = kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1)
    col = kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1)
    # Reflect padding keeps the borders as bright as the image instead of fading to black.
    padded = nn.functional.pad(images, (radius, radius, 0, 0), mode="replicate")
    out = nn.functional.conv2d(padded, row, groups=channels)
    padded = nn.functional.pad(out, (0, 0, radius, radius), mode="replicate")
    return nn.functional.conv2d(padded, col, groups=channels)


def _rotate(images: torch.Tensor, degrees: float) -> torch.Tensor:
    angle = math.radians(degrees)
    theta = torch.tensor([[math.cos(angle), -math.sin(angle), 0.0],
                          [math.sin(angle), math.cos(angle), 0.0]], dtype=torch.float32)
    grid = nn.functional.affine_grid(theta.expand(len(images), 2, 3), list(images.shape),
                                     align_corners=False)
    return nn.functional.grid_sample(images, grid, align_corners=False, padding_mode="zeros")


def corrupt(images, kind: str, severity: float, seed: int = 0) -> np.ndarray:
    """``images`` (n, C, H, W) in [0, 1] with a corruption at ``severity`` in [0, 1].

    gaussian_noise adds noise of std 0.5*severity; blur uses sigma = 0.1*severity*side; contrast
    shrinks each image towards its mean by the factor 1-severity; rotation turns by
    90*severity degrees; occlusion greys a square of side 0.6*severity*side at a seeded place.
    Severity 0 returns the images unchanged. Output stays in [0, 1].
    """
    if kind not in CORRUPTIONS:
        raise ValueError(f"Unknown corruption {kind!r}; choose one of {', '.join(CORRUPTIONS)}.")
    severity = _check_severity(severity)
    x = torch.as_tensor(np.asarray(images, dtype=np.float32))
    if x.dim() != 4:
        raise ValueError(f"Corruptions need images shaped (n, channels, height, width), got "
                         f"{tuple(x.shape)}; use tabular_noise for tables.")
    if severity == 0 or len(x) == 0:
        return x.numpy().copy()
    generator = torch.Generator().manual_seed(seed)
    side = min(x.shape[-2:])
    if kind == "gaussian_noise":
        out = x + torch.randn(x.shape, generator=generator) * NOISE_STD_MAX * severity
    elif kind == "blur":
        out = _gaussian_blur(x, BLUR_SIGMA_MAX * severity * side)
    elif kind == "contrast":
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        out = mean + (x - mean) * (1 - severity)
    elif kind == "rotation":
        out = _rotate(x, ROTATION_MAX_DEG * severity)
    else:
        size = max(1, int(round(OCCLUSION_MAX * severity * side)))
        out = x.clone()
        tops = torch.randint(0, x.shape[-2] - size + 1, (len(x),), generator=generator)
        lefts = torch.randint(0, x.shape[-1] - size + 1, (len(x),), generator=generator)
        for i, (top, left) in enumerate(zip(tops.tolist(), lefts.tolist(), strict=True)):
            out[i, :, top:top + size, left:left + size] = OCCLUSION_FILL
    return out.clamp(0.0, 1.0).numpy()


def corruption_curve(model: nn.Module, X, y, kinds: Sequence[str] = CORRUPTIONS,
                     severities: Sequence[float] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
                     seed: int = 0) -> pd.DataFrame:
    """Accuracy for each corruption at each severity: columns corruption, severity, accuracy."""
    return pd.DataFrame([{"corruption": kind, "severity": float(s),
                          "accuracy": accuracy(model, corrupt(X, kind, s, seed), y)}
                         for kind in kinds for s in severities])


# ---- tabular damage -----------------------------------------------------------------------

def tabular_noise(X, std: float, seed: int = 0) -> np.ndarray:
    """X plus Gaussian noise of ``std`` (in units of each feature's std, as data is standardised)."""
    std = float(std)
    if not math.isfinite(std) or std < 0:
        raise ValueError(f"The noise std must be a number >= 0, got {std}.")
    X = np.asarray(X, dtype=np.float32)
    rng = np.random.default_rng(seed)
    return (X + rng.normal(0.0, std, size=X.shape).astype(np.float32)) if std else X.copy()


def with_missing_values(X, fraction: float, fill_values=None, seed: int = 0) -> np.ndarray:
    """X with a random ``fraction`` of its cells blanked and filled with ``fill_values`` (per
    column; default 0, the training mean of standardised features), like mean imputation."""
    fraction = float(fraction)
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"The missing fraction must be between 0 and 1, got {fraction}.")
    X = np.array(X, dtype=np.float32)
    fill = np.zeros(X.shape[1], dtype=np.float32) if fill_values is None else \
        np.asarray(fill_values, dtype=np.float32)
    mask = np.random.default_rng(seed).random(X.shape) < fraction
    return np.where(mask, np.broadcast_to(fill, X.shape), X).astype(np.float32)


def tabular_curve(model: nn.Module, X, y, damage: str = "noise",
                  levels: Sequence[float] = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0),
                  fill_values=None, seed: int = 0) -> pd.DataFrame:
    """Accuracy against feature noise std (damage="noise") or missing fraction ("missing")."""
    if damage not in ("noise", "missing"):
        raise ValueError(f"damage must be 'noise' or 'missing', got {damage!r}.")
    rows = []
    for level in levels:
        damaged = (tabular_noise(X, level, seed) if damage == "noise"
                   else with_missing_values(X, level, fill_values, seed))
        rows.append({"damage": damage, "level": float(level),
                     "accuracy": accuracy(model, damaged, y)})
    return pd.DataFrame(rows)


# ---- training ---------------------------------------------------------------------------

def adversarial_finetune(model: nn.Module, dataset: Dataset, eps: float, epochs: int = 2,
                         method: str = "fgsm", lr: float = 1e-3, batch_size: int = 64,
                         steps: int = 5, clip: Clip = (0.0, 1.0), eval_size: int = 300,
                         seed: int = 0, progress=None, should_stop=None
                         ) -> tuple[nn.Module, list[dict]]:
    """Adversarial training of a copy of ``model``; the original is left as it is.

    Each epoch makes fresh adversarial versions of the training set against the current
    network, then trains one epoch with the ordinary Trainer on clean plus adversarial rows
    (half and half). Regenerating per epoch rather than per batch is a cheaper variant of
    Madry et al.'s recipe that needs no second training loop. History rows: epoch (0 is the
    model before), loss, clean_accuracy and robust_accuracy (same attack and eps) on the first
    ``eval_size`` test rows. ``progress(done, total)`` hears of each epoch; when
    ``should_stop()`` turns true, Cancelled carries the copy and the epochs finished so far.
    """
    from nnplay.train import TrainConfig, Trainer
    from nnplay.train.jobs import Cancelled

    eps = _check_eps(eps)
    if method not in ATTACKS:
        raise ValueError(f"method must be one of {', '.join(ATTACKS)}, got {method!r}.")
    net = copy.deepcopy(model)
    attack = (lambda m, x, y: fgsm(m, x, y, eps, clip)) if method == "fgsm" else \
        (lambda m, x, y: pgd(m, x, y, eps, steps=steps, clip=clip))
    X_eval, y_eval = dataset.X_test[:eval_size], dataset.y_test[:eval_size]
    net.eval()
    history = [{"epoch": 0, "loss": float("nan"), "clean_accuracy": accuracy(net, X_eval, y_eval),
                "robust_accuracy": accuracy(net, attack(net, X_eval, y_eval), y_eval)}]
    for epoch in range(1, int(epochs) + 1):
        if progress is not None:
            progress(epoch - 1, int(epochs))
        if should_stop is not None and should_stop():
            raise Cancelled(result=(net, history))
        X_adv = attack(net, dataset.X_train, dataset.y_train)
        mixed = Dataset(name=f"{dataset.name} + adversarial", task=dataset.task,
                        X_train=np.concatenate([dataset.X_train, X_adv]),
                        y_train=np.concatenate([dataset.y_train, dataset.y_train]),
                        X_test=X_eval, y_test=y_eval, feature_names=dataset.feature_names,
                        class_names=dataset.class_names)
        config = TrainConfig(optimizer="adam", lr=lr, batch_size=batch_size, epochs=1,
                             seed=seed + epoch, track_grad_norm=False)
        logs = Trainer(net, mixed, config).fit().history_copy()[-1]
        net.eval()
        history.append({"epoch": epoch, "loss": logs["loss"],
                        "clean_accuracy": accuracy(net, X_eval, y_eval),
                        "robust_accuracy": accuracy(net, attack(net, X_eval, y_eval), y_eval)})
    return net, history
