"""The backpropagation lesson's network: a real 2-2-1 network with a squared-error loss built
from ``nnplay.autograd.Value`` (``tiny_network``), the same network in PyTorch
(``tiny_network_torch``) to check every gradient, and one gradient-descent step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from nnplay.autograd import Value

TINY_NET_PARAMS = ("w11", "w12", "w21", "w22", "b1", "b2", "v1", "v2", "c")
TINY_NET_ACTIVATIONS = ("tanh", "sigmoid", "relu")
# Hand-picked so that no hidden unit starts saturated or dead: every gradient is visible.
DEFAULT_TINY_PARAMS = {"w11": 0.5, "w12": -0.3, "w21": 0.8, "w22": 0.2, "b1": 0.1, "b2": -0.2,
                       "v1": 0.7, "v2": -0.6, "c": 0.05}


def _check_tiny_args(x: Sequence[float], params: Mapping[str, float], activation: str) -> None:
    if len(x) != 2:
        raise ValueError(f"The tiny network takes 2 inputs, got {len(x)}.")
    missing = [n for n in TINY_NET_PARAMS if n not in params]
    if missing:
        raise ValueError(f"Missing parameters {missing}; give all of {', '.join(TINY_NET_PARAMS)}.")
    if activation not in TINY_NET_ACTIVATIONS:
        raise ValueError(f"Unknown activation {activation!r}; choose one of "
                         f"{', '.join(TINY_NET_ACTIVATIONS)}.")


def tiny_network(x: Sequence[float], target: float, params: Mapping[str, float],
                 activation: str = "tanh") -> Value:
    """A 2-2-1 network on Values; returns the loss node (yhat - y)**2 of its labelled graph.

    z_j = w_j1*x1 + w_j2*x2 + b_j and h_j = act(z_j) for hidden units j = 1, 2;
    yhat = v1*h1 + v2*h2 + c; loss = (yhat - y)**2.
    """
    _check_tiny_args(x, params, activation)
    xs = [Value(x[0], label="x1"), Value(x[1], label="x2")]
    p = {name: Value(params[name], label=name) for name in TINY_NET_PARAMS}
    hidden = []
    for j in (1, 2):
        terms = []
        for i in (1, 2):
            term = p[f"w{j}{i}"] * xs[i - 1]
            term.label = f"w{j}{i}·x{i}"
            terms.append(term)
        s = terms[0] + terms[1]
        s.label = f"s{j}"
        z = s + p[f"b{j}"]
        z.label = f"z{j}"
        h = getattr(z, activation)()
        h.label = f"h{j}"
        hidden.append(h)
    out_terms = []
    for j in (1, 2):
        term = p[f"v{j}"] * hidden[j - 1]
        term.label = f"v{j}·h{j}"
        out_terms.append(term)
    s = out_terms[0] + out_terms[1]
    s.label = "s3"
    yhat = s + p["c"]
    yhat.label = "yhat"
    err = yhat - Value(target, label="y", constant=True)   # the target: data, never learned
    err.label = "err"
    loss = err ** 2
    loss.label = "loss"
    return loss


def named_gradients(root: Value, names: Sequence[str] = TINY_NET_PARAMS) -> dict[str, float]:
    """``.grad`` of the nodes under ``root`` whose labels are in ``names`` (call backward first)."""
    by_label = {v.label: v for v in root.topological_order()}
    missing = [n for n in names if n not in by_label]
    if missing:
        raise ValueError(f"No nodes labelled {missing} in this graph.")
    return {n: by_label[n].grad for n in names}


def tiny_network_torch(x: Sequence[float], target: float, params: Mapping[str, float],
                       activation: str = "tanh") -> tuple[float, dict[str, float]]:
    """The same network as ``tiny_network`` written with torch tensors (float64) and layers.

    Returns the loss and the gradient of every parameter, from ``torch.autograd``.
    """
    _check_tiny_args(x, params, activation)
    f64 = torch.float64
    W1 = torch.tensor([[params["w11"], params["w12"]], [params["w21"], params["w22"]]],
                      dtype=f64, requires_grad=True)
    b1 = torch.tensor([params["b1"], params["b2"]], dtype=f64, requires_grad=True)
    v = torch.tensor([params["v1"], params["v2"]], dtype=f64, requires_grad=True)
    c = torch.tensor(params["c"], dtype=f64, requires_grad=True)
    act = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}[activation]
    h = act(W1 @ torch.tensor(list(x), dtype=f64) + b1)
    loss = (v @ h + c - float(target)) ** 2
    loss.backward()
    grads = {"w11": W1.grad[0, 0], "w12": W1.grad[0, 1], "w21": W1.grad[1, 0],
             "w22": W1.grad[1, 1], "b1": b1.grad[0], "b2": b1.grad[1],
             "v1": v.grad[0], "v2": v.grad[1], "c": c.grad}
    return float(loss.detach()), {k: float(g) for k, g in grads.items()}


def gradient_descent_step(params: Mapping[str, float], grads: Mapping[str, float],
                          lr: float) -> dict[str, float]:
    """New parameters ``p - lr * dL/dp`` for every parameter in ``params``."""
    if not lr > 0:
        raise ValueError(f"The learning rate must be positive, got {lr}.")
    return {name: float(value) - lr * grads[name] for name, value in params.items()}
