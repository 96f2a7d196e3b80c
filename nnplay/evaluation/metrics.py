"""Judging a model honestly: classification and regression metrics, curves, calibration and the
accuracy paradox, as plain dicts and DataFrames.

Every number comes from sklearn.metrics (or sklearn.calibration); nothing here writes a metric
formula by hand. Classification inputs are class probabilities of shape (n, n_classes), as
``nnplay.train.predict_proba`` returns them; binary views work on one "positive" class against the
rest, so the same code serves two-class and many-class problems.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve


def _labels(y_true: np.ndarray, proba: np.ndarray) -> list[int]:
    """Every class the model outputs, present in y_true or not."""
    return list(range(proba.shape[1]))


def _check_proba(y_true, proba) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true).ravel().astype(int)
    p = np.asarray(proba, dtype=float)
    if p.ndim != 2 or len(p) != len(y):
        raise ValueError(f"proba must have shape (n, n_classes) with n = {len(y)}, got {p.shape}.")
    if len(y) == 0:
        raise ValueError("There are no rows to evaluate.")
    sums = p.sum(1)
    if not np.all(np.abs(sums - 1.0) < 1e-3):
        raise ValueError("Each row of proba must sum to 1 (class probabilities, e.g. a softmax).")
    # float32 softmax rows sum to 1 only within rounding; sklearn's log loss warns about that
    return y, p / sums[:, None]


def _check_positive(positive: int, n_classes: int) -> int:
    if not 0 <= int(positive) < n_classes:
        raise ValueError(f"The positive class must be between 0 and {n_classes - 1}, "
                         f"got {positive}.")
    return int(positive)


def binary_predictions(proba: np.ndarray, threshold: float = 0.5, positive: int = 1) -> np.ndarray:
    """1 where P(positive class) >= threshold, else 0: one class against the rest."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"The threshold must be between 0 and 1, got {threshold}.")
    return (np.asarray(proba)[:, positive] >= threshold).astype(int)


def classification_metrics(y_true, proba) -> dict:
    """Accuracy, balanced accuracy, macro and weighted precision/recall/F1, ROC AUC and log loss.

    Predictions are the most probable class. ROC AUC is one-vs-rest (macro) for more than two
    classes and NaN when the labels hold only one class.
    """
    y, p = _check_proba(y_true, proba)
    labels = _labels(y, p)
    pred = p.argmax(1)
    out = {"accuracy": skm.accuracy_score(y, pred),
           "balanced_accuracy": skm.balanced_accuracy_score(y, pred)}
    for avg in ("macro", "weighted"):
        prec, rec, f1, _ = skm.precision_recall_fscore_support(y, pred, labels=labels, average=avg,
                                                               zero_division=0)
        out.update({f"precision_{avg}": prec, f"recall_{avg}": rec, f"f1_{avg}": f1})
    out["roc_auc"] = roc_auc(y, p)
    out["log_loss"] = skm.log_loss(y, np.clip(p, 1e-15, 1.0), labels=labels)
    return {k: float(v) for k, v in out.items()}


def roc_auc(y_true, proba) -> float:
    """ROC AUC: of class 1 for two classes, one-vs-rest macro for more; NaN if only one class."""
    y, p = _check_proba(y_true, proba)
    if len(np.unique(y)) < 2:
        return math.nan
    if p.shape[1] == 2:
        return float(skm.roc_auc_score(y, p[:, 1]))
    present = np.unique(y)
    if len(present) < p.shape[1]:  # sklearn needs every class present for multi-class AUC
        scores = [skm.roc_auc_score(y == c, p[:, c]) for c in present]
        return float(np.mean(scores))
    return float(skm.roc_auc_score(y, p, multi_class="ovr", average="macro"))


def per_class_report(y_true, proba, class_names: list[str] | None = None) -> pd.DataFrame:
    """Precision, recall, F1 and support per class, plus macro and weighted averages as rows."""
    y, p = _check_proba(y_true, proba)
    labels = _labels(y, p)
    names = list(class_names) if class_names else [str(c) for c in labels]
    pred = p.argmax(1)
    prec, rec, f1, sup = skm.precision_recall_fscore_support(y, pred, labels=labels,
                                                             zero_division=0)
    frame = pd.DataFrame({"precision": prec, "recall": rec, "f1": f1, "support": sup},
                         index=pd.Index(names, name="class"))
    for avg in ("macro", "weighted"):
        a_prec, a_rec, a_f1, _ = skm.precision_recall_fscore_support(
            y, pred, labels=labels, average=avg, zero_division=0)
        frame.loc[f"{avg} avg"] = [a_prec, a_rec, a_f1, int(sup.sum())]
    frame["support"] = frame["support"].astype(int)
    return frame


def confusion_frame(y_true, y_pred, class_names: list[str], normalize: str | None = None
                    ) -> pd.DataFrame:
    """The confusion matrix (rows: true class, columns: predicted) as a labelled DataFrame.

    normalize: None for counts, "true" for each row's share (recall on the diagonal), "pred" for
    each column's share (precision on the diagonal) or "all".
    """
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"normalize must be None, 'true', 'pred' or 'all', got {normalize!r}.")
    labels = list(range(len(class_names)))
    cm = skm.confusion_matrix(np.ravel(y_true), np.ravel(y_pred), labels=labels,
                              normalize=normalize)
    cm = np.nan_to_num(cm)
    return pd.DataFrame(cm, index=pd.Index(class_names, name="true"),
                        columns=pd.Index(class_names, name="predicted"))


def threshold_metrics(y_true, proba, threshold: float = 0.5, positive: int = 1) -> dict:
    """Positive class against the rest at a threshold: accuracy, precision, recall, F1, false
    positive rate and the confusion counts tp, fp, fn, tn."""
    y, p = _check_proba(y_true, proba)
    positive = _check_positive(positive, p.shape[1])
    truth = (y == positive).astype(int)
    pred = binary_predictions(p, threshold, positive)
    tn, fp, fn, tp = skm.confusion_matrix(truth, pred, labels=[0, 1]).ravel()
    return {"threshold": float(threshold),
            "accuracy": float(skm.accuracy_score(truth, pred)),
            "precision": float(skm.precision_score(truth, pred, zero_division=0)),
            "recall": float(skm.recall_score(truth, pred, zero_division=0)),
            "f1": float(skm.f1_score(truth, pred, zero_division=0)),
            # the ROC point of this threshold: false positive rate = 1 - recall of the negatives
            "fpr": float(1.0 - skm.recall_score(1 - truth, 1 - pred, zero_division=np.nan)),
            "tp": int(tp), "fp": int(fp), "fn": int(fn), "tn": int(tn)}


def roc_frame(y_true, proba, positive: int = 1) -> pd.DataFrame:
    """The ROC curve of the positive class against the rest: fpr, tpr, threshold."""
    y, p = _check_proba(y_true, proba)
    positive = _check_positive(positive, p.shape[1])
    fpr, tpr, thr = skm.roc_curve(y == positive, p[:, positive])
    return pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": np.minimum(thr, 1.0)})


def pr_frame(y_true, proba, positive: int = 1) -> pd.DataFrame:
    """The precision-recall curve of the positive class: precision, recall, threshold."""
    y, p = _check_proba(y_true, proba)
    positive = _check_positive(positive, p.shape[1])
    prec, rec, thr = skm.precision_recall_curve(y == positive, p[:, positive])
    # sklearn's last point (precision 1, recall 0) has no threshold; 1.0 is where it is reached
    return pd.DataFrame({"precision": prec, "recall": rec, "threshold": np.append(thr, 1.0)})


def curve_summary(y_true, proba, positive: int = 1) -> dict:
    """Areas under the positive class's curves: ROC AUC and average precision, and the base rate."""
    y, p = _check_proba(y_true, proba)
    positive = _check_positive(positive, p.shape[1])
    truth = y == positive
    both = 0 < truth.sum() < len(truth)
    return {"roc_auc": float(skm.roc_auc_score(truth, p[:, positive])) if both else math.nan,
            "average_precision": float(skm.average_precision_score(truth, p[:, positive]))
            if truth.any() else math.nan,
            "base_rate": float(truth.mean())}


def calibration_frame(y_true, proba, n_bins: int = 10, positive: int | None = None
                      ) -> pd.DataFrame:
    """Reliability curve: mean predicted probability against the observed frequency per bin.

    With ``positive`` it is P(positive class) against how often that class is true; without, it is
    the top-label view: the model's confidence in its predicted class against its accuracy.
    The Brier score of the same probabilities is in ``frame.attrs["brier"]``.
    """
    y, p = _check_proba(y_true, proba)
    if n_bins < 2:
        raise ValueError(f"Use at least 2 bins, got {n_bins}.")
    if positive is None:
        score, truth = p.max(1), (p.argmax(1) == y).astype(int)
    else:
        positive = _check_positive(positive, p.shape[1])
        score, truth = p[:, positive], (y == positive).astype(int)
    frac, mean_pred = calibration_curve(truth, score, n_bins=n_bins, strategy="uniform")
    # rows per bin, binned exactly as calibration_curve bins them (uniform edges, left side)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], score), minlength=n_bins)
    frame = pd.DataFrame({"mean_predicted": mean_pred, "observed": frac,
                          "count": counts[counts > 0]})
    frame.attrs["brier"] = float(skm.brier_score_loss(truth, score))
    return frame


def regression_metrics(y_true, y_pred) -> dict:
    """MAE, MSE, RMSE and R² (RMSE as the square root of sklearn's MSE)."""
    y, pred = np.ravel(y_true).astype(float), np.ravel(y_pred).astype(float)
    if len(y) != len(pred) or len(y) == 0:
        raise ValueError(f"Need as many predictions as targets (got {len(pred)} and {len(y)}).")
    if not np.all(np.isfinite(pred)):
        raise ValueError("The model predicts NaN or infinity: it diverged; train it again "
                         "with a lower learning rate.")
    mse = skm.mean_squared_error(y, pred)
    return {"mae": float(skm.mean_absolute_error(y, pred)), "mse": float(mse),
            "rmse": float(math.sqrt(mse)),
            "r2": float(skm.r2_score(y, pred)) if len(y) > 1 else math.nan}


def residuals_frame(y_true, y_pred) -> pd.DataFrame:
    """actual, predicted and residual (actual - predicted) per row."""
    y, pred = np.ravel(y_true).astype(float), np.ravel(y_pred).astype(float)
    return pd.DataFrame({"actual": y, "predicted": pred, "residual": y - pred})


def imbalanced_indices(y_true, positive: int = 1, minority_share: float = 0.05,
                       seed: int = 0) -> np.ndarray:
    """Row indices that keep every negative row and just enough positives for the given share.

    This resamples the same data to, say, 95/5 without inventing rows: at least one positive is kept.
    """
    if not 0.0 < minority_share < 0.5:
        raise ValueError(f"The minority share must be between 0 and 0.5, got {minority_share}.")
    y = np.ravel(y_true).astype(int)
    pos, neg = np.flatnonzero(y == positive), np.flatnonzero(y != positive)
    if len(pos) == 0 or len(neg) == 0:
        raise ValueError("The data must hold both the chosen class and other classes; "
                         "pick another positive class.")
    wanted = max(1, int(round(minority_share / (1 - minority_share) * len(neg))))
    keep = np.random.default_rng(seed).choice(pos, size=min(wanted, len(pos)), replace=False)
    return np.sort(np.concatenate([neg, keep]))


def accuracy_paradox(y_true, proba, positive: int = 1, minority_share: float = 0.05,
                     threshold: float = 0.5, seed: int = 0) -> pd.DataFrame:
    """The same test rows resampled to a rare positive class, scored two ways.

    Rows: a model that always says "not positive" and the network (P(positive) >= threshold).
    Columns: accuracy, balanced accuracy, precision, recall and F1 of the positive class, plus
    the positive share. Accuracy flatters the do-nothing model; recall and F1 tell the truth.
    """
    y, p = _check_proba(y_true, proba)
    positive = _check_positive(positive, p.shape[1])
    idx = imbalanced_indices(y, positive, minority_share, seed)
    truth = (y[idx] == positive).astype(int)
    candidates = {"always 'not positive'": np.zeros_like(truth),
                  "the network": binary_predictions(p[idx], threshold, positive)}
    rows = []
    for name, pred in candidates.items():
        rows.append({"model": name,
                     "accuracy": skm.accuracy_score(truth, pred),
                     "balanced_accuracy": skm.balanced_accuracy_score(truth, pred),
                     "precision": skm.precision_score(truth, pred, zero_division=0),
                     "recall": skm.recall_score(truth, pred, zero_division=0),
                     "f1": skm.f1_score(truth, pred, zero_division=0)})
    frame = pd.DataFrame(rows).set_index("model")
    frame.attrs.update({"n_rows": int(len(idx)), "n_positive": int(truth.sum()),
                        "positive_share": float(truth.mean())})
    return frame
