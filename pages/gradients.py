"""Lesson: vanishing and exploding gradients. One backward pass through a deep MLP on real
handwritten digits: per-layer gradient norms on a log scale and the activations of each layer,
for a chosen depth, activation and initialisation.
"""

from __future__ import annotations

import streamlit as st

import nnplay.ui  # noqa: F401  (routes shared links through app.py)
from nnplay.lessons import gradients as gradflow
from nnplay.models.activations import activation_formula
from nnplay.models.mlp import INITS
from nnplay.plots import gradients as plots

INIT_TITLES = {"default": "PyTorch default", "xavier": "Xavier (Glorot)", "kaiming": "Kaiming (He)",
               "small": "too small (std 0.01)", "large": "too large (std 1)"}
STATUS_TEXT = {
    "vanishing": "The gradient **vanishes** on its way back: the first layers barely learn.",
    "exploding": "The gradient **explodes**: steps this large throw the weights around.",
    "healthy": "The gradient reaches the first layer at a **healthy** size.",
}


@st.cache_data(max_entries=64, show_spinner=False)
def measure(depth: int, activation: str, init: str, width: int) -> gradflow.GradientFlowReport:
    """One measured backward pass (cached by its arguments)."""
    return gradflow.measure_gradient_flow(depth, activation, init, width=width)


def settings() -> tuple[int, str, str, int]:
    c1, c2 = st.columns(2)
    depth = c1.slider("Depth (hidden layers)", 2, 30, 20, key="gf_depth")
    width = c2.select_slider("Width (neurons per layer)", (8, 16, 32, 64, 128), value=32,
                             key="gf_width")
    c1, c2 = st.columns(2)
    activation = c1.selectbox("Activation", gradflow.GRADFLOW_ACTIVATIONS, key="gf_activation")
    init = c2.selectbox("Initialisation", INITS, key="gf_init", format_func=INIT_TITLES.get)
    return depth, activation, init, width


st.title("Vanishing & exploding gradients")
st.markdown(
    "Backpropagation multiplies one factor per layer: the weights and the slope of the "
    "activation. Many factors below 1 make the product vanish, many above 1 make it explode. "
    "Here a deep MLP does one forward and backward pass on a batch of 256 real handwritten "
    "digits (8×8 pixels, 10 classes); nothing is trained.")
st.latex(r"\frac{\partial L}{\partial h_1} = \frac{\partial L}{\partial h_D}\prod_{l=2}^{D}"
         r"W_l^{\top}\,\mathrm{diag}\!\left(f'(z_l)\right)")

depth, activation, init, width = settings()
try:
    report = measure(depth, activation, init, width)
except ValueError as err:
    st.error(str(err))
    st.stop()

st.latex("f(z) = " + activation_formula(activation))
c1, c2, c3 = st.columns(3)
c1.metric("Output / first-layer gradient norm", gradflow.format_ratio(report.ratio).split(" (")[0])
c2.metric("Diagnosis", report.status)
c3.metric("Loss of this untrained batch", f"{report.loss:.4f}")
st.markdown(STATUS_TEXT[report.status] + f" Why: {report.reason}.")
st.plotly_chart(plots.gradient_norms_figure(report), key="gf_norms_fig", width="stretch")
st.caption(f"Norm of each layer's weight gradient ‖∂L/∂W‖. Called vanishing when the "
           f"output/first ratio is above {gradflow.RATIO_THRESHOLD:g} or every norm is below "
           f"{gradflow.VANISHING_NORM:g}; exploding when the ratio is below "
           f"{1 / gradflow.RATIO_THRESHOLD:g} or any norm is above {gradflow.EXPLODING_NORM:g}.")
st.subheader("What each layer outputs")
st.plotly_chart(plots.activation_histograms_figure(report), key="gf_hist_fig",
                width="stretch")
st.markdown(
    "Each title gives the layer's **mean slope** f'(z), the factor the gradient is multiplied by "
    "on its way back through that layer (times the weights). A sigmoid's slope is at most 0.25, "
    "even for units that are not saturated: twenty such factors shrink the gradient by more than "
    "a trillion. Units piled at the ends of their range (saturated: try sigmoid or tanh with the "
    "**too large** init) have slopes near 0; activations that shrink to 0 layer after layer "
    "(the **too small** init) carry no signal forward and no gradient back. Try **ReLU with "
    "Kaiming** and then **sigmoid with the PyTorch default** at depth 20.")
