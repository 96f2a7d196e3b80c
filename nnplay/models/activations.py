"""The activation functions nnplay offers, by name, as torch modules and plain functions."""

from __future__ import annotations

import torch
from torch import nn

# name -> (module factory, short formula for learners)
ACTIVATIONS: dict[str, tuple[type[nn.Module] | None, str]] = {
    "relu": (nn.ReLU, r"\max(0, z)"),
    "leaky_relu": (nn.LeakyReLU, r"\max(0.01z, z)"),
    "gelu": (nn.GELU, r"z\,\Phi(z)"),
    "tanh": (nn.Tanh, r"\tanh(z)"),
    "sigmoid": (nn.Sigmoid, r"\frac{1}{1+e^{-z}}"),
    "linear": (nn.Identity, r"z"),
}


def check_activation(name: str) -> str:
    """Return the canonical activation name or raise ValueError listing the valid ones."""
    key = str(name).lower().replace("-", "_").replace(" ", "_")
    aliases = {"leakyrelu": "leaky_relu", "identity": "linear", "none": "linear"}
    key = aliases.get(key, key)
    if key not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}.")
    return key


def activation_module(name: str) -> nn.Module:
    """A fresh torch module for the named activation."""
    factory, _ = ACTIVATIONS[check_activation(name)]
    return factory()


def activation_fn(name: str):
    """The activation as a function tensor -> tensor (differentiable)."""
    module = activation_module(name)
    return lambda z: module(z)


def activation_formula(name: str) -> str:
    """LaTeX for the activation, e.g. r'\\max(0, z)'."""
    return ACTIVATIONS[check_activation(name)][1]


def activation_and_derivative(name: str, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Values f(z) and f'(z) at the points z, the derivative computed by torch autograd."""
    z = z.detach().clone().requires_grad_(True)
    out = activation_module(name)(z)
    (grad,) = torch.autograd.grad(out.sum(), z)
    return out.detach(), grad.detach()
