"""Headless tests of pages/transformer.py: attention stepped through with the engine's numbers,
a bad input shown as an error, and a short encoder training with its attention maps."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from nnplay.lessons import transformer as tl


def latex(at: AppTest) -> list[str]:
    return [f.value.strip().strip("$").strip() for f in at.latex]



@pytest.fixture
def page(open_page) -> AppTest:
    return open_page("transformer")


@pytest.fixture
def finish(finish_job):
    """Wait for the page's background job, then run the page once more to draw its result."""
    return lambda at: finish_job(at, "tf_job")


def test_each_step_of_attention_shows_the_engines_numbers(page):
    steps = page.select_slider(key="tf_step").options
    page.select_slider(key="tf_step").set_value(steps[-1]).run()
    page.selectbox(key="tf_query").set_value(2).run()
    assert not page.exception
    example = tl.attention_example(["the", "cat", "sat", "down"], 3, 2, 0)
    assert latex(page) == [tl.ATTENTION_LATEX, *tl.query_row_latex(example, 2)]
    page.select_slider(key="tf_step").set_value(steps[3]).run()  # softmax: two lines shown
    assert latex(page)[1:] == tl.query_row_latex(example, 2)[:2]


def test_a_one_word_input_is_an_error_message_not_a_traceback(page):
    page.text_input(key="tf_words").set_value("hello").run()
    assert not page.exception
    assert "2 to 8 words" in page.error[0].value


def test_short_encoder_training_shows_accuracies_and_attention(page, finish):
    page.select_slider(key="tf_n").set_value(200).run()
    page.number_input(key="tf_epochs").set_value(2).run()
    page.selectbox(key="tf_d_model").set_value(16).run()
    page.button(key="tf_train").click().run()
    finish(page)
    assert not page.exception
    trainer = page.session_state["tf_job"]["worker"].trainer
    scores = tl.sequence_accuracy(trainer.model, trainer.dataset)
    shown = {m.label: m.value for m in page.metric}
    assert shown["Tokens right (test)"] == f"{scores['token_accuracy']:.3f}"
    assert shown["Whole sequences right"] == f"{scores['sequence_accuracy']:.3f}"
    assert "transformer on reverse_sequence" in page.session_state["nnplay_workspace"]
    page.slider(key="tf_example").set_value(4).run()
    assert not page.exception
    # without positions the page says why it cannot work
    page.selectbox(key="tf_positional").set_value("none").run()
    page.button(key="tf_train").click().run()
    finish(page)
    assert not page.exception and any("no positional encodings" in i.value for i in page.info)
