"""The compression lesson's setup and words: the networks its page trains when a learner brings
none, the trade-off table formatted for a person, and the sentences that say what worked, each
built from the measured numbers. The measurements are nnplay.production.compress.
"""

from __future__ import annotations

import math

import pandas as pd

from nnplay.data.dataset import Dataset
from nnplay.models.registry import ModelSpec
from nnplay.production import compress

DATASETS = ("mnist5k", "digits", "breast_cancer", "diabetes")
FAMILIES = ("mlp", "cnn")
STRUCTURED_CHOICES = (0.1, 0.25, 0.5, 0.75, 0.9)
UNSTRUCTURED_CHOICES = (0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98)
LOTTERY_AMOUNT, LOTTERY_EPOCHS = 0.8, 3
MAX_DROP = 0.01        # "within one point" of fp32's accuracy or R²
DASH = "—"

# Why each int8 recipe is as fast as it is: the mechanism, not a number (numbers are measured).
HOW = {
    ("int8 dynamic (torchao)", "PyTorch eager"):
        "eager mode runs the activation quantization and rescaling as separate small steps",
    ("int8 dynamic (torchao)", "torch.compile"):
        "Inductor fuses those steps around int8 matrix products",
    ("int8 weight-only (torchao)", "PyTorch eager"):
        "the weights are converted back to float32 at every call: smaller, never faster",
    ("int8 dynamic (torch.ao, deprecated)", "PyTorch eager"):
        "packed int8 weights with fbgemm/oneDNN int8 kernels (deprecated since torch 2.13)",
    ("int8 static (PT2E)", "PyTorch eager"):
        "simulated: quantize/dequantize steps around float32 operators",
    ("int8 static (PT2E)", "torch.compile"):
        "Inductor lowers the quantize/dequantize patterns to int8 oneDNN kernels",
    ("int8 dynamic (ONNX Runtime)", "ONNX Runtime"):
        "ONNX Runtime's own int8 kernels (MatMulInteger, ConvInteger)",
    ("int8 static (ONNX Runtime)", "ONNX Runtime"):
        "calibrated int8 in QDQ form, fused into int8 kernels by ONNX Runtime",
}


def spot_spec(dataset: Dataset, family: str = "mlp") -> ModelSpec:
    """The network trained on the spot: an MLP 784-256-128-10 for mnist5k (256-128 hidden for
    any images, 64-32 for tables) or a small CNN; ValueError for a CNN on rows of features."""
    images = len(dataset.input_shape) == 3
    if family == "cnn":
        if not images:
            raise ValueError(f"A CNN needs images; {dataset.name} has rows of "
                             f"{dataset.n_features} features. Choose the MLP.")
        return ModelSpec("cnn", {"channels": [8, 16], "hidden": [64]})
    if family != "mlp":
        raise ValueError(f"Choose a network from {', '.join(FAMILIES)}, got {family!r}.")
    return ModelSpec("mlp", {"hidden": [256, 128] if images else [64, 32]})


def spot_epochs(dataset: Dataset) -> int:
    """Epochs for the network trained on the spot: a few for images, more for small tables."""
    return 4 if len(dataset.input_shape) == 3 else 40


# ---- numbers for a person -------------------------------------------------------------------------
def _finite(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def size_text(n) -> str:
    n = _finite(n)
    if n is None:
        return DASH
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


def ms_text(value) -> str:
    value = _finite(value)
    if value is None:
        return DASH
    return f"{value * 1000:.0f} µs" if value < 1 else f"{value:.2f} ms" if value < 100 \
        else f"{value:.0f} ms"


def score_text(value, metric: str) -> str:
    value = _finite(value)
    if value is None:
        return DASH
    return f"{value:.1%}" if metric == "accuracy" else f"{value:.3f}"


def change_text(value, metric: str) -> str:
    value = _finite(value)
    if value is None:
        return DASH
    return f"{value * 100:+.1f} pts" if metric == "accuracy" else f"{value:+.3f}"


def ratio_text(value) -> str:
    value = _finite(value)
    return DASH if value is None else f"×{value:.2f}"


def diff_text(value) -> str:
    value = _finite(value)
    if value is None:
        return DASH
    return "0" if value == 0 else f"{value:.1e}" if value < 0.01 else f"{value:.3g}"


def threads_label(df: pd.DataFrame, tag: str) -> str:
    n = df.attrs.get("threads_all", 1)
    return "1 thread" if tag == "t1" else f"all {n} threads"


def _latency_cell(row, batch: int, threads: str) -> str:
    col = compress.latency_column(batch, threads)
    if row["status"] != "ok" or col not in row:
        return DASH
    return f"{ms_text(row[col])} / {ms_text(row[col.replace('p50', 'p95')])}"


def display_table(df: pd.DataFrame, threads: str = "t1") -> pd.DataFrame:
    """The trade-off table as text for st.dataframe: sizes in kB, latencies in µs/ms (median
    and 95th percentile), the metric and its change from fp32, and the note; a variant that
    was not measured shows a dash and says why."""
    metric = df.attrs.get("metric", "accuracy")
    rows = []
    for _, r in df.iterrows():
        measured = r["status"] == "ok"
        rate = _finite(r.get(f"throughput_{threads}_per_s")) if measured else None
        rows.append({
            "variant": compress.label(r), "technique": r["technique"],
            "size": size_text(r.get("size_bytes")) if measured else DASH,
            "size vs fp32": ratio_text(r.get("size_ratio")) if measured else DASH,
            metric: score_text(r.get("score"), metric) if measured else DASH,
            "change": change_text(r.get("score_change"), metric) if measured else DASH,
            "batch 1 (p50 / p95)": _latency_cell(r, 1, threads),
            "batch 64 (p50 / p95)": _latency_cell(r, 64, threads),
            "rows/s": DASH if rate is None else f"{rate:,.0f}",
            "largest |Δ| vs fp32": diff_text(r.get("max_abs_diff")) if measured else DASH,
            "note": r["note"] if measured else f"{r['status']}: {r['note']}"})
    return pd.DataFrame(rows)


# ---- what the numbers say ---------------------------------------------------------------------
def _row(df: pd.DataFrame, variant: str, runtime: str = "PyTorch eager"):
    match = df[(df["variant"] == variant) & (df["runtime"] == runtime) & (df["status"] == "ok")]
    return None if match.empty else match.iloc[0]


def _speed(ratio: float) -> str:
    return "faster" if ratio < 0.9 else "slower" if ratio > 1.1 else "about as fast"


def int8_findings(df: pd.DataFrame, threads: str = "t1") -> list[str]:
    """One sentence per measured int8 variant: its file against fp32's, its batch-64 time
    against fp32 PyTorch's, and why (the mechanism)."""
    base = _row(df, "fp32")
    col = compress.latency_column(64, threads)
    if base is None or col not in df:
        return []
    out = []
    for _, r in df[(df["status"] == "ok") & df["variant"].str.contains("int8")
                   & ~df["variant"].str.startswith("structured")].iterrows():
        ratio = _finite(r[col] / base[col]) if _finite(base[col]) else None
        if ratio is None:
            continue
        how = HOW.get((r["variant"], r["runtime"]), "")
        if (_finite(r["size_ratio"]) or 0) >= 1:
            how = ("on a model this small the file's bookkeeping (names, shapes, scales) "
                   "outweighs the bytes int8 saves; " + how)
        out.append(f"**{compress.label(r)}**: file {ratio_text(r['size_ratio'])}, batch 64 "
                   f"{ms_text(r[col])} against {ms_text(base[col])} ({ratio_text(ratio)}, "
                   f"{_speed(ratio)})" + (f"; {how}." if how else "."))
    return out


def pruning_findings(df: pd.DataFrame, threads: str = "t1") -> list[str]:
    """What the most pruned unstructured and the middle structured variant did, in numbers:
    masked zeros keep the file and the time; removed channels shrink both."""
    base = _row(df, "fp32")
    col = compress.latency_column(64, threads)
    metric = df.attrs.get("metric", "accuracy")
    if base is None or col not in df or not _finite(base[col]):
        return []
    out = []
    zeros = df[(df["variant"].str.startswith("unstructured")) & (df["status"] == "ok")]
    if len(zeros):
        r = zeros.loc[pd.to_numeric(zeros["sparsity"]).idxmax()]
        out.append(f"**Masked zeros give no speed-up.** With {r['sparsity']:.0%} of the weights "
                   f"set to zero the file is {size_text(r['size_bytes'])} (fp32: "
                   f"{size_text(base['size_bytes'])}) and batch 64 takes {ms_text(r[col])} "
                   f"against {ms_text(base[col])} ({ratio_text(r[col] / base[col])}): dense "
                   f"kernels multiply the zeros too. {metric.capitalize()} "
                   f"{score_text(r['score'], metric)} ({change_text(r['score_change'], metric)}).")
    kept = df[(df["variant"].str.fullmatch(r"structured \d+%")) & (df["status"] == "ok")]
    if len(kept):
        r = kept.iloc[len(kept) // 2]
        out.append(f"**{r['variant'].capitalize()}** keeps {int(r['n_params']):,} of "
                   f"{int(base['n_params']):,} weights: file {ratio_text(r['size_ratio'])}, batch "
                   f"64 {ms_text(r[col])} ({ratio_text(r[col] / base[col])}), {metric} "
                   f"{score_text(r['score'], metric)} ({change_text(r['score_change'], metric)}; "
                   f"{r['note'].split(', ')[-1]}).")
    return out


def best_findings(df: pd.DataFrame, threads: str = "t1") -> list[str]:
    """The smallest and the fastest variants within one point of fp32's metric."""
    out = []
    base = _row(df, "fp32")
    small = compress.best_variant(df, "size_bytes", MAX_DROP)
    col = compress.latency_column(64, threads)
    fast = compress.best_variant(df, col, MAX_DROP)
    if base is None:
        return out
    if small is not None:
        out.append(f"Smallest within one point of fp32: **{compress.label(small)}**, "
                   f"{size_text(small['size_bytes'])} ({ratio_text(small['size_ratio'])}).")
    if fast is not None and _finite(base[col]):
        out.append(f"Fastest at batch 64 ({threads_label(df, threads)}) within one point: "
                   f"**{compress.label(fast)}**, {ms_text(fast[col])} against "
                   f"{ms_text(base[col])} for fp32 PyTorch ({ratio_text(fast[col] / base[col])}).")
    return out


def stopped_text(df: pd.DataFrame, total: int) -> str:
    return f"Stopped after {len(df)} of {total} variants; the table shows those."


def metric_name(task: str) -> str:
    return compress.measurement.METRIC_NAMES[task]


def model_caption(model, dataset: Dataset) -> str:
    """The model in one line: its layer widths, weights and fp32 file size."""
    widths = compress.layer_widths(model)
    shape = f"layer widths {'-'.join(map(str, widths))}, " if widths else ""
    return (f"{type(model).__name__}: {shape}{compress.measurement.weight_count(model):,} "
            f"weights, fp32 file {size_text(compress.state_dict_bytes(model))}; "
            f"measured on {min(dataset.n_test, compress.table.TEST_ROWS):,} test rows.")


def chart_frame(df: pd.DataFrame, threads: str = "t1") -> pd.DataFrame:
    """The table with the chart's axes: size_kB, latency_b1 and latency_b64 (medians)."""
    out = df.assign(size_kB=pd.to_numeric(df["size_bytes"], errors="coerce") / 1000)
    for batch in (1, 64):
        col = compress.latency_column(batch, threads)
        out[f"latency_b{batch}"] = pd.to_numeric(out[col], errors="coerce") if col in out \
            else float("nan")
    return out


def sparsity_caption(curve: pd.DataFrame, metric: str) -> str:
    """Where the curve starts and ends, and the largest sparsity within one point of dense."""
    dense = _finite(curve["score"].iloc[0])
    if dense is None:
        return "The dense model's score could not be computed on this data."
    ok = curve[pd.to_numeric(curve["score"], errors="coerce") >= dense - MAX_DROP]
    last = curve.iloc[-1]
    return (f"Dense: {score_text(dense, metric)}. Up to {ok['sparsity'].max():.0%} of the "
            f"weights can be zero within one point of that, without retraining; at "
            f"{last['sparsity']:.0%}: {score_text(last['score'], metric)}. The zeros still take "
            "their place in every tensor: see the pruning rows of the table above for time.")


LOTTERY_TEXT = (
    f"Frankle and Carbin (2019): a fresh copy of this network is trained for {LOTTERY_EPOCHS} "
    f"epochs, then {LOTTERY_AMOUNT:.0%} of its weights (the smallest) are pruned. The pruned "
    "network is retrained twice for as long, with the same mask: once from the **same initial "
    "weights** it started from, once from **new random weights**. When the rewound network "
    "learns better, the mask and its starting values were a 'winning ticket'.")


def lottery_caption(table: pd.DataFrame, metric: str) -> str:
    scores = dict(zip(table["model"], table["score"], strict=True))
    rewound = scores.get("pruned, rewound to its initial weights and retrained")
    fresh = scores.get("pruned, new random weights and retrained")
    if _finite(rewound) is None or _finite(fresh) is None:
        return "One of the retrained networks has no score (it diverged)."
    diff = rewound - fresh
    verdict = ("the rewound network did better" if diff > MAX_DROP / 2 else
               "the new random start did better" if diff < -MAX_DROP / 2 else "about the same")
    return (f"Rewound: {score_text(rewound, metric)}; new random weights: "
            f"{score_text(fresh, metric)} ({change_text(diff, metric)}): {verdict}. One seed on "
            "one split: run it on other models before drawing a conclusion.")
