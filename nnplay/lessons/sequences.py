"""The recurrent-nets lesson's engine: the long-range memory race (RNN vs LSTM vs GRU as the gap
T grows), the gradient each cell starts training with, verdicts against chance, and numpy views
of a trained recurrent net: hidden states, gates and gradients in time.

The race uses the recipe that lets gated cells learn long gaps: a memory-keeping gate bias of
about log(T) (the LSTM's forget gate, the GRU's update gate; "chrono" initialisation) so memory
survives T steps from the first update, and gradient clipping so the occasional steep step does
not wreck training. A plain RNN has no gate to bias: at initialisation its gradient shrinks by
about half at every step back, so the first token's signal never reaches the loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.stats import binomtest

from nnplay import data
from nnplay.models import build_model, gradient_through_time
from nnplay.train import TrainConfig, Trainer, predict, seed_everything
from nnplay.train.jobs import Cancelled, fit_stoppable, progress_part
from nnplay.train.predict import model_device

MEMORY_CELLS = ("rnn", "lstm", "gru")
MEMORY_TASK = "first_token_recall"
MEMORY_TOKENS = 4
# Std of the noise between the token and the question. At 1.0 a plain RNN now and then learns to
# hold a token for 50 steps (0.80 accuracy for seed 0), hiding the trend; at 1.25 it stays at
# chance at T = 50 for seeds 0-4 while the LSTM and GRU reach 0.95 or more; from 1.5 the GRU
# starts to fail as well.
MEMORY_NOISE = 1.25
RACE_GAPS = (10, 25, 50)  # the gaps T raced by default: short, medium, long
CLEAR_MARGIN = 0.1        # accuracy above chance that counts as a clear win


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
    initial_gradient_norms: np.ndarray  # ||dL/dh_t|| for t = 0..T-1 before the first update
    gradient_norms: np.ndarray          # the same after training
    trainer: Trainer = field(repr=False)
    spec: dict = field(repr=False)


def memory_dataset(seq_len: int, n: int = 1000, seed: int = 0):
    """First-token recall with ``seq_len`` steps: one of 4 tokens at t = 0, then noise."""
    return data.load(MEMORY_TASK, n=int(n), seq_len=int(seq_len), n_tokens=MEMORY_TOKENS,
                     distractor_scale=MEMORY_NOISE, seed=int(seed))


def _memory_model(cell: str, seq_len: int, ds, seed: int, hidden_size: int):
    """The cell's network exactly as the race starts it: seeded, with its memory bias."""
    spec = memory_spec(cell, seq_len, hidden_size)
    seed_everything(seed)
    return build_model(spec, ds), spec


def initial_gradient_norms(seq_len: int, cells=MEMORY_CELLS, n: int = 1000, seed: int = 0,
                           hidden_size: int = 32) -> dict[str, np.ndarray]:
    """||dL/dh_t|| for each cell at initialisation, on 128 test sequences: the gradient the race
    starts from (the same numbers as a MemoryResult's ``initial_gradient_norms``)."""
    ds = memory_dataset(seq_len, n, seed)
    return {cell: gradient_norms(_memory_model(cell, seq_len, ds, seed, hidden_size)[0],
                                 ds.X_test[:128], ds.y_test[:128]) for cell in cells}


def train_memory_cell(cell: str, seq_len: int, n: int = 1000, epochs: int = 25, seed: int = 0,
                      hidden_size: int = 32, should_stop: Callable[[], bool] | None = None,
                      progress: Callable[[int, int], None] | None = None) -> MemoryResult:
    """Train one cell on first-token recall at gap ``seq_len``; returns its result.

    ``progress(epoch, epochs)`` follows the training; once ``should_stop()`` is true the training
    stops and Cancelled is raised (see nnplay.train.jobs)."""
    ds = memory_dataset(seq_len, n, seed)
    model, spec = _memory_model(cell, seq_len, ds, seed, hidden_size)
    before = gradient_norms(model, ds.X_test[:128], ds.y_test[:128])  # draws no random numbers
    trainer = fit_stoppable(Trainer(model, ds, memory_config(epochs, seed)), progress,
                            should_stop)
    accuracy = float((predict(trainer.model, ds.X_test) == ds.y_test).mean())
    after = gradient_norms(trainer.model, ds.X_test[:128], ds.y_test[:128])
    return MemoryResult(cell, int(seq_len), int(seed), accuracy, 1.0 / MEMORY_TOKENS,
                        trainer.train_seconds, before, after, trainer, spec)


def race_plan(seq_lens, done=(), cells=MEMORY_CELLS) -> dict[int, list[str]]:
    """{T: the cells still to train at T} for each gap in ``seq_lens``, skipping the (T, cell)
    pairs in ``done``; gaps with nothing left are left out."""
    done = {(int(t), c) for t, c in done}
    plan = {int(t): [c for c in cells if (int(t), c) not in done] for t in sorted(set(seq_lens))}
    return {t: todo for t, todo in plan.items() if todo}


def memory_race(plan: dict[int, list[str]], n: int = 1000, epochs: int = 25, seed: int = 0,
                hidden_size: int = 32, progress: Callable[[int, int], None] | None = None,
                should_stop: Callable[[], bool] | None = None
                ) -> dict[tuple[int, str], MemoryResult]:
    """Train the cells of ``plan`` ({T: cells}, see race_plan) at each gap T; returns
    {(T, cell): result}. ``progress(done, total)`` counts epochs over the whole race.

    A stop raises Cancelled whose ``result`` holds the cells finished before it."""
    runs = [(int(t), cell) for t, cells in plan.items() for cell in cells]
    results: dict[tuple[int, str], MemoryResult] = {}
    total = len(runs) * int(epochs)
    try:
        for i, (seq_len, cell) in enumerate(runs):
            results[seq_len, cell] = train_memory_cell(
                cell, seq_len, n, epochs, seed, hidden_size, should_stop,
                progress_part(progress, i * int(epochs), total))
    except Cancelled as stop:
        raise Cancelled(result=results) from stop
    return results


# ---- what a number means ----------------------------------------------------------------------

def chance_verdict(accuracy: float, chance: float, n_test: int,
                   margin: float = CLEAR_MARGIN) -> tuple[str, str]:
    """(level, sentence) for a test accuracy against guessing.

    "success" only for a clear win: at least ``margin`` above chance and significant on the
    ``n_test`` test sequences (one-sided binomial test, p < 0.01). Anything else is "warning":
    "no better than guessing" when the test cannot tell it from chance, "barely better than
    guessing" when it can but the gain is under ``margin``."""
    if not math.isfinite(accuracy):
        return "warning", "No accuracy: the training diverged."
    gain = accuracy - chance
    hits = round(accuracy * int(n_test))
    p_value = binomtest(hits, int(n_test), chance, alternative="greater").pvalue
    if p_value >= 0.01:
        return "warning", (f"No better than guessing: {accuracy:.0%} right, and guessing gets "
                           f"{chance:.0%}.")
    if gain < margin:
        return "warning", (f"Barely better than guessing: {accuracy:.0%} right against "
                           f"{chance:.0%} by guessing (+{gain:.2f}).")
    return "success", (f"Clearly better than guessing: {accuracy:.0%} right against "
                       f"{chance:.0%} by guessing.")


def shown_number(value: float, digits: int = 3) -> str:
    """A metric for the page: ``digits`` decimals, or "diverged" when it is nan or infinite."""
    return f"{value:.{digits}f}" if math.isfinite(value) else "diverged"


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def shown_ratio(ratio: float) -> str:
    """A ratio for a person: 0.14, 0.0031, or 3 × 10⁻¹⁴ when tiny; "not measurable" if not a
    positive finite number."""
    if not math.isfinite(ratio) or ratio < 0:
        return "not measurable"
    if ratio == 0:
        return "0"
    if ratio >= 1e-3:
        return f"{ratio:.2g}"
    exponent = math.floor(math.log10(ratio))
    return f"{ratio / 10 ** exponent:.0f} × 10{str(exponent).translate(_SUPERSCRIPT)}"


def gradient_reach(norms: np.ndarray) -> float:
    """||dL/dh_0|| / ||dL/dh_{T-1}||: the share of the last step's gradient that reaches the first
    step (nan when the last step's is 0 or not finite)."""
    norms = np.asarray(norms, dtype=float)
    last = norms[-1]
    if not (np.isfinite(last) and last > 0 and np.isfinite(norms[0])):
        return float("nan")
    return float(norms[0] / last)


def gradient_sentence(norms: dict[str, np.ndarray], titles: dict[str, str]) -> str:
    """What a gradient-through-time chart shows, cell by cell: the share of the last step's
    gradient left at t = 0 and, where it vanishes, the factor it shrinks by per step."""
    parts = []
    for cell, values in norms.items():
        reach, steps = gradient_reach(values), len(values) - 1
        text = f"{titles.get(cell, cell)}: {shown_ratio(reach)}"
        if math.isfinite(reach) and 0 < reach < 1e-2 and steps > 0:
            text += f" (about ×{reach ** (1 / steps):.2f} per step back: it vanishes)"
        parts.append(text)
    return ("Share of the gradient at the last step t = T − 1 that is left at the first step "
            "t = 0 — " + "; ".join(parts) + ".")


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
