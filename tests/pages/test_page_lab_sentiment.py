"""Headless tests of pages/lab_sentiment.py: the frozen classifier trains on a first visit and
the sentence is taken apart; a bad sentence is a message; the comparison runs, its table and
sentences come from the engine, and the fine-tuned model joins the session's models."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = Path(__file__).resolve().parents[2] / "pages" / "lab_sentiment.py"
SMALL = {"dataset": "rotten_tomatoes", "sentence": "Not good, yet strangely moving.", "n": 200,
         "max_len": 32, "steps": 3, "train_layers": 1, "seed": 0}
TIMEOUT = 300   # MiniLM loads and runs on a busy 2-core CPU


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NNPLAY_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def page() -> AppTest:
    """The page at small settings, after the first visit's frozen classifier has trained."""
    at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT)
    at.session_state["ls_settings"] = dict(SMALL)
    at.run()
    assert not at.exception
    at.session_state["ls_frozen_job"]["worker"].join(TIMEOUT)
    at.run()
    assert not at.exception
    return at


def texts(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


@pytest.mark.slow
def test_first_visit_trains_a_classifier_and_takes_the_sentence_apart(page):
    from nnplay.lessons import lab_sentiment as lesson

    assert "MiniLM frozen + logistic head on rotten_tomatoes" in page.session_state["nnplay_workspace"]
    assert " says **" in texts(page)
    entry = page.session_state["nnplay_workspace"].get(page.selectbox(key="ls_pick").value)
    out = lesson.inspect_sentence(entry.model, page.text_area(key="ls_set_sentence").value,
                                  entry.dataset.class_names, 32, n_steps=50)
    assert page.latex[0].value.strip().strip("$").strip() == lesson.completeness_latex(out["ig"])
    page.select_slider(key="ls_layer").set_value(5).run()
    page.radio(key="ls_attr_method").set_value("Attention rollout").run()
    assert not page.exception
    assert lesson.ROLLOUT_TEXT in texts(page)
    # an empty sentence is a message, not a traceback; a long one is cut and said so
    page.text_area(key="ls_set_sentence").set_value("   ").run()
    assert not page.exception and "empty" in page.error[0].value
    page.text_area(key="ls_set_sentence").set_value("good " * 60).run()
    assert not page.exception and any("was cut" in w.value for w in page.warning)


@pytest.mark.slow
def test_comparison_table_findings_and_the_fine_tuned_model(page):
    from nnplay.lessons import lab_sentiment as lesson

    page.button(key="ls_go").click().run()
    page.session_state["ls_job"]["worker"].join(TIMEOUT)
    page.run()
    assert not page.exception
    result = page.session_state["ls_last"]["result"]
    assert list(result.table.index) == list(lesson.METHODS)
    (shown,) = [d.value for d in page.dataframe if "macro F1" in d.value.columns]
    assert list(shown["accuracy"]) == [f"{a:.1%}" for a in result.table["accuracy"]]
    assert not shown.isin(["nan", "None"]).any().any()
    for line in lesson.findings(result):
        assert line in texts(page)
    name = page.session_state["ls_last"]["models"]["finetune"]
    assert name in page.session_state["nnplay_workspace"]
    assert page.session_state["nnplay_workspace"].get(name).lesson == "lab_sentiment"
    page.selectbox(key="ls_wrong_method").set_value("vader").run()
    assert not page.exception


def test_settings_follow_the_widgets_and_survive_a_visit_elsewhere():
    at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT)
    at.session_state["ls_settings"] = dict(SMALL)
    at.session_state["ls_auto"] = True   # no frozen classifier on this visit
    at.run()
    at.select_slider(key="ls_set_n").set_value(400).run()
    at.number_input(key="ls_set_steps").set_value(20).run()
    assert not at.exception
    assert at.session_state["ls_settings"]["n"] == 400
    assert at.session_state["ls_settings"]["steps"] == 20
    at.selectbox(key="ls_set_dataset").set_value("drug_reviews").run()
    assert not at.exception
    assert at.session_state["ls_settings"]["max_len"] == 128   # the drug reviews' own length
    assert at.select_slider(key="ls_set_n").value == 400
    # a visit elsewhere forgets the widgets; the kept settings put them back
    back = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT)
    back.session_state["ls_settings"] = dict(at.session_state["ls_settings"])
    back.session_state["ls_auto"] = True
    back.run()
    assert back.selectbox(key="ls_set_dataset").value == "drug_reviews"
    assert back.number_input(key="ls_set_steps").value == 20


def test_a_pretrained_model_missing_here_says_what_to_do():
    from nnplay.data import text as text_data

    if text_data.base_available("distilbert-base-uncased") == "":
        pytest.skip("DistilBERT is in this machine's Hugging Face cache")
    at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT)
    at.session_state["ls_settings"] = {**SMALL, "base": "distilbert-base-uncased"}
    at.session_state["ls_auto"] = True   # no frozen classifier on this visit
    at.run()
    assert not at.exception
    assert any("never downloads" in w.value for w in at.warning)
    assert at.button(key="ls_go").disabled


def test_a_dataset_missing_here_says_what_to_do():
    from nnplay.data import text as text_data

    if text_data.available("imdb") == "":
        pytest.skip("IMDB is in this machine's datasets cache")
    at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT)
    at.session_state["ls_settings"] = {**SMALL, "dataset": "imdb"}
    at.run()
    assert not at.exception
    assert "datasets" in at.warning[0].value and "rotten_tomatoes" in at.warning[0].value
    assert "ls_frozen_job" not in at.session_state
