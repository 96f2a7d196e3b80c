"""nnplay.evaluation.metrics gives exactly scikit-learn's numbers, and the accuracy paradox shows up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from nnplay.evaluation import metrics

ROOT = Path(__file__).resolve().parents[2]


def fake_proba(n: int, n_classes: int, seed: int = 0):
    """Labels and noisy but informative probabilities (softmax of a biased score)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    logits = rng.normal(size=(n, n_classes)) + 2.0 * np.eye(n_classes)[y]
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return y, proba.astype(np.float32)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_classification_metrics_equal_sklearn(n_classes):
    y, p = fake_proba(300, n_classes)
    got = metrics.classification_metrics(y, p)
    pred = p.argmax(1)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert got["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    for avg in ("macro", "weighted"):
        assert got[f"f1_{avg}"] == pytest.approx(skm.f1_score(y, pred, average=avg))
        assert got[f"precision_{avg}"] == pytest.approx(skm.precision_score(y, pred, average=avg))
        assert got[f"recall_{avg}"] == pytest.approx(skm.recall_score(y, pred, average=avg))
    auc = (skm.roc_auc_score(y, p[:, 1]) if n_classes == 2
           else skm.roc_auc_score(y, p, multi_class="ovr"))
    assert got["roc_auc"] == pytest.approx(auc, abs=1e-6)
    p64 = p.astype(np.float64) / p.astype(np.float64).sum(1, keepdims=True)
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, p64), abs=1e-5)
    assert 0.6 < got["accuracy"] < 1.0   # informative but imperfect, as built


def test_per_class_report_matches_classification_report():
    y, p = fake_proba(200, 3, seed=1)
    frame = metrics.per_class_report(y, p, ["a", "b", "c"])
    ref = skm.classification_report(y, p.argmax(1), output_dict=True)
    for i, name in enumerate("abc"):
        assert frame.loc[name, "recall"] == pytest.approx(ref[str(i)]["recall"])
        assert frame.loc[name, "support"] == ref[str(i)]["support"]
    assert frame.loc["macro avg", "f1"] == pytest.approx(ref["macro avg"]["f1-score"])
    assert frame.loc["weighted avg", "precision"] == pytest.approx(ref["weighted avg"]["precision"])


def test_threshold_moves_the_confusion_counts_like_sklearn():
    y, p = fake_proba(250, 2, seed=2)
    low, high = (metrics.threshold_metrics(y, p, t, positive=1) for t in (0.2, 0.8))
    for t, got in ((0.2, low), (0.8, high)):
        pred = (p[:, 1] >= t).astype(int)
        tn, fp, fn, tp = skm.confusion_matrix(y, pred).ravel()
        assert (got["tp"], got["fp"], got["fn"], got["tn"]) == (tp, fp, fn, tn)
        assert got["recall"] == pytest.approx(skm.recall_score(y, pred))
        assert got["precision"] == pytest.approx(skm.precision_score(y, pred))
        assert got["fpr"] == pytest.approx(fp / (fp + tn))
    assert low["recall"] > high["recall"] and low["precision"] < high["precision"]


def test_confusion_frame_counts_and_normalised_rows():
    y, p = fake_proba(120, 3, seed=3)
    counts = metrics.confusion_frame(y, p.argmax(1), ["a", "b", "c"])
    np.testing.assert_array_equal(counts.to_numpy(), skm.confusion_matrix(y, p.argmax(1)))
    share = metrics.confusion_frame(y, p.argmax(1), ["a", "b", "c"], normalize="true")
    np.testing.assert_allclose(share.to_numpy().sum(1), 1.0)
    with pytest.raises(ValueError, match="normalize"):
        metrics.confusion_frame(y, p.argmax(1), ["a", "b", "c"], normalize="rows")


def test_curves_and_calibration_equal_sklearn():
    y, p = fake_proba(300, 2, seed=4)
    fpr, tpr, _ = skm.roc_curve(y, p[:, 1])
    roc = metrics.roc_frame(y, p, positive=1)
    np.testing.assert_allclose(roc["fpr"], fpr)
    np.testing.assert_allclose(roc["tpr"], tpr)
    prec, rec, _ = skm.precision_recall_curve(y, p[:, 1])
    pr = metrics.pr_frame(y, p, positive=1)
    np.testing.assert_allclose(pr["precision"], prec)
    np.testing.assert_allclose(pr["recall"], rec)
    summary = metrics.curve_summary(y, p, positive=1)
    assert summary["average_precision"] == pytest.approx(skm.average_precision_score(y, p[:, 1]))
    cal = metrics.calibration_frame(y, p, n_bins=5, positive=1)
    frac, mean = calibration_curve(y, p[:, 1].astype(np.float64), n_bins=5)
    np.testing.assert_allclose(cal["observed"], frac, atol=1e-6)
    np.testing.assert_allclose(cal["mean_predicted"], mean, atol=1e-6)
    assert cal["count"].sum() == len(y)
    assert cal.attrs["brier"] == pytest.approx(skm.brier_score_loss(y, p[:, 1]), abs=1e-6)


def test_regression_metrics_equal_sklearn():
    rng = np.random.default_rng(5)
    y = rng.normal(size=100)
    pred = y + rng.normal(scale=0.3, size=100)
    got = metrics.regression_metrics(y, pred)
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(y, pred))
    assert got["mse"] == pytest.approx(skm.mean_squared_error(y, pred))
    assert got["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)))
    assert got["r2"] == pytest.approx(skm.r2_score(y, pred))
    frame = metrics.residuals_frame(y, pred)
    np.testing.assert_allclose(frame["residual"], y - pred)
    with pytest.raises(ValueError, match="diverged"):
        metrics.regression_metrics(y, np.full(100, np.nan))


def test_accuracy_paradox_flatters_the_do_nothing_model():
    y, p = fake_proba(400, 2, seed=6)
    table = metrics.accuracy_paradox(y, p, positive=1, minority_share=0.05)
    assert table.attrs["positive_share"] == pytest.approx(0.05, abs=0.01)
    lazy, net = table.loc["always 'not positive'"], table.loc["the network"]
    assert lazy["accuracy"] > 0.93           # accuracy flatters...
    assert lazy["recall"] == 0 and lazy["f1"] == 0   # ...recall and F1 tell the truth
    assert lazy["balanced_accuracy"] == pytest.approx(0.5)
    assert net["recall"] > 0.5
    idx = metrics.imbalanced_indices(y, 1, 0.05)
    assert np.all(np.isin(np.flatnonzero(y == 0), idx))   # every negative row is kept


def test_bad_inputs_say_what_to_change():
    y, p = fake_proba(50, 2)
    with pytest.raises(ValueError, match="threshold"):
        metrics.threshold_metrics(y, p, 1.5)
    with pytest.raises(ValueError, match="positive class"):
        metrics.threshold_metrics(y, p, 0.5, positive=4)
    with pytest.raises(ValueError, match="sum to 1"):
        metrics.classification_metrics(y, p * 2)
    with pytest.raises(ValueError, match="minority share"):
        metrics.accuracy_paradox(y, p, minority_share=0.7)


def test_importing_metrics_and_baselines_leaves_explainers_unloaded():
    code = ("import sys, nnplay.evaluation.metrics, nnplay.evaluation.baselines, nnplay.explain\n"
            "print(sorted(m for m in ('shap', 'lime', 'captum') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
