"""Every model family trained from the CLI on a task that suits it: accuracy (or R²) and seconds.

    .venv/bin/python bench/families.py

Includes the architecture issue's benchmark command (a CNN on mnist5k, 15 epochs: >= 97% test
accuracy in at most 60 s on a 2-core CPU). Each run is a fresh `python -m nnplay` process, so
the wall time includes start-up and data loading; train_seconds is the training loop alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = [
    ("mlp", ["--dataset", "moons", "--noise", "0.1", "--hidden", "16,16", "--epochs", "200"]),
    ("mlp", ["--dataset", "spiral", "--n", "500", "--test-size", "0.5", "--noise", "0",
             "--hidden", "8,8,8", "--activation", "tanh", "--optimizer", "adam", "--lr", "0.03",
             "--batch-size", "32", "--epochs", "1000"]),
    ("cnn", ["--dataset", "mnist5k", "--epochs", "15"]),
    ("rnn", ["--dataset", "sine_forecast", "--epochs", "30"]),
    ("lstm", ["--dataset", "sine_forecast", "--epochs", "30"]),
    ("gru", ["--dataset", "sine_forecast", "--epochs", "30"]),
    ("transformer", ["--dataset", "reverse_sequence", "--epochs", "15"]),
]


def main() -> None:
    print(f"{'family':<12} {'dataset':<18} {'metric':>14} {'train s':>8} {'wall s':>7}")
    for family, args in RUNS:
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "nnplay", "train", "--model", family, *args,
                              "--seed", "0", "--json", "--no-record"], cwd=ROOT,
                             capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t0
        s = json.loads(out.stdout.strip().splitlines()[-1])
        metric = (f"acc {s['test_accuracy']:.4f}" if "test_accuracy" in s
                  else f"R² {s['test_r2']:.4f}")
        print(f"{family:<12} {s['dataset']:<18} {metric:>14} {s['train_seconds']:>8.1f} {wall:>7.1f}")


if __name__ == "__main__":
    main()
