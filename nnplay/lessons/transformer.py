"""The Transformer lesson's engine: scaled dot-product attention worked through with small
numbers, and numpy views of a trained encoder (attention maps, positional encodings, embeddings).

The worked example gives each token a short embedding and projects it with three small matrices
into queries, keys and values, rounded to one decimal so a learner can redo the arithmetic; the
attention itself is nnplay.models' ``scaled_dot_product_attention_steps``.
"""

from __future__ import annotations

import numpy as np
import torch

from nnplay.models import scaled_dot_product_attention_steps
from nnplay.models.transformer import ATTENTION_LATEX, POSITIONAL
from nnplay.train import predict
from nnplay.train.predict import model_device

__all__ = ["ATTENTION_LATEX", "POSITIONAL", "TOY_TASKS", "attention_example", "attention_maps",
           "embedding_points", "encoder_spec", "parse_tokens", "position_table",
           "query_row_latex", "sequence_accuracy"]

TOY_TASKS = ("reverse_sequence", "sort_sequence")
MAX_TOKENS = 8


def parse_tokens(text: str) -> list[str]:
    """Words of a short input separated by spaces; 2 to 8 of them."""
    tokens = str(text).split()
    if not 2 <= len(tokens) <= MAX_TOKENS:
        raise ValueError(f"Type 2 to {MAX_TOKENS} words separated by spaces; got {len(tokens)}.")
    return tokens


def attention_example(tokens: list[str], d_model: int = 4, d_k: int = 3, seed: int = 0) -> dict:
    """X (T, d_model) embeddings, projections W_q, W_k, W_v (d_model, d_k), Q = X W_q, K, V, and
    every attention step (scores, scaled, weights, output), all as numpy arrays."""
    if not 1 <= int(d_k) <= 8 or not 1 <= int(d_model) <= 8:
        raise ValueError(f"Use d_model and d_k between 1 and 8, got {d_model} and {d_k}.")
    rng = np.random.default_rng(seed)
    steps = len(tokens)
    X = np.round(rng.normal(0.0, 1.0, size=(steps, d_model)), 1)
    W = {name: np.round(rng.normal(0.0, 1.0 / np.sqrt(d_model), size=(d_model, d_k)), 1)
         for name in ("W_q", "W_k", "W_v")}
    Q, K, V = X @ W["W_q"], X @ W["W_k"], X @ W["W_v"]
    return {"tokens": list(tokens), "X": X, **W, "Q": Q, "K": K, "V": V, "d_k": int(d_k),
            **scaled_dot_product_attention_steps(Q, K, V)}


def _vector(values) -> str:
    return r"\begin{bmatrix}" + " & ".join(f"{v:.2f}" for v in values) + r"\end{bmatrix}"


def query_row_latex(example: dict, i: int) -> list[str]:
    """Query i's three steps as LaTeX lines: its scaled scores, their softmax, the weighted sum."""
    scaled, weights, out = example["scaled"][i], example["weights"][i], example["output"][i]
    d_k, n = example["d_k"], len(scaled)
    scores = ", ".join(rf"\tfrac{{q_{{{i + 1}}}\cdot k_{{{j + 1}}}}}{{\sqrt{{{d_k}}}}}" for j in range(n))
    total = float(np.exp(scaled).sum())
    return [
        rf"s_{{{i + 1}}} = \left({scores}\right) = {_vector(scaled)}",
        rf"a_{{{i + 1}}} = \mathrm{{softmax}}(s_{{{i + 1}}}) = \frac{{e^{{s_{{{i + 1}}}}}}}{{{total:.3g}}} = "
        + _vector(weights) + rf"\quad(\textstyle\sum = {weights.sum():.2f})",
        rf"z_{{{i + 1}}} = " + " + ".join(rf"{w:.2f}\,v_{{{j + 1}}}" for j, w in enumerate(weights))
        + " = " + _vector(out),
    ]


def encoder_spec(d_model: int = 32, n_heads: int = 2, n_layers: int = 2,
                 positional: str = "sinusoidal") -> dict:
    """The build_model spec of a small encoder with one output per token."""
    return {"family": "transformer",
            "params": {"d_model": int(d_model), "n_heads": int(n_heads), "n_layers": int(n_layers),
                       "dim_feedforward": 2 * int(d_model), "positional": positional,
                       "pooling": "none"}}


def _tokens(model, x) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, dtype=np.int64)).reshape(1, -1).to(model_device(model))


def attention_maps(model, x: np.ndarray) -> list[np.ndarray]:
    """Attention weights of one token sequence x (T,): per layer an array (heads, T, T)."""
    was_training = model.training
    model.eval()
    try:
        maps = model.attention_maps(_tokens(model, x))
    finally:
        model.train(was_training)
    return [m[0].cpu().numpy() for m in maps]


def position_table(model, steps: int) -> np.ndarray | None:
    """The position vectors added to the first ``steps`` embeddings: (steps, d_model), or None
    when the model uses no positions."""
    if model.positional == "sinusoidal":
        return model.position_table[:steps].cpu().numpy()
    if model.positional == "learned":
        return model.position.weight[:steps].detach().cpu().numpy()
    return None


def embedding_points(model) -> np.ndarray:
    """Each token's embedding projected on the two main directions (PCA): (vocab_size, 2)."""
    table = model.embed.weight.detach().cpu().numpy().astype(np.float64)
    centred = table - table.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T


def sequence_accuracy(model, dataset) -> dict:
    """Per-token accuracy and whole-sequence accuracy (every token right) on the test split."""
    predicted = predict(model, dataset.X_test)
    right = predicted == dataset.y_test
    return {"token_accuracy": float(right.mean()), "sequence_accuracy": float(right.all(1).mean())}


def encoder_summary(model, seq_len: int):
    """nnplay.models.summary for a token-id encoder on one sequence of ``seq_len`` tokens."""
    from nnplay.models import summary

    return summary(model, (int(seq_len),), dtype=torch.long)
