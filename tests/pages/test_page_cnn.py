"""Headless tests of pages/cnn.py: the convolution explainer's numbers and fit warnings, pooling,
and a short CNN training whose shown accuracy is the engine's, registered in the workspace."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from nnplay.lessons import cnn as conv
from nnplay.train import evaluate


def latex(at: AppTest, i: int) -> str:
    """The i-th formula's source (AppTest wraps it in $$ lines)."""
    return at.latex[i].value.strip().strip("$").strip()



@pytest.fixture
def page(open_page) -> AppTest:
    return open_page("cnn")


@pytest.fixture
def finish(finish_job):
    """Wait for the page's background job, then run the page once more to draw its result."""
    return lambda at: finish_job(at, "cnn_job")


def test_explainer_shows_the_formula_and_the_arithmetic_of_the_position(page):
    assert latex(page, 0) == conv.CONV_OUTPUT_SIZE_LATEX
    assert latex(page, 1).endswith("= 5")  # 7x7 image, 3x3 kernel, stride 1, no padding
    page.slider(key="cnn_padding").set_value(1).run()
    page.slider(key="cnn_position").set_value(9).run()
    assert not page.exception
    step = conv.conv_step(conv.sample_image("square", 7), conv.make_kernel("vertical edge", 3),
                          1, 1, 8)
    assert latex(page, 2) == conv.step_arithmetic(step)


def test_combinations_that_do_not_tile_or_do_not_fit_are_flagged(page):
    page.slider(key="cnn_stride").set_value(3).run()
    assert "not tile" in page.warning[0].value
    page.slider(key="cnn_size").set_value(4).run()
    page.slider(key="cnn_k").set_value(7).run()
    assert not page.exception
    assert "does not fit" in page.error[0].value
    # the position slider shrinks with the output and keeps a valid value
    page.slider(key="cnn_k").set_value(3).run()
    page.slider(key="cnn_stride").set_value(1).run()
    assert not page.exception and page.slider(key="cnn_position").max == 4


def test_pooling_keeps_the_window_maximum(page):
    page.slider(key="cnn_pool_pos").set_value(6).run()
    expected = conv.pool_step(conv.sample_image("digit", 8), 2, "max", 5)["value"]
    assert any(f"**{expected:.3g}**" in m.value for m in page.markdown)


def test_short_training_shows_the_models_accuracy_and_its_insides(page, finish):
    page.number_input(key="cnn_epochs").set_value(1).run()
    page.button(key="cnn_train").click().run()
    finish(page)
    assert not page.exception
    trainer = page.session_state["cnn_job"]["worker"].trainer
    assert trainer.status == "completed"
    accuracy = evaluate(trainer.model, trainer.dataset)["accuracy"]
    shown = {m.label: m.value for m in page.metric}
    assert shown["Test accuracy"] == f"{accuracy:.3f}" and shown["Epochs"] == "1"
    assert accuracy > 0.2  # chance is 0.1; one epoch of digits
    workspace = page.session_state["nnplay_workspace"]
    assert workspace.get("cnn on digits").model is trainer.model
    page.slider(key="cnn_image_index").set_value(3).run()
    assert not page.exception
    page.radio(key="cnn_source").set_value("A CNN from this session").run()
    assert not page.exception and page.selectbox(key="cnn_pick").value == "cnn on digits"


def test_a_channels_convolution_is_shown_for_the_chosen_map(open_page, finish_job):
    from nnplay.lessons import cnn as conv

    at = open_page("cnn")
    at.number_input(key="cnn_epochs").set_value(1).run()
    at.button(key="cnn_train").click().run()
    finish_job(at, "cnn_job")
    at.selectbox(key="cnn_test_layer").set_value(2).run()
    at.selectbox(key="cnn_test_channel").set_value(3).run()
    assert not at.exception
    trainer = at.session_state["cnn_job"]["worker"].trainer
    image = trainer.dataset.X_test[at.slider(key="cnn_image_index").value]
    parts = conv.channel_convolution(trainer.model, image, 1, 2)
    figure = at.get("plotly_chart")
    assert any(f"bias {parts['bias']:.3g}" in f.proto.spec for f in figure)
