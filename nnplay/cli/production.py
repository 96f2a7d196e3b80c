"""The production commands: compress and export a saved model, and test two CSVs for drift.

    nnplay train --dataset mnist5k --hidden 256,128 --epochs 10 --save model/
    nnplay compress model/ --quantize dynamic-int8 --prune 0.5 --structured --out small/ --json
    nnplay export model/ --format onnx --out model.onnx --json
    nnplay drift --reference train.csv --current today.csv --json

Each prints a readable summary, and with --json one JSON object as the last line of stdout.
Errors a person can fix (a folder that holds no model, a broken CSV, an option that does not
apply) print one line and exit 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from nnplay.jsonable import plain_json as _plain

EXIT_USAGE = 2
QUANTIZE = ("none", "dynamic-int8", "weight-only-int8", "static-int8")
EXPORT_FORMATS = ("onnx", "torch-export")


def add_production_commands(subparsers) -> None:
    """Add ``compress``, ``export`` and ``drift`` to the top-level parser's subparsers."""
    comp = subparsers.add_parser("compress", help="quantize and/or prune a saved model, measured")
    comp.add_argument("model_dir", type=Path, help="a folder written by `nnplay train --save`")
    comp.add_argument("--quantize", choices=QUANTIZE, default="dynamic-int8")
    comp.add_argument("--prune", type=float, default=0.0, metavar="F",
                      help="share of weights (or with --structured, of channels) to remove, 0-0.95")
    comp.add_argument("--structured", action="store_true",
                      help="remove whole neurons and channels (smaller and faster), not single weights")
    comp.add_argument("--out", type=Path, help="save the compressed model's weights here")
    comp.add_argument("--json", action="store_true")
    exp = subparsers.add_parser("export", help="export a saved model to ONNX or torch.export, verified")
    exp.add_argument("model_dir", type=Path, help="a folder written by `nnplay train --save`")
    exp.add_argument("--format", choices=EXPORT_FORMATS, default="onnx")
    exp.add_argument("--out", type=Path, required=True, help="the file (or folder) to write")
    exp.add_argument("--json", action="store_true")
    drift = subparsers.add_parser("drift", help="per-column drift tests between two CSV files")
    drift.add_argument("--reference", type=Path, required=True, help="the data the model knows")
    drift.add_argument("--current", type=Path, required=True, help="the data arriving now")
    drift.add_argument("--share", type=float, default=0.5,
                       help="share of drifted columns that makes the dataset drift (default 0.5)")
    drift.add_argument("--json", action="store_true")


def _fmt(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def _load(folder: Path):
    from nnplay.models import modelio

    return modelio.load_dir(folder)


def cmd_export(args, out) -> int:
    from nnplay.production import export

    loaded = _load(args.model_dir)
    report = export.export_model(loaded.model, loaded.dataset, format=args.format, out=args.out)
    out.write(f"exported    {report['path']} ({report['size_bytes']:,} bytes, {args.format})\n"
              f"checked     reloaded and run on test rows: largest difference against PyTorch "
              f"{_fmt(report['max_abs_diff'], 3)}\n")
    return _finish(args, report, out)


def cmd_compress(args, out) -> int:
    from nnplay.production import compress

    loaded = _load(args.model_dir)
    if not 0.0 <= args.prune <= 0.95:
        raise ValueError(f"--prune is a share from 0 to 0.95, got {args.prune:g}.")
    model, report = compress.compress_model(loaded.model, loaded.dataset, quantize=args.quantize,
                                            prune=args.prune, structured=args.structured)
    if args.out is not None:
        report["saved_to"] = str(save_compressed(args.out, model, loaded, report))
    rows = [("size_bytes", report["size_bytes"]), (report["metric"]["name"], report["metric"])]
    rows += [(f"latency_ms {batch.replace('_', ' ')}", lat)
             for batch, lat in report["latency_ms"].items()]
    for name, pair in rows:
        out.write(f"{name:<22}{_fmt(pair['before'])} -> {_fmt(pair['after'])}\n")
    out.write(f"{'max_abs_diff':<22}{_fmt(report.get('max_abs_diff'), 3)}\n")
    return _finish(args, report, out)


def save_compressed(folder: Path, model, loaded, report: dict) -> Path:
    """Write the compressed model to ``folder`` with report.json.

    Without quantization the result is an nnplay model folder (a structurally pruned network
    gets the spec of its new widths), so `nnplay export` and the app's upload take it. An int8
    model is written as a torch.export program (model.pt2): torchao's int8 tensors are not
    plain weights that safetensors or nnplay's loader could rebuild.
    """
    import dataclasses

    import torch

    from nnplay.models import modelio
    from nnplay.production import compress

    folder.mkdir(parents=True, exist_ok=True)
    if report["quantize"] == "none":
        record = loaded.record
        if report["structured"] and report["prune"]:
            record = dataclasses.replace(record, spec=compress.pruned_spec(record.spec, model))
        modelio.save_dir(folder, model, record, loaded.dataset)
    else:
        example = torch.as_tensor(loaded.dataset.X_test[:4])
        try:
            program = torch.export.export(model, (example,))
            torch.export.save(program, folder / "model.pt2")
        except Exception as err:   # noqa: BLE001  (a tracing failure: say so, keep the report)
            report["not_saved"] = f"the int8 model could not be exported: {str(err)[:200]}"
    (folder / "report.json").write_text(json.dumps(_plain(report), indent=2))
    return folder.resolve()


def _read_csv(path: Path, what: str):
    import pandas as pd

    if not path.is_file():
        raise ValueError(f"{what} file {path} does not exist.")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ValueError(f"{what} file {path} is not a readable CSV: "
                         f"{str(err).splitlines()[0]}") from None
    if frame.empty:
        raise ValueError(f"{what} file {path} has no rows.")
    return frame


def cmd_drift(args, out) -> int:
    from nnplay.production import drift

    if not 0.0 < args.share <= 1.0:
        raise ValueError(f"--share is a share from 0 (exclusive) to 1, got {args.share:g}.")
    reference = _read_csv(args.reference, "The reference")
    current = _read_csv(args.current, "The current")
    common = [c for c in reference.columns if c in current.columns]
    if not common:
        raise ValueError("The two files share no column names; give CSVs with the same header.")
    report = drift.drift_report(reference[common], current[common], share=args.share)
    for name, col in report["columns"].items():
        p = "" if col.get("p_value") is None else f" p={_fmt(col['p_value'], 3)}"
        out.write(f"{name:<24}{col['test']:<22}{_fmt(col['statistic'], 4)}{p}"
                  f"{'  DRIFT' if col['drifted'] else ''}\n")
    verdict = "drifted" if report["dataset_drifted"] else "no drift"
    out.write(f"dataset: {report['n_drifted']} of {report['n_columns']} columns drifted "
              f"-> {verdict} (threshold share {args.share:g})\n")
    return _finish(args, report, out)


def _finish(args, report: dict, out) -> int:
    if args.json:
        out.write(json.dumps(_plain(report)) + "\n")
    return 0


COMMANDS = {"compress": cmd_compress, "export": cmd_export, "drift": cmd_drift}


def run_production_command(args: argparse.Namespace, out=None, err=None) -> int:
    """Carry out one production command; one line and exit 2 for what a person can fix."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        return COMMANDS[args.command](args, out)
    except (ValueError, OSError) as error:
        text = str(error).splitlines()[0] if str(error) else repr(error)
        err.write(f"nnplay: error: {text}\n")
        return EXIT_USAGE
