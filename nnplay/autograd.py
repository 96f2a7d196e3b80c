"""A scalar autograd engine with micrograd's interface that also shows its work.

``Value`` holds one number, its gradient, the op that made it and a label. Build an expression
from Values with ``+ - * / **`` and ``relu, tanh, sigmoid, exp, log``, call ``backward()`` on the
result, and every Value in the graph holds d(result)/d(itself) in ``.grad``, exactly as in
Karpathy's micrograd. Beyond micrograd, each node stores the local derivatives of its op, so the
graph can be exported (``graph``) and replayed node by node (``forward_steps``, ``backward_steps``)
with the chain-rule product written out in numbers. The backpropagation lesson's 2-2-1 network
on Values lives in ``nnplay.lessons.backprop``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


class Value:
    """One scalar in a computation graph: its value, its gradient and the op that made it."""

    def __init__(self, data: float, _children: tuple[Value, ...] = (), _op: str = "",
                 label: str = "", _local_grads: tuple[float, ...] = (), constant: bool = False):
        if isinstance(data, Value):
            raise TypeError("Value(data) needs a plain number; the argument is already a Value.")
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        # A constant (such as a target y) is part of the graph but nothing learns it: the
        # step-by-step replay gives it no gradient step (backward() still fills .grad).
        self.constant = bool(constant)
        # Children in argument order (a node used twice appears twice, as in x * x), with the
        # local derivative d(self)/d(child) of each, computed when the op runs.
        self._prev = tuple(_children)
        self._local_grads = tuple(float(g) for g in _local_grads)
        self._op = _op

    @property
    def op(self) -> str:
        """The op that produced this node ('' for an input or a parameter)."""
        return self._op

    @property
    def children(self) -> tuple[Value, ...]:
        """The Values this node was computed from, in argument order."""
        return self._prev

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d(self)/d(child) for each child, in the same order as ``children``."""
        return self._local_grads

    @property
    def is_leaf(self) -> bool:
        return not self._prev

    # --- binary ops -------------------------------------------------------------------------
    def __add__(self, other) -> Value:
        other = _as_value(other)
        return Value(self.data + other.data, (self, other), "+", _local_grads=(1.0, 1.0))

    def __sub__(self, other) -> Value:
        other = _as_value(other)
        return Value(self.data - other.data, (self, other), "-", _local_grads=(1.0, -1.0))

    def __mul__(self, other) -> Value:
        other = _as_value(other)
        return Value(self.data * other.data, (self, other), "*",
                     _local_grads=(other.data, self.data))

    def __truediv__(self, other) -> Value:
        other = _as_value(other)
        if other.data == 0.0:
            raise ValueError("Division by zero: the denominator's value is 0; change an input.")
        return Value(self.data / other.data, (self, other), "/",
                     _local_grads=(1.0 / other.data, -self.data / other.data ** 2))

    def __pow__(self, exponent) -> Value:
        if isinstance(exponent, Value) or not isinstance(exponent, (int, float)):
            raise TypeError("Only a plain int or float exponent is supported, as in micrograd.")
        k, a = exponent, self.data
        if a == 0.0 and k < 0:
            raise ValueError(f"0 ** {k} divides by zero; change the base or use a positive exponent.")
        if a < 0.0 and not float(k).is_integer():
            raise ValueError(f"A negative base ({a:g}) with a fractional exponent ({k:g}) "
                             "has no real value; change the base or the exponent.")
        if k == 0:
            local = 0.0
        elif a == 0.0 and k < 1:
            local = math.inf  # the slope of a ** k at 0 for 0 < k < 1; torch says inf too
        else:
            local = k * a ** (k - 1)
        return Value(a ** k, (self,), f"**{k:g}", _local_grads=(local,))

    def __radd__(self, other) -> Value:  # other + self
        return _as_value(other) + self

    def __rsub__(self, other) -> Value:  # other - self
        return _as_value(other) - self

    def __rmul__(self, other) -> Value:  # other * self
        return _as_value(other) * self

    def __rtruediv__(self, other) -> Value:  # other / self
        return _as_value(other) / self

    def __neg__(self) -> Value:
        return Value(-self.data, (self,), "neg", _local_grads=(-1.0,))

    # --- unary functions --------------------------------------------------------------------
    def relu(self) -> Value:
        out = self.data if self.data > 0 else 0.0
        return Value(out, (self,), "ReLU", _local_grads=(1.0 if self.data > 0 else 0.0,))

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return Value(t, (self,), "tanh", _local_grads=(1.0 - t * t,))

    def sigmoid(self) -> Value:
        # Two forms so that exp never overflows for large |x|.
        if self.data >= 0:
            s = 1.0 / (1.0 + math.exp(-self.data))
        else:
            e = math.exp(self.data)
            s = e / (1.0 + e)
        return Value(s, (self,), "sigmoid", _local_grads=(s * (1.0 - s),))

    def exp(self) -> Value:
        try:
            e = math.exp(self.data)
        except OverflowError:
            e = math.inf
        return Value(e, (self,), "exp", _local_grads=(e,))

    def log(self) -> Value:
        if self.data <= 0.0:
            raise ValueError(f"log needs a positive input, got {self.data:g}; change an input.")
        return Value(math.log(self.data), (self,), "log", _local_grads=(1.0 / self.data,))

    # --- the backward pass ------------------------------------------------------------------
    def topological_order(self) -> list[Value]:
        """Every node this Value depends on, each once, inputs first and ``self`` last."""
        order: list[Value] = []
        visited: set[int] = set()
        # Iterative post-order so that a long chain does not hit Python's recursion limit.
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            for child in reversed(node._prev):
                if id(child) not in visited:
                    stack.append((child, False))
        return order

    def _backward(self) -> None:
        """Chain rule for one node: pass self.grad times each local derivative to the children."""
        for child, local in zip(self._prev, self._local_grads, strict=True):
            child.grad += local * self.grad

    def backward(self) -> None:
        """Fill ``.grad`` of every node with d(self)/d(node), visiting nodes from output to inputs."""
        topo = self.topological_order()
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()

    def graph(self) -> tuple[list[GraphNode], list[GraphEdge]]:
        """The graph under this Value as nodes (in topological order) and edges child -> parent."""
        topo = self.topological_order()
        index = {id(v): i for i, v in enumerate(topo)}
        nodes = [GraphNode(i, v.label, v._op, v.data, v.grad) for i, v in enumerate(topo)]
        edges = [GraphEdge(index[id(child)], i, local)
                 for i, v in enumerate(topo)
                 for child, local in zip(v._prev, v._local_grads, strict=True)]
        return nodes, edges

    def __repr__(self) -> str:
        name = f"label={self.label!r}, " if self.label else ""
        return f"Value({name}data={self.data}, grad={self.grad})"


def _as_value(x) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, (int, float)):
        return Value(x, label=f"{x:g}")
    raise TypeError(f"Cannot combine a Value with {type(x).__name__}; use a number or a Value.")


@dataclass(frozen=True)
class GraphNode:
    """One node of an exported graph: position in topological order, label, op, value, gradient."""

    id: int
    label: str
    op: str
    data: float
    grad: float


@dataclass(frozen=True)
class GraphEdge:
    """An edge from an input node to the node computed from it, with d(target)/d(source)."""

    source: int
    target: int
    local_grad: float


@dataclass(frozen=True)
class ForwardStep:
    """Computing one node in the forward pass: its op applied to its children's values."""

    node: Value

    @property
    def inputs(self) -> tuple[Value, ...]:
        return self.node.children


@dataclass(frozen=True)
class ChainTerm:
    """One path of blame: a consumer of the node, the consumer's gradient, the local derivative."""

    consumer: Value
    consumer_grad: float
    local_grad: float
    position: int = 0      # which argument of the consumer the node is (0 or 1)

    @property
    def product(self) -> float:
        return self.consumer_grad * self.local_grad


@dataclass(frozen=True)
class BackwardStep:
    """Finishing one node's gradient in the backward pass: the sum of its chain-rule terms."""

    node: Value
    terms: tuple[ChainTerm, ...]   # empty for the output node, whose gradient is 1
    grad: float


def forward_steps(root: Value) -> list[ForwardStep]:
    """The computed (non-leaf) nodes under ``root`` in the order the forward pass evaluates them."""
    return [ForwardStep(v) for v in root.topological_order() if not v.is_leaf]


def backward_steps(root: Value) -> list[BackwardStep]:
    """Every node's gradient, output first, each as the chain-rule sum over the node's consumers.

    The gradients are computed here from scratch ("pull": a node sums over the nodes that use
    it), not read from ``.grad``; they equal what ``root.backward()`` ("push") computes.
    Constant leaves (``Value(..., constant=True)``) get no step: nothing learns them.
    """
    topo = root.topological_order()
    consumers: dict[int, list[tuple[Value, float, int]]] = {id(v): [] for v in topo}
    for v in topo:
        for position, (child, local) in enumerate(zip(v._prev, v._local_grads, strict=True)):
            consumers[id(child)].append((v, local, position))
    grads: dict[int, float] = {}
    steps = []
    for v in reversed(topo):
        if v is root:
            terms: tuple[ChainTerm, ...] = ()
            grad = 1.0
        else:
            terms = tuple(ChainTerm(p, grads[id(p)], local, pos)
                          for p, local, pos in consumers[id(v)])
            grad = sum(t.product for t in terms)
        grads[id(v)] = grad
        if not (v.constant and v.is_leaf):
            steps.append(BackwardStep(v, terms, grad))
    return steps


@dataclass(frozen=True)
class WalkthroughState:
    """What a learner has seen after ``step`` clicks: forward steps first, then backward steps."""

    step: int
    n_steps: int
    n_forward: int                          # steps in the forward pass; the rest are backward
    phase: str                              # "start", "forward" or "backward"
    active: Value | None                    # the node the last step computed
    forward_step: ForwardStep | None        # the last forward step, while in the forward phase
    backward_step: BackwardStep | None      # the last backward step, in the backward phase
    known_values: frozenset[int]            # id() of nodes whose value is known (leaves always)
    known_grads: dict[int, float]           # id() -> gradient, for nodes finished so far

    @property
    def forward_done(self) -> bool:
        return self.step >= self.n_forward

    @property
    def done(self) -> bool:
        return self.step == self.n_steps


def walkthrough(root: Value, step: int) -> WalkthroughState:
    """The state after ``step`` steps: one node per step, the forward pass and then the backward.

    Step 0 shows only the inputs and parameters; ``len(forward_steps) + len(backward_steps)``
    steps show every value and every gradient. ``step`` is clipped into that range.
    """
    fwd, bwd = forward_steps(root), backward_steps(root)
    n_steps = len(fwd) + len(bwd)
    step = max(0, min(int(step), n_steps))
    n_fwd, n_bwd = min(step, len(fwd)), max(0, step - len(fwd))
    leaves = {id(v) for v in root.topological_order() if v.is_leaf}
    known_values = frozenset(leaves | {id(s.node) for s in fwd[:n_fwd]})
    known_grads = {id(s.node): s.grad for s in bwd[:n_bwd]}
    if n_bwd:
        return WalkthroughState(step, n_steps, len(fwd), "backward", bwd[n_bwd - 1].node, None,
                                bwd[n_bwd - 1], known_values, known_grads)
    if n_fwd:
        return WalkthroughState(step, n_steps, len(fwd), "forward", fwd[n_fwd - 1].node, fwd[n_fwd - 1],
                                None, known_values, known_grads)
    return WalkthroughState(0, n_steps, len(fwd), "start", None, None, None, known_values, known_grads)
