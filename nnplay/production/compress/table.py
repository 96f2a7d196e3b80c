"""The trade-off table: every compressed version of one model, measured the same way.

``variants`` lists the versions (each with how to build it, or why it does not apply to this
model); ``tradeoff`` builds and measures them one by one (a background job: progress after each,
Stop keeps the rows measured so far) into a DataFrame; ``pareto_front`` marks the rows no other
row beats on both of two columns; ``summary`` is what the model card keeps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from torch import nn

from nnplay.production.compress import measurement as m
from nnplay.production.compress import onnxrt, prune, quantize
from nnplay.train.jobs import Cancelled, check_stop

STRUCTURED_LEVELS = (0.25, 0.5, 0.75)   # share of channels and neurons removed
UNSTRUCTURED_LEVELS = (0.5, 0.8, 0.9)   # share of weights set to zero
COMBINED_LEVEL = 0.5                    # the structured level that is also quantized
FINE_TUNE_EPOCHS = 2
TEST_ROWS = 2000
STATUSES = ("ok", "not applicable", "failed")


@dataclass
class Built:
    """A built variant, ready to measure: how to run it and the size of the file that ships."""

    runner: m.Runner
    size_bytes: int
    n_params: int | None = None
    sparsity: float | None = None
    note: str = ""


@dataclass
class Variant:
    """One row of the table: its name, technique and runtime, and how to build it, or the
    reason (``not_applicable``) it does not apply to this model."""

    name: str
    technique: str
    runtime: str
    build: Callable[[], Built] | None = field(default=None, repr=False)
    not_applicable: str = ""


def _pct(share: float) -> str:
    return f"{share:.0%}"


def _widths(model: nn.Module) -> str:
    return "-".join(str(w) for w in prune.layer_widths(model))


class _Recipes:
    """Builds the variants of one model, sharing what two variants both need (the ONNX file,
    a pruned network) and computing each piece once."""

    def __init__(self, model: nn.Module, dataset, fine_tune_epochs: int, should_stop=None):
        self.model = quantize._copy(model)
        self.dataset, self.fine_tune_epochs, self.should_stop = dataset, fine_tune_epochs, should_stop
        rng = np.random.default_rng(0)
        n = len(dataset.X_train)
        self.calib_X = dataset.X_train[np.sort(rng.choice(n, min(n, quantize.CALIBRATION_ROWS),
                                                          replace=False))]
        self.example = quantize.example_batch(self.calib_X)
        self.n_params = m.weight_count(self.model)
        self._memo: dict = {}

    def once(self, key, make):
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def torch(self, net: nn.Module, note: str, size: int | None = None, **info) -> Built:
        return Built(m.TorchRunner(net), m.state_dict_bytes(net) if size is None else size,
                     info.pop("n_params", self.n_params), note=note, **info)

    def compiled(self, net: nn.Module, note: str, size: int) -> Built:
        runner = m.TorchRunner(quantize.compile_for_cpu(net, self.example), "torch.compile")
        return Built(runner, size, self.n_params, note=note)

    def onnx(self, net: nn.Module | None = None, key="fp32") -> bytes:
        return self.once(("onnx", key), lambda: onnxrt.to_onnx(net or self.model, self.example))

    def structured(self, level: float) -> nn.Module:
        return self.once(("structured", level), lambda: prune.prune_structured(
            self.model, level, self.example.numpy(), self.fine_tune_epochs, self.dataset,
            should_stop=self.should_stop))

    def torchao_dynamic(self) -> nn.Module:
        return self.once("torchao", lambda: quantize.quantize_dynamic(self.model))

    def pt2e(self) -> nn.Module:
        return self.once("pt2e", lambda: quantize.quantize_static(self.model, self.calib_X))


def variants(model: nn.Module, dataset, structured: Sequence[float] = STRUCTURED_LEVELS,
             unstructured: Sequence[float] = UNSTRUCTURED_LEVELS,
             fine_tune_epochs: int = FINE_TUNE_EPOCHS, compile: bool = False,  # noqa: A002
             combined: float | None = COMBINED_LEVEL, should_stop=None) -> list[Variant]:
    """The versions of ``model`` the table compares, in order; nothing is built yet.

    ``structured``/``unstructured``: pruning levels; ``combined``: the structured level that is
    also quantized (None: none); ``compile``: add torch.compile rows (Inductor: seconds each).
    """
    for level in unstructured:
        prune.check_amount(level, prune.MAX_SPARSITY, "share of weights to prune")
    for level in (*structured, *([combined] if combined is not None else [])):
        prune.check_amount(level, prune.MAX_STRUCTURED, "share of channels to remove")
    r = _Recipes(model, dataset, int(fine_tune_epochs), should_stop)
    ff = quantize.feedforward_reason(r.model)
    conv = "" if quantize.has_conv(r.model) else (
        "the model has no convolutions; calibrated static int8 is this table's recipe for conv "
        "layers, and its Linear layers are in the dynamic int8 rows")
    eager, compiled, ort = "PyTorch eager", "torch.compile", "ONNX Runtime"
    tuned = f", fine-tuned {fine_tune_epochs} epochs" if fine_tune_epochs else ", not fine-tuned"
    fp32_size = m.state_dict_bytes(r.model)
    out = [Variant("fp32", "baseline", eager, lambda: r.torch(
        r.model, "the trained model as it is (safetensors file)", fp32_size))]
    if compile:
        out.append(Variant("fp32", "baseline", compiled, lambda: r.compiled(
            r.model, "the same weights, compiled by Inductor (C++ kernels)", fp32_size),
            not_applicable=ff))
    out.append(Variant("int8 dynamic (torchao)", "quantization", eager, lambda: r.torch(
        r.torchao_dynamic(), "int8 weights; activations quantized at every call, int8 x int8 "
        "products; eager mode runs each small step separately"), not_applicable=ff))
    if compile:
        out.append(Variant("int8 dynamic (torchao)", "quantization", compiled, lambda: r.compiled(
            r.torchao_dynamic(), "the torchao model compiled: its steps fused into int8 kernels",
            m.state_dict_bytes(r.torchao_dynamic())), not_applicable=ff))
    out += [
        Variant("int8 weight-only (torchao)", "quantization", eager, lambda: r.torch(
            quantize.quantize_weight_only(r.model), "int8 storage only: weights converted back "
                                                   "to float32 at every call"), not_applicable=ff),
        Variant("int8 dynamic (torch.ao, deprecated)", "quantization", eager, lambda: r.torch(
            quantize.quantize_dynamic_legacy(r.model), "packed int8 weights, fbgemm/oneDNN int8 "
                                                       "kernels; deprecated API"),
                not_applicable=ff),
        Variant("int8 static (PT2E)", "quantization", eager, lambda: r.torch(
            r.pt2e(), "calibrated int8 graph; eager mode only simulates int8 (quantize/"
                      "dequantize around float32 operators)", m.graph_state_bytes(r.pt2e())),
                not_applicable=ff or conv)]
    if compile:
        out.append(Variant("int8 static (PT2E)", "quantization", compiled, lambda: r.compiled(
            r.pt2e(), "the calibrated graph compiled: real int8 oneDNN kernels",
            m.graph_state_bytes(r.pt2e())), not_applicable=ff or conv))

    def ort_built(data: bytes, note: str, n_params: int | None = None) -> Built:
        return Built(m.OrtRunner(data), len(data), n_params or r.n_params, note=note)

    out += [
        # any model the exporter can trace (recurrent and attention layers included)
        Variant("fp32 (ONNX Runtime)", "baseline", ort, lambda: ort_built(
            r.onnx(), "the exported .onnx file (dynamo exporter)")),
        Variant("int8 dynamic (ONNX Runtime)", "quantization", ort, lambda: ort_built(
            onnxrt.ort_quantize_dynamic(r.onnx()), "ONNX Runtime quantize_dynamic: int8 weights, "
                                                   "activations quantized per call")),
        Variant("int8 static (ONNX Runtime)", "quantization", ort, lambda: ort_built(
            onnxrt.ort_quantize_static(r.onnx(), r.calib_X), "ONNX Runtime quantize_static: "
                                                             "calibrated, QDQ, per channel"),
                not_applicable=ff or conv)]
    for level in unstructured:
        def build(level=level) -> Built:
            net = prune.prune_unstructured(r.model, level)
            return r.torch(net, "zeros stored in dense tensors: same file, same multiplications",
                           sparsity=prune.sparsity(net))
        out.append(Variant(f"unstructured {_pct(level)}", "pruning", eager, build,
                           not_applicable="" if prune.prunable_weights(r.model) else
                           "it has no weight matrices"))
    for level in structured:
        def build(level=level) -> Built:
            net = r.structured(level)
            return r.torch(net, f"layer widths {_widths(r.model)} -> {_widths(net)}{tuned}",
                           n_params=m.weight_count(net))
        out.append(Variant(f"structured {_pct(level)}", "pruning", eager, build,
                           not_applicable=ff))
    if combined is not None:
        name = f"structured {_pct(combined)} + int8 dynamic"

        def build_torchao() -> Built:
            net = r.structured(combined)
            return r.torch(quantize.quantize_dynamic(net), f"widths {_widths(net)}{tuned}, then "
                                                           "torchao int8", n_params=m.weight_count(net))

        def build_ort() -> Built:
            net = r.structured(combined)
            data = onnxrt.ort_quantize_dynamic(r.onnx(net, ("structured", combined)))
            return ort_built(data, f"widths {_widths(net)}{tuned}, then ONNX Runtime int8",
                             m.weight_count(net))
        out += [Variant(f"{name} (torchao)", "pruning + quantization", eager, build_torchao,
                        not_applicable=ff),
                Variant(f"{name} (ONNX Runtime)", "pruning + quantization", ort, build_ort,
                        not_applicable=ff)]
    return out


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return (lines[0][:240] if lines else "") or type(err).__name__


def tradeoff(model: nn.Module, dataset, structured: Sequence[float] = STRUCTURED_LEVELS,
             unstructured: Sequence[float] = UNSTRUCTURED_LEVELS,
             fine_tune_epochs: int = FINE_TUNE_EPOCHS, compile: bool = False,  # noqa: A002
             combined: float | None = COMBINED_LEVEL, test_rows: int = TEST_ROWS,
             batch_sizes: Sequence[int] = m.BATCH_SIZES, threads: Sequence[int] | None = None,
             repeats: int = 50, warmup: int = 5, budget_s: float = 0.5,
             progress=None, should_stop=None) -> pd.DataFrame:
    """Build and measure every variant of ``model`` on ``dataset``'s test split (its first
    ``test_rows``); one row each (see Measurement.as_row), plus size_ratio (size / fp32 size) and
    score_change (score - fp32 score). A variant that does not apply gets status
    "not applicable" and the reason in ``note``; one that breaks gets "failed" and the error.
    ``progress(done, total)`` after each variant; ``should_stop()`` ends the job with
    Cancelled(result=the rows measured so far)."""
    plan = variants(model, dataset, structured, unstructured, fine_tune_epochs, compile,
                    combined, should_stop)
    X, y = dataset.X_test[:test_rows], dataset.y_test[:test_rows]
    threads = sorted(set(threads or (1, m.all_threads())))
    rows: list[dict] = []
    reference = None
    options = dict(batch_sizes=batch_sizes, threads=threads, repeats=repeats, warmup=warmup,
                   budget_s=budget_s)
    try:
        _warm_up(plan[0], X, threads, budget_s)
        for i, v in enumerate(plan):
            check_stop(should_stop)
            row = {"variant": v.name, "technique": v.technique, "runtime": v.runtime}
            if v.not_applicable:
                rows.append({**row, "status": "not applicable", "note": v.not_applicable})
            else:
                try:
                    built = v.build()
                    result = m.measure(built.runner, X, y, dataset.task, reference,
                                       variant=v.name, technique=v.technique, note=built.note,
                                       size_bytes=built.size_bytes, n_params=built.n_params,
                                       sparsity=built.sparsity, **options)
                    if reference is None:   # the first row is the fp32 model itself
                        reference = built.runner.outputs(np.asarray(X))
                        result.max_abs_diff = 0.0
                    rows.append({**result.as_row(), "runtime": v.runtime})
                    built.runner.close()
                except Cancelled:
                    raise
                except ValueError as err:   # a person's message: why it cannot be done here
                    rows.append({**row, "status": "not applicable", "note": _first_line(err)})
                except Exception as err:  # noqa: BLE001 - a broken variant is a row, not a crash
                    rows.append({**row, "status": "failed",
                                 "note": f"{type(err).__name__}: {_first_line(err)}"})
            if progress is not None:
                progress(i + 1, len(plan))
    except Cancelled:
        raise Cancelled(result=_frame(rows, threads, dataset, len(X))) from None
    return _frame(rows, threads, dataset, len(X))


def _warm_up(fp32: Variant, X, threads: Sequence[int], seconds: float) -> None:
    """Run the fp32 model for a while on each thread count before anything is timed: the first
    calls of a process (thread pools starting, memory being mapped) are slow, and without this
    the first row measured (fp32, the yardstick) would pay for them."""
    runner = fp32.build().runner
    for n in threads:
        with runner.threads(n):
            for batch in (1, 64):
                x = runner.prepare(m.rows_at(X, batch))
                m.time_calls(lambda x=x: runner.run(x), warmup=0, repeats=10_000,
                             budget_s=seconds)


def _frame(rows: list[dict], threads: Sequence[int], dataset, n_test: int) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for col in ("size_bytes", "n_params", "sparsity", "score", "max_abs_diff"):
        if col not in df:
            df[col] = np.nan
    ok = df[df["status"] == "ok"] if len(df) else df
    base = ok.iloc[0] if len(ok) else None
    df["size_ratio"] = df["size_bytes"] / base["size_bytes"] if base is not None else np.nan
    df["score_change"] = df["score"] - base["score"] if base is not None else np.nan
    df["metric"] = m.METRIC_NAMES[dataset.task]
    df.attrs.update(threads=list(threads), threads_all=max(threads), test_rows=int(n_test),
                    metric=m.METRIC_NAMES[dataset.task], dataset=dataset.name)
    return df


def pareto_front(df: pd.DataFrame, x: str, y: str, minimize_x: bool = True,
                 maximize_y: bool = True) -> pd.Series:
    """True for the rows no other row beats: none is at least as good on both ``x`` and ``y``
    and better on one. Rows with a missing value are never on the front."""
    xs = pd.to_numeric(df[x], errors="coerce").to_numpy(dtype=float)
    ys = pd.to_numeric(df[y], errors="coerce").to_numpy(dtype=float)
    xs, ys = (xs if minimize_x else -xs), (-ys if maximize_y else ys)   # both: lower is better
    valid = np.isfinite(xs) & np.isfinite(ys)
    front = np.zeros(len(df), dtype=bool)
    for i in np.flatnonzero(valid):
        better_or_equal = valid & (xs <= xs[i]) & (ys <= ys[i])
        strictly = better_or_equal & ((xs < xs[i]) | (ys < ys[i]))
        front[i] = not strictly.any()
    return pd.Series(front, index=df.index, name="pareto")


def _number(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def latency_column(batch: int, threads: str = "t1", stat: str = "p50") -> str:
    """The table's column for a latency: threads "t1" (one) or "tall" (all cores)."""
    return f"latency_b{batch}_{threads}_{stat}_ms"


def best_variant(df: pd.DataFrame, column: str, max_drop: float = 0.01) -> pd.Series | None:
    """The measured row with the lowest ``column`` among those whose score fell by at most
    ``max_drop`` (0.01: one accuracy point) from fp32; None when there is none."""
    if column not in df or "score_change" not in df:
        return None
    ok = df[(df["status"] == "ok") & (df["score_change"] >= -max_drop - 1e-12)]
    ok = ok[pd.to_numeric(ok[column], errors="coerce").notna()]
    return None if ok.empty else ok.loc[pd.to_numeric(ok[column]).idxmin()]


def label(row) -> str:
    """A row's name with its runtime: "int8 dynamic (torchao), torch.compile"."""
    runtime = row.get("runtime", "")
    return row["variant"] if runtime in ("PyTorch eager", "ONNX Runtime") or not runtime \
        else f"{row['variant']}, {runtime}"


def summary(df: pd.DataFrame, max_drop: float = 0.01) -> dict:
    """What the model card keeps of a table: the measured rows (size, metric, median latency on
    one thread at batch 1 and 64, largest difference from fp32), what did not apply and why,
    and the smallest and fastest variants within ``max_drop`` of fp32's score."""
    metric = df.attrs.get("metric", "accuracy")
    rows, skipped = [], []
    for _, row in df.iterrows():
        if row["status"] != "ok":
            failed = "failed: " if row["status"] == "failed" else ""
            skipped.append(f"{label(row)}: {failed}{row['note']}")
            continue
        rows.append({"variant": label(row), "size_kB": _number(row["size_bytes"] / 1000),
                     "size_ratio": _number(row["size_ratio"]), metric: _number(row["score"]),
                     "latency_b1_ms": _number(row.get(latency_column(1))),
                     "latency_b64_ms": _number(row.get(latency_column(64))),
                     "max_abs_diff": _number(row["max_abs_diff"])})
    smallest = best_variant(df, "size_bytes", max_drop)
    fastest = best_variant(df, latency_column(64), max_drop)
    return {"test_rows": df.attrs.get("test_rows"),
            "latency": "median of repeated calls after a warm-up, one CPU thread",
            "smallest_within_1_point": None if smallest is None else label(smallest),
            "fastest_at_batch_64_within_1_point": None if fastest is None else label(fastest),
            "variants": rows, "not_applicable": skipped}
