"""Generated sequence tasks for recurrent nets and Transformers: forecasting a noisy signal, the
adding problem and first-token recall (long-range memory), reversing and sorting token sequences.

Every loader returns a Dataset with X of shape (n, T, F) float32, or (n, T) int64 token ids, and
is registered in SEQUENCE_DATASETS with its metadata. Same arguments, same numbers.
"""

from __future__ import annotations

import numpy as np

from nnplay.data.dataset import Dataset
from nnplay.data.prep import split_indices

# Periods (in steps) of the two sines in sine_forecast; not multiples of each other, so the
# sum does not repeat within a window.
SINE_PERIODS = (17.0, 5.3)
SINE_AMPLITUDES = (1.0, 0.5)


def _check(n: int, seq_len: int, test_size: float, min_len: int = 1) -> None:
    if int(n) < 2:
        raise ValueError(f"n must be at least 2 (one train and one test sequence), got {n}.")
    if int(seq_len) < min_len:
        raise ValueError(f"seq_len must be at least {min_len} for this task, got {seq_len}.")
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be between 0 and 1, got {test_size}.")


def _split(X: np.ndarray, y: np.ndarray, test_size: float, seed: int, stratify: bool = False):
    """The project's seeded split; every sequence is generated independently, so nothing leaks."""
    train, test, _ = split_indices(y, test_size, seed, stratify=stratify)
    return X[train], y[train], X[test], y[test]


def sine_forecast(n: int = 1000, seq_len: int = 30, noise: float = 0.05, test_size: float = 0.25,
                  seed: int = 0) -> Dataset:
    """Windows of a noisy two-sine signal with random phases; predict the next value.

    X is (n, seq_len, 1), y (n,) the noisy value one step after the window (regression).
    """
    _check(n, seq_len, test_size)
    if noise < 0:
        raise ValueError(f"noise must be 0 or more, got {noise}.")
    rng = np.random.default_rng(seed)
    steps = np.arange(seq_len + 1)
    phases = rng.uniform(0, 2 * np.pi, size=(n, len(SINE_PERIODS)))
    signal = sum(a * np.sin(2 * np.pi * steps / period + phases[:, [j]])
                 for j, (a, period) in enumerate(zip(SINE_AMPLITUDES, SINE_PERIODS, strict=True)))
    series = (signal + rng.normal(0.0, noise, size=signal.shape)).astype(np.float32)
    X, y = series[:, :seq_len, None], series[:, seq_len]
    parts = _split(X, y, test_size, seed)
    return Dataset("sine_forecast", *parts, task="regression", feature_names=["value"],
                   description=(f"Noisy sum of two sines (periods {SINE_PERIODS[0]:g} and "
                                f"{SINE_PERIODS[1]:g} steps) in windows of {seq_len}; predict "
                                "the next value."),
                   params=dict(n=n, seq_len=seq_len, noise=noise, test_size=test_size, seed=seed))


def adding_problem(n: int = 1000, seq_len: int = 50, test_size: float = 0.25,
                   seed: int = 0) -> Dataset:
    """The adding problem (Hochreiter & Schmidhuber, 1997): sum the two marked values.

    X is (n, seq_len, 2): a value in [0, 1) and a marker that is 1 at two steps (one in each half
    of the sequence) and 0 elsewhere. y (n,) is the sum of the two marked values (regression);
    always answering 1.0 gives a mean squared error near 1/6.
    """
    _check(n, seq_len, test_size, min_len=2)
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 1.0, size=(n, seq_len))
    half = seq_len // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, seq_len, size=n)
    markers = np.zeros((n, seq_len))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    X = np.stack([values, markers], axis=-1).astype(np.float32)
    y = (values[rows, first] + values[rows, second]).astype(np.float32)
    parts = _split(X, y, test_size, seed)
    return Dataset("adding_problem", *parts, task="regression", feature_names=["value", "marker"],
                   description=(f"Sequences of {seq_len} random values, two of them marked; "
                                "predict the sum of the marked values."),
                   params=dict(n=n, seq_len=seq_len, test_size=test_size, seed=seed))


def first_token_recall(n: int = 1000, seq_len: int = 10, n_tokens: int = 4,
                       distractor_scale: float = 1.0, test_size: float = 0.25,
                       seed: int = 0) -> Dataset:
    """Remember the first token: a one-hot token among ``n_tokens`` at t = 0, then seq_len - 1
    distractors, each a vector of Gaussian noise (std ``distractor_scale``) on the same inputs;
    predict the first token.

    X is (n, seq_len, n_tokens), y (n,) the class of the first token; chance is 1 / n_tokens.
    The noise enters the state at every step: a plain RNN has to hold its memory against it,
    an LSTM can close its input gate. At seq_len = 50 an LSTM (forget_bias 3) learns it in a
    few hundred Adam steps while a plain RNN stays near chance.
    """
    _check(n, seq_len, test_size)
    if int(n_tokens) < 2:
        raise ValueError(f"n_tokens must be at least 2, got {n_tokens}.")
    if not distractor_scale >= 0:
        raise ValueError(f"distractor_scale must be 0 or more, got {distractor_scale}.")
    rng = np.random.default_rng(seed)
    first = rng.integers(0, n_tokens, size=n)
    X = np.zeros((n, seq_len, n_tokens), dtype=np.float32)
    X[np.arange(n), 0, first] = 1.0
    X[:, 1:] = rng.normal(0.0, distractor_scale, size=(n, seq_len - 1, n_tokens))
    y = first.astype(np.int64)
    parts = _split(X, y, test_size, seed, stratify=True)
    names = [f"token {i}" for i in range(n_tokens)]
    return Dataset("first_token_recall", *parts, task="classification", feature_names=names,
                   class_names=names,
                   description=(f"One of {n_tokens} tokens at the first of {seq_len} steps, "
                                "then noise; name the first token."),
                   params=dict(n=n, seq_len=seq_len, n_tokens=n_tokens,
                               distractor_scale=distractor_scale, test_size=test_size,
                               seed=seed))


def _token_dataset(name: str, n: int, seq_len: int, vocab_size: int, test_size: float,
                   seed: int, target, description: str) -> Dataset:
    _check(n, seq_len, test_size, min_len=2)
    if int(vocab_size) < 2:
        raise ValueError(f"vocab_size must be at least 2, got {vocab_size}.")
    rng = np.random.default_rng(seed)
    X = rng.integers(0, vocab_size, size=(n, seq_len)).astype(np.int64)
    y = target(X).astype(np.int64)
    parts = _split(X, y, test_size, seed)
    return Dataset(name, *parts, task="classification",
                   feature_names=[f"position {t}" for t in range(seq_len)],
                   class_names=[str(v) for v in range(vocab_size)], description=description,
                   params=dict(n=n, seq_len=seq_len, vocab_size=vocab_size, test_size=test_size,
                               seed=seed))


def reverse_sequence(n: int = 2000, seq_len: int = 8, vocab_size: int = 10,
                     test_size: float = 0.25, seed: int = 0) -> Dataset:
    """Token ids (n, seq_len) int64; y (n, seq_len) is each sequence reversed (per-token classes)."""
    return _token_dataset("reverse_sequence", n, seq_len, vocab_size, test_size, seed,
                          lambda X: X[:, ::-1].copy(),
                          f"Sequences of {seq_len} tokens from {vocab_size}; output them reversed.")


def sort_sequence(n: int = 2000, seq_len: int = 8, vocab_size: int = 10, test_size: float = 0.25,
                  seed: int = 0) -> Dataset:
    """Token ids (n, seq_len) int64; y (n, seq_len) is each sequence sorted ascending."""
    return _token_dataset("sort_sequence", n, seq_len, vocab_size, test_size, seed,
                          lambda X: np.sort(X, axis=1),
                          f"Sequences of {seq_len} tokens from {vocab_size}; output them sorted.")


def _info(name: str, task: str, n_samples: int, n_features: int, n_classes: int | None,
          description: str) -> dict:
    return dict(name=name, task=task, kind="sequence", n_samples=n_samples,
                n_features=n_features, n_classes=n_classes, source="generated",
                description=description)


# name -> (loader, metadata at the default arguments). n_features counts the inputs of one
# example, as DatasetInfo and Dataset.n_features do: seq_len * features per step.
SEQUENCE_DATASETS: dict[str, tuple] = {
    "sine_forecast": (sine_forecast, _info(
        "sine_forecast", "regression", 1000, 30, None,
        "Forecast the next value of a noisy sum of two sines.")),
    "adding_problem": (adding_problem, _info(
        "adding_problem", "regression", 1000, 100, None,
        "Add the two marked values of a long sequence (long-range memory).")),
    "first_token_recall": (first_token_recall, _info(
        "first_token_recall", "classification", 1000, 40, 4,
        "Name the first token of a sequence after many noisy steps (long-range memory).")),
    "reverse_sequence": (reverse_sequence, _info(
        "reverse_sequence", "classification", 2000, 8, 10,
        "Output a token sequence reversed (per-token classes; for Transformers).")),
    "sort_sequence": (sort_sequence, _info(
        "sort_sequence", "classification", 2000, 8, 10,
        "Output a token sequence sorted (per-token classes; for Transformers).")),
}
