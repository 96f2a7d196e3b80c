"""GPU check: every model family trained on CUDA and on the CPU from the same seed, compared.

    .venv/bin/python bench/gpu_check.py [--epochs 3] [--loss-tolerance 0.05] [--agreement 0.97]

For each family (mlp, cnn, rnn, lstm, gru, transformer) on a dataset that suits it, one network
is built from a seed and copied, and the same Trainer settings train one copy on the CPU and one
on the GPU (the same shuffling order: it comes from a CPU generator; no dropout). TF32 is switched
off so the GPU multiplies in full float32. Checked per family:

- the final training losses agree within ``--loss-tolerance`` (relative, at least 0.001);
- the two trained models predict the same test classes for at least ``--agreement`` of the
  test examples (regression: RMS difference at most ``--loss-tolerance`` x the targets' std);
- the speed ratio (CPU seconds / GPU seconds, fastest epoch of each) is printed, with both
  runs' FLOP counts (nnplay.train.green; they should be about equal).

Prints "no CUDA device: skipped" and exits 0 on a machine without CUDA. Exits 1 when a family
fails a check. ``--against cpu`` runs the CPU against itself (a test of this script's logic).
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FAMILIES = (   # family, dataset, loader parameters, model parameters, learning rate, batch size
    ("mlp", "digits", {}, {"hidden": [64, 32]}, 0.01, 64),
    ("cnn", "digits", {}, {"channels": [8, 16], "hidden": [32]}, 0.003, 64),
    ("rnn", "sine_forecast", {}, {"hidden_size": 32}, 0.005, 64),
    ("lstm", "first_token_recall", {}, {"hidden_size": 32}, 0.005, 64),
    ("gru", "sine_forecast", {}, {"hidden_size": 32}, 0.005, 64),
    ("transformer", "reverse_sequence", {}, {"d_model": 32, "n_heads": 2, "n_layers": 2}, 0.003,
     64),
)


def train_on(model, ds, device: str, epochs: int, lr: float, batch: int, seed: int):
    from nnplay import train

    cfg = train.TrainConfig(optimizer="adam", lr=lr, batch_size=batch, epochs=epochs, seed=seed,
                            device=device, grad_clip=1.0)
    trainer = train.Trainer(model, ds, cfg).fit()
    fastest = min(h["seconds"] for h in trainer.history)
    return trainer, fastest


def agreement(a, b, ds, tolerance: float) -> tuple[float, str]:
    """How alike two trained models predict on the test split (the share of identical classes;
    for regression 1 or 0: RMS difference within ``tolerance`` x std), and a phrase saying so."""
    from nnplay.train import predict_raw

    out_a = predict_raw(a, ds.X_test)
    out_b = predict_raw(b, ds.X_test)
    if ds.task == "classification":
        same = float(np.mean(out_a.argmax(-1) == out_b.argmax(-1)))
        return same, f"{same:.1%} same class"
    rms = float(np.sqrt(np.mean((out_a - out_b) ** 2)))
    scale = float(np.std(ds.y_test)) or 1.0
    return 1.0 if rms <= tolerance * scale else 0.0, f"RMS difference {rms:.2g} (std {scale:.2g})"


def check_family(row, device: str, args) -> dict:
    from nnplay import data, train
    from nnplay.models import build_model

    family, name, params, model_params, lr, batch = row
    ds = data.load(name, **params)
    train.seed_everything(args.seed)
    first = build_model({"family": family, "params": model_params}, ds)
    second = copy.deepcopy(first)
    cpu, cpu_s = train_on(first, ds, "cpu", args.epochs, lr, batch, args.seed)
    other, other_s = train_on(second, ds, device, args.epochs, lr, batch, args.seed)
    loss_a, loss_b = cpu.history[-1]["loss"], other.history[-1]["loss"]
    loss_ok = abs(loss_a - loss_b) <= max(args.loss_tolerance * abs(loss_a), 1e-3)
    same, said = agreement(cpu.model, other.model, ds, args.loss_tolerance)
    predictions_ok = same >= args.agreement
    return {"family": family, "dataset": name, "cpu_loss": loss_a, "other_loss": loss_b,
            "loss_ok": loss_ok, "predictions": said, "predictions_ok": predictions_ok,
            "speed_ratio": cpu_s / other_s if other_s > 0 else float("nan"),
            "cpu_flops": cpu.footprint().flops, "other_flops": other.footprint().flops,
            "ok": loss_ok and predictions_ok}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--loss-tolerance", type=float, default=0.05)
    parser.add_argument("--agreement", type=float, default=0.97)
    parser.add_argument("--against", default="cuda", choices=["cuda", "cpu"],
                        help="the device compared with the CPU (cpu: a self-test of this script)")
    parser.add_argument("--families", default=",".join(r[0] for r in FAMILIES),
                        help="comma-separated families to check")
    args = parser.parse_args(argv)
    if args.against == "cuda" and not torch.cuda.is_available():
        print("no CUDA device: skipped")
        return 0
    if args.against == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False   # full float32, like the CPU
        torch.backends.cudnn.allow_tf32 = False
        print(f"GPU: {torch.cuda.get_device_name(0)}; CPU threads: {torch.get_num_threads()}")
    wanted = set(args.families.split(","))
    rows, t0 = [], time.perf_counter()
    print(f"{'family':<12} {'dataset':<19} {'CPU loss':>9} {args.against + ' loss':>10} "
          f"{'predictions':<30} {'speed':>7} {'FLOPs cpu/other':>16}  result")
    for row in FAMILIES:
        if row[0] not in wanted:
            continue
        r = check_family(row, args.against, args)
        rows.append(r)
        flops = (f"{r['cpu_flops'] / r['other_flops']:.3f}" if r["cpu_flops"] and r["other_flops"]
                 else "n/a")
        print(f"{r['family']:<12} {r['dataset']:<19} {r['cpu_loss']:>9.4f} {r['other_loss']:>10.4f}"
              f" {r['predictions']:<30} {r['speed_ratio']:>6.1f}x {flops:>16}  "
              f"{'ok' if r['ok'] else 'MISMATCH'}", flush=True)
    failed = [r["family"] for r in rows if not r["ok"]]
    print(f"{len(rows) - len(failed)} of {len(rows)} families agree "
          f"({time.perf_counter() - t0:.0f} s)" + (f"; mismatched: {', '.join(failed)}" if failed
                                                   else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
