"""Headless tests of pages/neuron.py: the numbers it shows equal the engine's for the widgets set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nnplay.lessons import neuron

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "neuron.py")


def metric_value(at: AppTest, label: str) -> str:
    (match,) = [m for m in at.metric if m.label == label]
    return match.value


@pytest.fixture
def page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    return at


def test_neuron_with_three_inputs_shows_the_engine_output(page):
    page.radio(key="n_inputs").set_value(3).run()
    values = {"x1": 1.5, "x2": -0.5, "x3": 2.0, "w1": -0.7, "w2": 1.2, "w3": 0.45, "b": -0.3}
    for key, value in values.items():
        page.slider(key=key).set_value(value)
    page.selectbox(key="activation").set_value("sigmoid").run()
    assert not page.exception
    x = [values["x1"], values["x2"], values["x3"]]
    w = [values["w1"], values["w2"], values["w3"]]
    expected = neuron.neuron_forward(x, w, values["b"], "sigmoid")
    assert float(metric_value(page, "Output a")) == pytest.approx(expected.a, abs=5e-5)
    assert float(metric_value(page, "Weighted sum z")) == pytest.approx(expected.z, abs=5e-5)
    sum_line = page.latex[0].value
    assert "w_3 x_3" in sum_line and "(0.45)(2.00)" in sum_line
    assert f"= {expected.z:.2f}" in sum_line
    assert f"= {expected.a:.2f}" in page.latex[1].value


def test_back_to_two_inputs_and_relu(page):
    page.radio(key="n_inputs").set_value(3).run()
    page.radio(key="n_inputs").set_value(2).run()
    page.slider(key="w1").set_value(-2.0)
    page.selectbox(key="activation").set_value("relu").run()
    assert not page.exception
    x = [page.slider(key="x1").value, page.slider(key="x2").value]
    w = [page.slider(key="w1").value, page.slider(key="w2").value]
    expected = neuron.neuron_forward(x, w, page.slider(key="b").value, "relu")
    assert expected.z < 0   # the defaults with w1 = -2 put relu in its flat part
    assert float(metric_value(page, "Output a")) == 0.0
    assert "x_3" not in page.latex[0].value


def test_fit_button_moves_the_line_to_a_good_one(page):
    before = float(metric_value(page, "Accuracy of this line").rstrip("%")) / 100
    page.button(key="perc_fit").click().run()
    assert not page.exception
    after = float(metric_value(page, "Accuracy of this line").rstrip("%")) / 100
    assert after >= 0.9 and after > before
    w = [page.slider(key="perc_w1").value, page.slider(key="perc_w2").value]
    b = page.slider(key="perc_b").value
    X, y = neuron.perceptron_data(n=200, seed=0)
    assert after == pytest.approx(neuron.decision_accuracy(X, y, w, b), abs=5e-4)
    assert len(page.success) == 1
    line = neuron.decision_line_latex(w, b)
    assert any(line in element.value for element in page.latex)


@pytest.mark.parametrize("loss, target_key, target, pred_key, pred", [
    ("huber", "loss_target_value", 0.5, "loss_pred_value", 2.5),
    ("bce", "loss_target_bce", 0, "loss_pred_prob", 0.8),
    ("cross_entropy", "loss_target_class", 2, "loss_pred_prob", 0.1),
])
def test_loss_section_shows_torch_loss_and_gradient(page, loss, target_key, target, pred_key,
                                                    pred):
    page.selectbox(key="loss_name").set_value(loss).run()
    widget = {"huber": page.slider, "bce": page.radio, "cross_entropy": page.selectbox}[loss]
    widget(key=target_key).set_value(target)
    page.slider(key=pred_key).set_value(pred)
    delta = 1.0
    if loss == "huber":
        delta = 0.8
        page.slider(key="loss_delta").set_value(delta)
    page.run()
    assert not page.exception
    _, expected_loss, expected_grad = neuron.loss_curve(loss, target, [pred], delta=delta)
    assert float(metric_value(page, "Loss at your prediction")) == pytest.approx(
        expected_loss[0], abs=5e-5)
    assert float(metric_value(page, "Gradient dL/dŷ there")) == pytest.approx(
        expected_grad[0], abs=5e-5)


def test_gallery_titles_show_the_engine_saturation(page):
    page.slider(key="gallery_range").set_value((-3.0, 8.0))
    page.slider(key="gallery_threshold").set_value(0.2).run()
    assert not page.exception
    gallery = json.loads(page.get("plotly_chart")[1].proto.spec)
    titles = [a["text"] for a in gallery["layout"]["annotations"]]
    z, _, df = neuron.activation_curve("sigmoid", -3.0, 8.0)
    share = neuron.saturation_fraction(z, df, 0.2)
    assert f"sigmoid: {share:.0%} saturated" in titles
    assert "linear: 0% saturated" in titles
    page.checkbox(key="loss_compare").uncheck().run()
    assert not page.exception


def test_the_perceptron_fails_visibly_on_xor():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.radio(key="perc_data").set_value("xor").run()
    at.button(key="perc_fit").click().run()
    assert not at.exception
    X, y = neuron.perceptron_data(n=200, seed=0, kind="xor")
    best = neuron.best_line_accuracy(X, y)
    assert any(f"the best any line does here is {best:.0%}" in w.value for w in at.warning)
