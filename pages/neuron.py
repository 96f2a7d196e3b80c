"""Lesson: one neuron. The weighted sum and activation, the activation gallery with saturation,
a perceptron drawing a line through 2-D data, and the loss functions that tell a neuron how wrong
it is. All numbers and figures come from nnplay.lessons.neuron and nnplay.plots.neuron.
"""

from __future__ import annotations

import streamlit as st

import nnplay.ui  # noqa: F401  (routes shared links through app.py)
from nnplay.lessons import neuron
from nnplay.models.activations import ACTIVATIONS
from nnplay.plots import neuron as neuron_plots

INPUT_DEFAULTS = {"x1": 1.0, "x2": 0.5, "x3": -1.0, "w1": 0.8, "w2": -0.4, "w3": 0.3, "b": 0.1}
PERCEPTRON_DEFAULTS = {"perc_w1": 1.0, "perc_w2": -1.0, "perc_b": 0.0}
SLIDER_LIMIT = 3.0


def init_state(defaults: dict) -> None:
    """Give widgets their first values through session state, so callbacks may change them."""
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)


def neuron_section() -> None:
    """Inputs, weights and bias on sliders; the weighted sum and activation with live numbers."""
    st.markdown(
        "A neuron multiplies each input by a **weight**, adds them up with a **bias**, and passes "
        "the sum *z* through an **activation function** *f*. The weights say how much each input "
        "matters, the bias shifts where the neuron switches on. Training only ever changes w and b.")
    n_inputs = st.radio("Number of inputs", [2, 3], horizontal=True, key="n_inputs")
    activation = st.selectbox("Activation f", list(ACTIVATIONS), index=3, key="activation")
    x_col, w_col = st.columns(2)
    x, w = [], []
    for i in range(1, n_inputs + 1):
        x.append(x_col.slider(f"input x{i}", -SLIDER_LIMIT, SLIDER_LIMIT, step=0.05, key=f"x{i}"))
        w.append(w_col.slider(f"weight w{i}", -SLIDER_LIMIT, SLIDER_LIMIT, step=0.05,
                              key=f"w{i}"))
    b = w_col.slider("bias b", -SLIDER_LIMIT, SLIDER_LIMIT, step=0.05, key="b")
    try:
        out = neuron.neuron_forward(x, w, b, activation)
        sum_line, act_line = neuron.neuron_latex(x, w, b, activation)
    except ValueError as err:
        st.error(str(err))
        return
    st.latex(sum_line)
    st.latex(act_line)
    z_col, a_col = st.columns(2)
    z_col.metric("Weighted sum z", f"{out.z:.4f}")
    a_col.metric("Output a", f"{out.a:.4f}")
    # Keep the operating point on screen when large weights push z past the default range.
    z_min, z_max = min(-6.0, out.z - 1.0), max(6.0, out.z + 1.0)
    z_grid, f, _ = neuron.activation_curve(activation, z_min, z_max)
    st.plotly_chart(neuron_plots.activation_point_figure(z_grid, f, activation, out.z, out.a),
                    key="neuron_curve", width="stretch")
    st.markdown(
        "**Why a nonlinearity?** With `linear`, a = z and stacking neurons only ever gives "
        "another weighted sum: a straight line, however deep the network. A bend in *f* is what "
        "lets layers of neurons build curved decision boundaries.")


def gallery_section() -> None:
    """Every activation with its autograd derivative; flat regions shaded."""
    st.markdown(
        "Learning moves a weight by the gradient, and the gradient passes through the activation's "
        "slope f′(z). Where f′(z) is nearly 0 the neuron is **saturated**: whatever the error, "
        "its weights hardly change. Sigmoid and tanh saturate at both ends; ReLU is flat (dead) "
        "for every negative z; leaky ReLU keeps a small slope there so a neuron can recover.")
    c1, c2 = st.columns(2)
    z_min, z_max = c1.slider("z range", -10.0, 10.0, (-6.0, 6.0), step=0.5, key="gallery_range")
    threshold = c2.slider("Saturated where |f′(z)| is below", 0.01, 0.25, 0.05, step=0.01,
                          key="gallery_threshold")
    try:
        curves = {name: neuron.activation_curve(name, z_min, z_max) for name in ACTIVATIONS}
    except ValueError as err:
        st.error(str(err))
        return
    regions = {name: neuron.saturating_regions(z, df, threshold)
               for name, (z, _, df) in curves.items()}
    fractions = {name: neuron.saturation_fraction(z, df, threshold)
                 for name, (z, _, df) in curves.items()}
    st.plotly_chart(neuron_plots.activation_gallery_figure(curves, regions, fractions),
                    key="gallery_figure", width="stretch")
    st.caption("Derivatives are computed by torch autograd at each point, not by a formula.")


def fit_perceptron_clicked(X, y, epochs: int) -> None:
    """Button callback: learn w and b with the perceptron rule and move the sliders there."""
    w, b = neuron.fit_perceptron(X, y, epochs=epochs, seed=0)
    values = [float(w[0]), float(w[1]), float(b)]
    for key, value in zip(PERCEPTRON_DEFAULTS, values, strict=True):
        st.session_state[key] = round(min(max(value, -SLIDER_LIMIT), SLIDER_LIMIT), 2)
    st.session_state["perc_fitted"] = epochs


def perceptron_section() -> None:
    """A line through 2-D data: sliders for w1, w2, b, live accuracy, and the perceptron rule."""
    st.markdown(
        "One neuron with a step activation is a **perceptron**: it says class 1 where "
        "w₁x₁ + w₂x₂ + b > 0. The points where the sum is exactly 0 form a straight line, so a "
        "single neuron can only separate classes that a line separates. Move the line yourself, "
        "then let the perceptron rule find one: for each misclassified point it nudges w and b "
        "towards classifying it correctly.")
    kind = st.radio("Data", list(neuron.PERCEPTRON_DATA), horizontal=True, key="perc_data",
                    format_func=neuron.PERCEPTRON_DATA.get)
    X, y = neuron.perceptron_data(n=200, seed=0, kind=kind)
    c1, c2, c3 = st.columns(3)
    w1 = c1.slider("w₁", -SLIDER_LIMIT, SLIDER_LIMIT, step=0.01, key="perc_w1")
    w2 = c2.slider("w₂", -SLIDER_LIMIT, SLIDER_LIMIT, step=0.01, key="perc_w2")
    b = c3.slider("b", -SLIDER_LIMIT, SLIDER_LIMIT, step=0.01, key="perc_b")
    epochs = st.slider("Passes over the data for the perceptron rule", 1, 20, 10,
                       key="perc_epochs")
    st.button("Fit with the perceptron rule", key="perc_fit", on_click=fit_perceptron_clicked,
              args=(X, y, epochs))
    accuracy = neuron.decision_accuracy(X, y, [w1, w2], b)
    st.latex(neuron.decision_line_latex([w1, w2], b))
    st.metric("Accuracy of this line", f"{accuracy:.1%}")
    fitted_epochs = st.session_state.get("perc_fitted")
    if fitted_epochs is not None:
        st.success(f"The perceptron rule ({fitted_epochs} passes) set the sliders to its line; "
                   f"it classifies {accuracy:.1%} of the points correctly.")
    if kind == "xor":
        best = neuron.best_line_accuracy(X, y)
        st.warning(f"No straight line separates XOR: the best any line does here is "
                   f"{best:.0%}, whatever the weights, so one neuron fails. A hidden layer of "
                   "two neurons draws two lines and solves it: try it on the Playground.")
    st.plotly_chart(neuron_plots.perceptron_figure(X, y, [w1, w2], b),
                    key="perceptron_figure", width="stretch")


def loss_target(name: str) -> float:
    """The target widget that fits the loss: a number, a 0/1 label, or a true class."""
    if name == "bce":
        return float(st.radio("Target y", [0, 1], index=1, horizontal=True, key="loss_target_bce"))
    if name == "cross_entropy":
        return float(st.selectbox("True class", list(range(neuron.CROSS_ENTROPY_CLASSES)),
                                  key="loss_target_class"))
    return st.slider("Target y", -2.0, 2.0, 0.0, step=0.1, key="loss_target_value")


def loss_section() -> None:
    """A loss and its gradient over the prediction, for a chosen target."""
    st.markdown(
        "A **loss** scores one prediction against its target; training follows the loss's "
        "gradient downhill. MSE punishes big errors hard, MAE treats all errors alike, Huber is "
        "MSE near the target and MAE far away. For classification the prediction is a "
        "probability p, and **cross-entropy** −log p grows without bound as a confident "
        "prediction turns out wrong, so its gradient is strongest exactly when the model is most "
        "wrong. Squared error on p stays bounded and pushes weakly when p is far off, which is "
        "why classifiers use cross-entropy. (Binary cross-entropy is cross-entropy with two "
        "classes.)")
    name = st.selectbox("Loss", list(neuron.LOSSES), format_func=lambda k: neuron.LOSSES[k].label,
                        key="loss_name")
    spec = neuron.LOSSES[name]
    target = loss_target(name)
    delta = 1.0
    if name == "huber":
        delta = st.slider("Huber δ", 0.1, 3.0, 1.0, step=0.1, key="loss_delta")
    if spec.prediction == "probability":
        pred = st.slider("Your prediction p", 0.01, 0.99, 0.3, step=0.01, key="loss_pred_prob")
    else:
        pred = st.slider("Your prediction ŷ", -4.0, 4.0, 1.0, step=0.1, key="loss_pred_value")
    compare = st.checkbox("Compare with related losses", value=True, key="loss_compare")
    try:
        curves = neuron.loss_curves(name, target, delta=delta, compare=compare)
        _, loss_at, grad_at = neuron.loss_curve(name, target, [pred], delta=delta)
    except ValueError as err:
        st.error(str(err))
        return
    st.latex(spec.latex)
    l_col, g_col = st.columns(2)
    l_col.metric("Loss at your prediction", f"{loss_at[0]:.4f}")
    g_col.metric("Gradient dL/dŷ there", f"{grad_at[0]:.4f}")
    figure = neuron_plots.loss_figure(curves, spec.axis_label,
                                      point=(pred, float(loss_at[0]), float(grad_at[0])))
    st.plotly_chart(figure, key="loss_figure", width="stretch")
    st.caption("Values come from torch.nn.functional; gradients from torch autograd.")


init_state(INPUT_DEFAULTS | PERCEPTRON_DEFAULTS)
st.title("One neuron")
neuron_tab, gallery_tab, perceptron_tab, loss_tab = st.tabs(
    ["A neuron", "Activation gallery", "Perceptron", "Loss functions"])
with neuron_tab:
    neuron_section()
with gallery_tab:
    gallery_section()
with perceptron_tab:
    perceptron_section()
with loss_tab:
    loss_section()
