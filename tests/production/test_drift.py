"""Drift tests: the test Evidently's rules choose, the verdicts on data with and without a shift,
the false-alarm rate at the tests' level, PSI bands, and parity with scipy.stats."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from nnplay.production import drift


def test_column_kind_follows_evidently():
    rng = np.random.default_rng(0)
    assert drift.column_kind(rng.normal(size=50)) == "numerical"
    assert drift.column_kind(np.array([0.0, 1.0] * 20)) == "numerical"   # floats stay numerical
    assert drift.column_kind(np.arange(40) % 10) == "categorical"        # 10 integer values
    assert drift.column_kind(np.arange(40) % 11) == "numerical"          # 11 are a number
    assert drift.column_kind(pd.Series(["a", "b", "a"])) == "categorical"
    assert drift.column_kind(pd.Series([True, False])) == "categorical"
    assert drift.column_kind(pd.Series(["x", "y"], dtype="category")) == "categorical"


@pytest.mark.parametrize("kind, n_values, small, large", [
    ("numerical", 50, "ks", "wasserstein"),
    ("numerical", 5, "chisquare", "jensenshannon"),   # few values: tested as categories
    ("numerical", 2, "z", "jensenshannon"),
    ("categorical", 7, "chisquare", "jensenshannon"),
    ("categorical", 2, "z", "jensenshannon"),
])
def test_test_choice_switches_at_1000_reference_rows(kind, n_values, small, large):
    assert drift.choose_test(kind, 1000, n_values) == small
    assert drift.choose_test(kind, 1001, n_values) == large
    with pytest.raises(ValueError, match="kind"):
        drift.choose_test("text", 10, 2)


def test_column_drift_picks_the_test_by_reference_size():
    rng = np.random.default_rng(1)
    cur = rng.normal(size=300)
    assert drift.column_drift(rng.normal(size=1000), cur).test == "ks"
    assert drift.column_drift(rng.normal(size=1001), cur).test == "wasserstein"
    codes = rng.integers(0, 4, 1001)
    assert drift.column_drift(codes[:1000], codes[:200]).test == "chisquare"
    assert drift.column_drift(codes, codes[:200]).test == "jensenshannon"
    flags = rng.choice(["yes", "no"], 1001)
    small = drift.column_drift(flags[:500], flags[500:])
    assert small.test == "z" and small.p_value is not None
    large = drift.column_drift(flags, flags[:300])
    assert large.test == "jensenshannon" and large.p_value is None and large.threshold == 0.1


@pytest.mark.parametrize("n_ref, test", [(500, "ks"), (5000, "wasserstein")])
def test_a_clear_shift_is_flagged_and_no_shift_is_not(n_ref, test):
    rng = np.random.default_rng(2)
    ref = rng.normal(size=n_ref)
    shifted = drift.column_drift(ref, rng.normal(0.8, 1, 500))
    same = drift.column_drift(ref, rng.normal(0, 1, 500))
    assert shifted.test == same.test == test
    assert shifted.drifted and not same.drifted
    assert shifted.severity > 1 > same.severity


def test_categorical_shift_and_a_new_category_are_flagged():
    rng = np.random.default_rng(3)
    ref = rng.choice(list("abc"), 600, p=[0.5, 0.3, 0.2])
    moved = drift.column_drift(ref, rng.choice(list("abc"), 300, p=[0.2, 0.3, 0.5]))
    assert moved.test == "chisquare" and moved.drifted
    new = drift.column_drift(ref, np.r_[ref[:280], ["d"] * 20])
    assert new.drifted and new.p_value == 0.0 and math.isinf(new.statistic)
    assert new.to_dict()["statistic"] is None    # JSON-able: no infinity


def _alarm_rate(make, repeats=200, seed=0) -> float:
    rng = np.random.default_rng(seed)
    return float(np.mean([drift.column_drift(*make(rng)).drifted for _ in range(repeats)]))


@pytest.mark.parametrize("name, make", [
    ("ks", lambda r: (r.normal(size=300), r.normal(size=200))),
    # Evidently's chi-squared takes the reference's shares as exact: near 5% only when the
    # reference is much larger than the current sample (see the next test)
    ("chisquare", lambda r: (r.choice(4, 1000, p=[0.4, 0.3, 0.2, 0.1]),
                             r.choice(4, 100, p=[0.4, 0.3, 0.2, 0.1]))),
    ("z", lambda r: (r.choice(["a", "b"], 300, p=[0.3, 0.7]), r.choice(["a", "b"], 200, p=[0.3, 0.7]))),
])
def test_false_alarm_rate_is_near_the_tests_level(name, make):
    rng = np.random.default_rng(0)
    assert drift.column_drift(*make(rng)).test == name
    rate = _alarm_rate(make)
    assert 0.01 <= rate <= 0.10, f"{name}: {rate:.1%} false alarms over 200 unshifted repeats"


def test_chi_squared_alarms_more_often_with_a_reference_as_small_as_the_window():
    def make(r):
        return (r.choice(4, 200, p=[0.4, 0.3, 0.2, 0.1]), r.choice(4, 200, p=[0.4, 0.3, 0.2, 0.1]))
    assert _alarm_rate(make) > 0.12


def test_sample_size_changes_what_each_rule_calls_drift():
    """The reason for the 1,000-row switch: distances alarm on small unshifted samples, KS
    alarms on a trivial shift in a large one."""
    small = _alarm_rate(lambda r: (r.normal(size=100), r.normal(size=100)), repeats=100)
    small_w = float(np.mean([drift.column_drift(r.normal(size=100), r.normal(size=100),
                                                test="wasserstein").drifted
                             for r in [np.random.default_rng(s) for s in range(100)]]))
    assert small <= 0.1 and small_w >= 0.3
    rng = np.random.default_rng(5)
    big_ref, big_cur = rng.normal(size=50_000), rng.normal(0.05, 1, 50_000)
    assert drift.column_drift(big_ref, big_cur, test="ks").drifted           # KS: "drift"
    assert not drift.column_drift(big_ref, big_cur).drifted                  # Wasserstein: no


def test_psi_bands():
    assert drift.psi_band(0.0) == "stable" and drift.psi_band(0.099) == "stable"
    assert drift.psi_band(0.1) == "moderate" and drift.psi_band(0.2499) == "moderate"
    assert drift.psi_band(0.25) == "major"
    # shares 0.5/0.5 -> 0.6/0.4 by hand: 0.1 ln(1.2) + 0.1 ln(1.25)
    ref, cur = np.array([0] * 50 + [1] * 50), np.array([0] * 60 + [1] * 40)
    assert drift.psi(ref, cur, "categorical") == pytest.approx(0.1 * np.log(1.2) + 0.1 * np.log(1.25))
    rng = np.random.default_rng(6)
    ref = rng.normal(size=20_000)
    assert drift.psi_band(drift.psi(ref, rng.normal(size=20_000))) == "stable"
    assert drift.psi_band(drift.psi(ref, rng.normal(0.5, 1, 20_000))) == "moderate"
    assert drift.psi_band(drift.psi(ref, rng.normal(1.5, 1, 20_000))) == "major"


def test_parity_with_scipy():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=400), rng.normal(0.2, 1.3, 300)
    ks = drift.column_drift(a, b)
    expected = stats.ks_2samp(a, b)
    assert (ks.statistic, ks.p_value) == pytest.approx((expected.statistic, expected.pvalue))
    big = rng.normal(size=3000)
    w = drift.column_drift(big, b)
    assert w.statistic == pytest.approx(stats.wasserstein_distance(big, b) / np.std(big))
    # chi-squared: goodness of fit of the current counts to the reference's shares
    ref, cur = rng.choice(3, 500, p=[0.5, 0.3, 0.2]), rng.choice(3, 200, p=[0.4, 0.4, 0.2])
    rc, cc = np.bincount(ref, minlength=3), np.bincount(cur, minlength=3)
    chi = drift.column_drift(ref, cur)
    assert chi.p_value == pytest.approx(stats.chisquare(cc, rc / rc.sum() * cc.sum()).pvalue)
    # the pooled two-proportion z-test squared is Pearson's chi-squared on the 2x2 table
    ref, cur = rng.choice(2, 500, p=[0.6, 0.4]), rng.choice(2, 200, p=[0.5, 0.5])
    z = drift.column_drift(ref, cur)
    table = [np.bincount(ref, minlength=2), np.bincount(cur, minlength=2)]
    chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
    assert z.statistic ** 2 == pytest.approx(chi2) and z.p_value == pytest.approx(p)
    # Jensen-Shannon on one bin per value when a column has few values
    codes = rng.choice(4, 2000, p=[0.4, 0.3, 0.2, 0.1])
    now = rng.choice(4, 500, p=[0.25, 0.25, 0.25, 0.25])
    js = drift.column_drift(codes, now)
    assert js.statistic == pytest.approx(jensenshannon(np.bincount(codes) / 2000,
                                                       np.bincount(now) / 500))


def test_dataset_verdict_uses_the_share_of_drifted_columns():
    rng = np.random.default_rng(8)
    ref = pd.DataFrame(rng.normal(size=(400, 4)), columns=list("abcd"))
    cur = pd.DataFrame(rng.normal(size=(300, 4)), columns=list("abcd"))
    cur["a"] += 1.0
    cur["b"] += 1.0
    result = drift.dataset_drift(ref, cur)
    assert result.n_drifted == 2 and result.drifted_share == 0.5 and result.drifted
    assert not drift.dataset_drift(ref, cur, share=0.75).drifted
    assert list(result.frame()["column"]) == list("abcd")
    with pytest.raises(ValueError, match="share"):
        drift.dataset_drift(ref, cur, share=0)
    with pytest.raises(ValueError, match="missing"):
        drift.dataset_drift(ref, cur.drop(columns="d"))


def test_drift_report_is_plain_json():
    rng = np.random.default_rng(9)
    ref = pd.DataFrame({"x": rng.normal(size=2000), "code": rng.integers(0, 3, 2000)})
    cur = pd.DataFrame({"x": rng.normal(1, 1, 500), "code": rng.integers(0, 3, 500)})
    report = drift.drift_report(ref, cur)
    json.dumps(report, allow_nan=False)
    assert set(report["columns"]) == {"x", "code"}
    x = report["columns"]["x"]
    assert x["test"] == "wasserstein" and x["p_value"] is None and x["drifted"]
    assert report["columns"]["code"]["test"] == "jensenshannon"
    assert report["n_drifted"] == 1 and report["dataset_drifted"]   # 1 of 2 >= 0.5
    small = drift.drift_report(ref.iloc[:300], cur)["columns"]
    assert small["x"]["test"] == "ks" and 0 <= small["x"]["p_value"] < 0.05
    assert small["code"]["test"] == "chisquare"


def test_missing_values_are_dropped_and_empty_samples_refused():
    ref = np.r_[np.random.default_rng(10).normal(size=200), [np.nan, np.inf]]
    assert drift.column_drift(ref, ref[:100]).n_reference == 200
    with pytest.raises(ValueError, match="current sample has no values"):
        drift.column_drift(ref, [np.nan, np.nan])
    with pytest.raises(ValueError, match="Unknown drift test"):
        drift.column_drift(ref, ref, test="magic")
