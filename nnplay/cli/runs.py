"""The ``nnplay runs`` commands and the helper ``nnplay train`` uses to record its run.

    nnplay runs list [--sort test_accuracy] [--ascending] [--limit 20]
                     [--lesson training_lab] [--dataset moons] [--owner NAME]
    nnplay runs show ID
    nnplay runs export ID FILE                           # the record as JSON
    nnplay runs export ID DIR --format tensorboard       # event files for tensorboard --logdir

Runs recorded here belong to the operating-system user. Errors a person can fix (an unknown id,
an unreadable database, tensorboard not installed) print one line and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_USAGE = 2
LIST_COLUMNS = ("id", "created", "lesson", "owner", "dataset", "family", "status", "epochs",
                "duration_s")
EXPORT_FORMATS = ("json", "tensorboard")


def add_runs_commands(subparsers) -> argparse.ArgumentParser:
    """Add ``runs list|show|export`` to the top-level parser's subparsers; returns the runs parser."""
    runs = subparsers.add_parser("runs", help="list, show and export stored training runs")
    sub = runs.add_subparsers(dest="runs_command", parser_class=type(runs))
    ls = sub.add_parser("list", help="one line per stored run")
    ls.add_argument("--sort", default="created", help="a column or metric, e.g. test_accuracy")
    ls.add_argument("--ascending", action="store_true", help="smallest first (default: largest)")
    ls.add_argument("--limit", type=int, default=None, help="show at most this many runs")
    ls.add_argument("--lesson", help="only runs made by this lesson (training_lab, cli, ...)")
    ls.add_argument("--dataset", help="only runs on this dataset")
    ls.add_argument("--owner", help="only runs of this owner (an OS user for CLI runs)")
    show = sub.add_parser("show", help="print one run's full record as JSON")
    show.add_argument("id", type=int)
    export = sub.add_parser("export", help="write one run to a JSON file or a TensorBoard folder")
    export.add_argument("id", type=int)
    export.add_argument("file", help="the JSON file, or the (new or empty) TensorBoard folder")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="json",
                        help="json (default): the full record; tensorboard: event files")
    return runs


def run_runs_command(args, out=None, err=None) -> int:
    """Carry out ``nnplay runs ...``; returns the exit code."""
    from nnplay.train.runs import RunStore
    from nnplay.train.tensorboard import TensorBoardUnavailable, export_tensorboard

    out, err = out or sys.stdout, err or sys.stderr
    command = getattr(args, "runs_command", None)
    if command is None:
        err.write("nnplay: error: say what to do: nnplay runs list | show ID | export ID FILE "
                  "[--format tensorboard]\n")
        return EXIT_USAGE
    try:
        store = RunStore()
        if command == "list":
            table = store.list(order_by=args.sort, descending=not args.ascending,
                               lesson=args.lesson, dataset=args.dataset, owner=args.owner,
                               limit=args.limit)
            if table.empty:
                filtered = any((args.lesson, args.dataset, args.owner))
                out.write(f"No runs {'match' if filtered else 'stored yet'} in {store.location}.\n")
                return 0
            metrics = [c for c in table.columns if c not in LIST_COLUMNS and c not in
                       ("name", "task", "device")]
            shown = table[[*LIST_COLUMNS, *metrics]]
            out.write(shown.to_string(index=False, float_format=lambda v: f"{v:.4g}") + "\n")
        elif command == "show":
            out.write(store.export_json(args.id) + "\n")
        elif command == "export" and args.format == "tensorboard":
            path = export_tensorboard(store.get(args.id), args.file)  # says what to install
            out.write(f"Wrote run {args.id} to {path}; view it with: tensorboard --logdir {path}\n")
        elif command == "export":
            path = Path(args.file)
            path.write_text(store.export_json(args.id))
            out.write(f"Wrote run {args.id} to {path}\n")
        return 0
    except (ValueError, OSError, TensorBoardUnavailable) as error:  # RunStoreError: ValueError
        err.write(f"nnplay: error: {error}\n")
        return EXIT_USAGE


def record_cli_run(summary: dict, history: list[dict], model_spec: dict | None = None,
                   dataset_params: dict | None = None, store=None, err=None) -> int | None:
    """Store a ``nnplay train`` run from its summary and history; returns the run id.

    When the database cannot be used the run is not stored: one warning line goes to ``err``
    and None is returned, so training itself never fails because of the store.
    """
    # The record's shape lives in nnplay.train.runs; make_record needs a Trainer, this has a summary.
    from nnplay.train.runs import RunStore, _record

    err = err or sys.stderr
    last = history[-1] if history else {}
    metrics = {k: v for k, v in summary.items() if k.startswith(("test_", "train_loss"))}
    metrics.update({k: last[k] for k in ("val_loss", "val_accuracy", "val_rmse", "val_r2")
                    if k in last})
    if "accuracy" in last:
        metrics["train_accuracy"] = last["accuracy"]
    task = ("classification" if "test_accuracy" in summary
            else "regression" if "test_rmse" in summary else "")
    record = _record(
        lesson="cli", owner=None,
        name=f"{summary.get('model', 'model')} on {summary.get('dataset', '?')}",
        status=summary.get("status", "completed"), stop_reason=summary.get("reason", ""),
        config=summary.get("config", {}), model_spec=model_spec or {},
        dataset={"name": summary.get("dataset", ""), "params": dict(dataset_params or {}),
                 **({"task": task} if task else {})},
        history=list(history), metrics=metrics,
        epochs_run=summary.get("epochs_run", len(history)), device=summary.get("device", ""),
        duration_s=summary.get("train_seconds"))
    try:
        return (store or RunStore()).save(record)
    except ValueError as error:
        err.write(f"nnplay: warning: the run was not recorded: {error}\n")
        return None
