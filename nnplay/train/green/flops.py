"""FLOPs of a training step: PyTorch's FlopCounterMode, plus formulas for the fused kernels it
does not know (oneDNN's LSTM on a CPU, cuDNN's RNNs on a GPU, the CPU's fused attention).

A multiply-add counts as 2 FLOPs; matrix products, convolutions and attention are counted,
element-wise work (activations, the loss, the optimizer's update) is not, so a count is a floor.
"""

from __future__ import annotations

import copy

import torch

FLOPS_NOTE = ("Training steps only (forward and backward), counted by PyTorch's FlopCounterMode "
              "on the first step of each batch shape: matrix products, convolutions and "
              "attention, a multiply-add as 2 FLOPs; element-wise work and evaluation are left "
              "out.")


def _rnn_flops(input_shape, weight_shapes) -> int:
    """Forward FLOPs of a fused recurrent layer: every 2-D weight meets each of the T x B vectors."""
    steps = input_shape[0] if len(input_shape) == 2 else input_shape[0] * input_shape[1]
    return sum(2 * steps * s[0] * s[1] for s in weight_shapes if s is not None and len(s) == 2)


def _extra_formulas() -> dict:
    from torch.utils.flop_counter import sdpa_backward_flop_count, sdpa_flop_count

    aten, table = torch.ops.aten, {}

    def add(name, formula):
        if hasattr(aten, name):
            table[getattr(aten, name)] = formula

    # oneDNN LSTM layer (CPU): (input, w_ih, w_hh, b_ih, b_hh, ...); backward twice the forward
    add("mkldnn_rnn_layer", lambda x, w1, w2, *a, **k: _rnn_flops(x, (w1, w2)))
    add("mkldnn_rnn_layer_backward", lambda x, w1, w2, *a, **k: 2 * _rnn_flops(x, (w1, w2)))
    # cuDNN RNN/LSTM/GRU (GPU): (input, [weights per layer and direction], ...)
    add("_cudnn_rnn", lambda x, ws, *a, **k: _rnn_flops(x, ws))
    add("_cudnn_rnn_backward", lambda x, ws, *a, **k: 2 * _rnn_flops(x, ws))
    add("_scaled_dot_product_flash_attention_for_cpu",
        lambda q, k_, v, *a, **k: sdpa_flop_count(q, k_, v))
    add("_scaled_dot_product_flash_attention_for_cpu_backward",
        lambda g, q, k_, v, *a, **k: sdpa_backward_flop_count(g, q, k_, v))
    return table


def flop_counter():
    """A FlopCounterMode that also knows fused LSTMs and the CPU's fused attention."""
    from torch.utils.flop_counter import FlopCounterMode

    return FlopCounterMode(display=False, custom_mapping=_extra_formulas())


def step_flops(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, task: str) -> int:
    """FLOPs of one training step (forward, loss and backward) on a batch, counted on a copy of
    the model so its weights, gradients, statistics and random streams are left alone."""
    from nnplay.train.trainer import task_loss

    twin = copy.deepcopy(model)
    with torch.random.fork_rng(devices=[]), flop_counter() as counter:
        task_loss(task, twin(x), y).backward()
    return int(counter.get_total_flops())
