"""Lesson: backpropagation, number by number. A 2-2-1 network built from nnplay.autograd Values:
step the forward pass and the backward pass one node at a time with the chain rule written out,
check every gradient against PyTorch, and take one gradient-descent step.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import nnplay.ui  # noqa: F401  (routes shared links through app.py)
from nnplay import autograd
from nnplay.lessons import backprop
from nnplay.plots import backprop as bp_plots

INPUT_DEFAULTS = {"bp_x1": 1.0, "bp_x2": -2.0, "bp_y": 1.0}
NOT_YET = "not yet computed"
PARAM_KEYS = {name: f"bp_{name}" for name in backprop.TINY_NET_PARAMS}
STEP_KEY = "bp_step"
LIMIT = 5.0


def init_state() -> None:
    """First values for every widget and the step counter, through session state."""
    for key, value in INPUT_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    for name, key in PARAM_KEYS.items():
        st.session_state.setdefault(key, backprop.DEFAULT_TINY_PARAMS[name])
    st.session_state.setdefault(STEP_KEY, 0)


def set_step(step: int) -> None:
    st.session_state[STEP_KEY] = step


def apply_update(new_params: dict[str, float]) -> None:
    """Write the updated weights into the widgets and start the walkthrough again."""
    for name, value in new_params.items():
        st.session_state[PARAM_KEYS[name]] = min(max(value, -LIMIT), LIMIT)  # widget bounds
    set_step(0)


def network_inputs() -> tuple[list[float], float, dict[str, float], str]:
    """Inputs, target, the nine parameters and the activation, from the learner's widgets."""
    reset = {"on_change": set_step, "args": (0,)}
    c1, c2, c3, c4 = st.columns(4)
    x1 = c1.number_input("input x1", -LIMIT, LIMIT, step=0.1, key="bp_x1", **reset)
    x2 = c2.number_input("input x2", -LIMIT, LIMIT, step=0.1, key="bp_x2", **reset)
    y = c3.number_input("target y", -LIMIT, LIMIT, step=0.1, key="bp_y", **reset)
    activation = c4.selectbox("activation", backprop.TINY_NET_ACTIVATIONS, key="bp_activation",
                              **reset)
    params = {}
    with st.expander("Weights and biases", expanded=False):
        columns = st.columns(3)
        for i, (name, key) in enumerate(PARAM_KEYS.items()):
            params[name] = columns[i % 3].number_input(name, -LIMIT, LIMIT, step=0.1,
                                                       format="%.4f", key=key, **reset)
    return [x1, x2], y, params, activation


def walkthrough_controls(state: autograd.WalkthroughState) -> None:
    """Forward step, backward step, run all and reset, each moving the step counter."""
    c1, c2, c3, c4 = st.columns(4)
    c1.button("Forward step", key="bp_forward", on_click=set_step, args=(state.step + 1,),
              disabled=state.forward_done, width="stretch")
    c2.button("Backward step", key="bp_backward", on_click=set_step, args=(state.step + 1,),
              disabled=not state.forward_done or state.done, width="stretch")
    c3.button("Run all", key="bp_run_all", on_click=set_step, args=(state.n_steps,),
              disabled=state.done, width="stretch")
    c4.button("Reset", key="bp_reset", on_click=set_step, args=(0,), width="stretch")


def describe_step(root: autograd.Value, state: autograd.WalkthroughState) -> None:
    """Where the walkthrough is and the formula of the node it just computed."""
    n_back = state.n_steps - state.n_forward
    if state.phase == "start":
        st.info(f"Inputs and parameters are set. Press **Forward step** to compute the "
                f"{state.n_forward} intermediate nodes one at a time.")
    elif state.phase == "forward":
        st.markdown(f"**Forward pass**, node {state.step} of {state.n_forward}: "
                    f"`{state.active.label}` applies its op to values already known.")
        st.latex(bp_plots.forward_step_latex(state.forward_step))
    else:
        k = state.step - state.n_forward
        st.markdown(f"**Backward pass**, node {k} of {n_back}: `{state.active.label}` collects "
                    "blame from every node that used it (red edges): the gradient flowing in "
                    "times the local derivative, summed.")
        for line in bp_plots.backward_step_latex(state.backward_step, root):
            st.latex(line)


def revealed_gradients(root: autograd.Value,
                       state: autograd.WalkthroughState) -> dict[str, float | None]:
    """Each parameter's gradient once the backward pass has reached it, else None."""
    by_label = {v.label: v for v in root.topological_order()}
    return {name: state.known_grads.get(id(by_label[name])) for name in backprop.TINY_NET_PARAMS}


def gradient_table(params: dict[str, float], grads: dict[str, float | None]) -> pd.DataFrame:
    """Parameters, values and gradients as text; a gradient the backward pass has not reached
    yet reads "not yet computed"."""
    return pd.DataFrame({"parameter": list(params),
                         "value": [f"{v:.4g}" for v in params.values()],
                         "gradient dL/dp": [NOT_YET if grads[n] is None else f"{grads[n]:.6g}"
                                            for n in params]})


def torch_check(x, y, params, activation, grads: dict[str, float], loss: float) -> None:
    """The same network in torch.autograd, its gradients beside ours."""
    torch_loss, torch_grads = backprop.tiny_network_torch(x, y, params, activation)
    table = pd.DataFrame({"parameter": list(grads), "nnplay.autograd": list(grads.values()),
                          "PyTorch": [torch_grads[n] for n in grads]})
    table["|difference|"] = (table["nnplay.autograd"] - table["PyTorch"]).abs()
    st.dataframe(table, key="bp_torch_table", hide_index=True)
    worst = float(table["|difference|"].max())
    message = (f"Loss: nnplay {loss:.10g}, PyTorch {torch_loss:.10g}. "
               f"Largest gradient difference: {worst:.2e}.")
    (st.success if worst < 1e-9 else st.warning)(message)


def descent_step(x, y, params, activation, grads: dict[str, float], loss: float) -> None:
    """One step p <- p - lr * dL/dp, the parameters and the loss before and after."""
    lr = st.slider("learning rate", 0.01, 1.0, 0.1, step=0.01, key="bp_lr")
    new_params = backprop.gradient_descent_step(params, grads, lr)
    new_loss = backprop.tiny_network(x, y, new_params, activation).data
    st.latex(r"p \leftarrow p - \eta\,\frac{\partial L}{\partial p},\quad \eta = " + f"{lr:g}")
    st.dataframe(pd.DataFrame({"parameter": list(params), "before": list(params.values()),
                               "gradient": [grads[n] for n in params],
                               "after": [new_params[n] for n in params]}),
                 key="bp_update_table", hide_index=True)
    c1, c2 = st.columns(2)
    c1.metric("Loss before", f"{loss:.6f}")
    c2.metric("Loss after one step", f"{new_loss:.6f}", delta=f"{new_loss - loss:.6f}",
              delta_color="inverse")
    st.button("Apply this update to the weights", key="bp_apply", on_click=apply_update,
              args=(new_params,))


st.title("Backpropagation")
st.markdown(
    "Backpropagation assigns each weight its share of the blame for the loss. Here every number "
    "is computed by `nnplay.autograd`, a scalar engine with micrograd's interface, on a real "
    "network: two inputs, two hidden neurons, one output and a squared-error loss.")
st.latex(r"z_j = w_{j1}x_1 + w_{j2}x_2 + b_j,\quad h_j = f(z_j),\quad "
         r"\hat{y} = v_1 h_1 + v_2 h_2 + c,\quad L = (\hat{y} - y)^2")
init_state()
x, y, params, activation = network_inputs()
try:
    loss_node = backprop.tiny_network(x, y, params, activation)
except ValueError as err:
    st.error(str(err))
    st.stop()
state = autograd.walkthrough(loss_node, st.session_state[STEP_KEY])

st.subheader("Step through the graph")
walkthrough_controls(state)
describe_step(loss_node, state)
st.graphviz_chart(bp_plots.computation_graph_dot(loss_node, state), width="stretch")
st.caption("Blue: parameters. Grey: data. Yellow: the node the last step computed. "
           "'?' is not computed yet.")
grads = revealed_gradients(loss_node, state)
st.dataframe(gradient_table(params, grads), key="bp_grad_table", hide_index=True)

if state.done:
    st.subheader("Check with PyTorch")
    if st.toggle("Compute the same network with torch.autograd", key="bp_check_torch"):
        torch_check(x, y, params, activation, grads, loss_node.data)
    st.subheader("One gradient-descent update")
    descent_step(x, y, params, activation, grads, loss_node.data)
else:
    st.info("Finish the backward pass (or press Run all) to compare with PyTorch and take a "
            "gradient-descent step.")
