"""Explanation speed against the issue's targets, measured in one run on this machine.

Targets: one tabular SHAP explanation with a 100-row background in at most 2 s; one saliency or
integrated-gradients map in at most 200 ms. Each timing is the median of several runs after a
warm-up; the ratio column is time / target (below 1 meets it). nnplay's wrappers are also timed
against calling captum directly, to show what the wrapper costs.

    .venv/bin/python bench/explain_speed.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from nnplay import data, explain  # noqa: E402
from nnplay.train.quick import quick_trainer  # noqa: E402

SHAP_TARGET_S = 2.0
MAP_TARGET_S = 0.2


def median_seconds(fn, repeats: int = 5) -> float:
    fn()   # warm-up: lazy imports, allocator, first autograd graph
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def report(name: str, seconds: float, target: float) -> None:
    verdict = "meets" if seconds <= target else "MISSES"
    print(f"{name:<58} {seconds * 1000:9.1f} ms   target {target * 1000:6.0f} ms   "
          f"ratio {seconds / target:5.2f}  {verdict}")


def tabular_shap(name: str) -> None:
    ds = data.load(name)
    trainer = quick_trainer(ds, family="mlp", epochs=20).fit()
    model, row = trainer.model, ds.X_test[0]
    background = explain.background_sample(ds.X_train, 100)
    for nsamples in ("auto", 1024, 512):
        def one_row(ns=nsamples):
            return explain.shap_values(model, background, row, nsamples=ns)
        secs = median_seconds(one_row, repeats=3)
        gap = explain.efficiency_frame(one_row())["gap"].max()
        report(f"KernelSHAP {name} ({ds.n_features} features), nsamples={nsamples}, "
               f"gap {gap:.0e}", secs, SHAP_TARGET_S)


def image_maps(name: str) -> None:
    from captum.attr import IntegratedGradients, Saliency

    ds = data.load(name)
    trainer = quick_trainer(ds, family="auto", epochs=1).fit()
    model = trainer.model.eval()
    x = torch.as_tensor(ds.X_test[:1])
    target = int(model(x).argmax())
    for method in ("saliency", "integrated_gradients"):
        secs = median_seconds(lambda m=method: explain.attribution(model, x, target, m))
        report(f"{method} on {name} {tuple(x.shape[1:])}, {type(model).__name__}", secs,
               MAP_TARGET_S)
    raw_sal = median_seconds(lambda: Saliency(model).attribute(x.clone().requires_grad_(),
                                                               target=target))
    raw_ig = median_seconds(lambda: IntegratedGradients(model).attribute(
        x.clone().requires_grad_(), target=target, n_steps=50))
    ours_ig = median_seconds(lambda: explain.attribution(model, x, target, "integrated_gradients"))
    print(f"{'':<4}captum directly: saliency {raw_sal * 1000:.1f} ms, IG {raw_ig * 1000:.1f} ms; "
          f"nnplay IG / captum IG = {ours_ig / raw_ig:.2f}")


if __name__ == "__main__":
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for dataset in ("breast_cancer", "german_credit"):
        tabular_shap(dataset)
    for dataset in ("digits", "mnist5k"):
        image_maps(dataset)
