"""What the network looked at: attribution maps for image (and any tensor) inputs via captum.

Four methods explain the target's logit (or the regression value) for a batch ``x``:
plain gradient saliency, integrated gradients (zero baseline by default), occlusion and
Grad-CAM (on the model's last Conv2d). Each returns a tensor shaped like ``x``. LIME for images
perturbs grid segments of one image. captum and lime are imported inside the functions.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from nnplay.explain.tabular import LimeResult, eval_copy
from nnplay.train.jobs import check_stop

METHODS = ("saliency", "integrated_gradients", "occlusion", "gradcam")
METHOD_TITLES = {"saliency": "Gradient saliency", "integrated_gradients": "Integrated gradients",
                 "occlusion": "Occlusion", "gradcam": "Grad-CAM", "lime": "LIME segments"}
COMPLETENESS_TOLERANCE = 0.05   # integrated gradients' sum should match the output change to 5%
OCCLUSION_BATCH = 16            # occluded copies per forward pass


def _device(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _as_batch(model: nn.Module, x) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    if x.dim() < 2:
        raise ValueError(f"x must be a batch with a leading example axis, e.g. x[None]; got shape "
                         f"{tuple(x.shape)}.")
    return x.detach().float().to(_device(model))


def _targets(target, n: int) -> torch.Tensor:
    t = torch.as_tensor(target, dtype=torch.long).reshape(-1)
    if len(t) == 1:
        t = t.expand(n)
    if len(t) != n:
        raise ValueError(f"Give one target or one per example ({n}), got {len(t)}.")
    return t


def last_conv_layer(model: nn.Module) -> nn.Conv2d:
    """The model's last nn.Conv2d (Grad-CAM's layer); ValueError when it has none."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError("Grad-CAM needs a convolutional layer and this model has none: "
                         "pick a CNN, or use saliency, integrated gradients or occlusion.")
    return convs[-1]


def gradient_methods(model: nn.Module) -> tuple[str, ...]:
    """The fast (one backward pass or one batch) methods this model supports: Grad-CAM only when
    it has a conv layer."""
    has_conv = any(isinstance(m, nn.Conv2d) for m in model.modules())
    return ("saliency", "integrated_gradients") + (("gradcam",) if has_conv else ())


class _CountingModel(nn.Module):
    """Wraps a model to count forward passes, report progress and honour a cancel flag."""

    def __init__(self, model: nn.Module, total: int, progress, should_stop):
        super().__init__()
        self.model, self.total, self.calls = model, total, 0
        self.progress, self.should_stop = progress, should_stop

    def forward(self, x):
        check_stop(self.should_stop)
        out = self.model(x)
        self.calls += 1
        if self.progress is not None:
            self.progress(min(self.calls, self.total), self.total)
        return out


def occlusion_window(shape: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """A default sliding window and stride for one example's shape: about a seventh of the image
    side (at least 2 pixels) with half-window strides; one feature at a time for flat inputs."""
    shape = tuple(int(s) for s in shape)
    if len(shape) == 3:
        side = max(2, min(shape[1:]) // 7)
        step = max(1, side // 2)
        return (shape[0], side, side), (shape[0], step, step)
    return tuple(1 for _ in shape), tuple(1 for _ in shape)


def _n_windows(shape, window, stride) -> int:
    return math.prod((s - w) // st + 1 for s, w, st in zip(shape, window, stride, strict=True))


def attribution(model: nn.Module, x, target, method: str = "saliency", baseline=None,
                n_steps: int = 50, window: Sequence[int] | None = None,
                stride: Sequence[int] | None = None,
                progress: Callable[[int, int], None] | None = None,
                should_stop: Callable[[], bool] | None = None) -> torch.Tensor:
    """Attribution of ``model``'s output ``target`` (a class index, or 0 for regression) to
    each element of the batch ``x``, as a CPU tensor shaped like ``x``.

    method: "saliency" (|d output / d input|), "integrated_gradients" (path integral from
    ``baseline``, zeros by default, with ``n_steps``), "occlusion" (output drop when a
    ``window`` slides over the input, replaced by the baseline value) or "gradcam" (the last
    conv layer's gradient-weighted activations, upsampled to the input; needs (n, C, H, W)).
    """
    from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam, Occlusion, Saliency

    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    model = eval_copy(model)
    xb = _as_batch(model, x)
    tgt = _targets(target, len(xb)).to(xb.device)
    base = torch.zeros_like(xb) if baseline is None else torch.as_tensor(
        baseline, dtype=xb.dtype, device=xb.device).expand_as(xb)
    if method != "occlusion":
        xb = xb.clone().requires_grad_()   # captum would do it too, with a warning each time
    if method == "saliency":
        check_stop(should_stop)
        attr = Saliency(model).attribute(xb, target=tgt, abs=True)
    elif method == "integrated_gradients":
        if int(n_steps) < 2:
            raise ValueError(f"Integrated gradients needs at least 2 steps, got {n_steps}.")
        check_stop(should_stop)
        attr = IntegratedGradients(model).attribute(xb, baselines=base, target=tgt,
                                                    n_steps=int(n_steps))
    elif method == "occlusion":
        default_window, default_stride = occlusion_window(xb.shape[1:])
        window = tuple(window or default_window)
        stride = tuple(stride or default_stride)
        if len(window) != xb.dim() - 1 or len(stride) != xb.dim() - 1:
            raise ValueError(f"window and stride need one size per input axis "
                             f"{tuple(xb.shape[1:])}.")
        if any(w > s for w, s in zip(window, xb.shape[1:], strict=True)):
            raise ValueError(f"The occlusion window {window} is larger than the input "
                             f"{tuple(xb.shape[1:])}.")
        total = math.ceil(_n_windows(xb.shape[1:], window, stride) / OCCLUSION_BATCH) + 1
        counted = _CountingModel(model, total, progress, should_stop)
        attr = Occlusion(counted).attribute(xb, sliding_window_shapes=window, strides=stride,
                                            baselines=base, target=tgt,
                                            perturbations_per_eval=OCCLUSION_BATCH)
    else:
        if xb.dim() != 4:
            raise ValueError(f"Grad-CAM needs images shaped (n, C, H, W), got {tuple(xb.shape)}.")
        cam = LayerGradCam(model, last_conv_layer(model)).attribute(
            xb, target=tgt, relu_attributions=True)
        attr = LayerAttribution.interpolate(cam, tuple(xb.shape[2:]), "bilinear")
        attr = attr.expand_as(xb)
    if progress is not None and method != "occlusion":
        progress(1, 1)
    return attr.detach().cpu().float().clone()


def target_output(model: nn.Module, x, target) -> torch.Tensor:
    """The explained output per example: the target's logit (or the regression value)."""
    model = eval_copy(model)
    xb = _as_batch(model, x)
    tgt = _targets(target, len(xb)).to(xb.device)
    with torch.no_grad():
        out = model(xb).reshape(len(xb), -1)
    return out.gather(1, tgt[:, None])[:, 0].cpu().double()


def completeness_frame(model: nn.Module, x, target, attributions: torch.Tensor,
                       baseline=None) -> pd.DataFrame:
    """Integrated gradients' sanity check per example: the attributions should sum to
    F(x) - F(baseline); ``relative_gap`` is |sum - difference| / |difference|."""
    xb = _as_batch(model, x)
    base = torch.zeros_like(xb) if baseline is None else torch.as_tensor(
        baseline, dtype=xb.dtype, device=xb.device).expand_as(xb)
    diff = (target_output(model, xb, target) - target_output(model, base, target)).numpy()
    total = attributions.reshape(len(xb), -1).double().sum(1).numpy()
    gap = np.abs(total - diff)
    return pd.DataFrame({"sum_of_attributions": total, "output_difference": diff, "gap": gap,
                         "relative_gap": gap / np.maximum(np.abs(diff), 1e-12)})


SIGNED = {"saliency": False, "integrated_gradients": True, "occlusion": True, "gradcam": False,
          "lime": True}   # signed maps show evidence for (red) and against (blue) the class


def explain_image(model: nn.Module, image, target: int,
                  methods: Sequence[str] = ("saliency", "integrated_gradients", "gradcam"),
                  n_steps: int = 50, lime_samples: int = 1000, seed: int = 0,
                  progress: Callable[[int, int], None] | None = None,
                  should_stop: Callable[[], bool] | None = None) -> dict[str, dict]:
    """Each method in ``methods`` (from METHODS, plus "lime") for one image (C, H, W).

    Returns {method: {"attribution": (C, H, W) tensor, "map": (H, W) array to draw, "seconds",
    "evaluations" (gradient passes, perturbed copies or LIME samples)}}; integrated gradients adds
    "completeness" (a row of completeness_frame). Progress counts per mille of all methods.
    """
    unknown = [m for m in methods if m not in (*METHODS, "lime")]
    if unknown:
        raise ValueError(f"Unknown method(s) {unknown}; choose from {', '.join(METHODS)}, lime.")
    img = image.detach().cpu() if isinstance(image, torch.Tensor) else torch.as_tensor(
        np.asarray(image, dtype=np.float32))
    xb = img[None].float()
    results: dict[str, dict] = {}
    for i, method in enumerate(methods):
        check_stop(should_stop)

        def inner(done, total, i=i):
            if progress is not None:
                progress(1000 * i + int(1000 * done / max(total, 1)), 1000 * len(methods))

        t0 = time.perf_counter()
        if method == "lime":
            lime = lime_image(model, img, target, num_samples=lime_samples, seed=seed,
                              progress=inner, should_stop=should_stop)
            attr = torch.as_tensor(lime.heatmap, dtype=torch.float32)[None].expand_as(img)
            entry = {"evaluations": lime.num_samples, "lime": lime}
        else:
            attr = attribution(model, xb, target, method, n_steps=n_steps, progress=inner,
                               should_stop=should_stop)[0]
            window, stride = occlusion_window(img.shape)
            entry = {"evaluations": {"saliency": 1, "integrated_gradients": int(n_steps),
                                     "gradcam": 1,
                                     "occlusion": _n_windows(img.shape, window, stride)}[method]}
            if method == "integrated_gradients":
                entry["completeness"] = completeness_frame(model, xb, target, attr[None]).iloc[0]
        entry.update(attribution=attr, map=attribution_map(attr, method),
                     seconds=time.perf_counter() - t0)
        results[method] = entry
        inner(1, 1)
    return results


def attribution_map(attr: torch.Tensor, method: str) -> np.ndarray:
    """One (H, W) map to draw from a (C, H, W) attribution: signed methods sum the channels,
    magnitude methods take each pixel's largest channel."""
    a = torch.as_tensor(attr).float()
    if a.dim() == 2:
        return a.numpy()
    return (a.sum(0) if SIGNED.get(method, True) else a.abs().amax(0)).numpy()


def cost_frame(results: dict[str, dict]) -> pd.DataFrame:
    """Per method: seconds, model evaluations, and its sanity check in numbers where it has one."""
    rows = []
    for method, r in results.items():
        check = ""
        if "completeness" in r:
            c = r["completeness"]
            check = (f"completeness gap {c['relative_gap']:.2%} (sum {c['sum_of_attributions']:.3f}"
                     f" vs F(x) - F(0) = {c['output_difference']:.3f})")
        elif "lime" in r:
            lime = r["lime"]
            check = (f"surrogate R² {lime.score:.3f}; local {lime.local_prediction:.3f} vs model "
                     f"{lime.model_prediction:.3f}")
        rows.append({"method": METHOD_TITLES.get(method, method), "seconds": r["seconds"],
                     "evaluations": r["evaluations"], "sanity check": check})
    return pd.DataFrame(rows)


def grid_segments(height: int, width: int, cell: int) -> np.ndarray:
    """Segment ids for a grid of cell x cell squares (LIME's 'superpixels' for tiny digits)."""
    if cell < 1:
        raise ValueError(f"The segment size must be at least 1 pixel, got {cell}.")
    rows, cols = np.arange(height)[:, None] // cell, np.arange(width)[None, :] // cell
    return rows * (-(-width // cell)) + cols


def lime_image(model: nn.Module, image, target: int | None = None, num_samples: int = 1000,
               segment_size: int | None = None, seed: int = 0,
               progress: Callable[[int, int], None] | None = None,
               should_stop: Callable[[], bool] | None = None) -> LimeResult:
    """LIME for one image (C, H, W): switch grid segments off (to 0), fit a weighted linear model
    to P(target) over which segments were on, and map each segment's weight to its pixels."""
    from lime.lime_image import LimeImageExplainer

    from nnplay.train import predict_raw

    model = eval_copy(model)
    img = np.asarray(image.cpu() if isinstance(image, torch.Tensor) else image, dtype=np.float64)
    if img.ndim != 3:
        raise ValueError(f"LIME for images needs one image shaped (C, H, W), got {img.shape}.")
    channels, height, width = img.shape
    if channels not in (1, 3):
        raise ValueError(f"LIME for images needs 1 or 3 channels, got {channels}.")
    if int(num_samples) < 10:
        raise ValueError(f"LIME needs at least 10 samples, got {num_samples}.")
    cell = int(segment_size or max(2, min(height, width) // 7))
    segments = grid_segments(height, width, cell)
    logits = predict_raw(model, img[None].astype(np.float32))
    tgt = int(logits.argmax(1)[0]) if target is None else int(target)
    seen = {"n": 0}

    def classifier_fn(batch: np.ndarray) -> np.ndarray:
        check_stop(should_stop)
        nchw = batch[..., :1] if channels == 1 else batch   # lime turns grey into 3 equal channels
        out = predict_raw(model, np.transpose(nchw, (0, 3, 1, 2)).astype(np.float32))
        seen["n"] += len(batch)
        if progress is not None:
            progress(min(seen["n"], int(num_samples) + 1), int(num_samples) + 1)
        z = out - out.max(1, keepdims=True)
        return np.exp(z) / np.exp(z).sum(1, keepdims=True)

    t0 = time.perf_counter()
    explainer = LimeImageExplainer(random_state=seed)
    hwc = img[0] if channels == 1 else np.transpose(img, (1, 2, 0))
    exp = explainer.explain_instance(hwc, classifier_fn, labels=(tgt,), top_labels=None,
                                     hide_color=0, num_features=int(segments.max()) + 1,
                                     num_samples=int(num_samples), batch_size=50,
                                     segmentation_fn=lambda _: segments, random_seed=seed)
    pairs = exp.local_exp[tgt]
    weights = pd.DataFrame({"segment": [int(s) for s, _ in pairs],
                            "weight": [float(w) for _, w in pairs]})
    per_segment = np.zeros(int(segments.max()) + 1)
    per_segment[weights["segment"].to_numpy()] = weights["weight"].to_numpy()
    shifted = logits[0].astype(np.float64) - logits[0].max()
    model_pred = float(np.exp(shifted[tgt]) / np.exp(shifted).sum())   # P(target) of the image
    return LimeResult(weights, float(exp.intercept[tgt]), float(np.ravel(exp.local_pred)[0]),
                      model_pred, float(exp.score), tgt, int(num_samples),
                      time.perf_counter() - t0, segments=segments,
                      heatmap=per_segment[segments], extra={"segment_size": cell})
