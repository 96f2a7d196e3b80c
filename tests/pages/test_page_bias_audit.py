"""Headless tests of pages/bias_audit.py: train, audit, mitigate and report on german_credit, and
audit an uploaded CSV by a column the learner picks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from nnplay.responsible import fairness
from nnplay.train import predict, predict_proba

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "bias_audit.py")


def metric_value(at: AppTest, label: str) -> str:
    """The audit section's metric (the thresholds section repeats some labels further down)."""
    return [m for m in at.metric if m.label == label][0].value


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    """The first displayed dataframe that has ``column`` (the audit's, above the thresholds')."""
    return [df.value for df in at.dataframe if column in df.value.columns][0]


def only_model(at: AppTest):
    (entry,) = at.session_state["nnplay_workspace"].list()
    return entry


@pytest.fixture
def page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    return at


def test_the_page_opens_training_a_default_model(page):
    worker = page.session_state["bias_spot_job"]["worker"]
    assert worker.trainer.dataset.name == "german_credit" and worker.trainer.spec.family == "mlp"
    page.radio(key="bias_source").set_value("From this session").run()
    assert not page.exception
    assert any("No" in info.value and "models" in info.value for info in page.info)


def test_german_credit_audit_mitigation_and_report(page, finish_job):
    finish_job(page, "bias_spot_job")
    entry = only_model(page)
    assert entry.lesson == "bias_audit" and entry.record.run_id is not None
    ds = entry.dataset
    expected = fairness.audit(ds.y_test, predict(entry.model, ds.X_test),
                              ds.extra["sensitive_test"]["sex"], pos_label=1,
                              n_boot=page.slider(key="bias_boot").value, seed=0)
    assert metric_value(page, "Demographic parity difference") == \
        f"{expected.demographic_parity_difference:.3f}"
    assert metric_value(page, "Equalized odds difference") == \
        f"{expected.equalized_odds_difference:.3f}"
    shown = [m.value for m in (*page.success, *page.warning, *page.error)]
    assert expected.four_fifths_verdict()[1] in shown
    assert all(flag in shown for flag in expected.flagged_gaps())

    page.button(key="bias_mitigate").click().run()
    finish_job(page, "bias_mitigation_job")
    table = table_with(page, "four_fifths")
    assert list(table.index) == ["original", "threshold optimizer (demographic parity)",
                                 "reweighing"]
    assert table["demographic_parity_difference"].iloc[1] < \
        table["demographic_parity_difference"].iloc[0]
    assert len(page.session_state["nnplay_workspace"]) == 2   # the reweighed model too
    assert page.get("download_button")[0].label.startswith("Download the audit report")

    page.multiselect(key="bias_columns").set_value(["sex", "age_group"]).run()
    assert not page.exception
    data_table = table_with(page, "base_rate")
    assert list(data_table.index) == ["female & <=25", "female & >25", "male & <=25",
                                      "male & >25", "overall"]


def test_uploaded_csv_audited_by_a_chosen_column(page, finish_job):
    rng = np.random.default_rng(0)
    n = 240
    gender = rng.choice(["w", "m"], n)
    income = rng.normal(size=n) + np.where(gender == "m", 0.8, 0.0)
    frame = pd.DataFrame({"region": rng.choice(["north", "south"], n), "gender": gender,
                          "income": income, "hired": (income + rng.normal(0, 0.5, n) > 0.4)
                          .astype(int)})
    page.selectbox(key="bias_data").set_value("Upload a CSV...").run()
    page.file_uploader(key="bias_csv").upload("hiring.csv", frame.to_csv(index=False).encode(),
                                              "text/csv").run()
    assert not page.exception
    page.multiselect(key="bias_csv_sensitive").set_value(["gender"]).run()
    finish_job(page, "bias_spot_job")
    assert only_model(page).record.dataset.label == "hiring.csv (your file)"
    assert page.multiselect(key="bias_columns").value == ["gender"]
    by_group = table_with(page, "tpr")
    assert sorted(by_group.index) == ["m", "w"]
    entry = only_model(page)
    expected = fairness.audit(entry.dataset.y_test, predict(entry.model, entry.dataset.X_test),
                              entry.dataset.extra["sensitive_test"]["gender"], pos_label=1)
    assert metric_value(page, "Demographic parity ratio") == \
        f"{expected.demographic_parity_ratio:.3f}"


def test_per_group_thresholds_move_the_group_metrics(page, finish_job):
    finish_job(page, "bias_spot_job")
    entry = only_model(page)
    ds = entry.dataset
    page.slider(key="bias_thr_female").set_value(0.3).run()
    assert not page.exception
    groups = ds.extra["sensitive_test"]["sex"].astype(str).to_numpy()
    scores = predict_proba(entry.model, ds.X_test)[:, 1]
    pred = fairness.threshold_predictions(scores, groups, {"female": 0.3, "male": 0.5})
    expected = fairness.audit(ds.y_test, pred, groups, pos_label=1)
    shown = [m.value for m in page.metric if m.label == "Demographic parity difference"]
    assert shown[-1] == f"{expected.demographic_parity_difference:.3f}"
    baseline = fairness.audit(ds.y_test, (scores >= 0.5).astype(int), groups, pos_label=1)
    assert expected.by_group.loc["female", "selection_rate"] > \
        baseline.by_group.loc["female", "selection_rate"]
