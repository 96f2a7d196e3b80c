"""Figures for the backpropagation lessons: the computation graph as DOT text (for
st.graphviz_chart) with values, gradients and the active node, the chain rule of one step as
LaTeX in numbers, optimizer paths over a loss surface, and per-layer gradient norms and
activation histograms of a deep network. Pure functions: engine objects in, text or Figure out.
"""

from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nnplay.autograd import BackwardStep, ForwardStep, Value, WalkthroughState
from nnplay.gradflow import GradientFlowReport
from nnplay.optimsurface import OPTIMIZER_TITLES, OptimizerPath, Surface

ACTIVE_FILL = "#ffd54f"
PARAM_FILL = "#d6eaf8"
INPUT_FILL = "#eeeeee"
COMPUTED_FILL = "#ffffff"
BLAME_EDGE = "#d62728"
PATH_COLORS = {"sgd": "#1f77b4", "momentum": "#ff7f0e", "nesterov": "#2ca02c",
               "rmsprop": "#9467bd", "adam": "#d62728"}
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
             '  ranksep=0.3; nodesep=0.12;',
             '  node [shape=record, fontname="Helvetica", fontsize=11, style=filled];',
             '  edge [color="#888888", fontname="Helvetica", fontsize=10];']
    names = {id(v): v.label or f"v{i}" for i, v in enumerate(topo)}
    for i, v in enumerate(topo):
        title = _node_formula(v, names) if v.op else names[id(v)]
        value = fmt(v.data) if id(v) in state.known_values else "?"
        grad = fmt(state.known_grads[id(v)]) if id(v) in state.known_grads else "?"
        fields = (title, f"data {value}", f"grad {grad}")
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


# --- optimizers on a surface ------------------------------------------------------------------
def optimizer_paths_figure(surface: Surface, paths: dict[str, OptimizerPath],
                           grid_points: int = 150) -> go.Figure:
    """Contours of the surface with each optimizer's path, the start and the global minima."""
    xs, ys, Z = surface.grid(grid_points)
    shown = np.log10(Z - Z.min() + 1e-3) if surface.log_contours else Z
    title = "log10(f − min f)" if surface.log_contours else "f(x, y)"
    fig = go.Figure(go.Contour(x=xs, y=ys, z=shown, ncontours=30, colorscale="Greys",
                               reversescale=True, opacity=0.6, showscale=False,
                               contours={"coloring": "lines"}, name=title,
                               hovertemplate="x=%{x:.2f}<br>y=%{y:.2f}<extra></extra>"))
    for name, path in paths.items():
        label = OPTIMIZER_TITLES.get(name, name) + (" (diverged)" if path.diverged else "")
        fig.add_trace(go.Scatter(x=path.points[:, 0], y=path.points[:, 1], mode="lines+markers",
                                 name=label, marker={"size": 3},
                                 line={"color": PATH_COLORS.get(name), "width": 2}))
    mx, my = zip(*surface.minima, strict=True)
    fig.add_trace(go.Scatter(x=mx, y=my, mode="markers", name="global minimum",
                             marker={"symbol": "star", "size": 16, "color": "gold",
                                     "line": {"width": 1, "color": "black"}}))
    start = next(iter(paths.values())).points[0] if paths else surface.start
    fig.add_trace(go.Scatter(x=[start[0]], y=[start[1]], mode="markers", name="start",
                             marker={"symbol": "x", "size": 12, "color": "black"}))
    fig.update_layout(xaxis={"range": list(surface.x_range), "title": "x"},
                      yaxis={"range": list(surface.y_range), "title": "y",
                             "scaleanchor": "x", "scaleratio": 1},
                      height=520, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      title=surface.title, legend={"orientation": "h", "y": -0.15})
    return fig


def optimizer_loss_figure(surface: Surface, paths: dict[str, OptimizerPath]) -> go.Figure:
    """Loss above the global minimum, per step, on a log scale, one line per optimizer."""
    floor = surface.min_value()
    fig = go.Figure()
    for name, path in paths.items():
        gap = np.maximum(path.losses - floor, 1e-16)
        fig.add_trace(go.Scatter(y=gap, mode="lines", name=OPTIMIZER_TITLES.get(name, name),
                                 line={"color": PATH_COLORS.get(name)}))
    fig.update_layout(xaxis_title="step", yaxis={"title": "f − min f", "type": "log"},
                      height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


# --- gradients through depth ------------------------------------------------------------------
def gradient_norms_figure(report: GradientFlowReport) -> go.Figure:
    """Each layer's weight-gradient norm on a log scale, input side on the left."""
    tiny = 1e-30   # an exactly zero gradient cannot sit on a log axis; draw it at the floor
    norms = np.where(report.grad_norms > 0, report.grad_norms, tiny)
    fig = go.Figure(go.Scatter(x=list(report.layer_names), y=norms, mode="lines+markers",
                               marker={"size": 8}, line={"width": 2},
                               customdata=report.grad_norms,
                               hovertemplate="%{x}: %{customdata:.3e}<extra></extra>"))
    fig.update_layout(yaxis={"type": "log", "title": "‖∂L/∂W‖ (log scale)", "exponentformat": "e"},
                      xaxis_title="layer (input → output)", height=360,
                      title=f"{report.activation}, {report.init} init, depth {report.depth}",
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def activation_histograms_figure(report: GradientFlowReport, max_layers: int = 6) -> go.Figure:
    """Histograms of hidden activations for up to ``max_layers`` layers spread over the depth."""
    n = len(report.activation_samples)
    chosen = sorted(set(np.linspace(0, n - 1, min(n, max_layers)).round().astype(int).tolist()))
    fig = make_subplots(rows=1, cols=len(chosen), shared_yaxes=True,
                        subplot_titles=[report.layer_names[i] for i in chosen])
    for col, i in enumerate(chosen, start=1):
        values = report.activation_samples[i]
        fig.add_trace(go.Histogram(x=values, nbinsx=40, histnorm="probability",
                                   marker_color="#1f77b4", showlegend=False,
                                   name=report.layer_names[i]), row=1, col=col)
    fig.update_layout(height=280, margin={"l": 10, "r": 10, "t": 40, "b": 10}, bargap=0.05)
    fig.update_yaxes(title_text="share", row=1, col=1)
    return fig
