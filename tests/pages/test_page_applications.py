"""Headless tests of pages/applications.py: each tab computes its numbers on open (a background
job where it trains), shows real numbers and no raw nan/None, registers its nnplay models, and
keeps its results in the session; a learner's own message is shown as data, never as HTML."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.conftest import PAGES

RAW = re.compile(r"\b(nan|NaN|None|inf)\b")
TABS = {"finance": "Finance: prices and fraud", "support": "Support messages"}


def page(**state) -> AppTest:
    """The page with widget values set before its first run (small settings keep it quick)."""
    at = AppTest.from_file(str(PAGES / "applications.py"), default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception
    return at


def shown_text(at) -> list[str]:
    texts = [e.value for kind in ("markdown", "caption", "info", "warning", "error")
             for e in getattr(at, kind)]
    return texts + [m.label for m in at.metric] + [m.value for m in at.metric]


def assert_no_raw_numbers(at) -> None:
    for text in shown_text(at):
        assert not RAW.search(text), text
    for frame in at.dataframe:
        cells = frame.value.astype(str).to_numpy().ravel()
        assert not any(RAW.fullmatch(c) for c in cells), frame.value


def frame_with(at, column: str):
    """The first table on the page with this column (AppTest keeps no dataframe keys)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def models(at) -> list:
    return at.session_state["nnplay_workspace"].list()


def test_the_page_opens_on_health_and_starts_training_at_once():
    at = page(app_health_epochs_image=1)
    worker = at.session_state["app_health_job"]["worker"]     # training started by itself
    try:
        if at.session_state["app_health_source"] == "ihc_patches":
            assert any("MedMNIST" in e.value and "pip install medmnist" in e.value
                       for e in at.info)
            assert any("not from a pathologist" in c.value for c in at.caption)
        keys = {c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")}
        assert "app_slide_fig" in keys or at.session_state["app_health_source"] != "ihc_patches"
        assert_no_raw_numbers(at)
    finally:
        worker.stop()
        worker.join(60)


@pytest.mark.slow
def test_health_tab_shows_sensitivity_roc_and_calibration(finish_job):
    at = page(app_health_epochs_image=1)
    finish_job(at, "app_health_job", timeout=300)
    shown = metrics(at)
    assert re.fullmatch(r"\d+\.\d%", shown["Sensitivity at 95% specificity"])
    assert float(shown["Specificity reached"].rstrip("%")) >= 95
    assert re.fullmatch(r"0\.\d{3}|1\.000", shown["ROC AUC"])
    assert any("bootstrap interval" in m.value for m in at.markdown)
    keys = {c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")}
    assert {"app_roc_fig", "app_reliability_fig"} <= keys
    assert [m.lesson for m in models(at)] == ["applications"]
    assert_no_raw_numbers(at)
    at.slider(key="app_specificity").set_value(0.9).run()
    assert "Sensitivity at 90% specificity" in metrics(at)


@pytest.mark.slow
def test_health_tab_trains_an_mlp_on_biopsies_on_request(finish_job):
    at = page(app_health_epochs_image=1)
    finish_job(at, "app_health_job", timeout=300)
    at.radio(key="app_health_source").set_value("breast_cancer").run()
    at.button(key="app_health_train").click().run()
    finish_job(at, "app_health_job", timeout=300)
    assert at.session_state["app_health_job"]["settings"][0] == "breast_cancer"
    assert any("'malignant' cases" in m.value for m in at.markdown)
    assert sorted(m.record.spec.family for m in models(at)) == ["cnn", "mlp"]
    assert_no_raw_numbers(at)


@pytest.mark.slow
def test_finance_tab_compares_forecasts_and_flags_generated_fraud(finish_job):
    at = page(app_tab=TABS["finance"], app_fc_epochs=1, app_window=5, app_fraud_epochs=5)
    assert any("GENERATED" in e.value for e in at.info)
    finish_job(at, "app_forecast_job", timeout=300)
    finish_job(at, "app_fraud_job", timeout=300)
    table = frame_with(at, "MAE (% a day)")
    assert list(table.index) == ["Naive: no change tomorrow", "Linear (ridge)", "LSTM"]
    assert table.loc["Naive: no change tomorrow", "direction right"] == "—"
    assert re.fullmatch(r"\d\.\d{3}", table.loc["LSTM", "MAE (% a day)"])
    sentence = next(m.value for m in at.markdown if m.value.startswith("Over "))
    assert "the naive forecast 'no change tomorrow'" in sentence and "AAPL" in sentence
    assert [m.name for m in models(at)] == ["LSTM forecaster AAPL"]
    fraud = frame_with(at, "frauds caught")
    assert list(fraud.index) == ["Autoencoder (reconstruction error)",
                                 "Distance from the average transaction"]
    assert any("always saying 'genuine' is 98% accurate" in m.value for m in at.markdown)
    assert_no_raw_numbers(at)
    # results stay in the session: the same settings are not recomputed
    at.run()
    assert at.button(key="app_fc_run").disabled


def test_support_tab_probes_a_review_model_and_shows_own_text_as_data():
    at = page(app_tab=TABS["support"], app_review_source="drug_reviews")
    sentence = next(m.value for m in at.markdown if "support messages" in m.value)
    assert re.search(r"right \d+\.\d% of the time", sentence)
    assert "written for this demo" in sentence
    probe = frame_with(at, "what makes it hard")
    assert {"message", "a person reads", "P(positive)", "model says", "right",
            "terms that pushed it (+ positive)"} <= set(probe.columns)
    assert probe["right"].tolist() == sorted(probe["right"])     # wrong ones first
    assert any("No Lab 3 sentiment model" in c.value for c in at.caption)
    mine = "<b>Refund</b> never arrived"
    at.text_input(key="app_own_message").input(mine).run()
    assert not at.exception
    own = [d.value for d in at.dataframe if "what makes it hard" not in d.value.columns]
    assert [frame["message"].tolist() for frame in own] == [[mine]]
    assert not any("<b>" in m.value for m in at.markdown)
    assert_no_raw_numbers(at)
