"""Compression: make a trained network smaller and faster, and measure what it costs.

Quantization stores weights (and maybe activations) as int8 instead of float32; pruning removes
weights (unstructured: zeros) or whole neurons and channels (structured). Each version of a
model is measured the same way (``measure``): the size of the file that would ship, latency at
batch 1 and 64 (median and 95th percentile, one thread and all cores), throughput, the test
metric, and the largest output difference from the fp32 model. ``tradeoff`` puts every version
in one table, ``pareto_front`` marks the ones worth having.

What runs where (PyTorch on a CPU): torchao's int8 configs and PT2E's calibrated int8 graphs are
real int8 arithmetic only once ``torch.compile`` (Inductor) fuses them; in eager mode torchao's
dynamic int8 runs its steps one by one, weight-only int8 converts weights back to float32, and
a PT2E graph simulates int8 with quantize/dequantize around float32 operators. ONNX Runtime's
int8 models run int8 kernels directly. Masked zeros make no dense kernel faster.

    from nnplay.production import compress
    table = compress.tradeoff(model, dataset)                  # a DataFrame, one row a version
    small, report = compress.compress_model(model, dataset, quantize="dynamic-int8")

Modules: ``quantize`` (PyTorch recipes), ``onnxrt`` (ONNX Runtime), ``prune``, ``measurement``,
``table`` (the trade-off table), ``pipeline`` (compress_model). The learner's model is never changed: every recipe works on a copy.
"""

from nnplay.production.compress.measurement import (
    BATCH_SIZES,
    Latency,
    Measurement,
    OrtRunner,
    Runner,
    TorchRunner,
    all_threads,
    measure,
    state_dict_bytes,
)
from nnplay.production.compress.onnxrt import ort_quantize_dynamic, ort_quantize_static, to_onnx
from nnplay.production.compress.pipeline import QUANTIZE_OPTIONS, compress_model
from nnplay.production.compress.prune import (
    fine_tune,
    layer_widths,
    lottery_ticket,
    prune_structured,
    prune_unstructured,
    pruned_spec,
    sparsity,
    sparsity_curve,
)
from nnplay.production.compress.quantize import (
    compile_for_cpu,
    feedforward_reason,
    quantize_dynamic,
    quantize_dynamic_legacy,
    quantize_static,
    quantize_weight_only,
)
from nnplay.production.compress.table import (
    Variant,
    best_variant,
    label,
    latency_column,
    pareto_front,
    summary,
    tradeoff,
    variants,
)

__all__ = ["BATCH_SIZES", "QUANTIZE_OPTIONS", "Latency", "Measurement", "OrtRunner", "Runner",
           "TorchRunner", "Variant", "all_threads", "best_variant", "compile_for_cpu",
           "compress_model", "feedforward_reason", "fine_tune", "label", "latency_column",
           "layer_widths", "lottery_ticket", "measure", "ort_quantize_dynamic",
           "ort_quantize_static", "pareto_front", "prune_structured", "prune_unstructured",
           "pruned_spec", "quantize_dynamic", "quantize_dynamic_legacy", "quantize_static",
           "quantize_weight_only", "sparsity", "sparsity_curve", "state_dict_bytes", "summary",
           "to_onnx", "tradeoff", "variants"]
