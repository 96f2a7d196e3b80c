"""Measuring a model the way a deployment cares: bytes on disk, latency percentiles, throughput,
the test metric, and how far its outputs moved from the fp32 model's.

A ``Runner`` is anything that maps a batch (NumPy) to outputs (NumPy) on a given number of CPU
threads: ``TorchRunner`` for a PyTorch module (or a compiled one), ``OrtRunner`` for an ONNX file
in ONNX Runtime. ``measure`` times each batch size on each thread count after a warm-up, over
repeated runs (p50 and p95), and returns one ``Measurement``: a row of the trade-off table.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from nnplay.device import torch_threads

BATCH_SIZES = (1, 64)   # one request at a time, and a batch a server would gather
EVAL_BATCH = 512        # rows per call when scoring the whole test split


def all_threads() -> int:
    """The CPU cores this process may use ("all threads" in the table)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:   # not Linux
        return max(1, os.cpu_count() or 1)


def rows_at(X: np.ndarray, n: int) -> np.ndarray:
    """``n`` rows of X, repeated from the start when X has fewer (a batch of 64 from 45 rows)."""
    X = np.asarray(X)
    if len(X) == 0:
        raise ValueError("There are no test rows to measure on.")
    return np.ascontiguousarray(X[np.arange(n) % len(X)])


class Runner:
    """Maps a batch to outputs on a chosen number of threads; subclasses say how."""

    runtime = "?"

    def prepare(self, X: np.ndarray):
        """The batch in the form ``run`` takes (made once, outside the timed loop)."""
        return X

    def run(self, x) -> object:
        raise NotImplementedError

    def threads(self, n: int):
        """A context in which ``run`` uses ``n`` threads."""
        return contextlib.nullcontext()

    def close(self) -> None:
        """Release what the runner holds (thread pools); it is not used again."""

    def outputs(self, X: np.ndarray) -> np.ndarray:
        """The outputs for all of X, in batches of EVAL_BATCH, as a float NumPy array."""
        parts = [self.to_numpy(self.run(self.prepare(X[i:i + EVAL_BATCH])))
                 for i in range(0, len(X), EVAL_BATCH)]
        return np.concatenate(parts) if parts else np.empty((0,))

    @staticmethod
    def to_numpy(out) -> np.ndarray:
        if isinstance(out, (tuple, list)):
            out = out[0]
        if isinstance(out, torch.Tensor):
            return out.detach().float().cpu().numpy()
        return np.asarray(out, dtype=np.float32)


class TorchRunner(Runner):
    """A PyTorch module (eager, exported or compiled) on the CPU, without gradients."""

    def __init__(self, module: Callable, runtime: str = "PyTorch eager"):
        self.module, self.runtime = module, runtime

    def prepare(self, X: np.ndarray) -> torch.Tensor:
        t = torch.as_tensor(np.ascontiguousarray(X))
        return t.float() if t.is_floating_point() else t

    def run(self, x: torch.Tensor):
        with torch.inference_mode():
            return self.module(x)

    def threads(self, n: int):
        return torch_threads(n)

    def __repr__(self) -> str:
        return f"TorchRunner({type(self.module).__name__}, {self.runtime!r})"


class OrtRunner(Runner):
    """An ONNX file in ONNX Runtime's CPU provider; one session per thread count."""

    runtime = "ONNX Runtime"

    def __init__(self, onnx_bytes: bytes):
        self.onnx_bytes = onnx_bytes
        self._sessions: dict[int, object] = {}
        self._threads = 1

    def session(self, n: int):
        if n not in self._sessions:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.log_severity_level = 3           # errors only
            options.intra_op_num_threads = int(n)
            options.inter_op_num_threads = 1
            # idle pool threads sleep instead of spinning: a spinning pool would slow down
            # whatever runs next on a small machine (the next variant, another learner)
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._sessions[n] = ort.InferenceSession(self.onnx_bytes, options,
                                                     providers=["CPUExecutionProvider"])
        return self._sessions[n]

    def prepare(self, X: np.ndarray) -> dict:
        session = self.session(self._threads)
        X = np.ascontiguousarray(X)
        return {session.get_inputs()[0].name: X.astype(np.float32) if X.dtype.kind == "f" else X}

    def run(self, feed: dict):
        return self.session(self._threads).run(None, feed)[0]

    @contextlib.contextmanager
    def threads(self, n: int):
        before, self._threads = self._threads, int(n)
        try:
            yield
        finally:
            self._threads = before

    def close(self) -> None:
        self._sessions.clear()   # their thread pools end with them

    def __repr__(self) -> str:
        return f"OrtRunner({len(self.onnx_bytes):,} bytes)"


# ---- sizes ------------------------------------------------------------------------------------
def state_dict_bytes(model: nn.Module) -> int:
    """Bytes of the model's weights as a file: safetensors when it can hold them (plain tensors),
    else torch.save of the state_dict (int8 tensor subclasses, packed quantized weights)."""
    from nnplay.models.modelio import weights_bytes

    try:
        with warnings.catch_warnings():   # torchao's int8 tensors warn about TypedStorage
            warnings.simplefilter("ignore")
            return len(weights_bytes(model, "safetensors"))
    except (RuntimeError, TypeError, ValueError, AttributeError):
        return torch_save_bytes(model.state_dict())


def torch_save_bytes(obj) -> int:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.save(obj, buf)
    return len(buf.getvalue())


def graph_state_bytes(graph: nn.Module) -> int:
    """Bytes of the tensors an FX graph actually reads (torch.save), not of attributes it kept
    but no longer uses (a PT2E int8 graph keeps the fp32 weights it folded into int8 copies)."""
    state = {}
    for node in graph.graph.nodes:
        if node.op == "get_attr":
            value = graph
            for part in node.target.split("."):
                value = getattr(value, part)
            if isinstance(value, torch.Tensor):
                state[node.target] = value.detach()
    return torch_save_bytes(state)


def weight_count(model: nn.Module) -> int:
    """Numbers in the model's parameters (what pruning removes)."""
    return sum(p.numel() for p in model.parameters())


# ---- one row of the table ---------------------------------------------------------------------
@dataclass
class Latency:
    """Wall-clock milliseconds of one call: median and 95th percentile over ``runs`` calls."""

    p50_ms: float
    p95_ms: float
    runs: int


def time_calls(call: Callable[[], object], warmup: int = 5, repeats: int = 50,
               budget_s: float = 0.5) -> Latency:
    """Time ``call()`` after ``warmup`` untimed calls: ``repeats`` calls, fewer (at least 5) when
    they would take longer than ``budget_s``."""
    for _ in range(max(0, int(warmup))):
        call()
    times, start = [], time.perf_counter()
    while len(times) < max(1, int(repeats)):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
        if len(times) >= 5 and time.perf_counter() - start > budget_s:
            break
    ms = np.asarray(times) * 1e3
    return Latency(float(np.percentile(ms, 50)), float(np.percentile(ms, 95)), len(times))


def score(outputs: np.ndarray, y: np.ndarray, task: str) -> float:
    """Accuracy (classification) or R² (regression) of raw outputs; nan when not finite."""
    y = np.asarray(y)
    if not np.all(np.isfinite(outputs)):
        return float("nan")
    if task == "classification":
        return float(np.mean(outputs.argmax(-1) == y))
    pred = outputs.reshape(y.shape)
    total = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - float(np.sum((y - pred) ** 2)) / total if total > 0 else float("nan")


METRIC_NAMES = {"classification": "accuracy", "regression": "R²"}


@dataclass
class Measurement:
    """One row of the trade-off table: what a version of the model costs and what it keeps."""

    variant: str                      # e.g. "int8 dynamic (torchao)"
    technique: str                    # baseline | quantization | pruning | pruning + quantization
    runtime: str                      # PyTorch eager | torch.compile | ONNX Runtime
    status: str = "ok"                # ok | not applicable | failed
    note: str = ""                    # how it was made, or why it was not
    size_bytes: int | None = None     # the file that would ship
    n_params: int | None = None       # numbers in the weights (None: not a PyTorch module)
    sparsity: float | None = None     # share of zero weights, for unstructured pruning
    metric: str = "accuracy"          # accuracy | R²
    score: float | None = None        # the metric on the test split
    max_abs_diff: float | None = None  # largest |output - fp32 output| over the test split
    # (batch, threads) -> Latency
    latency: dict[tuple[int, int], Latency] = field(default_factory=dict, repr=False)

    def as_row(self) -> dict:
        """Flat columns for a DataFrame: latency_b{batch}_{t1|tall}_{p50|p95}_ms (t1: one thread,
        tall: all cores) and throughput_{t1|tall}_per_s (rows per second at the largest batch,
        from its median)."""
        row = {k: getattr(self, k) for k in ("variant", "technique", "runtime", "status", "note",
                                              "size_bytes", "n_params", "sparsity", "metric",
                                              "score", "max_abs_diff")}
        largest: dict[str, tuple[int, Latency]] = {}
        for (batch, threads), lat in sorted(self.latency.items()):
            tag = "t1" if threads == 1 else "tall"
            row[f"latency_b{batch}_{tag}_p50_ms"] = lat.p50_ms
            row[f"latency_b{batch}_{tag}_p95_ms"] = lat.p95_ms
            largest[tag] = (batch, lat)
        for tag, (batch, lat) in largest.items():
            row[f"throughput_{tag}_per_s"] = batch / lat.p50_ms * 1e3 if lat.p50_ms > 0 \
                else math.nan
        return row


def as_runner(model) -> Runner:
    """A Runner for a Runner, or for a PyTorch module (an eval-mode copy: the learner's model
    keeps its mode)."""
    if isinstance(model, Runner):
        return model
    if isinstance(model, nn.Module):
        return TorchRunner(copy.deepcopy(model).cpu().eval())
    raise ValueError(f"Measure a PyTorch module or a Runner, got {type(model).__name__}.")


def measure(model, X: np.ndarray, y: np.ndarray, task: str, reference: np.ndarray | None = None,
            batch_sizes: Sequence[int] = BATCH_SIZES, threads: Sequence[int] | None = None,
            repeats: int = 50, warmup: int = 5, budget_s: float = 0.5,
            variant: str = "fp32", technique: str = "baseline", note: str = "",
            size_bytes: int | None = None, n_params: int | None = None,
            sparsity: float | None = None) -> Measurement:
    """Measure ``model`` (an nn.Module or a Runner) on the test rows X, y.

    ``reference``: the fp32 model's outputs on X, for the largest output difference.
    ``threads``: the thread counts to time on (default 1 and all cores). The size is the
    module's weights file unless ``size_bytes`` is given (an ONNX file, an int8 graph).
    """
    runner = as_runner(model)
    if size_bytes is None and isinstance(model, nn.Module):
        size_bytes = state_dict_bytes(model)
    if n_params is None and isinstance(model, nn.Module):
        n_params = weight_count(model)
    threads = sorted(set(threads or (1, all_threads())))
    out = runner.outputs(np.asarray(X))
    value = score(out, y, task)
    diff = None
    if reference is not None and np.shape(reference) == out.shape:
        diff = float(np.max(np.abs(out - reference))) if out.size else 0.0
    row = Measurement(variant, technique, runner.runtime, note=note, size_bytes=size_bytes,
                      n_params=n_params, sparsity=sparsity, metric=METRIC_NAMES[task],
                      score=None if math.isnan(value) else value,
                      max_abs_diff=None if diff is None or not math.isfinite(diff) else diff)
    for n in threads:
        with runner.threads(n):
            for batch in batch_sizes:
                x = runner.prepare(rows_at(X, int(batch)))
                row.latency[(int(batch), n)] = calm_timing(lambda x=x: runner.run(x), warmup,
                                                           repeats, budget_s)
    return row


DISTURBED = 3.0   # a p95 this many times the median: other work on the machine got in the way


def calm_timing(call: Callable[[], object], warmup: int = 5, repeats: int = 50,
                budget_s: float = 0.5, tries: int = 3) -> Latency:
    """``time_calls``, repeated (up to ``tries`` runs) while a run looks disturbed (its p95 over
    DISTURBED times its median, as when another process takes the core for a while); the
    calmest run (lowest p95) is kept. The same rule for every variant, so none is favoured."""
    best = time_calls(call, warmup, repeats, budget_s)
    for _ in range(tries - 1):
        if best.p95_ms <= DISTURBED * best.p50_ms:
            break
        again = time_calls(call, 0, repeats, budget_s)
        best = again if again.p95_ms < best.p95_ms else best
    return best
