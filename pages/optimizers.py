"""Lesson: gradient descent and optimizers. SGD, momentum, Nesterov, RMSprop and Adam from
torch.optim race across real 2-D loss surfaces (an ill-conditioned bowl, Rosenbrock, a saddle,
Himmelblau) from the same start; the page says which got closest to a minimum, in numbers.
"""

from __future__ import annotations

import streamlit as st

import nnplay.ui  # noqa: F401  (routes shared links through app.py)
from nnplay.lessons import optimizers as optimsurface
from nnplay.plots import optimizers as plots

LEARNING_RATES = (1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
UPDATE_RULES = {
    "sgd": r"\theta \leftarrow \theta - \eta\, g",
    "momentum": r"v \leftarrow \mu v + g,\quad \theta \leftarrow \theta - \eta\, v",
    "nesterov": r"v \leftarrow \mu v + g,\quad \theta \leftarrow \theta - \eta\,(g + \mu v)",
    "rmsprop": r"s \leftarrow \alpha s + (1-\alpha) g^2,\quad "
               r"\theta \leftarrow \theta - \eta\, \frac{g}{\sqrt{s} + \epsilon}",
    "adam": r"m \leftarrow \beta_1 m + (1-\beta_1) g,\ s \leftarrow \beta_2 s + (1-\beta_2) g^2,"
            r"\ \theta \leftarrow \theta - \eta\, \frac{\hat m}{\sqrt{\hat s} + \epsilon}",
}


@st.cache_data(max_entries=32, show_spinner=False)
def run_optimizers(surface_name: str, condition: float, lr: float, steps: int,
                   optimizers: tuple[str, ...], momentum: float):
    """The paths of every chosen optimizer on the named surface (cached by the arguments)."""
    surface = optimsurface.make_surface(surface_name, condition)
    return optimsurface.compare_optimizers(surface, lr, steps, optimizers, momentum=momentum)


def settings() -> dict:
    """The learner's choices: surface, its conditioning, learning rate, steps, optimizers."""
    c1, c2 = st.columns(2)
    surface_name = c1.selectbox("Loss surface", optimsurface.SURFACES, key="opt_surface",
                                format_func=lambda n: optimsurface.make_surface(n).title
                                .split(" (")[0])
    condition = 10.0
    if surface_name == "quadratic":
        condition = c2.slider("Condition number κ", 1.0, 100.0, 10.0, step=1.0,
                              key="opt_condition")
    default_lr = optimsurface.make_surface(surface_name, condition).default_lr
    c1, c2, c3 = st.columns(3)
    lr = c1.select_slider("Learning rate η", LEARNING_RATES, value=default_lr,
                          key=f"opt_lr_{surface_name}")
    steps = c2.slider("Steps", 10, 1000, 100, step=10, key="opt_steps")
    momentum = c3.slider("Momentum μ", 0.0, 0.99, 0.9, step=0.01, key="opt_momentum")
    optimizers = st.multiselect("Optimizers", optimsurface.OPTIMIZERS,
                                default=list(optimsurface.OPTIMIZERS), key="opt_optimizers",
                                format_func=optimsurface.OPTIMIZER_TITLES.get)
    return {"surface_name": surface_name, "condition": condition, "lr": lr, "steps": steps,
            "optimizers": tuple(optimizers), "momentum": momentum}


def verdict(table) -> str:
    """One sentence naming the winner, from the table's first row."""
    best = table.iloc[0]
    if best["diverged"]:
        return "Every optimizer diverged: lower the learning rate."
    return (f"**{best['optimizer']}** ended closest to a global minimum: "
            f"{optimsurface.format_number(best['distance to nearest minimum'])} away, loss "
            f"{optimsurface.format_number(best['final loss'])}. Press ▶ Play under the chart to "
            "watch them step by step, or drag the slider.")


st.title("Gradient descent & optimizers")
st.markdown(
    "Every optimizer below is `torch.optim` stepping on the real function, with gradients from "
    "autograd, all from the same start point (the black ×). Stars mark the global minima.")
with st.expander("The update rules (g is the gradient, η the learning rate)"):
    for name, rule in UPDATE_RULES.items():
        st.markdown(f"**{optimsurface.OPTIMIZER_TITLES[name]}**")
        st.latex(rule)

choice = settings()
if not choice["optimizers"]:
    st.warning("Choose at least one optimizer.")
    st.stop()
try:
    surface = optimsurface.make_surface(choice["surface_name"], choice["condition"])
    paths = run_optimizers(**choice)
except ValueError as err:
    st.error(str(err))
    st.stop()

st.latex(surface.latex)
st.plotly_chart(plots.optimizer_paths_figure(surface, paths), key="opt_paths_fig",
                width="stretch")
table = optimsurface.closest_table(surface, paths)
st.markdown(verdict(table))
st.dataframe(optimsurface.display_table(table), key="opt_table", hide_index=True)
st.plotly_chart(plots.optimizer_loss_figure(surface, paths), key="opt_loss_fig",
                width="stretch")
if choice["surface_name"] == "quadratic":
    st.caption(f"Plain gradient descent on this bowl is stable only for η < 2/κ = "
               f"{2 / choice['condition']:.3g}: the steep direction overshoots beyond that.")
