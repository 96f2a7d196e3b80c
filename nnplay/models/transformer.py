"""A small Transformer encoder for sequence tasks, with its attention maps in reach, and scaled
dot-product attention spelled out step by step for the lesson that computes it with numbers.

Input is token ids (batch, T) when built with ``vocab_size``, or float features (batch, T, F)
when built with ``n_features``. The output is one row of logits per sequence (``pooling`` "cls"
or "mean") or one per token (``pooling="none"``, for reversal and sorting tasks).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nnplay.models.activations import activation_module, check_activation

POSITIONAL = ("sinusoidal", "learned", "none")
POOLINGS = ("cls", "mean", "none")

ATTENTION_LATEX = r"\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}\right) V"


def sinusoidal_positions(max_len: int, d_model: int) -> torch.Tensor:
    """The fixed sine/cosine position table of "Attention Is All You Need": (max_len, d_model)."""
    position = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
    rates = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    table = torch.zeros(max_len, d_model)
    table[:, 0::2] = torch.sin(position * rates)
    table[:, 1::2] = torch.cos(position * rates)[:, : d_model // 2]
    return table


class EncoderLayer(nn.Module):
    """One pre-norm encoder layer: x + attention(norm(x)), then x + feed_forward(norm(x)).

    Pre-norm (LayerNorm before each sub-layer) trains stably without a learning-rate warm-up,
    which matters for a playground where people train from scratch with default settings.
    """

    def __init__(self, d_model: int, n_heads: int, dim_feedforward: int, dropout: float,
                 activation: str):
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = nn.MultiheadAttention(d_model, n_heads, dropout=dropout, batch_first=True)
        self.drop1 = nn.Dropout(dropout)
        self.norm2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, dim_feedforward), activation_module(activation),
                                nn.Dropout(dropout), nn.Linear(dim_feedforward, d_model))
        self.drop2 = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, need_weights: bool = False):
        """Returns (output, attention weights (batch, heads, T, T) or None)."""
        h = self.norm1(x)
        attended, weights = self.attn(h, h, h, need_weights=need_weights,
                                      average_attn_weights=False)
        x = x + self.drop1(attended)
        x = x + self.drop2(self.ff(self.norm2(x)))
        return x, weights


class Transformer(nn.Module):
    """Embedding (+ positions) -> ``n_layers`` encoder layers -> LayerNorm -> linear ``head``."""

    def __init__(self, n_outputs: int, vocab_size: int | None = None,
                 n_features: int | None = None, d_model: int = 32, n_heads: int = 2,
                 n_layers: int = 2, dim_feedforward: int = 64, dropout: float = 0.0,
                 positional: str = "sinusoidal", pooling: str = "mean", max_len: int = 256,
                 activation: str = "relu"):
        super().__init__()
        if (vocab_size is None) == (n_features is None):
            raise ValueError("Give exactly one of vocab_size (token ids) or n_features "
                             "(float inputs).")
        if vocab_size is not None and int(vocab_size) < 1:
            raise ValueError(f"vocab_size must be at least 1, got {vocab_size}.")
        if n_features is not None and int(n_features) < 1:
            raise ValueError(f"n_features must be at least 1, got {n_features}.")
        if min(int(n_outputs), int(d_model), int(n_heads), int(dim_feedforward), int(max_len)) < 1:
            raise ValueError("n_outputs, d_model, n_heads, dim_feedforward and max_len must be "
                             "at least 1.")
        if int(n_layers) < 0:
            raise ValueError(f"n_layers must be 0 or more, got {n_layers}.")
        if int(d_model) % int(n_heads):
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads}); "
                             "each head gets d_model / n_heads dimensions.")
        if positional not in POSITIONAL:
            raise ValueError(f"Unknown positional {positional!r}; choose one of "
                             f"{', '.join(POSITIONAL)}.")
        if pooling not in POOLINGS:
            raise ValueError(f"Unknown pooling {pooling!r}; choose one of {', '.join(POOLINGS)}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
        activation = check_activation(activation)
        self.n_outputs, self.d_model, self.n_heads = int(n_outputs), int(d_model), int(n_heads)
        self.vocab_size = None if vocab_size is None else int(vocab_size)
        self.n_features = None if n_features is None else int(n_features)
        self.n_layers, self.dim_feedforward = int(n_layers), int(dim_feedforward)
        self.dropout, self.positional, self.pooling = float(dropout), positional, pooling
        self.max_len, self.activation = int(max_len), activation

        if self.vocab_size is not None:
            self.embed = nn.Embedding(self.vocab_size, self.d_model)
        else:
            self.embed = nn.Linear(self.n_features, self.d_model)
        positions_needed = self.max_len + (1 if pooling == "cls" else 0)
        if positional == "learned":
            self.position = nn.Embedding(positions_needed, self.d_model)
        elif positional == "sinusoidal":
            self.register_buffer("position_table", sinusoidal_positions(positions_needed, self.d_model),
                                 persistent=False)
        if pooling == "cls":
            self.cls_token = nn.Parameter(torch.zeros(1, 1, self.d_model))
            nn.init.normal_(self.cls_token, std=0.02)
        self.embed_drop = nn.Dropout(self.dropout)
        self.layers = nn.ModuleList(EncoderLayer(self.d_model, self.n_heads, self.dim_feedforward,
                                                 self.dropout, activation)
                                    for _ in range(self.n_layers))
        self.norm = nn.LayerNorm(self.d_model)
        self.head = nn.Linear(self.d_model, self.n_outputs)

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        if self.vocab_size is not None:
            if x.dim() != 2 or torch.is_floating_point(x):
                raise ValueError(f"Expected token ids of shape (batch, T), got {tuple(x.shape)} "
                                 f"of {x.dtype}.")
            h = self.embed(x.long())
        else:
            if x.dim() == 2 and self.n_features == 1:
                x = x.unsqueeze(-1)
            if x.dim() != 3 or x.shape[-1] != self.n_features:
                raise ValueError(f"Expected input of shape (batch, T, {self.n_features}), "
                                 f"got {tuple(x.shape)}.")
            h = self.embed(x.float())
        if h.shape[1] > self.max_len:
            raise ValueError(f"Sequences of length {h.shape[1]} are longer than max_len="
                             f"{self.max_len}; build the model with a larger max_len.")
        if self.pooling == "cls":
            h = torch.cat([self.cls_token.expand(h.shape[0], -1, -1), h], dim=1)
        steps = h.shape[1]
        if self.positional == "learned":
            h = h + self.position(torch.arange(steps, device=h.device))
        elif self.positional == "sinusoidal":
            h = h + self.position_table[:steps]
        return self.embed_drop(h)

    def _encode(self, x: torch.Tensor, need_weights: bool):
        h, maps = self._embed(x), []
        for layer in self.layers:
            h, weights = layer(h, need_weights=need_weights)
            maps.append(weights)
        return self.norm(h), maps

    def _pool(self, h: torch.Tensor) -> torch.Tensor:
        if self.pooling == "cls":
            return h[:, 0]
        if self.pooling == "mean":
            return h.mean(dim=1)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (batch, n_outputs), or (batch, T, n_outputs) with pooling='none'."""
        h, _ = self._encode(x, need_weights=False)
        return self.head(self._pool(h))

    def attention_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Attention weights per layer, each (batch, heads, T, T); every row sums to 1.

        With pooling='cls' the sequences carry the CLS token first, so T is one longer.
        """
        with torch.no_grad():
            _, maps = self._encode(x, need_weights=True)
        return [m.detach() for m in maps]

    def __repr__(self) -> str:
        source = (f"vocab_size={self.vocab_size}" if self.vocab_size is not None
                  else f"n_features={self.n_features}")
        return (f"Transformer({source}, d_model={self.d_model}, n_heads={self.n_heads}, "
                f"n_layers={self.n_layers}, dim_feedforward={self.dim_feedforward}, "
                f"positional={self.positional!r}, pooling={self.pooling!r}, "
                f"dropout={self.dropout}, n_outputs={self.n_outputs})")


def transformer(n_outputs: int, vocab_size: int | None = None, n_features: int | None = None,
                d_model: int = 32, n_heads: int = 2, n_layers: int = 2, dim_feedforward: int = 64,
                dropout: float = 0.0, positional: str = "sinusoidal", pooling: str = "mean",
                max_len: int = 256, activation: str = "relu") -> Transformer:
    """Build a Transformer encoder for token ids (``vocab_size``) or float features (``n_features``).

    ``positional``: 'sinusoidal', 'learned' or 'none'. ``pooling``: 'cls', 'mean' (one output per
    sequence) or 'none' (one output per token).
    """
    return Transformer(n_outputs, vocab_size=vocab_size, n_features=n_features, d_model=d_model,
                       n_heads=n_heads, n_layers=n_layers, dim_feedforward=dim_feedforward,
                       dropout=dropout, positional=positional, pooling=pooling, max_len=max_len,
                       activation=activation)


def scaled_dot_product_attention_steps(Q, K, V, mask=None) -> dict:
    """Attention one step at a time: scores = QK^T, scaled = scores/sqrt(d_k), weights =
    softmax(scaled) over the keys, output = weights V.

    Q is (..., Lq, d_k), K (..., Lk, d_k), V (..., Lk, d_v); torch tensors or anything numpy
    reads. ``mask`` (optional, boolean, broadcastable to (..., Lq, Lk)) marks the keys a query
    may attend to, as in torch's scaled_dot_product_attention. Returns tensors for tensor input
    and numpy arrays otherwise.
    """
    as_numpy = not isinstance(Q, torch.Tensor)
    q, k, v = (torch.as_tensor(np.asarray(a, dtype=np.float64) if as_numpy else a)
               for a in (Q, K, V))
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"Q and K need the same last dimension d_k, got {q.shape[-1]} and "
                         f"{k.shape[-1]}.")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"K and V need the same number of rows (keys), got {k.shape[-2]} and "
                         f"{v.shape[-2]}.")
    scores = q @ k.transpose(-2, -1)
    scaled = scores / math.sqrt(q.shape[-1])
    if mask is not None:
        keep = torch.as_tensor(np.asarray(mask) if as_numpy else mask, dtype=torch.bool,
                               device=scaled.device)
        scaled = scaled.masked_fill(~keep, float("-inf"))
    weights = F.softmax(scaled, dim=-1)
    output = weights @ v
    steps = {"scores": scores, "scaled": scaled, "weights": weights, "output": output}
    if as_numpy:
        return {name: value.numpy() for name, value in steps.items()}
    return steps
