"""A layer-by-layer table of a model: output shapes, parameters and multiply-accumulates (MACs).

One forward pass with hooks records what each layer produces. MACs are counted per example for
the layers that do the arithmetic (Linear, ConvNd, RNN/LSTM/GRU, MultiheadAttention); layers that
only rescale, select or reshape (activations, norms, pooling, embeddings) count 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import torch
from torch import nn

# Layers shown as one row although they hold submodules: their children are not called through
# their own forward (MultiheadAttention uses out_proj's weights directly).
ATOMIC_LAYERS = (nn.MultiheadAttention, nn.RNNBase)
COLUMNS = ["layer", "type", "output_shape", "params", "macs"]
_GATES = {"LSTM": 4, "GRU": 3}


def _first_tensor(value):
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for item in value:
            found = _first_tensor(item)
            if found is not None:
                return found
    return None


def _recurrent_macs(module: nn.RNNBase, inputs: tuple) -> int:
    x = _first_tensor(inputs)
    if x is None:
        return 0
    if x.dim() == 2:  # one unbatched sequence (T, F)
        batch, steps = 1, x.shape[0]
    else:
        batch, steps = (x.shape[0], x.shape[1]) if module.batch_first else (x.shape[1], x.shape[0])
    gates = _GATES.get(module.mode, 1)  # nn.RNN's mode is RNN_TANH or RNN_RELU
    directions = 2 if module.bidirectional else 1
    hidden, per_step = module.hidden_size, 0
    for layer in range(module.num_layers):
        width = module.input_size if layer == 0 else hidden * directions
        per_step += gates * (width * hidden + hidden * hidden)
    return per_step * directions * steps * batch


def _attention_macs(module: nn.MultiheadAttention, inputs: tuple, kwargs: dict) -> int:
    query = inputs[0] if len(inputs) > 0 else kwargs["query"]
    key = inputs[1] if len(inputs) > 1 else kwargs["key"]
    if query.dim() == 2:  # one unbatched sequence (L, E)
        batch, lq, lk = 1, query.shape[0], key.shape[0]
    elif module.batch_first:
        batch, lq, lk = query.shape[0], query.shape[1], key.shape[1]
    else:
        batch, lq, lk = query.shape[1], query.shape[0], key.shape[0]
    embed = module.embed_dim
    projections = lq * embed * embed + lk * module.kdim * embed + lk * module.vdim * embed
    # scores Q K^T and the weighted sum of V: each Lq * Lk * embed over all heads together
    attention = 2 * lq * lk * embed
    return (projections + attention + lq * embed * embed) * batch


def _layer_macs(module: nn.Module, inputs: tuple, kwargs: dict, output) -> int:
    """MACs of one call on the whole batch (divided by the batch size later)."""
    out = _first_tensor(output)
    if isinstance(module, nn.Linear) and out is not None:
        return out.numel() * module.in_features
    if isinstance(module, nn.modules.conv._ConvNd) and out is not None:
        per_output = (module.in_channels // module.groups) * math.prod(module.kernel_size)
        return out.numel() * per_output
    if isinstance(module, nn.RNNBase):
        return _recurrent_macs(module, inputs)
    if isinstance(module, nn.MultiheadAttention):
        return _attention_macs(module, inputs, kwargs)
    return 0


def _rows_modules(model: nn.Module) -> list[tuple[str, nn.Module, bool]]:
    """(name, module, recurse) for every row: leaves, atomic layers, and containers that hold
    parameters of their own (a CLS token, a learned position table) so the totals add up."""
    rows, skip_prefixes = [], []
    for name, module in model.named_modules():
        if any(name.startswith(p) for p in skip_prefixes):
            continue
        if isinstance(module, ATOMIC_LAYERS):
            rows.append((name, module, True))
            skip_prefixes.append(name + ".")
        elif not any(True for _ in module.children()):
            rows.append((name, module, False))
        elif any(True for _ in module.parameters(recurse=False)):
            rows.append((name, module, False))
    return rows


def _example_input(model: nn.Module, example, dtype) -> torch.Tensor:
    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    if isinstance(example, torch.Tensor):
        return example.to(device)
    if isinstance(example, Sequence) and all(isinstance(s, int) for s in example):
        if any(s < 1 for s in example):
            raise ValueError(f"Every size in input_shape must be at least 1, got {tuple(example)}.")
        # zeros are a valid input for every model here, token ids included
        return torch.zeros((1, *example), dtype=dtype, device=device)
    raise ValueError("Give summary an input shape without the batch size, e.g. (1, 28, 28), or "
                     "an example batch as a tensor.")


def summary(model: nn.Module, example: Sequence[int] | torch.Tensor,
            dtype: torch.dtype = torch.float32) -> pd.DataFrame:
    """One row per layer: name, type, output shape, parameters and MACs per example.

    ``example`` is one example's shape (a batch of one zero input of ``dtype`` is made; use
    ``dtype=torch.long`` for token ids) or an example batch. The totals are in
    ``df.attrs``: ``total_params`` (equals the sum of p.numel() over the model's parameters),
    ``trainable_params`` and ``total_macs``. Shared parameters are counted once.
    """
    x = _example_input(model, example, dtype)
    batch = max(int(x.shape[0]), 1) if x.dim() > 0 else 1
    rows = _rows_modules(model)
    shapes: dict[str, str] = {}
    macs: dict[str, int] = {name: 0 for name, _, _ in rows}

    def make_hook(name: str):
        def hook(module, inputs, kwargs, output):
            out = _first_tensor(output)
            shapes[name] = str(tuple(out.shape)) if out is not None else ""
            macs[name] += _layer_macs(module, inputs, kwargs, output)
        return hook

    handles = [module.register_forward_hook(make_hook(name), with_kwargs=True)
               for name, module, _ in rows]
    was_training = model.training
    model.eval()  # batch norm on a batch of one only works in eval mode
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)

    seen: set[int] = set()
    records = []
    for name, module, recurse in rows:
        params = 0
        for p in module.parameters(recurse=recurse):
            if id(p) not in seen:
                seen.add(id(p))
                params += p.numel()
        records.append({"layer": name or type(module).__name__, "type": type(module).__name__,
                        "output_shape": shapes.get(name, ""), "params": int(params),
                        "macs": int(macs[name] // batch)})
    table = pd.DataFrame.from_records(records, columns=COLUMNS)
    table.attrs["total_params"] = int(table["params"].sum())
    table.attrs["trainable_params"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    table.attrs["total_macs"] = int(table["macs"].sum())
    return table
