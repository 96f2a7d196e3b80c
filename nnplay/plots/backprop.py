"""Figures for the backpropagation lesson: the computation graph as DOT text (for
st.graphviz_chart) with values, gradients and the active node, and the chain rule of one step as
LaTeX in numbers. Pure functions: engine objects in, text out.
"""

from __future__ import annotations

import re

from nnplay.autograd import BackwardStep, ForwardStep, Value, WalkthroughState

ACTIVE_FILL = "#ffd54f"
PARAM_FILL = "#d6eaf8"
INPUT_FILL = "#eeeeee"
COMPUTED_FILL = "#ffffff"
BLAME_EDGE = "#d62728"
INPUT_LABELS = ("x1", "x2", "y")   # data, not parameters: drawn grey rather than blue


def fmt(x: float) -> str:
    """A number as the lesson prints it: four significant digits."""
    return f"{x:.4g}"


# --- the computation graph --------------------------------------------------------------------
def _node_formula(v: Value, names: dict[int, str]) -> str:
    """How a node is computed, in plain text with its children's names: 'z1 = s1 + b1'."""
    args = [names[id(c)] for c in v.children]
    if v.op in ("+", "-", "*", "/"):
        rhs = f"{args[0]} {dict(zip('+-*/', '+−×÷', strict=True))[v.op]} {args[1]}"
    elif v.op.startswith("**"):
        rhs = f"{args[0]}^{v.op[2:]}"
    elif v.op == "neg":
        rhs = f"−{args[0]}"
    else:
        rhs = f"{v.op}({args[0]})"
    if names[id(v)] == rhs.replace(" × ", "·"):   # 'w11·x1' already says what it computes
        return names[id(v)]
    # A long formula would make every node in its column wide: name the op instead.
    if len(rhs) > 12:
        rhs = {"+": "sum", "-": "difference", "*": "product", "/": "quotient"}.get(v.op, rhs)
    return f"{names[id(v)]} = {rhs}"


def _record_escape(text: str) -> str:
    # Characters that structure a graphviz record label must be escaped to show literally.
    return re.sub(r'([{}|<>"\\])', r"\\\1", text)


def computation_graph_dot(root: Value, state: WalkthroughState) -> str:
    """The graph under ``root`` as DOT: each node shows its value and gradient once known.

    The node the last step computed is filled yellow; in the backward phase the edges along
    which it received blame are red and labelled with the local derivatives.
    """
    topo = root.topological_order()
    index = {id(v): i for i, v in enumerate(topo)}
    active = id(state.active) if state.active is not None else None
    # In left-to-right layout a record's fields stack vertically: narrow nodes, a shorter graph.
    lines = ["digraph {", '  rankdir="LR";', '  bgcolor="transparent";',
             '  ranksep=0.22; nodesep=0.1;',
             '  node [shape=record, fontname="Helvetica", fontsize=10, style=filled, fixedsize=true, width=0.98, height=0.58];',
             '  edge [color="#888888", fontname="Helvetica", fontsize=10];']
    names = {id(v): v.label or f"v{i}" for i, v in enumerate(topo)}
    for i, v in enumerate(topo):
        title = _node_formula(v, names) if v.op else names[id(v)]
        value = fmt(v.data) if id(v) in state.known_values else "?"
        grad = fmt(state.known_grads[id(v)]) if id(v) in state.known_grads else "?"
        fields = (title, f"data {value}", "constant" if v.constant else f"grad {grad}")
        label = "|".join(_record_escape(field) for field in fields)
        if id(v) == active:
            fill = ACTIVE_FILL
        elif v.is_leaf:
            fill = INPUT_FILL if v.label in INPUT_LABELS or not v.label[:1].isalpha() else PARAM_FILL
        else:
            fill = COMPUTED_FILL
        pen = ', penwidth=2.5' if id(v) == active else ''
        lines.append(f'  n{i} [label="{label}", fillcolor="{fill}"{pen}];')
    blamed = set()
    if state.backward_step is not None:
        blamed = {id(t.consumer) for t in state.backward_step.terms}
    for v in topo:
        for child, local in zip(v.children, v.local_grads, strict=True):
            attrs = ""
            if id(child) == active and id(v) in blamed:
                attrs = f' [color="{BLAME_EDGE}", penwidth=2, label="×{fmt(local)}", fontcolor="{BLAME_EDGE}"]'
            lines.append(f"  n{index[id(child)]} -> n{index[id(v)]}{attrs};")
    lines.append("}")
    return "\n".join(lines)


# --- the chain rule in numbers ----------------------------------------------------------------
def latex_name(v: Value) -> str:
    """A node's label as LaTeX: w11 -> w_{11}, yhat -> \\hat{y}, v1·h1 -> v_{1}h_{1}."""
    label = v.label
    if label == "yhat":
        return r"\hat{y}"
    if label == "loss":
        return "L"
    parts = []
    for part in label.split("·"):
        m = re.fullmatch(r"([A-Za-z]+)(\d+)", part)
        if m:
            parts.append(f"{m.group(1)}_{{{m.group(2)}}}")
        elif re.fullmatch(r"[A-Za-z]", part):
            parts.append(part)
        elif re.fullmatch(r"-?[\d.]+(e-?\d+)?", part):
            parts.append(part)
        else:
            parts.append(rf"\mathrm{{{re.sub(r'[^A-Za-z0-9]', '', part) or 'v'}}}")
    return " ".join(parts)


def _wrt(v: Value) -> str:
    """The denominator of a partial derivative: a product name gets parentheses."""
    name = latex_name(v)
    return rf"\partial \left({name}\right)" if " " in name else rf"\partial {name}"


def _paren(x: float) -> str:
    return f"({fmt(x)})" if x < 0 else fmt(x)


def _op_latex(v: Value, names: list[str]) -> str:
    """The op applied to ``names`` (LaTeX for the children or for their numbers)."""
    op = v.op
    if op in ("+", "-"):
        return f"{names[0]} {op} {names[1]}"
    if op == "*":
        return rf"{names[0]} \cdot {names[1]}"
    if op == "/":
        return rf"\frac{{{names[0]}}}{{{names[1]}}}"
    if op.startswith("**"):
        return f"{{{names[0]}}}^{{{op[2:]}}}"
    if op == "neg":
        return f"-{names[0]}"
    functions = {"ReLU": r"\mathrm{ReLU}", "tanh": r"\tanh", "sigmoid": r"\sigma",
                 "exp": r"\exp", "log": r"\log"}
    return rf"{functions[op]}\left({names[0]}\right)"


def forward_step_latex(step: ForwardStep) -> str:
    """``name = op(children) = op(numbers) = value`` for one forward step."""
    v = step.node
    symbols = [latex_name(c) for c in step.inputs]
    numbers = [_paren(c.data) for c in step.inputs]
    return (f"{latex_name(v)} = {_op_latex(v, symbols)} = {_op_latex(v, numbers)} "
            f"= {fmt(v.data)}")


def _local_rule(consumer: Value, position: int) -> str:
    """The symbolic rule for d(consumer)/d(its argument number ``position``), in node names."""
    op, kids = consumer.op, consumer.children
    out, a = latex_name(consumer), latex_name(kids[0])
    if op == "+":
        return "1"
    if op == "-":
        return "1" if position == 0 else "-1"
    if op == "*":
        return latex_name(kids[1 - position])
    if op == "/":
        b = latex_name(kids[1])
        return rf"\frac{{1}}{{{b}}}" if position == 0 else rf"-\frac{{{a}}}{{{b}^2}}"
    if op.startswith("**"):
        k = float(op[2:])
        return f"{op[2:]}\\,{a}" if k == 2 else f"{op[2:]}\\,{{{a}}}^{{{k - 1:g}}}"
    rules = {"neg": "-1", "ReLU": rf"\mathbb{{1}}[{a} > 0]", "tanh": f"1 - {{{out}}}^2",
             "sigmoid": rf"{out}\,(1 - {out})", "exp": out, "log": rf"\frac{{1}}{{{a}}}"}
    return rules[op]


def backward_step_latex(step: BackwardStep, root: Value) -> list[str]:
    """The chain rule that finishes one node's gradient, as LaTeX lines in symbols and numbers.

    First line: dL/dnode as the sum over the node's consumers of dL/dconsumer times the local
    derivative, then in numbers, then the result. Then one line per local derivative rule.
    """
    v, top = step.node, latex_name(root)
    lhs = rf"\frac{{\partial {top}}}{{{_wrt(v)}}}"
    if not step.terms:
        return [rf"{lhs} = 1 \quad \text{{(the output's gradient with respect to itself)}}"]
    symbolic = " + ".join(
        rf"\frac{{\partial {top}}}{{{_wrt(t.consumer)}}}"
        rf"\frac{{\partial {latex_name(t.consumer)}}}{{{_wrt(v)}}}"
        for t in step.terms)
    numeric = " + ".join(rf"{_paren(t.consumer_grad)} \cdot {_paren(t.local_grad)}"
                         for t in step.terms)
    lines = [f"{lhs} = {symbolic}", f"{lhs} = {numeric} = {fmt(step.grad)}"]
    for t in step.terms:
        rule = _local_rule(t.consumer, t.position)
        deriv = rf"\frac{{\partial {latex_name(t.consumer)}}}{{{_wrt(v)}}}"
        if rule.lstrip("-").isdigit():   # a constant rule needs no "= number" after it
            lines.append(f"{deriv} = {rule}")
        else:
            lines.append(f"{deriv} = {rule} = {fmt(t.local_grad)}")
    return list(dict.fromkeys(lines))   # a node used twice by one op repeats its rule line
