"""Compression on this machine's CPU, measured in one run: int8 size, the fastest variant, and
structured pruning, for the mnist5k MLP (784-256-128-10) and a mnist5k CNN.

Goals (from the issue): an int8 file at most 0.3 of fp32's at an accuracy drop of at most one
point; the latency of the best CPU variant (ONNX Runtime included) against fp32 PyTorch at batch
1 and 64; 50% of channels removed, a short fine-tune, and the size and latency ratios and
accuracy after it. Every row of nnplay.production.compress.tradeoff is printed first, with
torch.compile rows (Inductor compiles for a minute or two per model).

    .venv/bin/python bench/production.py [--no-compile]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from nnplay import data  # noqa: E402
from nnplay.models import ModelSpec  # noqa: E402
from nnplay.production import compress  # noqa: E402
from nnplay.train.quick import default_config, quick_trainer  # noqa: E402

SIZE_GOAL, MAX_DROP = 0.3, 0.01
MODELS = {"MLP 784-256-128-10": (ModelSpec("mlp", {"hidden": [256, 128]}), 8),
          "CNN conv 8-16, dense 64": (ModelSpec("cnn", {"channels": [8, 16], "hidden": [64]}), 4)}


def ms(value) -> str:
    return "-" if pd.isna(value) else f"{value:.3f}"


def print_table(df: pd.DataFrame) -> None:
    cols = {"size kB": lambda r: f"{r['size_bytes'] / 1000:.1f}", "size x": lambda r:
            f"{r['size_ratio']:.3f}", "acc": lambda r: f"{r['score']:.4f}",
            "b1 1t": lambda r: ms(r.get("latency_b1_t1_p50_ms")),
            "b64 1t": lambda r: ms(r.get("latency_b64_t1_p50_ms")),
            "b64 1t p95": lambda r: ms(r.get("latency_b64_t1_p95_ms")),
            "b1 all": lambda r: ms(r.get("latency_b1_tall_p50_ms")),
            "b64 all": lambda r: ms(r.get("latency_b64_tall_p50_ms")),
            "rows/s 1t": lambda r: f"{r['throughput_t1_per_s']:,.0f}",
            "max|d|": lambda r: f"{r['max_abs_diff']:.2g}"}
    print(f"{'variant':<52}" + "".join(f"{c:>11}" for c in cols))
    for _, r in df.iterrows():
        name = compress.label(r)[:51]
        if r["status"] != "ok":
            print(f"{name:<52}  {r['status']}: {r['note'][:90]}")
            continue
        print(f"{name:<52}" + "".join(f"{f(r):>11}" for f in cols.values()))
    print("latency: median ms of repeated calls after a warm-up; 1t = one thread, all = "
          f"{df.attrs['threads_all']} threads; accuracy on {df.attrs['test_rows']} test rows")


def goals(name: str, df: pd.DataFrame) -> list[str]:
    ok = df[df["status"] == "ok"]
    base = ok.iloc[0]
    lines = []
    int8 = ok[ok["variant"].str.contains("int8") & ~ok["variant"].str.startswith("structured")
              & (ok["score_change"] >= -MAX_DROP)]
    best = int8.loc[int8["size_ratio"].idxmin()] if len(int8) else None
    if best is not None:
        verdict = "meets" if best["size_ratio"] <= SIZE_GOAL else "MISSES"
        lines.append(f"{name}: int8 size ratio {best['size_ratio']:.3f} ({compress.label(best)}, "
                     f"accuracy {best['score_change'] * 100:+.1f} pts), goal <= {SIZE_GOAL}: "
                     f"{verdict}")
    for tag, threads in (("t1", "1 thread"), ("tall", f"{df.attrs['threads_all']} threads")):
        for batch in (1, 64):
            col = compress.latency_column(batch, tag)
            fast = compress.best_variant(df, col, MAX_DROP)
            ort = ok[ok["variant"] == "fp32 (ONNX Runtime)"]
            ort_ratio = f"; ONNX Runtime fp32 {ort.iloc[0][col] / base[col]:.2f}" if len(ort) \
                else ""
            lines.append(f"{name}: batch {batch}, {threads}: best {compress.label(fast)} "
                         f"{fast[col]:.3f} ms vs fp32 PyTorch {base[col]:.3f} ms, ratio "
                         f"{fast[col] / base[col]:.2f}{ort_ratio}")
    pruned = ok[ok["variant"] == "structured 50%"]
    if len(pruned):
        p = pruned.iloc[0]
        lines.append(f"{name}: structured 50% + 2 epochs fine-tune: size ratio "
                     f"{p['size_ratio']:.3f}, latency ratio batch 1 "
                     f"{p['latency_b1_t1_p50_ms'] / base['latency_b1_t1_p50_ms']:.2f}, batch 64 "
                     f"{p['latency_b64_t1_p50_ms'] / base['latency_b64_t1_p50_ms']:.2f} (1 "
                     f"thread), accuracy {p['score']:.4f} vs {base['score']:.4f}")
    return lines


def main() -> int:
    compile_rows = "--no-compile" not in sys.argv
    ds = data.load("mnist5k")
    summary = []
    for name, (spec, epochs) in MODELS.items():
        t0 = time.perf_counter()
        model = quick_trainer(ds, spec, default_config(epochs, lr=0.001)).fit().model
        trained = time.perf_counter() - t0
        df = compress.tradeoff(model, ds, structured=(0.25, 0.5, 0.75), unstructured=(0.5, 0.9),
                               fine_tune_epochs=2, compile=compile_rows, repeats=100,
                               budget_s=1.0)
        print(f"\n== {name} on mnist5k (trained {epochs} epochs in {trained:.0f} s, measured in "
              f"{time.perf_counter() - t0 - trained:.0f} s)")
        print_table(df)
        summary += goals(name, df)
    print("\n== goals")
    for line in summary:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
