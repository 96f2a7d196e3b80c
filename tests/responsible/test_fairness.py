"""nnplay.responsible.fairness: audit numbers equal fairlearn's, bootstrap intervals, reweighing, mitigation
on german_credit, sensitive columns kept by from_csv, and an escaped HTML report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, precision_score

from nnplay import data
from nnplay.responsible import fairness
from nnplay.responsible.report import audit_report_html
from nnplay.train import TrainConfig, evaluate, predict
from nnplay.train.quick import quick_trainer


@pytest.fixture
def predictions():
    """Three groups of different sizes whose predictions favour group a."""
    rng = np.random.default_rng(0)
    groups = rng.choice(["a", "b", "c"], size=400, p=[0.5, 0.3, 0.2])
    y_true = rng.integers(0, 2, size=400)
    boost = np.where(groups == "a", 0.3, 0.0)
    y_pred = (rng.random(400) < 0.35 + boost + 0.3 * y_true).astype(int)
    return y_true, y_pred, groups


@pytest.fixture(scope="module")
def german():
    ds = data.load("german_credit")
    config = TrainConfig(epochs=20, lr=0.01, batch_size=32, seed=0)
    model = quick_trainer(ds, {"family": "mlp", "params": {"hidden": [16]}}, config).fit().model
    metrics = evaluate(model, ds)
    assert metrics["accuracy"] > 0.68   # the majority class alone gets 0.70; the net is close
    return ds, model, config


def test_audit_equals_fairlearn_metricframe(predictions):
    y_true, y_pred, groups = predictions
    result = fairness.audit(y_true, y_pred, groups)
    frame = MetricFrame(metrics={"selection_rate": selection_rate, "accuracy": accuracy_score,
                                 "tpr": true_positive_rate, "fpr": false_positive_rate,
                                 "precision": precision_score},
                        y_true=y_true, y_pred=y_pred, sensitive_features=groups)
    expected = frame.by_group
    for column in expected.columns:
        np.testing.assert_allclose(result.by_group[column].to_numpy(),
                                   expected[column].to_numpy(dtype=float), rtol=1e-12)
    assert result.by_group["count"].to_dict() == {"a": (groups == "a").sum(),
                                                  "b": (groups == "b").sum(),
                                                  "c": (groups == "c").sum()}
    kwargs = {"sensitive_features": groups}
    assert result.demographic_parity_difference == pytest.approx(
        demographic_parity_difference(y_true, y_pred, **kwargs))
    assert result.demographic_parity_ratio == pytest.approx(
        demographic_parity_ratio(y_true, y_pred, **kwargs))
    assert result.equalized_odds_difference == pytest.approx(
        equalized_odds_difference(y_true, y_pred, **kwargs))
    assert result.overall["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert result.demographic_parity_difference > 0.2 and not result.passes_four_fifths


def test_intersectional_groups_match_fairlearn_on_a_dataframe(predictions):
    y_true, y_pred, groups = predictions
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"sex": groups, "age_group": rng.choice(["young", "old"], len(groups))})
    result = fairness.audit(y_true, y_pred, frame)
    assert len(result.by_group) == 6 and "a & old" in result.by_group.index
    assert result.demographic_parity_difference == pytest.approx(
        demographic_parity_difference(y_true, y_pred, sensitive_features=frame))
    assert result.equalized_odds_difference == pytest.approx(
        equalized_odds_difference(y_true, y_pred, sensitive_features=frame))


def test_pos_label_picks_the_favourable_class():
    y_true = np.array(["good", "bad", "good", "good", "bad", "bad"])
    y_pred = np.array(["good", "good", "good", "bad", "bad", "bad"])
    groups = np.array(["f", "f", "f", "m", "m", "m"])
    result = fairness.audit(y_true, y_pred, groups, pos_label="good")
    assert result.by_group.loc["f", "selection_rate"] == pytest.approx(1.0)
    assert result.by_group.loc["m", "selection_rate"] == pytest.approx(0.0)
    assert result.demographic_parity_difference == pytest.approx(1.0)


def test_data_audit_counts_and_base_rates(predictions):
    y_true, _, groups = predictions
    table = fairness.data_audit(y_true, groups)
    for group in "abc":
        assert table.loc[group, "count"] == (groups == group).sum()
        assert table.loc[group, "base_rate"] == pytest.approx(y_true[groups == group].mean())
    assert table.loc["overall", "count"] == len(groups)
    assert table["share"].drop("overall").sum() == pytest.approx(1.0)


def test_bootstrap_intervals_are_seeded_and_cover_the_estimate(predictions):
    y_true, y_pred, groups = predictions
    first = fairness.audit(y_true, y_pred, groups, n_boot=200, seed=3)
    again = fairness.audit(y_true, y_pred, groups, n_boot=200, seed=3)
    pd.testing.assert_frame_equal(first.intervals, again.intervals)
    gaps = first.gaps()
    assert (gaps["low"] <= gaps["estimate"]).all() and (gaps["estimate"] <= gaps["high"]).all()
    assert (gaps["high"] - gaps["low"] > 0.01).all()   # 400 rows leave real uncertainty
    # The fast resampling formula agrees with fairlearn on one resample.
    idx = np.random.default_rng(5).integers(0, len(y_true), len(y_true))
    codes, uniques = pd.factorize(groups[idx])
    fast = fairness._gaps_numpy(y_true[idx].astype(float), y_pred[idx].astype(float), codes,
                                len(uniques))
    slow = fairness.audit(y_true[idx], y_pred[idx], groups[idx])
    np.testing.assert_allclose(fast, [getattr(slow, name) for name in fairness.GAP_NAMES])


def test_group_labels_bin_numbers_and_refuse_too_many_groups():
    ages = pd.Series(np.arange(18, 78))
    labels = fairness.group_labels(ages, bins=4)
    assert labels.nunique() == 4 and labels.iloc[0].startswith("18")
    assert fairness.group_labels(pd.Series(["x", None, "y"])).tolist() == ["x", "missing", "y"]
    with pytest.raises(ValueError, match="groups"):
        fairness.group_labels(pd.Series([f"id{i}" for i in range(30)]))
    with pytest.raises(ValueError, match="one entry per row"):
        fairness.audit([0, 1, 1], [0, 1], ["a", "b", "a"])


def test_reweighing_makes_the_label_independent_of_the_group(predictions):
    y_true, _, groups = predictions
    weights = fairness.reweighing_weights(y_true, groups)
    rates = [np.average(y_true[groups == g], weights=weights[groups == g]) for g in "abc"]
    np.testing.assert_allclose(rates, y_true.mean(), rtol=1e-9)


def test_threshold_optimizer_lowers_demographic_parity_on_german_credit(german):
    ds, model, config = german
    g_train = ds.extra["sensitive_train"]["sex"]
    g_test = ds.extra["sensitive_test"]["sex"]
    result = fairness.run_mitigations(model, ds, g_train, g_test, "demographic_parity", config)
    table = result.table
    original = table.loc["original", "demographic_parity_difference"]
    mitigated = table.loc["threshold optimizer (demographic parity)",
                          "demographic_parity_difference"]
    assert original > 0.1
    assert mitigated < original - 0.05
    assert table.loc["reweighing", "demographic_parity_difference"] < original
    assert result.reweighed_model is not model
    expected = fairness.audit(ds.y_test, predict(model, ds.X_test), g_test, pos_label=1)
    assert original == pytest.approx(expected.demographic_parity_difference)


def test_from_csv_keeps_sensitive_columns_aligned_with_the_split():
    rng = np.random.default_rng(0)
    group = rng.choice(["a", "b"], 60)
    frame = pd.DataFrame({"group": group, "marker": np.where(group == "a", 5.0, -5.0),
                          "income": rng.normal(size=60), "approved": rng.integers(0, 2, 60)})
    ds = data.from_csv(frame.to_csv(index=False).encode(), target="approved",
                       sensitive=["group"])
    marker = ds.feature_names.index("marker")
    for split in ("train", "test"):
        X = getattr(ds, f"X_{split}")
        kept = ds.extra[f"sensitive_{split}"]["group"].to_numpy()
        assert len(kept) == len(X)
        assert np.array_equal(kept == "a", X[:, marker] > 0)
    assert ds.extra["sensitive_columns"] == ["group"]
    with pytest.raises(ValueError, match="Sensitive column 'nope'"):
        data.from_csv(frame.to_csv(index=False).encode(), target="approved", sensitive=["nope"])


def test_report_escapes_user_text(predictions):
    y_true, y_pred, groups = predictions
    evil = np.where(groups == "a", "<script>alert(1)</script>", groups)
    result = fairness.audit(y_true, y_pred, evil)
    report = audit_report_html("Audit of <b>upload</b>", result,
                               fairness.data_audit(y_true, evil), notes=["<img src=x>"])
    assert "<script>alert" not in report and "<img src=x>" not in report
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report
    assert f"{result.demographic_parity_difference:.3f}" in report


def _audit_with_ratio_interval(low, high, ratio=0.85, eo=0.05):
    by_group = pd.DataFrame({"count": [10, 10]}, index=["a", "b"])
    intervals = pd.DataFrame({"low": [0.0, low, 0.0], "high": [0.2, high, eo]},
                             index=list(fairness.GAP_NAMES))
    return fairness.FairnessAudit(by_group=by_group, overall={}, sensitive_name="g",
                                  demographic_parity_difference=0.05,
                                  demographic_parity_ratio=ratio,
                                  equalized_odds_difference=eo, intervals=intervals)


@pytest.mark.parametrize("low, high, verdict", [(0.82, 0.95, "passed"), (0.60, 0.79, "failed"),
                                                (0.70, 0.95, "inconclusive")])
def test_four_fifths_passes_only_when_the_whole_interval_clears_it(low, high, verdict):
    level, sentence = _audit_with_ratio_interval(low, high).four_fifths_verdict()
    assert level == verdict and f"{low:.2f} to {high:.2f}" in sentence


def test_a_large_equalized_odds_gap_is_flagged():
    assert _audit_with_ratio_interval(0.8, 0.9, eo=0.33).flagged_gaps()[0].startswith(
        "The equalized odds difference is 0.33")
    assert _audit_with_ratio_interval(0.8, 0.9, eo=0.05).flagged_gaps() == []
