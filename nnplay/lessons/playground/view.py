"""What the Playground's browser-side view draws, and the one edit it sends back.

``view_payload`` turns a PlaygroundSession into plain numbers for the view (nnplay.ui's
playground_view draws them on canvas, as TensorFlow Playground does): the output over the input
plane (from ``output_grid``), each input feature's and hidden neuron's small map, every weight
and bias, and the data points. Values are rounded so a refresh stays a small message; anything
not finite (a diverged network) becomes None, which JSON carries as null. ``set_weight`` applies
a weight the learner typed on an edge.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from nnplay import models
from nnplay.lessons.playground import (
    PlaygroundSession,
    output_grid,
    plane_limits,
    transform_features,
)
from nnplay.lessons.playground.settings import _check

RESOLUTION = 49        # the output map's grid (49 x 49); the browser upsamples it smoothly
NODE_STEP = 3          # a node's map takes every 3rd grid point: 17 x 17 over the same plane
MANY_NEURONS = 16      # past this many hidden neurons, nodes are small: 9 x 9 maps (every 6th)
# Decimal digits per kind of value: enough for what is shown (a colour, or a value on hover).
DIGITS = {"output": 3, "maps": 2, "weights": 3, "points": 2}
MAX_WEIGHT = 100.0     # larger typed weights are refused: they only make the network diverge
CURVE_POINTS = 240     # the live loss chart gets at most this many epochs (evenly spaced)


def rounded(values, digits: int) -> list:
    """A flat list of floats rounded to ``digits``; not-finite values become None."""
    a = np.round(np.asarray(values, dtype=np.float64).ravel(), digits)
    finite = np.isfinite(a)
    if finite.all():
        return a.tolist()
    return [float(v) if ok else None for v, ok in zip(a, finite)]


def view_payload(session: PlaygroundSession, resolution: int = RESOLUTION,
                 node_step: int | None = None) -> dict:
    """Everything the view draws for the session as it is now, as JSON-ready lists.

    Grids are row-major with row 0 at the bottom of the plane (y = ylim[0]), as output_grid
    returns them; node maps take every ``node_step``-th point (by default NODE_STEP, twice that
    for a network with more than MANY_NEURONS hidden neurons, whose nodes are drawn small); ``weights[l][j]`` holds the weights into neuron j of layer l + 1 from each
    neuron i of layer l (PyTorch's (out, in) layout).
    """
    if node_step is None:
        many = sum(session.settings.hidden) > MANY_NEURONS
        node_step = 2 * NODE_STEP if many else NODE_STEP
    _check((resolution - 1) % node_step == 0,
           f"node_step ({node_step}) must divide resolution - 1 ({resolution - 1}) so the "
           "nodes' maps span the whole plane.")
    with session.lock:      # not while another thread is in the middle of a training step
        return _payload(session, resolution, node_step)


def _payload(session: PlaygroundSession, resolution: int, node_step: int) -> dict:
    s, raw, dataset = session.settings, session.raw, session.dataset
    xlim, ylim = plane_limits(raw)
    grid = output_grid(session.model, s.features, xlim, ylim, s.problem, resolution)
    small = grid.xs[::node_step], grid.ys[::node_step]
    gx, gy = np.meshgrid(*small)
    inputs = transform_features(np.column_stack([gx.ravel(), gy.ravel()]), s.features).T
    linears = session.model.linear_layers()
    d = DIGITS
    payload = {
        "task": s.problem,
        "n_classes": int(dataset.n_outputs),
        "discretize": bool(s.discretize),
        "xlim": [float(v) for v in xlim], "ylim": [float(v) for v in ylim],
        "res": int(resolution),
        "output": rounded(grid.output, d["output"]),
        "confidence": None if grid.confidence is None else rounded(grid.confidence, d["output"]),
        "node_res": len(small[0]),
        "inputs": [rounded(m, d["maps"]) for m in inputs],
        "neurons": [[rounded(m[::node_step, ::node_step], d["maps"]) for m in layer]
                    for layer in grid.neurons],
        # each output unit's own map: P(class k) for a classifier (None: the output map)
        "class_maps": None if grid.probs is None else
        [rounded(m[::node_step, ::node_step], d["maps"]) for m in grid.probs],
        "sizes": [len(s.features), *s.hidden, int(dataset.n_outputs)],
        "input_names": list(dataset.feature_names),
        "output_names": list(raw.class_names or ["output"]),
        "weights": [[rounded(row, d["weights"]) for row in lin.weight.detach().cpu().numpy()]
                    for lin in linears],
        "biases": [rounded(lin.bias.detach().cpu().numpy(), d["weights"]) for lin in linears],
        "train": _points(raw.X_train, raw.y_train),
        "test": _points(raw.X_test, raw.y_test) if s.show_test else None,
        "epoch": int(session.epoch),
        "loss": loss_curve(session.trainer.curve_history()),
    }
    return payload


def loss_curve(history: list[dict], points: int = CURVE_POINTS) -> dict:
    """Train and test loss from epoch 0, thinned to at most ``points`` evenly spaced epochs
    (the first and the last always kept), for the view's live loss chart."""
    keep = np.unique(np.linspace(0, len(history) - 1, min(points, len(history))).round()
                     .astype(int)) if history else np.array([], dtype=int)
    rows = [history[i] for i in keep]

    def column(key: str) -> list | None:
        if not rows or key not in rows[-1]:
            return None
        return rounded([r.get(key, float("nan")) for r in rows], 4)

    return {"epoch": [int(r["epoch"]) for r in rows], "train": column("loss"),
            "test": column("val_loss")}


def _points(X: np.ndarray, y: np.ndarray) -> dict:
    return {"x": rounded(X[:, 0], DIGITS["points"]), "y": rounded(X[:, 1], DIGITS["points"]),
            "v": rounded(y, DIGITS["points"])}


def _number(value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"A weight is a number, got {value!r}.") from None
    _check(math.isfinite(value) and abs(value) <= MAX_WEIGHT,
           f"Type a number between -{MAX_WEIGHT:g} and {MAX_WEIGHT:g}, got {value:g}.")
    return value


def _linear(model: models.MLP, layer) -> torch.nn.Linear:
    linears = model.linear_layers()
    _check(isinstance(layer, int) and 0 <= layer < len(linears),
           f"layer must be 0 to {len(linears) - 1}, got {layer!r}.")
    return linears[layer]


def _index(name: str, value, size: int) -> int:
    _check(isinstance(value, int) and 0 <= value < size,
           f"{name} must be 0 to {size - 1}, got {value!r}.")
    return value


@torch.no_grad()
def set_weight(model: models.MLP, layer: int, i: int, j: int, value: float) -> float:
    """Set the weight on the edge from neuron ``i`` of layer ``layer`` to neuron ``j`` of the
    next layer (layer 0 is the inputs); returns the old weight. Raises ValueError, saying what
    to change, for an edge that does not exist or a value that is not a usable number."""
    weight = _linear(model, layer).weight
    i, j = _index("i", i, weight.shape[1]), _index("j", j, weight.shape[0])
    value, old = _number(value), float(weight[j, i])
    weight[j, i] = value
    return old


@torch.no_grad()
def set_bias(model: models.MLP, layer: int, j: int, value: float) -> float:
    """Set the bias of neuron ``j`` of layer ``layer + 1`` (the bias added after weight matrix
    ``layer``); returns the old bias."""
    bias = _linear(model, layer).bias
    j = _index("j", j, bias.shape[0])
    value, old = _number(value), float(bias[j])
    bias[j] = value
    return old


def apply_edit(session: PlaygroundSession, edit: dict) -> str:
    """Apply an edit the view reported ({"layer", "i", "j", "value"}, with "bias": true for a
    bias); returns a line for the learner saying what changed."""
    _check(isinstance(edit, dict), f"An edit is a dict, got {type(edit).__name__}.")
    layer, i, j, value = (edit.get(k) for k in ("layer", "i", "j", "value"))
    if edit.get("bias"):
        with session.lock:
            old = set_bias(session.model, layer, j, value)
        return f"Bias of {node_name(session, layer + 1, j)}: {old:.3f} → {float(value):.3f}."
    with session.lock:
        old = set_weight(session.model, layer, i, j, value)
    return (f"Weight {node_name(session, layer, i)} → {node_name(session, layer + 1, j)}: "
            f"{old:.3f} → {float(value):.3f}.")


def node_name(session: PlaygroundSession, layer: int, k: int) -> str:
    """A node as the view names it: an input feature, a hidden neuron or an output."""
    if layer == 0:
        return session.dataset.feature_names[k]
    if layer == len(session.settings.hidden) + 1:
        return f"output {(session.raw.class_names or ['output'])[k]}"
    return f"neuron {k + 1} of layer {layer}"
