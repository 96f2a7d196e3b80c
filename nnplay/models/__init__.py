"""Model builders, one per family. Every model maps a batch to logits (or one value for regression).

Families: ``mlp``, ``cnn``, ``rnn``/``lstm``/``gru`` and ``transformer``; ``build_model(spec,
dataset)`` builds any of them from a JSON-able spec, and ``summary(model, input)`` lists layers
with output shapes, parameters and multiply-accumulates.
"""

# Families of the labs and frontiers register themselves on import ("gcn", "text"); their heavy
# libraries (transformers) load only when such a model is built.
from nnplay.models import gnn, text  # noqa: F401
from nnplay.models.activations import ACTIVATIONS, activation_and_derivative, activation_module
from nnplay.models.cnn import CNN, cnn, conv_output_size
from nnplay.models.mlp import MLP, count_parameters, mlp
from nnplay.models.registry import ModelSpec, build_model, families, register_family
from nnplay.models.rnn import RNN, gradient_through_time, rnn
from nnplay.models.summary import summary
from nnplay.models.transformer import Transformer, scaled_dot_product_attention_steps, transformer

__all__ = ["ACTIVATIONS", "CNN", "MLP", "RNN", "Transformer", "activation_and_derivative",
           "ModelSpec", "activation_module", "build_model", "cnn", "conv_output_size", "count_parameters",
           "families", "gradient_through_time", "mlp", "register_family", "rnn",
           "scaled_dot_product_attention_steps", "summary", "transformer"]
