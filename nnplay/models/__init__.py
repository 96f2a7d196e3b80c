"""Model builders, one per family. Every model maps a float32 batch to logits (or one value for regression)."""

from nnplay.models.activations import ACTIVATIONS, activation_and_derivative, activation_module
from nnplay.models.mlp import MLP, count_parameters, mlp
from nnplay.models.registry import build_model, families, register_family

__all__ = ["ACTIVATIONS", "MLP", "activation_and_derivative", "activation_module", "build_model",
           "count_parameters", "families", "mlp", "register_family"]
