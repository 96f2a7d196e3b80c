"""The scalar autograd engine against torch.autograd: micrograd's tests, random expressions, the
step-by-step replay, and the tiny network the backprop lesson draws."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnplay.autograd import Value, backward_steps, forward_steps, walkthrough
from nnplay.lessons.backprop import (
    DEFAULT_TINY_PARAMS,
    TINY_NET_ACTIVATIONS,
    TINY_NET_PARAMS,
    gradient_descent_step,
    named_gradients,
    tiny_network,
    tiny_network_torch,
)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)


# --- micrograd's own test expressions ---------------------------------------------------------
def test_sanity_check():
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    xmg, ymg = x, y

    x = torch.tensor([-4.0], dtype=torch.float64, requires_grad=True)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()

    assert ymg.data == y.item()
    assert xmg.grad == x.grad.item()


def test_more_ops():
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b ** 3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    amg, bmg, gmg = a, b, g

    a = torch.tensor([-4.0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    c = a + b
    d = a * b + b ** 3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()

    assert abs(gmg.data - g.item()) < 1e-6
    assert abs(amg.grad - a.grad.item()) < 1e-6
    assert abs(bmg.grad - b.grad.item()) < 1e-6


@pytest.mark.parametrize("name", ["tanh", "exp", "sigmoid", "relu", "log"])
def test_unary_functions_match_torch(name):
    for x in (-1.0, 0.123, 2.0):
        if name == "log" and x <= 0:
            continue
        xv = Value(x)
        yv = getattr(xv, name)()
        yv.backward()
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        yt = getattr(torch, name)(xt)
        yt.backward()
        assert close(yv.data, yt.item()) and close(xv.grad, xt.grad.item())


# --- random expressions from every op ---------------------------------------------------------
UNARY = ("neg", "relu", "tanh", "sigmoid", "exp", "log")
BINARY = ("add", "sub", "mul", "div")
WITH_NUMBER = ("radd", "rsub", "rmul", "rdiv", "add_n", "sub_n", "mul_n", "div_n", "pow")
EXPONENTS = (2, 3, -1, 0.5, 1.5, 2.0)


def _apply(op, a, b, k, module):
    """Apply one op to (Value, Value) or to (tensor, tensor): the same code for both engines."""
    if op == "neg":
        return -a
    if op in ("relu", "tanh", "sigmoid", "exp", "log"):
        return getattr(a, op)() if module == "value" else getattr(torch, op)(a)
    return {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
            "div": lambda: a / b, "radd": lambda: k + a, "rsub": lambda: k - a,
            "rmul": lambda: k * a, "rdiv": lambda: k / a, "add_n": lambda: a + k,
            "sub_n": lambda: a - k, "mul_n": lambda: a * k, "div_n": lambda: a / k,
            "pow": lambda: a ** k}[op]()


def _allowed(op, a, b, k) -> bool:
    """Keep the expression inside every op's domain and its numbers of moderate size."""
    if abs(a) > 50 and op in ("exp", "mul", "pow", "rmul", "mul_n"):
        return False
    if op == "exp":
        return a < 5
    if op == "log":
        return a > 0.1
    if op == "div":
        return abs(b) > 0.1
    if op == "rdiv":
        return abs(a) > 0.1
    if op == "div_n":
        return abs(k) > 0.1
    if op == "pow":
        if k < 0 and abs(a) < 0.1:
            return False
        return float(k).is_integer() or a > 0.1
    return True


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_expressions_match_torch(data):
    n_leaves = data.draw(st.integers(1, 3))
    leaf_values = [data.draw(st.floats(-2, 2)) for _ in range(n_leaves)]
    vals = [Value(x, label=f"x{i}") for i, x in enumerate(leaf_values)]
    leaves_t = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in leaf_values]
    tens = list(leaves_t)
    ops = UNARY + BINARY + WITH_NUMBER
    for _ in range(data.draw(st.integers(1, 12))):
        op = data.draw(st.sampled_from(ops))
        # Indices drawn independently, so one node is often used twice (x * x, a + a).
        i, j = data.draw(st.integers(0, len(vals) - 1)), data.draw(st.integers(0, len(vals) - 1))
        k = (data.draw(st.sampled_from(EXPONENTS)) if op == "pow"
             else data.draw(st.floats(-3, 3).filter(lambda v: abs(v) > 0.1)))
        if not _allowed(op, vals[i].data, vals[j].data, k):
            continue
        vals.append(_apply(op, vals[i], vals[j], k, "value"))
        tens.append(_apply(op, tens[i], tens[j], k, "torch"))
    # Summing every node makes each intermediate result part of the output.
    out_v, out_t = vals[0], tens[0]
    for v, t in zip(vals[1:], tens[1:], strict=True):
        out_v, out_t = out_v + v, out_t + t
    out_v.backward()
    out_t.backward()
    assert close(out_v.data, out_t.item())
    for v, t in zip(vals[:n_leaves], leaves_t, strict=True):
        assert close(v.grad, t.grad.item()), (v.label, v.grad, t.grad.item())


def test_repeated_node_accumulates_every_use():
    x = Value(3.0)
    y = x * x + x          # dy/dx = 2x + 1
    y.backward()
    assert x.grad == 7.0


def test_long_chain_does_not_hit_recursion_limit():
    x = Value(1.0)
    y = x
    for _ in range(5000):
        y = y + x
    y.backward()
    assert y.data == 5001.0 and x.grad == 5001.0


# --- graph export and the step-by-step replay ------------------------------------------------
def test_graph_export_and_topological_order():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    out = (a * b + a).tanh()
    out.label = "out"
    out.backward()
    nodes, edges = out.graph()
    assert [n.label for n in nodes][-1] == "out"
    assert len(nodes) == 5 and len(edges) == 5
    assert all(e.source < e.target for e in edges)   # every input comes before its user
    by_label = {n.label: n for n in nodes}
    assert by_label["a"].grad == a.grad and by_label["b"].grad == b.grad


def test_backward_steps_pull_equals_backward_push():
    loss = tiny_network([0.5, -1.5], 1.0, DEFAULT_TINY_PARAMS, "sigmoid")
    steps = backward_steps(loss)
    loss.backward()
    assert steps[0].node is loss and steps[0].grad == 1.0
    graph = loss.topological_order()
    assert len(steps) == len(graph) - 1   # every node but the constant target y
    assert [v.label for v in graph if v.constant] == ["y"]
    assert all(s.node.label != "y" for s in steps)
    for s in steps:
        assert math.isclose(s.grad, s.node.grad, rel_tol=1e-12, abs_tol=1e-15)
    for s in steps[1:]:
        assert s.terms and s.grad == sum(t.consumer_grad * t.local_grad for t in s.terms)


def test_walkthrough_reveals_values_then_gradients():
    loss = tiny_network([1.0, 2.0], 0.0, DEFAULT_TINY_PARAMS, "tanh")
    n_fwd, n_all = len(forward_steps(loss)), len(loss.topological_order())
    n_learned = n_all - 1   # the target y is a constant: no gradient step
    start = walkthrough(loss, 0)
    assert start.phase == "start" and start.active is None and not start.known_grads
    assert start.n_steps == n_fwd + n_learned
    mid = walkthrough(loss, n_fwd)
    assert mid.forward_done and mid.active is loss and len(mid.known_values) == n_all
    first_back = walkthrough(loss, n_fwd + 1)
    assert first_back.phase == "backward" and first_back.known_grads == {id(loss): 1.0}
    end = walkthrough(loss, 10_000)   # clipped to the last step
    assert end.done and len(end.known_grads) == n_learned


# --- the tiny network -------------------------------------------------------------------------
@pytest.mark.parametrize("activation", TINY_NET_ACTIVATIONS)
def test_tiny_network_matches_torch(activation):
    params = {name: 0.3 * (i - 4) for i, name in enumerate(TINY_NET_PARAMS)}
    loss = tiny_network([0.7, -1.2], 0.4, params, activation)
    loss.backward()
    torch_loss, torch_grads = tiny_network_torch([0.7, -1.2], 0.4, params, activation)
    assert close(loss.data, torch_loss)
    grads = named_gradients(loss)
    assert any(abs(g) > 1e-3 for g in grads.values())
    for name in TINY_NET_PARAMS:
        assert close(grads[name], torch_grads[name]), name


def test_one_gradient_descent_step_lowers_the_loss():
    x, y = [1.0, -2.0], 1.0
    loss = tiny_network(x, y, DEFAULT_TINY_PARAMS, "tanh")
    loss.backward()
    new = gradient_descent_step(DEFAULT_TINY_PARAMS, named_gradients(loss), lr=0.1)
    assert new["c"] == pytest.approx(DEFAULT_TINY_PARAMS["c"] - 0.1 * named_gradients(loss)["c"])
    assert tiny_network(x, y, new, "tanh").data < 0.9 * loss.data


@pytest.mark.parametrize("make", [lambda: Value(-1.0).log(), lambda: Value(1.0) / 0,
                                  lambda: Value(-2.0) ** 0.5, lambda: Value(0.0) ** -1,
                                  lambda: tiny_network([1.0], 0.0, DEFAULT_TINY_PARAMS),
                                  lambda: tiny_network([1.0, 2.0], 0.0, DEFAULT_TINY_PARAMS, "elu"),
                                  lambda: gradient_descent_step({"c": 1.0}, {"c": 1.0}, lr=0)])
def test_bad_input_raises_value_error(make):
    with pytest.raises(ValueError):
        make()
