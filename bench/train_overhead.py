"""Benchmark: nnplay's Trainer against a plain PyTorch loop and scikit-learn's MLPClassifier.

Same task for all three: a 784-128-10 MLP on mnist5k (3,750 training images), Adam at lr 1e-3,
batch 64, 20 epochs, seed 0. The plain loop is an honest typical loop (shuffle, train steps and
the test accuracy once per epoch); the Trainer also computes the validation loss, train
accuracy and the gradient norm every epoch. Each contender runs ``--repeats`` times, interleaved,
and the fastest run of each is compared (the usual way to time on a shared machine).

    python bench/train_overhead.py [--repeats 3] [--epochs 20] [--threads N] [--profile]

Target: the Trainer within 1.10x of the plain loop; faster than scikit-learn, as accurate.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nnplay import data, models, train  # noqa: E402

HIDDEN, BATCH, LR, SEED = 128, 64, 1e-3, 0


def plain_loop(model: nn.Module, ds, epochs: int) -> tuple[float, float]:
    """A typical hand-written loop; returns (seconds, final test accuracy)."""
    X, y = torch.as_tensor(ds.X_train), torch.as_tensor(ds.y_train)
    Xt, yt = torch.as_tensor(ds.X_test), torch.as_tensor(ds.y_test)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    gen = torch.Generator().manual_seed(SEED)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(X), generator=gen).split(BATCH):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(X[idx]), y[idx])
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            accuracy = float((model(Xt).argmax(1) == yt).float().mean())
    return time.perf_counter() - start, accuracy


def nnplay_trainer(model: nn.Module, ds, epochs: int) -> tuple[float, float]:
    cfg = train.TrainConfig(optimizer="adam", lr=LR, batch_size=BATCH, epochs=epochs, seed=SEED,
                            device="cpu")
    start = time.perf_counter()
    trainer = train.Trainer(model, ds, cfg)
    trainer.fit()
    seconds = time.perf_counter() - start
    return seconds, trainer.history[-1]["val_accuracy"]


def sklearn_mlp(ds, epochs: int) -> tuple[float, float]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X, Xt = ds.X_train.reshape(len(ds.X_train), -1), ds.X_test.reshape(len(ds.X_test), -1)
    clf = MLPClassifier(hidden_layer_sizes=(HIDDEN,), solver="adam", batch_size=BATCH,
                        learning_rate_init=LR, alpha=0.0, max_iter=epochs, tol=0.0,
                        n_iter_no_change=epochs, shuffle=True, random_state=SEED)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, ds.y_train)
    seconds = time.perf_counter() - start
    return seconds, float((clf.predict(Xt) == ds.y_test).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="cProfile one Trainer run")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch intra-op threads (0 = torch's default)")
    args = parser.parse_args()
    if args.threads:  # the same budget for torch and for the BLAS scikit-learn calls
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)

    ds = data.load("mnist5k")
    train.seed_everything(SEED)
    initial = models.mlp(ds.n_features, [HIDDEN], ds.n_outputs)
    print(f"mnist5k: {ds.n_train} train / {ds.n_test} test, MLP 784-{HIDDEN}-10, Adam lr {LR}, "
          f"batch {BATCH}, {args.epochs} epochs; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    times: dict[str, list[float]] = {"plain": [], "nnplay": [], "sklearn": []}
    accuracy: dict[str, float] = {}
    for _ in range(args.repeats):
        for name, run in (("plain", lambda: plain_loop(copy.deepcopy(initial), ds, args.epochs)),
                          ("nnplay", lambda: nnplay_trainer(copy.deepcopy(initial), ds,
                                                            args.epochs)),
                          ("sklearn", lambda: sklearn_mlp(ds, args.epochs))):
            seconds, accuracy[name] = run()
            times[name].append(seconds)
    best = {k: min(v) for k, v in times.items()}
    print(f"{'':<22}{'best s':>8}{'median s':>10}{'test acc':>10}")
    titles = {"plain": "plain PyTorch loop", "nnplay": "nnplay Trainer", "sklearn": "sklearn MLPClassifier"}
    for name, title in titles.items():
        print(f"{title:<22}{best[name]:>8.2f}{float(np.median(times[name])):>10.2f}"
              f"{accuracy[name]:>10.4f}")
    print(f"nnplay / plain loop: {best['nnplay'] / best['plain']:.3f}x (target <= 1.10x)")
    print(f"nnplay / sklearn:    {best['nnplay'] / best['sklearn']:.3f}x time, "
          f"accuracy {accuracy['nnplay']:.4f} vs {accuracy['sklearn']:.4f}")
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(nnplay_trainer, copy.deepcopy(initial), ds, args.epochs)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(18)


if __name__ == "__main__":
    main()
