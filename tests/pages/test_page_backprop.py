"""Headless tests of the three backpropagation lessons: pages/backprop.py, pages/optimizers.py and
pages/gradients.py. The numbers they display must equal PyTorch's and the engine's."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nnplay import autograd
from nnplay.lessons import backprop
from nnplay.lessons import gradients as gradflow
from nnplay.lessons import optimizers as optimsurface

PAGES = Path(__file__).resolve().parents[2] / "pages"


def load(name: str) -> AppTest:
    at = AppTest.from_file(str(PAGES / name), default_timeout=60).run()
    assert not at.exception
    return at


def dataframe(at: AppTest, column: str):
    """The one table on the page that has ``column`` (AppTest does not expose table keys)."""
    (match,) = [d.value for d in at.dataframe if column in d.value.columns]
    return match


def metric(at: AppTest, label: str) -> str:
    (match,) = [m for m in at.metric if m.label == label]
    return match.value


def test_stepping_forward_and_backward_shows_torchs_gradients():
    at = load("backprop.py")
    at.selectbox(key="bp_activation").set_value("sigmoid")
    at.number_input(key="bp_x1").set_value(0.3)
    at.number_input(key="bp_w22").set_value(-1.1).run()
    assert not at.exception
    x = [at.number_input(key="bp_x1").value, at.number_input(key="bp_x2").value]
    y = at.number_input(key="bp_y").value
    params = {n: at.number_input(key=f"bp_{n}").value for n in backprop.TINY_NET_PARAMS}
    n_forward = len(autograd.forward_steps(backprop.tiny_network(x, y, params, "sigmoid")))

    forward_clicks = 0
    while not at.button(key="bp_forward").disabled:
        at.button(key="bp_forward").click().run()
        forward_clicks += 1
        assert not at.exception
    assert forward_clicks == n_forward
    assert "L = {\\mathrm{err}}^{2}" in at.latex[-1].value     # the last forward node: the loss
    assert (dataframe(at, "gradient dL/dp")["gradient dL/dp"] == "not yet computed").all()

    backward_clicks = 0
    while not at.button(key="bp_backward").disabled:
        at.button(key="bp_backward").click().run()
        backward_clicks += 1
        assert not at.exception
    graph = backprop.tiny_network(x, y, params).topological_order()
    constants = [v.label for v in graph if v.constant]
    assert constants == ["y"] and backward_clicks == len(graph) - 1   # y is data: no gradient

    torch_loss, torch_grads = backprop.tiny_network_torch(x, y, params, "sigmoid")
    shown = dataframe(at, "gradient dL/dp").set_index("parameter")["gradient dL/dp"]
    for name in backprop.TINY_NET_PARAMS:
        assert float(shown[name]) == pytest.approx(torch_grads[name], rel=1e-5, abs=1e-9), name
    assert any(abs(g) > 1e-2 for g in torch_grads.values())
    assert "?" not in at.get("graphviz_chart")[0].proto.spec

    at.toggle(key="bp_check_torch").set_value(True).run()
    assert not at.exception
    side_by_side = dataframe(at, "|difference|")
    assert side_by_side["|difference|"].max() < 1e-12
    assert f"PyTorch {torch_loss:.10g}" in at.success[0].value


def test_one_descent_step_lowers_the_loss_and_can_be_applied():
    at = load("backprop.py")
    at.button(key="bp_run_all").click().run()
    at.slider(key="bp_lr").set_value(0.2).run()
    assert not at.exception
    update = dataframe(at, "after").set_index("parameter")
    expected_after = update["before"] - 0.2 * update["gradient"]
    assert (update["after"] - expected_after).abs().max() < 1e-12
    before, after = float(metric(at, "Loss before")), float(metric(at, "Loss after one step"))
    assert after < before
    at.button(key="bp_apply").click().run()
    assert not at.exception
    assert at.session_state["bp_step"] == 0
    assert at.number_input(key="bp_c").value == pytest.approx(expected_after["c"])
    at.button(key="bp_run_all").click().run()
    assert float(metric(at, "Loss before")) == pytest.approx(after, abs=1e-6)


def test_optimizer_page_table_is_the_engines_for_every_surface():
    at = load("optimizers.py")
    for name in optimsurface.SURFACES:
        at.selectbox(key="opt_surface").set_value(name).run()
        at.slider(key="opt_steps").set_value(60).run()
        assert not at.exception
        surface = optimsurface.make_surface(name)
        lr = at.select_slider(key=f"opt_lr_{name}").value
        expected = optimsurface.closest_table(
            surface, optimsurface.compare_optimizers(surface, lr, 60))
        shown = dataframe(at, "distance to nearest minimum")
        assert list(shown["optimizer"]) == list(expected["optimizer"])
        assert shown["distance to nearest minimum"].tolist() == \
            optimsurface.display_table(expected)["distance to nearest minimum"].tolist()
        assert f"**{expected['optimizer'][0]}** ended closest" in at.markdown[-1].value


def test_optimizer_page_reports_divergence_on_a_steep_bowl():
    at = load("optimizers.py")
    at.slider(key="opt_condition").set_value(100.0)
    at.select_slider(key="opt_lr_quadratic").set_value(0.5)
    at.multiselect(key="opt_optimizers").set_value(["sgd", "momentum"]).run()
    assert not at.exception
    assert "Every optimizer diverged" in at.markdown[-1].value
    shown = dataframe(at, "distance to nearest minimum")
    assert (shown[["final loss", "distance to nearest minimum"]] == "diverged").all().all()
    at.multiselect(key="opt_optimizers").set_value([]).run()
    assert not at.exception and at.warning


@pytest.mark.parametrize(("activation", "init", "status"),
                         [("sigmoid", "default", "vanishing"), ("relu", "kaiming", "healthy")])
def test_gradients_page_diagnoses_depth_20(activation, init, status):
    at = load("gradients.py")
    at.slider(key="gf_depth").set_value(20)
    at.selectbox(key="gf_activation").set_value(activation)
    at.selectbox(key="gf_init").set_value(init).run()
    assert not at.exception
    report = gradflow.measure_gradient_flow(20, activation, init, width=32)
    assert metric(at, "Diagnosis") == status == report.status
    assert metric(at, "Output / first-layer gradient norm") == f"{report.ratio:.3g}"
