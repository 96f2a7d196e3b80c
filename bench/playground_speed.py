"""Playground engine speed: epochs per second of full-batch training of a 2-8-8-1 tanh net on
500 points, nnplay's Trainer against plain hand-written PyTorch loops measured in the same run,
plus the server-side cost of one live redraw (chunk, grid, figures, JSON).

    .venv/bin/python bench/playground_speed.py [--seconds 2] [--rounds 3]

Targets from the Playground issue: >= 1,000 epochs/s and >= 70% of the plain loop's rate.
Everything runs on one torch thread, as the Playground does (see playground.single_thread).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nnplay import data, train  # noqa: E402
from nnplay.lessons import playground as pg  # noqa: E402
from nnplay.plots import playground as plots  # noqa: E402


def dataset():
    """TF's plane regression set: 500 training points (and 500 test points for validation)."""
    return data.load("plane", n=1000, noise=0.0, test_size=0.5, seed=0)


def net(seed: int = 0) -> nn.Module:
    train.seed_everything(seed)
    from nnplay import models
    return models.mlp(2, [8, 8], 1, activation="tanh")


def rate(run_epochs, seconds: float) -> float:
    """Epochs per second of ``run_epochs(k)`` over about ``seconds``."""
    run_epochs(20)                                   # warm-up
    epochs, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        run_epochs(200)
        epochs += 200
    return epochs / (time.perf_counter() - t0)


def trainer_rate(seconds: float) -> float:
    cfg = train.TrainConfig(optimizer="sgd", lr=0.03, batch_size=0, epochs=100_000,
                            device="cpu", track_grad_norm=False)
    trainer = train.Trainer(net(), dataset(), cfg)
    return rate(lambda k: trainer.run(k), seconds)


def plain_rate(seconds: float, fused: bool, validate: bool) -> float:
    ds = dataset()
    X, y = torch.as_tensor(ds.X_train), torch.as_tensor(ds.y_train)
    Xv, yv = torch.as_tensor(ds.X_test), torch.as_tensor(ds.y_test)
    model = net()
    opt = torch.optim.SGD(model.parameters(), lr=0.03, **({"fused": True} if fused else {}))

    def run_epochs(k: int) -> None:
        for _ in range(k):
            loss = nn.functional.mse_loss(model(X).reshape(y.shape), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if validate:
                with torch.no_grad():
                    float(nn.functional.mse_loss(model(Xv).reshape(yv.shape), yv))
    return rate(run_epochs, seconds)


def redraw_ms(rounds: int = 20) -> dict:
    """Median server-side milliseconds of one live redraw, part by part (spiral, 8-8-8, batch 32)."""
    s = pg.PlaygroundSettings(dataset="spiral", hidden=(8, 8, 8), optimizer="adam",
                              batch_size=32, show_test=True)
    session = pg.PlaygroundSession(s)
    raw, parts = session.raw, {"chunk": [], "grid": [], "figures": [], "json": []}
    for _ in range(rounds):
        t0 = time.perf_counter()
        session.run_chunk()
        t1 = time.perf_counter()
        grid = pg.output_grid(session.model, s.features, *pg.plane_limits(raw), s.problem)
        t2 = time.perf_counter()
        history = session.trainer.history_copy()
        figs = [plots.output_heatmap_figure(grid.xs, grid.ys, grid.output, s.problem, raw.X_train,
                                            raw.y_train, raw.X_test, raw.y_test),
                plots.network_figure([2, 8, 8, 8, 2], pg.network_weights(session.model),
                                     ["X₁", "X₂"], raw.class_names),
                plots.neuron_maps_figure(grid.neurons, s.hidden),
                plots.loss_curves_figure(history, [], pg.best_epoch(history))]
        t3 = time.perf_counter()
        for fig in figs:
            fig.to_json()
        t4 = time.perf_counter()
        for key, value in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            parts[key].append(value * 1e3)
    medians = {k: statistics.median(v) for k, v in parts.items()}
    medians["total"] = sum(medians.values())
    medians["epochs_per_chunk"] = session.pacer.next_epochs()
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved repetitions")
    args = parser.parse_args()
    results = {"nnplay Trainer": [], "plain loop (default SGD)": [],
               "plain loop (fused SGD)": [], "plain loop (fused SGD) + test loss": []}
    with pg.single_thread():
        for _ in range(args.rounds):    # interleaved, so load from other processes hits all alike
            results["nnplay Trainer"].append(trainer_rate(args.seconds))
            results["plain loop (default SGD)"].append(plain_rate(args.seconds, False, False))
            results["plain loop (fused SGD)"].append(plain_rate(args.seconds, True, False))
            results["plain loop (fused SGD) + test loss"].append(
                plain_rate(args.seconds, True, True))
    best = {k: max(v) for k, v in results.items()}
    ours = best["nnplay Trainer"]
    print(f"Full-batch 2-8-8-1 tanh, plane regression, 500 training points, torch "
          f"{torch.__version__}, 1 thread; best of {args.rounds} rounds of {args.seconds:g} s")
    for name, value in best.items():
        print(f"  {name:<38} {value:8.0f} epochs/s   nnplay / this = {ours / value:.2f}")
    print(f"  target: >= 1,000 epochs/s -> {'met' if ours >= 1000 else 'NOT met'}; "
          f">= 0.70 of the plain loop -> default {ours / best['plain loop (default SGD)']:.2f}, "
          f"fused {ours / best['plain loop (fused SGD)']:.2f}")
    ms = redraw_ms()
    print("One live redraw on the server (median ms): " +
          ", ".join(f"{k} {v:.1f}" for k, v in ms.items() if k != "epochs_per_chunk") +
          f"; the pacer now runs {ms['epochs_per_chunk']} epochs per chunk")


if __name__ == "__main__":
    main()
