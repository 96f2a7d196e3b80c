"""``compress_model``: the one call for scripts and the command line. Prune and quantize a
copy of a model, and report what it cost and saved, measured before and after on the test split.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from nnplay.production.compress import measurement as m
from nnplay.production.compress import prune as pruning
from nnplay.production.compress import quantize as quant
from nnplay.production.compress.table import TEST_ROWS

QUANTIZE_OPTIONS = ("none", "dynamic-int8", "weight-only-int8", "static-int8")


def compress_model(model: nn.Module, dataset, quantize: str = "dynamic-int8",  # noqa: A002
                   prune: float = 0.0, structured: bool = False, fine_tune_epochs: int = 0,
                   test_rows: int = TEST_ROWS, threads: int = 1, repeats: int = 50,
                   progress=None, should_stop=None) -> tuple[nn.Module, dict]:
    """Prune (a share ``prune`` of weights, or of channels when ``structured``; then
    ``fine_tune_epochs``) and quantize (one of QUANTIZE_OPTIONS) a copy of ``model``; returns it
    with a report measured on ``dataset``'s test split: size_bytes, metric, latency_ms at batch
    1 and 64 (median, ``threads`` CPU threads) before and after, and max_abs_diff."""
    if quantize not in QUANTIZE_OPTIONS:
        raise ValueError(f"quantize must be one of {', '.join(QUANTIZE_OPTIONS)}, "
                         f"got {quantize!r}.")
    limit = pruning.MAX_STRUCTURED if structured else pruning.MAX_SPARSITY
    amount = pruning.check_amount(prune, limit, "share of channels to remove" if structured
                                  else "share of weights to prune")
    net = quant._copy(model)
    if amount and structured:
        net = pruning.prune_structured(net, amount, dataset.X_train[:2], fine_tune_epochs,
                                       dataset, progress=progress, should_stop=should_stop)
    elif amount:
        net = pruning.prune_unstructured(net, amount, keep_mask=bool(fine_tune_epochs))
        if fine_tune_epochs:
            pruning.fine_tune(net, dataset, fine_tune_epochs, progress=progress,
                              should_stop=should_stop)
            pruning.remove_masks(net)
    n_params = m.weight_count(net)
    zeros = pruning.sparsity(net) if amount and not structured else None
    size_after = None
    if quantize == "dynamic-int8":
        net = quant.quantize_dynamic(net)
    elif quantize == "weight-only-int8":
        net = quant.quantize_weight_only(net)
    elif quantize == "static-int8":
        rows = np.random.default_rng(0).permutation(len(dataset.X_train))[:quant.CALIBRATION_ROWS]
        net = quant.quantize_static(net, dataset.X_train[np.sort(rows)])
        size_after = m.graph_state_bytes(net)
    X, y = dataset.X_test[:test_rows], dataset.y_test[:test_rows]
    options = dict(threads=(int(threads),), repeats=repeats)
    before = m.measure(model, X, y, dataset.task, **options)
    reference = m.as_runner(model).outputs(np.asarray(X))
    after = m.measure(net, X, y, dataset.task, reference, size_bytes=size_after,
                      n_params=n_params, **options)
    lat = {f"batch_{b}": {"before": before.latency[(b, int(threads))].p50_ms,
                          "after": after.latency[(b, int(threads))].p50_ms}
           for b in m.BATCH_SIZES}
    report = {"quantize": quantize, "prune": amount, "structured": bool(structured),
              "fine_tune_epochs": int(fine_tune_epochs), "threads": int(threads),
              "size_bytes": {"before": before.size_bytes, "after": after.size_bytes},
              "n_params": {"before": before.n_params, "after": n_params},
              "metric": {"name": before.metric, "before": before.score, "after": after.score},
              "latency_ms": lat, "max_abs_diff": after.max_abs_diff,
              "sparsity": zeros}
    return net, report
