"""Export a trained model out of Python, and prove the exported file computes what PyTorch does.

Two formats, both built on ``torch.export`` (TorchScript is deprecated and not offered):

- **ONNX** (``to_onnx``): ``torch.onnx.export(..., dynamo=True)`` traces the model with
  torch.export and translates the graph with onnxscript; the file runs in ONNX Runtime, in a
  browser, on a phone, from C++, C# or Java.
- **torch.export** (``to_torch_export``): ``torch.export.export`` then ``torch.export.save``, a
  ``.pt2`` file that ``torch.export.load(...).module()`` runs without the model's Python class.

The batch dimension is left open (``dynamic_shapes``), so one file serves any number of rows.
Every export is verified: the artefact is loaded back from its bytes and run on real rows at the
batch size it was exported with and at two others (``verify``); the largest absolute difference
from PyTorch's own output is the headline number (fp32 arithmetic in another order: about 1e-7).

A model that cannot be traced (its forward branches on the values of its input, or fixes the
batch size) raises ``NotExportable``, a ValueError whose message says why in one sentence.
``export_model`` is the one call for scripts and the command line.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import re
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

FORMATS = {"onnx": ".onnx", "torch-export": ".pt2"}
MIME = {"onnx": "application/octet-stream", "torch-export": "application/zip"}
_NAMES = {"onnx": "ONNX", "torch-export": ".pt2"}
_HOW = {"onnx": "to ONNX", "torch-export": "with torch.export"}
TOLERANCE = 1e-4        # largest |exported - PyTorch| accepted for fp32 outputs
EXPORT_BATCH = 4        # rows in the example the graph is traced with
VERIFY_BATCHES = (1, 32)  # other batch sizes the reloaded file is run at (the batch stays open)


class NotExportable(ValueError):  # noqa: N818  (a person's message, like the other ValueErrors)
    """The model cannot be exported in this format; the message says why."""


@dataclass
class ExportResult:
    """An exported, reloaded and verified model file: its bytes, size and the differences found."""

    format: str                     # "onnx" | "torch-export"
    data: bytes = field(repr=False)  # the file's contents
    max_abs_diff: float             # largest |exported - PyTorch| over every check
    checks: list[dict]              # one per batch size: batch, max_abs_diff
    export_batch: int               # rows in the example the graph was traced with
    seconds: float                  # time to export (verification not included)
    path: Path | None = None        # where it was written, when a path was given
    tolerance: float = TOLERANCE

    @property
    def size_bytes(self) -> int:
        return len(self.data)

    @property
    def verified(self) -> bool:
        """Every check within tolerance, at more than one batch size."""
        return self.max_abs_diff <= self.tolerance and len({c["batch"] for c in self.checks}) > 1

    @property
    def suffix(self) -> str:
        return FORMATS[self.format]

    @property
    def mime(self) -> str:
        return MIME[self.format]

    def to_dict(self) -> dict:
        """JSON-able summary (no bytes): what the model card and the command line report."""
        return {"format": self.format, "size_bytes": self.size_bytes,
                "max_abs_diff": float(self.max_abs_diff), "tolerance": self.tolerance,
                "verified": self.verified, "export_batch": self.export_batch,
                "checks": [dict(c) for c in self.checks], "seconds": round(self.seconds, 3),
                "path": None if self.path is None else str(self.path)}

    def __repr__(self) -> str:
        return (f"ExportResult({self.format!r}, {self.size_bytes} bytes, "
                f"max_abs_diff={self.max_abs_diff:.2e}, verified={self.verified})")


def difference_text(value: float) -> str:
    """The largest |exported - PyTorch| for a person: '0 (identical)' or '3.0e-08'."""
    return "0 (identical)" if value == 0 else f"{value:.1e}"


# ---- inputs ------------------------------------------------------------------------------------
def _tensor(x) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).detach().cpu()
    return t.float() if t.is_floating_point() else t


def rows_at(X, n: int) -> np.ndarray:
    """``n`` rows of X (repeated from the start when X has fewer), as a NumPy array."""
    X = np.asarray(X)
    if len(X) == 0:
        raise ValueError("There are no rows to export with; the data's test split is empty.")
    return X[np.arange(n) % len(X)]


def _cpu_copy(model: nn.Module) -> nn.Module:
    """An eval-mode CPU copy: the learner's model keeps its device and train/eval mode."""
    return copy.deepcopy(model).cpu().eval()


def _outputs(out) -> list[np.ndarray]:
    """A model's output (a tensor, or a tuple/list of them) as a list of NumPy arrays."""
    if isinstance(out, (tuple, list)):
        return [a for o in out for a in _outputs(o)]
    if isinstance(out, torch.Tensor):
        return [out.detach().cpu().numpy()]
    return [np.asarray(out)]


# ---- why an export failed, in one sentence -------------------------------------------------------
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _chain(err: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while err is not None and err not in seen:
        seen.append(err)
        err = err.__cause__ or err.__context__
    return seen


def why_not_exportable(err: BaseException) -> str:
    """A short, plain reason for an exporter's error (the first lines of a long message)."""
    chain = _chain(err)
    names = " ".join(type(e).__name__ for e in chain)
    text = _ANSI.sub("", "\n".join(str(e) for e in chain))
    where = re.search(r"raised this error:\s*\n\s*File .*?, in \w+\n\s*(.+)", text)
    at = f" (at `{where.group(1).strip()}`)" if where else ""
    if "GuardOnDataDependent" in names or "data-dependent" in text:
        return ("its forward() chooses what to do from the values in its input (data-dependent "
                "control flow), and an exported graph holds one path only" + at)
    if "ConstraintViolation" in names or "Constraints violated" in text:
        return ("its forward() works for one batch size only (the code fixes the batch "
                "dimension), so the batch cannot be left open" + at)
    if "Unsupported" in names or "not supported" in text:
        line = next((s for s in text.splitlines() if "not supported" in s), "")
        return f"it uses an operation the exporter does not support ({line.strip()[:160]})" + at
    return f"the exporter stopped with {type(chain[-1]).__name__}: {_first_line(chain[-1])}" + at


def _first_line(err: BaseException) -> str:
    lines = _ANSI.sub("", str(err)).strip().splitlines()
    return (lines[0][:200] if lines else "") or type(err).__name__


_LOCK = threading.RLock()   # one export at a time: they share global warning and log settings


@contextlib.contextmanager
def _quiet():
    """Silence the exporters' warnings and log lines (graph dumps on failure): the learner gets
    one sentence instead (``why_not_exportable``)."""
    loggers = [logging.getLogger(n) for n in list(logging.root.manager.loggerDict)
               if n.split(".")[0] in ("torch", "onnxscript", "onnx_ir")]
    levels = [lg.level for lg in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lg in loggers:
            lg.setLevel(logging.CRITICAL)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels):
                lg.setLevel(level)


def _export(fmt: str, build: Callable[[], bytes]) -> bytes:
    """Run an exporter quietly; its failures become NotExportable with the reason."""
    try:
        with _LOCK, _quiet():
            data = build()
    except NotExportable:
        raise
    except Exception as err:  # the exporters raise many error types; all mean "cannot trace"
        raise NotExportable(f"This model is not exportable {_HOW[fmt]} here because "
                            f"{why_not_exportable(err)}.") from err
    return data


def _dynamic_batch(x: torch.Tensor) -> tuple:
    return ({0: torch.export.Dim("batch", min=1)},)


def _example(example) -> torch.Tensor:
    x = _tensor(example)
    if x.dim() < 2:
        raise ValueError(f"The example is a batch of inputs (rows first), got shape "
                         f"{tuple(x.shape)}.")
    if len(x) < 2:   # torch.export specialises a batch of one to 1: trace with two rows
        x = _tensor(rows_at(x.numpy(), 2))
    return x


# ---- the two formats ----------------------------------------------------------------------------
def onnx_bytes(model: nn.Module, example) -> bytes:
    """The ONNX file (opset from the exporter, weights inside) of ``model`` traced on ``example``;
    the batch dimension is dynamic. NotExportable when the model cannot be traced."""
    net, x = _cpu_copy(model), _example(example)

    def build() -> bytes:
        program = torch.onnx.export(net, (x,), dynamo=True, dynamic_shapes=_dynamic_batch(x),
                                    input_names=["input"], verbose=False)
        return program.model_proto.SerializeToString()

    return _export("onnx", build)


def torch_export_bytes(model: nn.Module, example) -> bytes:
    """The ``.pt2`` file of ``torch.export.export(model, (example,))`` with a dynamic batch."""
    net, x = _cpu_copy(model), _example(example)

    def build() -> bytes:
        program = torch.export.export(net, (x,), dynamic_shapes=_dynamic_batch(x))
        buf = io.BytesIO()
        torch.export.save(program, buf)
        return buf.getvalue()

    return _export("torch-export", build)


def runner(fmt: str, data: bytes) -> Callable[[np.ndarray], list[np.ndarray]]:
    """A function that runs an exported file (from its bytes) on a batch: ONNX Runtime for
    ONNX, ``torch.export.load(...).module()`` for .pt2. Returns the outputs as NumPy arrays.
    Meant for files this module just made: load only .pt2 files you trust."""
    if fmt == "onnx":
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3          # errors only
        options.intra_op_num_threads = 1        # tiny models; a 2-core machine is shared
        session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return lambda X: [np.asarray(o) for o in session.run(None, {name: np.asarray(X)})]
    if fmt == "torch-export":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = torch.export.load(io.BytesIO(data)).module()

        def run(X) -> list[np.ndarray]:
            with torch.no_grad():
                return _outputs(module(_tensor(X)))

        return run
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}.")


def verify(model: nn.Module, fmt: str, data: bytes, X, batch_sizes: Sequence[int]) -> list[dict]:
    """Run the exported file and the PyTorch model on the first ``n`` rows of X for each batch
    size n; one dict per size: batch, max_abs_diff (the largest |exported - PyTorch|)."""
    net = _cpu_copy(model)
    try:
        run = runner(fmt, data)
    except Exception as err:  # a file its own runtime refuses: say so, not a traceback
        raise NotExportable(f"The exported {_NAMES[fmt]} file could not be loaded back "
                            f"({_first_line(err)}).") from err
    checks = []
    for n in dict.fromkeys(int(b) for b in batch_sizes):   # each size once, in order
        batch = rows_at(X, n)
        try:
            with torch.no_grad():
                expected = _outputs(net(_tensor(batch)))
        except Exception as err:  # the model's own code fails: not something export can fix
            raise NotExportable(f"This model cannot be checked at a batch of {n} because "
                                f"PyTorch itself fails on it ({_first_line(err)}); its forward() "
                                "works for one batch size only.") from err
        if not all(np.all(np.isfinite(e)) for e in expected):
            raise ValueError("The model outputs NaN or infinity (its training diverged), so an "
                             "export cannot be checked; train it again with a lower learning "
                             "rate.")
        try:
            got = run(batch)
        except Exception as err:  # onnxruntime and torch raise their own error types
            raise NotExportable(f"The exported {_NAMES[fmt]} file fails on a batch of {n} rows "
                                f"({_first_line(err)}): the export fixed the batch "
                                "size.") from err
        if len(got) != len(expected) or any(g.shape != e.shape for g, e in zip(got, expected)):
            raise ValueError(f"The exported file returned outputs shaped "
                             f"{[g.shape for g in got]} for a batch of {n}, PyTorch "
                             f"{[e.shape for e in expected]}: the export is wrong.")
        diff = max(float(np.max(np.abs(g.astype(np.float64) - e.astype(np.float64))))
                   if e.size else 0.0 for g, e in zip(got, expected))
        checks.append({"batch": n, "max_abs_diff": diff})
    return checks


def _export_and_verify(fmt: str, model: nn.Module, example, path, rows,
                       batch_sizes: Sequence[int]) -> ExportResult:
    start = time.perf_counter()
    data = (onnx_bytes if fmt == "onnx" else torch_export_bytes)(model, example)
    seconds = time.perf_counter() - start
    x = _example(example)
    rows = x.numpy() if rows is None else rows
    checks = verify(model, fmt, data, rows, (len(x), *batch_sizes))
    out = None
    if path is not None:
        out = Path(path)
        out.write_bytes(data)
    return ExportResult(fmt, data, max(c["max_abs_diff"] for c in checks), checks, len(x),
                        seconds, out)


def to_onnx(model: nn.Module, example, path=None, rows=None,
            batch_sizes: Sequence[int] = VERIFY_BATCHES) -> ExportResult:
    """Export to ONNX, reload the bytes in ONNX Runtime and compare with PyTorch.

    ``example`` is a batch of inputs (2 rows or more; one row is repeated) the graph is traced
    with; ``rows`` the inputs to check on (default: the example), at the example's batch size
    and at each of ``batch_sizes``. ``path``: also write the file there.
    """
    return _export_and_verify("onnx", model, example, path, rows, batch_sizes)


def to_torch_export(model: nn.Module, example, path=None, rows=None,
                    batch_sizes: Sequence[int] = VERIFY_BATCHES) -> ExportResult:
    """Export with torch.export to a ``.pt2`` file, reload it with ``torch.export.load`` and
    compare with PyTorch; arguments as for ``to_onnx``."""
    return _export_and_verify("torch-export", model, example, path, rows, batch_sizes)


def export_to(fmt: str, model: nn.Module, dataset, path=None) -> ExportResult:
    """Export ``model`` in ``fmt`` traced on the first test rows of ``dataset`` and verified on
    its test rows at three batch sizes."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}.")
    X = np.asarray(dataset.X_test)
    fn = to_onnx if fmt == "onnx" else to_torch_export
    return fn(model, rows_at(X, EXPORT_BATCH), path=path, rows=X)


def export_model(model: nn.Module, dataset, format: str = "onnx", out=None) -> dict:  # noqa: A002
    """Export and verify for scripts and the command line; returns path, size_bytes,
    max_abs_diff and verified (the file is written to ``out`` when given).

    ``out`` may be a directory (the file is named ``model.onnx`` / ``model.pt2`` inside it) or a
    file path. NotExportable (a ValueError) when the model cannot be exported.
    """
    path = None
    if out is not None:
        path = Path(out)
        if path.is_dir():
            path = path / f"model{FORMATS[format] if format in FORMATS else ''}"
    result = export_to(format, model, dataset, path)
    return {"path": None if result.path is None else str(result.path),
            "size_bytes": result.size_bytes, "max_abs_diff": result.max_abs_diff,
            "verified": result.verified, "format": result.format}
