"""The ``nnplay`` command line: list datasets and train models from a terminal or a script.

    nnplay datasets
    nnplay train --dataset moons --hidden 16,16 --epochs 200 --json [--save DIR]
    nnplay runs list | show ID | export ID FILE          (nnplay.cli.runs)
    nnplay compress DIR | export DIR | drift ...          (nnplay.cli.production)

Bad arguments print one line and exit with code 2. With --json the last line of stdout is one
JSON object describing the run.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors in one line (no usage dump) and exits with code 2."""

    def error(self, message: str):  # noqa: D401
        self.exit(EXIT_USAGE, f"nnplay: error: {message}\n")


def _hidden(text: str) -> list[int]:
    text = text.strip()
    if text in ("", "none", "0"):
        return []
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--hidden must be comma-separated layer sizes such as 16,16, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"--hidden sizes must be positive, got {text!r}")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    from nnplay.train.config import OPTIMIZERS, SCHEDULES

    parser = _Parser(prog="nnplay", description="nnplay: neural networks from one neuron to production.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    sub.add_parser("datasets", help="list the datasets, one line each")
    tr = sub.add_parser("train", help="train a model and print a summary")
    tr.add_argument("--dataset", required=True, help="a name from `nnplay datasets`")
    tr.add_argument("--model", default="mlp", choices=[*FAMILY_DEFAULTS, *LAB_FAMILIES],
                    help="model family (transfer and text: a pretrained network, see --mode)")
    lab = tr.add_argument_group("pretrained networks (transfer, text)")
    lab.add_argument("--mode", help="transfer: scratch|frozen|finetune_last|finetune_all; "
                                    "text: frozen|finetune")
    lab.add_argument("--per-class", type=int, help="transfer: labelled images per class")
    lab.add_argument("--steps", type=int, help="text, finetune: training steps")
    tr.add_argument("--n", type=int, help="examples to generate (toy datasets)")
    tr.add_argument("--noise", type=float, help="noise level (toy datasets, 0 to 0.5)")
    tr.add_argument("--test-size", type=float, help="share of examples held out for testing")
    tr.add_argument("--hidden", type=_hidden, default=[16, 16], help="hidden layer sizes, e.g. 16,16")
    tr.add_argument("--activation", default="relu", help="relu, leaky_relu, gelu, tanh, sigmoid, linear")
    tr.add_argument("--optimizer", default="adam", choices=OPTIMIZERS)
    tr.add_argument("--lr", type=float, default=None, help="learning rate (default: the family's)")
    tr.add_argument("--epochs", type=int, default=100)
    tr.add_argument("--batch-size", type=int, default=None,
                    help="examples per step, 0 for full batch (default: the family's)")
    arch = tr.add_argument_group("architecture (cnn, rnn/lstm/gru, transformer)")
    arch.add_argument("--channels", type=_hidden, help="cnn: channels per conv block, e.g. 16,32")
    arch.add_argument("--kernel-size", type=int, help="cnn: kernel size")
    arch.add_argument("--hidden-size", type=int, help="rnn/lstm/gru: hidden state size")
    arch.add_argument("--layers", type=int, help="rnn/lstm/gru/transformer: stacked layers")
    arch.add_argument("--bidirectional", action="store_true", help="rnn/lstm/gru: read both ways")
    arch.add_argument("--d-model", type=int, help="transformer: embedding width")
    arch.add_argument("--heads", type=int, help="transformer: attention heads")
    tr.add_argument("--l1", type=float, default=0.0)
    tr.add_argument("--l2", type=float, default=0.0)
    tr.add_argument("--dropout", type=float, default=0.0)
    tr.add_argument("--schedule", default=None, choices=SCHEDULES,
                    help="learning-rate schedule (default: the family's, else constant)")
    tr.add_argument("--early-stopping", type=int, default=None, metavar="PATIENCE")
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    tr.add_argument("--json", action="store_true", help="end with one JSON line describing the run")
    tr.add_argument("--no-record", action="store_true",
                    help="do not store this run in the runs database (`nnplay runs list`)")
    tr.add_argument("--save", metavar="DIR", type=Path,
                    help="write the trained model to DIR (model.safetensors + model.json)")
    from nnplay.cli.labs import add_lab_commands
    from nnplay.cli.production import add_production_commands
    from nnplay.cli.runs import add_runs_commands

    add_runs_commands(sub)
    add_production_commands(sub)
    add_lab_commands(sub)
    return parser


# Per-family defaults for the settings a person leaves out, and which CLI flags each family reads.
FAMILY_DEFAULTS = {
    "mlp": {"lr": 0.01, "batch_size": 32},
    "cnn": {"lr": 0.002, "batch_size": 64, "channels": [16, 32], "schedule": "cosine"},
    "rnn": {"lr": 0.005, "batch_size": 64},
    "lstm": {"lr": 0.005, "batch_size": 64},
    "gru": {"lr": 0.005, "batch_size": 64},
    "transformer": {"lr": 0.003, "batch_size": 64},
    "gcn": {"lr": 0.01, "batch_size": 0, "hidden": [16]},
}
# Pretrained families: trained by their lab's engine (nnplay.cli.labs), not by the flags above.
LAB_FAMILIES = ("transfer", "text")


def model_spec(args) -> dict:
    """The build_model spec for the chosen family from the CLI flags that were given."""
    family = args.model
    if family == "mlp":
        params = {"hidden": args.hidden, "activation": args.activation, "dropout": args.dropout}
    elif family == "cnn":
        params = {"channels": args.channels or FAMILY_DEFAULTS["cnn"]["channels"],
                  "kernel_size": args.kernel_size,
                  "dropout": args.dropout, "activation": args.activation}
    elif family == "gcn":
        hidden = args.hidden if args.hidden != [16, 16] else FAMILY_DEFAULTS["gcn"]["hidden"]
        params = {"hidden": hidden, "dropout": args.dropout or None}
    elif family in ("rnn", "lstm", "gru"):
        params = {"hidden_size": args.hidden_size, "num_layers": args.layers,
                  "bidirectional": args.bidirectional or None, "dropout": args.dropout or None}
    else:
        params = {"d_model": args.d_model, "n_heads": args.heads, "n_layers": args.layers,
                  "dropout": args.dropout or None}
    return {"family": family, "params": {k: v for k, v in params.items() if v is not None}}


def _finite_or_none(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def cmd_datasets(args) -> int:
    from nnplay.data import list_datasets

    for info in list_datasets():
        print(info.one_line())
    return 0


def _load_dataset(args):
    from nnplay import data

    params = {k: v for k, v in (("n", args.n), ("noise", args.noise), ("test_size", args.test_size),
                                ("seed", args.seed)) if v is not None}
    try:
        takes = set(data.dataset_params(args.dataset))
    except ValueError:
        takes = set(params)      # an unknown name: data.load says which names exist
    if "seed" not in takes:      # a fixed dataset (a graph): the seed still seeds training
        params.pop("seed", None)
    return data.load(args.dataset, **params)


def cmd_train(args, parser) -> int:
    if args.model in LAB_FAMILIES:
        from nnplay.cli.labs import train_pretrained

        return train_pretrained(args, parser)
    from nnplay import models, train
    from nnplay.device import device_name, resolve_device

    defaults = FAMILY_DEFAULTS[args.model]
    args.lr = defaults["lr"] if args.lr is None else args.lr
    args.batch_size = defaults["batch_size"] if args.batch_size is None else args.batch_size
    args.schedule = defaults.get("schedule", "constant") if args.schedule is None else args.schedule
    try:
        cfg = train.TrainConfig(optimizer=args.optimizer, lr=args.lr, batch_size=args.batch_size,
                                epochs=args.epochs, l1=args.l1, l2=args.l2, schedule=args.schedule,
                                early_stopping=args.early_stopping, seed=args.seed,
                                device=args.device)
        device = resolve_device(args.device)
        ds = _load_dataset(args)
        train.seed_everything(args.seed)
        spec = model_spec(args)
        net = models.build_model(spec, ds)
    except ValueError as err:
        parser.error(str(err))
    # a tqdm bar on stderr, only on a terminal (disable=None): stdout stays clean for --json
    progress = train.ProgressBar(cfg.epochs, disable=None)
    trainer = train.Trainer(net, ds, cfg, callbacks=[progress])
    trainer.fit()
    summary = run_summary(trainer, model_name=_model_name(spec, net), device=device_name(device))
    summary["model_spec"] = spec
    if not args.no_record:
        from nnplay.cli.runs import record_cli_run

        run_id = record_cli_run(summary, trainer.history_copy(), model_spec=spec,
                                dataset_params=ds.params)
        if run_id is not None:
            summary["run_id"] = run_id
    if args.save is not None:
        try:
            summary["saved_to"] = str(save_trained(args.save, trainer, spec))
        except (OSError, ValueError) as err:
            print(f"nnplay: error: could not save the model to {args.save}: {err}",
                  file=sys.stderr)
            return EXIT_USAGE
    print(readable_summary(summary))
    if args.json:
        print(json.dumps({k: _finite_or_none(v) for k, v in summary.items()}))
    return 0


def save_trained(folder: Path, trainer, spec: dict) -> Path:
    """Write the trainer's model with its record (lesson "cli") to ``folder``."""
    from nnplay.data.ref import DatasetRef
    from nnplay.models import modelio
    from nnplay.train import runs
    from nnplay.train.record import ModelRecord

    ds = trainer.dataset
    metrics = {k[5:]: v for k, v in runs.final_metrics(trainer).items() if k.startswith("test_")}
    record = ModelRecord(f"{spec['family']} on {ds.name}", spec, DatasetRef.of(ds), "cli",
                         trainer.config, tuple(trainer.history_copy()), metrics,
                         trainer.status if trainer.status != "running" else "stopped")
    return modelio.save_dir(folder, trainer.model, record, ds).resolve()


def _model_name(spec: dict, net) -> str:
    text = repr(net)
    return text if len(text) < 120 and "\n" not in text else f"{spec['family']} {type(net).__name__}"


def run_summary(trainer, model_name: str, device: str) -> dict:
    """The facts of a finished run as a flat dict (what --json prints)."""
    from nnplay import models, train

    ds = trainer.dataset
    last = trainer.history[-1] if trainer.history else {}
    summary = {
        "dataset": ds.name, "model": model_name,
        "parameters": models.count_parameters(trainer.model),
        "epochs_run": trainer.epoch, "status": trainer.status,
        "train_loss": last.get("loss", float("nan")),
        "train_seconds": round(trainer.train_seconds, 4), "device": device,
    }
    if trainer.status == "diverged":
        summary["test_loss"] = last.get("val_loss", float("nan"))
        summary.update({"test_accuracy": None} if ds.task == "classification"
                       else {"test_rmse": None, "test_r2": None})
    else:
        test = train.evaluate(trainer.model, ds)
        summary["test_loss"] = test["loss"]
        if ds.task == "classification":
            summary["test_accuracy"] = test["accuracy"]
        else:
            summary["test_rmse"], summary["test_r2"] = test["rmse"], test["r2"]
    if trainer.stop_reason:
        summary["reason"] = trainer.stop_reason
    footprint = trainer.footprint()   # None values when not measured (NNPLAY_GREEN=0)
    summary.update(flops=footprint.flops, energy_kwh=footprint.energy_kwh,
                   co2_kg=footprint.co2_kg, co2_country=footprint.country)
    summary["config"] = trainer.config.to_dict()
    return summary


def readable_summary(s: dict) -> str:
    def fmt(v):
        return "n/a" if v is None or (isinstance(v, float) and not math.isfinite(v)) else (
            f"{v:.4f}" if isinstance(v, float) else str(v))

    lines = [f"dataset     {s['dataset']}", f"model       {s['model']} ({s['parameters']:,} parameters)",
             f"device      {s['device']}", f"status      {s['status']} after {s['epochs_run']} epochs"
             + (f" ({s['reason']})" if s.get("reason") else ""),
             f"train loss  {fmt(s['train_loss'])}", f"test loss   {fmt(s['test_loss'])}"]
    if "test_accuracy" in s:
        lines.append(f"test acc    {fmt(s['test_accuracy'])}")
    else:
        lines.append(f"test rmse   {fmt(s['test_rmse'])}   r2 {fmt(s['test_r2'])}")
    lines.append(f"train time  {s['train_seconds']:.2f} s")
    if "flops" in s:
        from nnplay.train import green

        grid = green.countries().get(s.get("co2_country") or "", "world-average")
        lines.append(f"footprint   {green.format_flops(s['flops'])}, "
                     f"{green.format_energy(s.get('energy_kwh'))}, "
                     f"{green.format_co2(s.get('co2_kg'))} (estimated; {grid} grid)")
    if s.get("saved_to"):
        lines.append(f"saved to    {s['saved_to']}")
    if s.get("run_id") is not None:
        lines.append(f"run id      {s['run_id']} (nnplay runs show {s['run_id']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "datasets":
        return cmd_datasets(args)
    if args.command == "train":
        sub = parser._subparsers._group_actions[0].choices["train"]  # one-line errors for train
        return cmd_train(args, sub)
    if args.command == "runs":
        from nnplay.cli.runs import run_runs_command

        return run_runs_command(args)
    if args.command in ("lab", "pretrained", "federated"):
        from nnplay.cli.labs import run_lab_command

        return run_lab_command(args)
    if args.command in ("compress", "export", "drift"):
        from nnplay.cli.production import run_production_command

        return run_production_command(args)
    parser.print_help()
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
