"""The recurrent-nets lesson's engine: the long-range memory race (RNN vs LSTM vs GRU as the gap
T grows) and numpy views of a trained recurrent net: hidden states, gates and gradients in time.

The race uses the recipe that lets gated cells learn long gaps: a memory-keeping gate bias of
about log(T) (the LSTM's forget gate, the GRU's update gate; "chrono" initialisation) so memory
survives T steps from the first update, and gradient clipping so the occasional steep step does
not wreck training. A plain RNN has no gate to bias: its gradient fades at every step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from nnplay import data
from nnplay.models import build_model, gradient_through_time
from nnplay.train import TrainConfig, Trainer, predict, seed_everything
from nnplay.train.jobs import Cancelled, fit_stoppable, progress_part
from nnplay.train.predict import model_device

MEMORY_CELLS = ("rnn", "lstm", "gru")
MEMORY_TASK = "first_token_recall"
MEMORY_TOKENS = 4


def memory_bias(seq_len: int) -> float:
    """The gate bias for a T-step gap: log(T), at least 1 (chrono initialisation)."""
    return max(1.0, math.log(int(seq_len)))


def memory_retention(bias: float, seq_len: int) -> float:
    """Share of the cell state left after T steps when the forget gate sits at sigmoid(bias) and
    the input is ignored: sigmoid(bias) ** T (what the gate's starting bias buys)."""
    return float((1.0 / (1.0 + math.exp(-bias))) ** int(seq_len))


LSTM_CELL_LATEX = (r"c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad "
                   r"f_t = \sigma(W_f x_t + U_f h_{t-1} + b_f)")


def memory_spec(cell: str, seq_len: int, hidden_size: int = 32) -> dict:
    """The build_model spec for one cell of the race, with its memory-keeping bias."""
    if cell not in MEMORY_CELLS:
        raise ValueError(f"Unknown cell {cell!r}; choose one of {', '.join(MEMORY_CELLS)}.")
    params: dict = {"hidden_size": int(hidden_size)}
    if cell == "lstm":
        params["forget_bias"] = memory_bias(seq_len)
    elif cell == "gru":
        params["update_bias"] = memory_bias(seq_len)
    return {"family": cell, "params": params}


def memory_config(epochs: int = 25, seed: int = 0, lr: float = 0.01) -> TrainConfig:
    """Adam, batches of 64, gradient norm clipped to 1: the standard recipe for recurrent nets."""
    return TrainConfig(optimizer="adam", lr=lr, batch_size=64, epochs=int(epochs), grad_clip=1.0,
                       seed=int(seed))


@dataclass
class MemoryResult:
    """One trained cell of the race: its test accuracy against chance, time, and gradients."""

    cell: str
    seq_len: int
    seed: int
    accuracy: float
    chance: float
    seconds: float
    gradient_norms: np.ndarray     # ||dL/dh_t|| for t = 0..T-1, after training
    trainer: Trainer = field(repr=False)
    spec: dict = field(repr=False)


def memory_dataset(seq_len: int, n: int = 1000, seed: int = 0):
    """First-token recall with ``seq_len`` steps: one of 4 tokens at t = 0, then noise."""
    return data.load(MEMORY_TASK, n=int(n), seq_len=int(seq_len), n_tokens=MEMORY_TOKENS,
                     seed=int(seed))


def train_memory_cell(cell: str, seq_len: int, n: int = 1000, epochs: int = 25, seed: int = 0,
                      hidden_size: int = 32, should_stop: Callable[[], bool] | None = None,
                      progress: Callable[[int, int], None] | None = None) -> MemoryResult:
    """Train one cell on first-token recall at gap ``seq_len``; returns its result.

    ``progress(epoch, epochs)`` follows the training; once ``should_stop()`` is true the training
    stops and Cancelled is raised (see nnplay.train.jobs)."""
    ds = memory_dataset(seq_len, n, seed)
    spec = memory_spec(cell, seq_len, hidden_size)
    seed_everything(seed)
    trainer = fit_stoppable(Trainer(build_model(spec, ds), ds, memory_config(epochs, seed)),
                            progress, should_stop)
    accuracy = float((predict(trainer.model, ds.X_test) == ds.y_test).mean())
    grads = gradient_norms(trainer.model, ds.X_test[:128], ds.y_test[:128])
    return MemoryResult(cell, int(seq_len), int(seed), accuracy, 1.0 / MEMORY_TOKENS,
                        trainer.train_seconds, grads, trainer, spec)


def memory_race(seq_len: int, cells=MEMORY_CELLS, n: int = 1000, epochs: int = 25,
                seed: int = 0, hidden_size: int = 32,
                progress: Callable[[int, int], None] | None = None,
                should_stop: Callable[[], bool] | None = None) -> dict[str, MemoryResult]:
    """Train each cell in ``cells`` at gap ``seq_len``; ``progress(done, total)`` counts epochs.

    A stop raises Cancelled whose ``result`` holds the cells finished before it."""
    cells, results = list(cells), {}
    total = len(cells) * int(epochs)
    try:
        for i, cell in enumerate(cells):
            results[cell] = train_memory_cell(cell, seq_len, n, epochs, seed, hidden_size,
                                              should_stop,
                                              progress_part(progress, i * int(epochs), total))
    except Cancelled as stop:
        raise Cancelled(result=results) from stop
    return results


# ---- a trained recurrent net, as numbers -----------------------------------------------------

def _inputs(X, model) -> torch.Tensor:
    return torch.as_tensor(np.asarray(X, dtype=np.float32)).to(model_device(model))


def hidden_trajectory(model, x: np.ndarray) -> np.ndarray:
    """The hidden state at every step for one sequence x (T, F): (T, H)."""
    return model.hidden_states(_inputs(x, model)[None])[0].cpu().numpy()


def gate_trajectories(model, x: np.ndarray) -> dict[str, np.ndarray]:
    """Each gate (and the cell state) at every step for one sequence: name -> (T, H)."""
    gates = model.gate_activations(_inputs(x, model)[None])
    return {name: value[0].cpu().numpy() for name, value in gates.items() if name != "hidden"}


def gradient_norms(model, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """||dL/dh_t|| at every step t for a batch: how far back the loss's gradient reaches."""
    target = torch.as_tensor(np.asarray(y)).to(model_device(model))
    return gradient_through_time(model, _inputs(X, model), target)


def forecast_examples(model, dataset, k: int = 4) -> dict:
    """The first k test windows, their true next values and the model's forecasts."""
    k = min(int(k), dataset.n_test)
    return {"windows": dataset.X_test[:k, :, 0], "actual": dataset.y_test[:k],
            "forecast": predict(model, dataset.X_test[:k], "regression")}


def principal_directions(states: np.ndarray, k: int = 2) -> np.ndarray:
    """Project rows of ``states`` (T, H) on their k main directions (PCA by SVD): (T, k)."""
    centred = np.asarray(states, dtype=np.float64) - np.mean(states, axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    out = centred @ vt[:k].T
    if out.shape[1] < k:  # fewer units than directions asked for
        out = np.pad(out, ((0, 0), (0, k - out.shape[1])))
    return out
