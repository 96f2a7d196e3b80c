"""The ``nnplay runs`` commands and the helper ``nnplay train`` uses to record its run.

    nnplay runs list [--sort test_accuracy] [--ascending] [--limit 20]
    nnplay runs show ID
    nnplay runs export ID FILE

Errors a person can fix (an unknown id, an unreadable database) print one line and exit 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

EXIT_USAGE = 2
LIST_COLUMNS = ("id", "created", "source", "dataset", "family", "status", "epochs", "duration_s")


def add_runs_commands(subparsers) -> argparse.ArgumentParser:
    """Add ``runs list|show|export`` to the top-level parser's subparsers; returns the runs parser."""
    runs = subparsers.add_parser("runs", help="list, show and export stored training runs")
    sub = runs.add_subparsers(dest="runs_command", parser_class=type(runs))
    ls = sub.add_parser("list", help="one line per stored run")
    ls.add_argument("--sort", default="created", help="a column or metric, e.g. test_accuracy")
    ls.add_argument("--ascending", action="store_true", help="smallest first (default: largest)")
    ls.add_argument("--limit", type=int, default=None, help="show at most this many runs")
    show = sub.add_parser("show", help="print one run's full record as JSON")
    show.add_argument("id", type=int)
    export = sub.add_parser("export", help="write one run's full record to a JSON file")
    export.add_argument("id", type=int)
    export.add_argument("file", help="where to write the JSON")
    return runs


def run_runs_command(args, out=None, err=None) -> int:
    """Carry out ``nnplay runs ...``; returns the exit code."""
    from nnplay.train.runs import RunStore

    out, err = out or sys.stdout, err or sys.stderr
    command = getattr(args, "runs_command", None)
    if command is None:
        err.write("nnplay: error: say what to do: nnplay runs list | show ID | export ID FILE\n")
        return EXIT_USAGE
    try:
        store = RunStore()
        if command == "list":
            table = store.list(order_by=args.sort, descending=not args.ascending,
                               limit=args.limit)
            if table.empty:
                out.write(f"No runs stored yet in {store.path}.\n")
                return 0
            metrics = [c for c in table.columns if c not in LIST_COLUMNS and c not in
                       ("name", "device")]
            shown = table[[*LIST_COLUMNS, *metrics]]
            out.write(shown.to_string(index=False, float_format=lambda v: f"{v:.4g}") + "\n")
        elif command == "show":
            out.write(store.export_json(args.id) + "\n")
        elif command == "export":
            path = Path(args.file)
            path.write_text(store.export_json(args.id))
            out.write(f"Wrote run {args.id} to {path}\n")
        return 0
    except (ValueError, OSError) as error:  # RunStoreError is a ValueError
        err.write(f"nnplay: error: {error}\n")
        return EXIT_USAGE


def record_cli_run(summary: dict, history: list[dict], model_spec: dict | None = None,
                   dataset_params: dict | None = None, store=None, err=None) -> int | None:
    """Store a ``nnplay train`` run from its summary and history; returns the run id.

    When the database cannot be used the run is not stored: one warning line goes to ``err``
    and None is returned, so training itself never fails because of the store.
    """
    from nnplay.train.runs import RunStore, json_safe

    err = err or sys.stderr
    last = history[-1] if history else {}
    metrics = {k: v for k, v in summary.items() if k.startswith(("test_", "train_loss"))}
    metrics.update({k: last[k] for k in ("val_loss", "val_accuracy", "val_rmse", "val_r2")
                    if k in last})
    if "accuracy" in last:
        metrics["train_accuracy"] = last["accuracy"]
    record = {
        "created": time.time(), "source": "cli",
        "name": f"{summary.get('model', 'model')} on {summary.get('dataset', '?')}",
        "status": summary.get("status", "completed"), "stop_reason": summary.get("reason", ""),
        "config": summary.get("config", {}), "model_spec": model_spec or {},
        "dataset": {"name": summary.get("dataset", ""), "params": dict(dataset_params or {})},
        "history": list(history), "metrics": metrics,
        "epochs_run": summary.get("epochs_run", len(history)),
        "device": summary.get("device", ""), "duration_s": summary.get("train_seconds"),
    }
    try:
        return (store or RunStore()).save(json_safe(record))
    except ValueError as error:
        err.write(f"nnplay: warning: the run was not recorded: {error}\n")
        return None
