"""Quantization: the same network with int8 weights (and, for some recipes, int8 activations).

Four PyTorch recipes, each on a copy (the learner's model is never changed):

- ``quantize_dynamic``: torchao ``Int8DynamicActivationInt8WeightConfig`` on the Linear layers.
  Weights are stored as int8 per output channel; each call quantizes the activations per row and
  multiplies int8 by int8. In eager mode the many small steps of that tensor subclass cost more
  than they save on small layers; ``torch.compile`` fuses them.
- ``quantize_weight_only``: torchao ``Int8WeightOnlyConfig``. int8 storage only: every call
  converts the weights back to float32 and multiplies in float32.
- ``quantize_static``: the PT2E flow (``torch.export``, ``prepare_pt2e`` with the
  ``X86InductorQuantizer``, a calibration pass that records activation ranges, ``convert_pt2e``)
  for convolutions and Linear layers. The converted graph is a *reference* model: it runs
  quantize/dequantize steps around float32 operators, so in eager mode it only simulates int8.
  ``compile_for_cpu`` (Inductor) turns those patterns into real int8 oneDNN kernels.
- ``quantize_dynamic_legacy``: ``torch.ao.quantization.quantize_dynamic`` (deprecated since torch
  2.13, still shipped): packed int8 weights and fbgemm/oneDNN int8 kernels in eager mode.

torchao's configs are created with ``set_inductor_config=False``: the default would change
Inductor's settings for the whole process, and other learners share it.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import torch
from torch import nn

# Layers these recipes (and structured pruning) are written for: feed-forward networks.
FEEDFORWARD = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.BatchNorm1d, nn.BatchNorm2d, nn.ReLU,
               nn.LeakyReLU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.SiLU, nn.Identity, nn.Flatten,
               nn.Dropout, nn.Dropout2d, nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d,
               nn.AdaptiveAvgPool2d)
RECURRENT = (nn.RNN, nn.LSTM, nn.GRU)
CONV = (nn.Conv1d, nn.Conv2d)
CALIBRATION_ROWS = 256


def _copy(model: nn.Module) -> nn.Module:
    """An eval-mode CPU copy: the learner's model keeps its device, mode and weights."""
    return copy.deepcopy(model).cpu().eval()


def feedforward_reason(model: nn.Module) -> str:
    """'' for a feed-forward network (an MLP or CNN); otherwise why these recipes do not apply."""
    leaves = [m for m in model.modules() if not list(m.children())]
    if any(isinstance(m, RECURRENT) for m in model.modules()):
        kind = next(type(m).__name__ for m in model.modules() if isinstance(m, RECURRENT))
        return (f"its {kind} layers reuse their weights at every time step inside one fused "
                "recurrent operator; these recipes handle Linear and Conv layers (MLPs and CNNs)")
    if any(isinstance(m, nn.MultiheadAttention) for m in model.modules()):
        return ("its attention layers read their projection weights inside one fused attention "
                "operator; these recipes handle Linear and Conv layers (MLPs and CNNs)")
    other = sorted({type(m).__name__ for m in leaves if not isinstance(m, FEEDFORWARD)})
    if other:
        return (f"it has {', '.join(other)} layers; these recipes handle feed-forward networks "
                "of Linear and Conv layers (MLPs and CNNs)")
    if not any(isinstance(m, nn.Linear) for m in leaves):
        return "it has no Linear layers"
    return ""


def has_conv(model: nn.Module) -> bool:
    return any(isinstance(m, CONV) for m in model.modules())


def check_feedforward(model: nn.Module, what: str) -> None:
    """ValueError saying why ``what`` cannot be applied to ``model`` (when it cannot)."""
    reason = feedforward_reason(model)
    if reason:
        raise ValueError(f"{what} does not apply to this model: {reason}.")


def quantize_dynamic(model: nn.Module) -> nn.Module:
    """A copy whose Linear layers hold int8 weights and quantize activations per call (torchao
    Int8DynamicActivationInt8WeightConfig: int8 x int8 matrix products)."""
    from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_

    check_feedforward(model, "Dynamic int8 quantization")
    net = _copy(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_(net, Int8DynamicActivationInt8WeightConfig(set_inductor_config=False))
    return net


def quantize_weight_only(model: nn.Module) -> nn.Module:
    """A copy whose Linear layers store int8 weights and compute in float32 (torchao
    Int8WeightOnlyConfig): smaller on disk and in memory, no faster arithmetic."""
    from torchao.quantization import Int8WeightOnlyConfig, quantize_

    check_feedforward(model, "Weight-only int8 quantization")
    net = _copy(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_(net, Int8WeightOnlyConfig(set_inductor_config=False))
    return net


def quantize_dynamic_legacy(model: nn.Module) -> nn.Module:
    """A copy with torch.ao's dynamic int8 Linear layers (deprecated API; real int8 kernels)."""
    check_feedforward(model, "Dynamic int8 quantization")
    try:
        from torch.ao.quantization import quantize_dynamic as ao_quantize_dynamic
    except ImportError:
        raise ValueError("This torch no longer ships torch.ao.quantization.quantize_dynamic; "
                         "use quantize_dynamic (torchao).") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ao_quantize_dynamic(_copy(model), {nn.Linear}, dtype=torch.qint8)


def example_batch(X, rows: int = 2) -> torch.Tensor:
    """The first rows of X as a tensor to trace with (two rows: torch.export would fix a batch
    of one to the constant 1)."""
    X = np.asarray(X)
    if len(X) == 0:
        raise ValueError("There are no rows to trace the model with.")
    t = torch.as_tensor(np.ascontiguousarray(X[np.arange(rows) % len(X)]))
    return t.float() if t.is_floating_point() else t


def export_graph(model: nn.Module, example: torch.Tensor) -> nn.Module:
    """``torch.export`` of the model with an open batch dimension, as a runnable GraphModule."""
    batch = torch.export.Dim("batch", min=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.export.export(model, (example,), dynamic_shapes=({0: batch},)).module()


def quantize_static(model: nn.Module, calib_X, batch_size: int = 64) -> nn.Module:
    """A PT2E int8 graph of ``model``: weights int8 per channel, activations int8 with ranges
    calibrated on ``calib_X`` (a few hundred training rows). Runs quantize/dequantize around float
    operators (simulated int8) until compiled with ``compile_for_cpu``."""
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
    from torchao.quantization.pt2e.quantizer import x86_inductor_quantizer as xiq

    check_feedforward(model, "Static int8 quantization")
    calib_X = np.asarray(calib_X)
    if len(calib_X) == 0:
        raise ValueError("Static quantization needs calibration rows; the data has none.")
    graph = export_graph(_copy(model), example_batch(calib_X))
    quantizer = xiq.X86InductorQuantizer()
    quantizer.set_global(xiq.get_default_x86_inductor_quantization_config())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepared = prepare_pt2e(graph, quantizer)
        with torch.no_grad():
            for i in range(0, len(calib_X), batch_size):   # observers record activation ranges
                prepared(example_batch(calib_X[i:i + batch_size], len(calib_X[i:i + batch_size])))
        return convert_pt2e(prepared)


def compile_for_cpu(model: nn.Module, example: torch.Tensor) -> nn.Module:
    """``torch.compile`` (Inductor, C++ kernels) of the model's exported graph, batch dynamic,
    compiled now on ``example``. Compiling an exported graph, not the module itself, gives every
    model its own compiled code (torch.compile caches by the forward function, and stops
    compiling a function after a few models of the same class)."""
    graph = model if isinstance(model, torch.fx.GraphModule) else export_graph(model, example)
    compiled = torch.compile(graph, dynamic=True)
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        compiled(example)
    return compiled
