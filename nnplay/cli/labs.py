"""The labs' and frontiers' commands.

    nnplay lab mnist-grid [--layers 1,2,3] [--neurons 32,128,512]
                          [--activations relu,sigmoid,tanh] [--epochs N] [--json]
    nnplay pretrained predict IMAGE [--k 5] [--json]
    nnplay federated --clients N --split iid|shards --rounds R [--json]

Each prints a readable table, and with --json one JSON object as the last line of stdout.
Errors a person can fix print one line and exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from nnplay.jsonable import plain_json as _plain

EXIT_USAGE = 2


def _ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers like 1,2,3, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive whole numbers like 1,2,3, got {text!r}")
    return values


def _words(text: str) -> list[str]:
    values = [v.strip() for v in text.split(",") if v.strip()]
    if not values:
        raise argparse.ArgumentTypeError("expected names like relu,sigmoid,tanh")
    return values


def add_lab_commands(subparsers) -> None:
    """Add ``lab``, ``pretrained`` and ``federated`` to the top-level parser's subparsers."""
    lab = subparsers.add_parser("lab", help="the hands-on labs' experiments")
    labs = lab.add_subparsers(dest="lab_command", parser_class=type(lab))
    grid = labs.add_parser("mnist-grid", help="hidden layers x neurons x activations on MNIST")
    grid.add_argument("--layers", type=_ints, default=[1, 2, 3])
    grid.add_argument("--neurons", type=_ints, default=[32, 128, 512])
    grid.add_argument("--activations", type=_words, default=["relu", "sigmoid", "tanh"])
    grid.add_argument("--epochs", type=int, default=None, help="epochs per cell (default: the lab's)")
    grid.add_argument("--seed", type=int, default=0)
    grid.add_argument("--json", action="store_true")
    pre = subparsers.add_parser("pretrained", help="the pretrained image model")
    pres = pre.add_subparsers(dest="pretrained_command", parser_class=type(pre))
    predict = pres.add_parser("predict", help="top ImageNet classes for one image file")
    predict.add_argument("image", type=Path)
    predict.add_argument("--k", type=int, default=5)
    predict.add_argument("--json", action="store_true")
    fed = subparsers.add_parser("federated", help="FedAvg over simulated clients")
    fed.add_argument("--clients", type=int, default=10)
    fed.add_argument("--split", choices=["iid", "shards"], default="iid")
    fed.add_argument("--rounds", type=int, default=10)
    fed.add_argument("--local-epochs", type=int, default=1)
    fed.add_argument("--fraction", type=float, default=1.0, help="share of clients per round")
    fed.add_argument("--dataset", default="digits")
    fed.add_argument("--seed", type=int, default=0)
    fed.add_argument("--json", action="store_true")


def _rows(frame) -> list[dict]:
    return [_plain(row) for row in frame.to_dict(orient="records")]


def cmd_mnist_grid(args, out) -> int:
    import nnplay.data  # noqa: F401  (fills the dataset registry mnist5k comes from)
    from nnplay.data import mnist
    from nnplay.lessons import lab_mnist

    choice = mnist.mnist_or_fallback()
    dataset, note = choice.dataset, choice.note
    epochs = lab_mnist.DEFAULT_EPOCHS if args.epochs is None else args.epochs
    if not 1 <= epochs <= 200:
        raise ValueError(f"--epochs must be 1 to 200, got {epochs}.")
    table = lab_mnist.grid_experiment(dataset, args.layers, args.neurons, args.activations,
                                      epochs=epochs, seed=args.seed)
    cells = _rows(table[["layers", "neurons", "activation", "test_accuracy", "parameters",
                         "seconds"]])
    out.write(f"data: {note}\n")
    for c in cells:
        out.write(f"{c['layers']} x {c['neurons']:<4} {c['activation']:<8} accuracy "
                  f"{c['test_accuracy']:.4f}  {c['parameters']:>9,} parameters  "
                  f"{c['seconds']:.1f} s\n")
    if args.json:
        out.write(json.dumps({"dataset": dataset.name, "epochs": epochs, "cells": cells}) + "\n")
    return 0


def cmd_predict(args, out) -> int:
    from nnplay.models.pretrained import predict_image

    if not args.image.is_file():
        raise ValueError(f"{args.image} is not a file; give the path of a photo (JPEG or PNG).")
    if not 1 <= args.k <= 20:
        raise ValueError(f"--k must be 1 to 20, got {args.k}.")
    top = predict_image(args.image, k=args.k)
    for name, prob in top:
        out.write(f"{prob:7.2%}  {name}\n")
    if args.json:
        out.write(json.dumps({"image": str(args.image),
                              "top": [{"class": n, "probability": float(p)} for n, p in top]})
                  + "\n")
    return 0


def cmd_federated(args, out) -> int:
    from nnplay.lessons import federated

    for name, value, low, high in (("--clients", args.clients, 2, 100),
                                   ("--rounds", args.rounds, 1, 200),
                                   ("--local-epochs", args.local_epochs, 1, 20)):
        if not low <= value <= high:
            raise ValueError(f"{name} must be {low} to {high}, got {value}.")
    if not 0.0 < args.fraction <= 1.0:
        raise ValueError(f"--fraction is a share of clients above 0 and at most 1, got "
                         f"{args.fraction:g}.")
    report = federated.fedavg_report(args.dataset, clients=args.clients, split=args.split,
                                     rounds=args.rounds, local_epochs=args.local_epochs,
                                     fraction=args.fraction, seed=args.seed)
    for row in report["history"]:
        out.write(f"round {row['round']:>3}  accuracy {row['accuracy']:.4f}  "
                  f"loss {row['loss']:.4f}\n")
    out.write(f"final accuracy {report['final_accuracy']:.4f} after {args.rounds} rounds "
              f"({report['bytes_total']:,} bytes moved)\n")
    if args.json:
        out.write(json.dumps(_plain(report)) + "\n")
    return 0


def train_pretrained(args, parser) -> int:
    """`nnplay train --model transfer|text ...`: the lab's engine, the usual JSON fields."""
    from nnplay.cli import _finite_or_none

    try:
        if args.model == "transfer":
            from nnplay.lessons import lab_transfer

            run = lab_transfer.train_transfer(args.dataset, per_class=args.per_class or 10,
                                              mode=args.mode or "frozen",
                                              epochs=None if args.epochs == 100 else args.epochs,
                                              seed=args.seed)
            summary = {"dataset": args.dataset, "model": f"transfer {run.backbone} ({run.mode})",
                       "per_class": run.per_class, "epochs_run": run.epochs}
        else:
            from nnplay.lessons import lab_sentiment

            run = lab_sentiment.train_text(args.dataset, mode=args.mode or "frozen",
                                           steps=args.steps or lab_sentiment.DEFAULTS["steps"],
                                           seed=args.seed)
            summary = {"dataset": args.dataset, "model": f"text {run.spec.params.get('base', '')} "
                                                         f"({run.mode})",
                       "macro_f1": run.macro_f1, "steps_run": run.steps_done}
    except ValueError as err:
        parser.error(str(err).splitlines()[0])
    summary.update(test_accuracy=run.test_accuracy, train_seconds=round(run.train_seconds, 3),
                   status=run.status, model_spec=run.spec.to_dict(),
                   parameters=sum(p.numel() for p in run.model.parameters()))
    for key, value in summary.items():
        if key != "model_spec":
            print(f"{key:<14}{value:.4f}" if isinstance(value, float) else f"{key:<14}{value}")
    if args.json:
        print(json.dumps({k: _finite_or_none(v) for k, v in summary.items()}))
    return 0


def run_lab_command(args, out=None, err=None) -> int:
    """Carry out ``lab``, ``pretrained`` or ``federated``; one line and exit 2 for what a person
    can fix."""
    out, err = out or sys.stdout, err or sys.stderr
    if args.command == "lab" and getattr(args, "lab_command", None) != "mnist-grid":
        err.write("nnplay: error: say which lab: nnplay lab mnist-grid [...]\n")
        return EXIT_USAGE
    if args.command == "pretrained" and getattr(args, "pretrained_command", None) != "predict":
        err.write("nnplay: error: say what to do: nnplay pretrained predict IMAGE\n")
        return EXIT_USAGE
    command = {"lab": cmd_mnist_grid, "pretrained": cmd_predict,
               "federated": cmd_federated}[args.command]
    try:
        return command(args, out)
    except (ValueError, OSError) as error:
        text = str(error).splitlines()[0] if str(error) else repr(error)
        err.write(f"nnplay: error: {text}\n")
        return EXIT_USAGE
