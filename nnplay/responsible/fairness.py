"""Bias audits and mitigation for any classifier: group metrics, fairness gaps, fixes.

``audit(y_true, y_pred, sensitive_features)`` computes per-group metrics with fairlearn's
MetricFrame and the headline gaps (demographic parity difference and ratio, equalized odds
difference) with fairlearn's own functions, so its numbers are fairlearn's; bootstrap confidence
intervals for the gaps are optional. ``data_audit`` looks at the training labels before any model.
``run_mitigations`` compares the model with two fixes: a post-processing ThresholdOptimizer (one
threshold per group) and pre-processing by reweighing (Kamiran & Calders), applied by resampling
the training set so the one Trainer can retrain the network unchanged.

"Positive" means the favourable outcome (a loan granted, survival): ``pos_label``. Multi-class
labels are turned into "pos_label or not" first.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from torch import nn

from nnplay.data.dataset import Dataset

FOUR_FIFTHS = 0.8      # the US EEOC rule of thumb: a selection-rate ratio below this flags bias
GAP_FLAG = 0.1         # a difference gap this large (10 points between groups) is flagged
MAX_GROUPS = 12        # more groups than this make tables unreadable and groups tiny
GAP_NAMES = ("demographic_parity_difference", "demographic_parity_ratio",
             "equalized_odds_difference")
CONSTRAINTS = ("demographic_parity", "equalized_odds")


def _metric_functions() -> dict:
    """The per-group metrics: fairlearn's rates and scikit-learn's accuracy and precision."""
    from fairlearn.metrics import false_positive_rate, selection_rate, true_positive_rate
    from sklearn.metrics import accuracy_score, precision_score

    return {"selection_rate": selection_rate, "accuracy": accuracy_score,
            "tpr": true_positive_rate, "fpr": false_positive_rate,
            "precision": partial(precision_score, zero_division=0)}


def binarize(y, pos_label=1) -> np.ndarray:
    """1 where ``y`` equals the favourable label, else 0 (int64)."""
    return (np.asarray(y) == pos_label).astype(np.int64)


def group_labels(values, max_groups: int = 8, bins: int = 4) -> pd.Series:
    """Turn one sensitive column into group labels (strings).

    Text or few-valued columns keep their values; a numeric column with more than
    ``max_groups`` values (e.g. age) is cut into ``bins`` quantile bins such as "19-27".
    Missing values become the group "missing".
    """
    series = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(series) and series.nunique() > max_groups:
        edges = np.unique(np.nanquantile(series.to_numpy(dtype=float),
                                         np.linspace(0, 1, bins + 1)))
        labels = [f"{edges[i]:g}-{edges[i + 1]:g}" for i in range(len(edges) - 1)]
        cut = pd.cut(series, edges, labels=labels, include_lowest=True, duplicates="drop")
        series = cut.astype(object)
    out = series.astype(object).where(series.notna(), "missing").astype(str)
    if out.nunique() > MAX_GROUPS:
        raise ValueError(f"The sensitive column has {out.nunique()} groups, more than "
                         f"{MAX_GROUPS}; pick a column with fewer values.")
    return out


def combine_groups(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """One group label per row from one or more sensitive columns, e.g. "female & <=25".

    Several columns give intersectional groups: the same partition fairlearn uses for a
    DataFrame of sensitive features, with readable one-level labels.
    """
    columns = list(columns)
    if not columns:
        raise ValueError("Pick at least one sensitive column.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"No sensitive column {missing[0]!r}; choose from "
                         f"{', '.join(map(str, frame.columns))}.")
    parts = [group_labels(frame[c]) for c in columns]
    labels = parts[0]
    for part in parts[1:]:
        labels = labels + " & " + part
    labels.name = " x ".join(columns)
    return labels


def _as_groups(sensitive_features) -> pd.Series:
    if isinstance(sensitive_features, pd.DataFrame):
        return combine_groups(sensitive_features, list(sensitive_features.columns))
    series = pd.Series(np.asarray(sensitive_features)).astype(str)
    series.name = getattr(sensitive_features, "name", None) or "group"
    return series


def _check_lengths(*arrays) -> None:
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"Labels, predictions and sensitive features must have one entry per "
                         f"row; got lengths {sorted(lengths)}.")
    if lengths == {0}:
        raise ValueError("There are no rows to audit.")


def data_audit(y, sensitive_features, pos_label=1) -> pd.DataFrame:
    """Group sizes and base rates (share with the favourable label) in the data, before a model.

    Returns a DataFrame indexed by group with columns count, share, positives, base_rate,
    plus an "overall" row.
    """
    groups = _as_groups(sensitive_features)
    y_bin = binarize(y, pos_label)
    _check_lengths(y_bin, groups)
    frame = pd.DataFrame({"group": groups.to_numpy(), "y": y_bin})
    table = frame.groupby("group").agg(count=("y", "size"), positives=("y", "sum"))
    table["share"] = table["count"] / len(frame)
    table["base_rate"] = table["positives"] / table["count"]
    table.loc["overall"] = [len(frame), y_bin.sum(), 1.0, y_bin.mean()]
    table.index.name = groups.name
    return table[["count", "share", "positives", "base_rate"]].astype(
        {"count": int, "positives": int})


@dataclass
class FairnessAudit:
    """Per-group metrics and fairness gaps of one set of predictions (numbers from fairlearn)."""

    by_group: pd.DataFrame        # index: group; count, selection_rate, accuracy, tpr, fpr, precision
    overall: pd.Series            # the same metrics over everyone
    demographic_parity_difference: float   # max - min selection rate across groups
    demographic_parity_ratio: float        # min / max selection rate
    equalized_odds_difference: float       # worst of the TPR and FPR gaps
    sensitive_name: str = "group"
    intervals: pd.DataFrame | None = field(default=None, repr=False)   # bootstrap CIs of the gaps

    @property
    def passes_four_fifths(self) -> bool:
        """True when every group's selection rate is at least 80% of the highest one (on this
        sample; ``four_fifths_verdict`` also weighs the interval)."""
        return self.demographic_parity_ratio >= FOUR_FIFTHS

    def four_fifths_verdict(self) -> tuple[str, str]:
        """("passed" | "failed" | "inconclusive", a sentence). Passed only when the whole
        bootstrap interval of the ratio is at least 0.8, failed when all of it is below, and
        inconclusive when the interval crosses 0.8 (or there is no interval to tell)."""
        ratio = self.demographic_parity_ratio
        share = f"the lowest selection rate is {ratio:.1%} of the highest"
        if self.intervals is None or "demographic_parity_ratio" not in self.intervals.index:
            return "inconclusive", (f"Four-fifths rule inconclusive: {share}, but without a "
                                    "confidence interval this sample cannot settle it.")
        low, high = self.intervals.loc["demographic_parity_ratio", ["low", "high"]]
        span = f"95% interval {low:.2f} to {high:.2f}"
        if low >= FOUR_FIFTHS:
            return "passed", f"Four-fifths rule passed: {share} ({span}, all above 0.8)."
        if high < FOUR_FIFTHS:
            return "failed", f"Four-fifths rule failed: {share} ({span}, all below 0.8)."
        return "inconclusive", (f"Four-fifths rule inconclusive: {share}, but the {span} "
                                "crosses 0.8: more data is needed to tell.")

    def flagged_gaps(self, threshold: float = GAP_FLAG) -> list[str]:
        """Sentences for the difference gaps at or above ``threshold`` (0.1 by default)."""
        flags = []
        for name, title in (("demographic_parity_difference", "demographic parity difference"),
                            ("equalized_odds_difference", "equalized odds difference")):
            value = float(getattr(self, name))
            if value >= threshold:
                flags.append(f"The {title} is {value:.2f}: one group's "
                             + ("selection rate" if name.startswith("demographic") else
                                "true or false positive rate")
                             + f" differs from another's by {value:.0%} (flagged at "
                             f"{threshold:.0%}).")
        return flags

    def gaps(self) -> pd.DataFrame:
        """The three gaps as rows (estimate, and low/high when bootstrapped)."""
        table = pd.DataFrame({"estimate": [getattr(self, n) for n in GAP_NAMES]}, index=GAP_NAMES)
        if self.intervals is not None:
            table = table.join(self.intervals[["low", "high"]])
        return table

    def __repr__(self) -> str:
        return (f"FairnessAudit({self.sensitive_name!r}, groups={len(self.by_group)}, "
                f"dp_diff={self.demographic_parity_difference:.3f}, "
                f"dp_ratio={self.demographic_parity_ratio:.3f}, "
                f"eo_diff={self.equalized_odds_difference:.3f})")


def audit(y_true, y_pred, sensitive_features, pos_label=1, n_boot: int = 0,
          confidence: float = 0.95, seed: int = 0) -> FairnessAudit:
    """Audit predictions group by group with fairlearn's MetricFrame.

    ``sensitive_features`` is one column (array or Series) or a DataFrame of several, which
    gives intersectional groups. With ``n_boot`` > 0, rows are resampled that many times
    (seeded) for percentile confidence intervals of the three gaps.
    """
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        demographic_parity_ratio,
        equalized_odds_difference,
    )

    groups = _as_groups(sensitive_features)
    yt, yp = binarize(y_true, pos_label), binarize(y_pred, pos_label)
    _check_lengths(yt, yp, groups)
    sf = groups.to_numpy()
    with warnings.catch_warnings():   # a group with no positives has an undefined TPR: 0 here
        warnings.simplefilter("ignore")
        frame = MetricFrame(metrics=_metric_functions(), y_true=yt, y_pred=yp,
                            sensitive_features=pd.Series(sf, name=groups.name))
        by_group = frame.by_group.astype(float)
        by_group.insert(0, "count", pd.Series(sf).value_counts().reindex(by_group.index))
        result = FairnessAudit(
            by_group=by_group, overall=frame.overall.astype(float),
            demographic_parity_difference=float(
                demographic_parity_difference(yt, yp, sensitive_features=sf)),
            demographic_parity_ratio=float(demographic_parity_ratio(yt, yp, sensitive_features=sf)),
            equalized_odds_difference=float(
                equalized_odds_difference(yt, yp, sensitive_features=sf)),
            sensitive_name=str(groups.name))
    if n_boot:
        result.intervals = bootstrap_gaps(yt, yp, sf, n_boot, confidence, seed)
    return result


def _gaps_numpy(yt: np.ndarray, yp: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """The three gaps, as fairlearn defines them, with bincounts (fast enough to bootstrap)."""
    count = np.bincount(codes, minlength=n_groups).astype(float)
    selected = np.bincount(codes, weights=yp, minlength=n_groups)
    pos = np.bincount(codes, weights=yt, minlength=n_groups)
    true_pos = np.bincount(codes, weights=yt * yp, minlength=n_groups)
    false_pos = np.bincount(codes, weights=(1 - yt) * yp, minlength=n_groups)
    present = count > 0   # a resample can miss a small group entirely
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = selected[present] / count[present]
        tpr = np.where(pos > 0, true_pos / np.maximum(pos, 1), 0.0)[present]
        fpr = np.where(count - pos > 0, false_pos / np.maximum(count - pos, 1), 0.0)[present]
        ratio = rate.min() / rate.max() if rate.max() > 0 else np.nan
    return np.array([rate.max() - rate.min(), ratio,
                     max(tpr.max() - tpr.min(), fpr.max() - fpr.min())])


def bootstrap_gaps(y_true, y_pred, groups, n_boot: int = 500, confidence: float = 0.95,
                   seed: int = 0) -> pd.DataFrame:
    """Percentile bootstrap intervals of the three gaps: rows GAP_NAMES, columns low, high."""
    if not 0.5 <= confidence < 1:
        raise ValueError(f"confidence must be between 0.5 and 1 (e.g. 0.95), got {confidence}.")
    if int(n_boot) < 10:
        raise ValueError(f"Use at least 10 bootstrap resamples, got {n_boot}.")
    yt, yp = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    codes, uniques = pd.factorize(np.asarray(groups))
    rng = np.random.default_rng(seed)
    draws = np.array([_gaps_numpy(yt[idx], yp[idx], codes[idx], len(uniques))
                      for idx in rng.integers(0, len(yt), size=(int(n_boot), len(yt)))])
    tail = (1 - confidence) / 2 * 100
    low, high = np.nanpercentile(draws, [tail, 100 - tail], axis=0)
    return pd.DataFrame({"low": low, "high": high}, index=list(GAP_NAMES))


# ---- mitigation --------------------------------------------------------------------------------

class TorchScorer(ClassifierMixin, BaseEstimator):
    """A trained torch classifier seen as a fitted scikit-learn estimator (for fairlearn).

    ``predict_proba`` gives two columns: not-favourable and favourable, where favourable is
    the model's class ``pos_label``.
    """

    def __init__(self, model: nn.Module, pos_label: int = 1):
        self.model, self.pos_label = model, pos_label
        self.classes_ = np.array([0, 1])   # fitted already: fairlearn checks for a `_` attribute

    def fit(self, X, y):
        return self

    def predict_proba(self, X) -> np.ndarray:
        from nnplay.train import predict_proba

        p = predict_proba(self.model, np.asarray(X, dtype=np.float32))[:, self.pos_label]
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)

    def __repr__(self) -> str:
        return f"TorchScorer({type(self.model).__name__}, pos_label={self.pos_label})"


def fit_threshold_optimizer(model: nn.Module, X, y, groups, constraint: str = "demographic_parity",
                            pos_label: int = 1):
    """A fairlearn ThresholdOptimizer fitted on (X, y, groups) around the trained model."""
    from fairlearn.postprocessing import ThresholdOptimizer

    if constraint not in CONSTRAINTS:
        raise ValueError(f"constraint must be one of {', '.join(CONSTRAINTS)}, got {constraint!r}.")
    optimizer = ThresholdOptimizer(estimator=TorchScorer(model, pos_label), constraints=constraint,
                                   objective="accuracy_score", prefit=True,
                                   predict_method="predict_proba")
    return optimizer.fit(np.asarray(X), binarize(y, pos_label),
                         sensitive_features=np.asarray(groups))


def reweighing_weights(y, groups, pos_label=1) -> np.ndarray:
    """Kamiran & Calders weights P(group) P(label) / P(group, label): after weighting, the label
    is independent of the group in the training data."""
    frame = pd.DataFrame({"g": np.asarray(groups), "y": binarize(y, pos_label)})
    p_group = frame["g"].map(frame["g"].value_counts(normalize=True))
    p_label = frame["y"].map(frame["y"].value_counts(normalize=True))
    p_joint = frame.groupby(["g", "y"])["y"].transform("size") / len(frame)
    return (p_group * p_label / p_joint).to_numpy()


def reweighed_dataset(dataset: Dataset, groups_train, pos_label=1, seed: int = 0) -> Dataset:
    """The training split resampled (with replacement, same size) in proportion to the
    reweighing weights; the test split is untouched. Resampling instead of a weighted loss
    lets the ordinary Trainer retrain the network."""
    weights = reweighing_weights(dataset.y_train, groups_train, pos_label)
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(weights), size=len(weights), replace=True, p=weights / weights.sum())
    extra = {k: v for k, v in dataset.extra.items() if k != "sensitive_train"}
    if "sensitive_train" in dataset.extra:
        extra["sensitive_train"] = dataset.extra["sensitive_train"].iloc[rows].reset_index(drop=True)
    return Dataset(name=f"{dataset.name} (reweighed)", X_train=dataset.X_train[rows],
                   y_train=dataset.y_train[rows], X_test=dataset.X_test, y_test=dataset.y_test,
                   task=dataset.task, feature_names=dataset.feature_names,
                   class_names=dataset.class_names, description=dataset.description,
                   params=dict(dataset.params), extra=extra)


def threshold_predictions(scores, groups, thresholds, default: float = 0.5) -> np.ndarray:
    """0/1 decisions with one threshold per group: 1 where the favourable-class probability
    ``scores`` is at least that group's threshold (``default`` for groups not in the dict)."""
    scores, groups = np.asarray(scores, dtype=float), np.asarray(groups)
    _check_lengths(scores, groups)
    for group, value in thresholds.items():
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"The threshold for {group!r} must be between 0 and 1, got {value}.")
    cut = np.array([float(thresholds.get(g, default)) for g in groups])
    return (scores >= cut).astype(np.int64)


@dataclass
class MitigationResult:
    """Predictions and audits for the original model and each mitigation, on the test split."""

    table: pd.DataFrame            # one row per method: accuracy and the three gaps
    audits: dict                   # method -> FairnessAudit
    predictions: dict              # method -> 0/1 predictions on the test split
    reweighed_trainer: object = field(default=None, repr=False)   # the Trainer that retrained

    @property
    def reweighed_model(self) -> nn.Module | None:
        return None if self.reweighed_trainer is None else self.reweighed_trainer.model


def comparison_table(audits: dict) -> pd.DataFrame:
    """One row per method: overall accuracy and selection rate, and the three gaps."""
    rows = {name: {"accuracy": a.overall["accuracy"], "selection_rate": a.overall["selection_rate"],
                   **{g: getattr(a, g) for g in GAP_NAMES}, "four_fifths": a.passes_four_fifths}
            for name, a in audits.items()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("method")


def run_mitigations(model: nn.Module, dataset: Dataset, groups_train, groups_test,
                    constraint: str = "demographic_parity", config=None, pos_label: int = 1,
                    reweigh: bool = True, seed: int = 0, spec=None, progress=None,
                    should_stop=None) -> MitigationResult:
    """Compare the model with ThresholdOptimizer(constraint) and, if asked, reweighing.

    The threshold optimizer is fitted on the training split; every method is audited on the
    test split with the same groups. Reweighing trains a fresh network of ``spec`` (a ModelSpec;
    default: nnplay.train.quick.default_spec) with ``config`` (a TrainConfig). ``progress``
    and ``should_stop`` let a background job follow and stop it (nnplay.train.jobs).
    """
    from nnplay.train import TrainConfig, predict
    from nnplay.train.jobs import check_stop, fit_stoppable
    from nnplay.train.quick import quick_trainer

    groups_train, groups_test = np.asarray(groups_train), np.asarray(groups_test)
    _check_lengths(dataset.y_train, groups_train)
    _check_lengths(dataset.y_test, groups_test)
    unseen = sorted(set(groups_test) - set(groups_train))
    if unseen:
        raise ValueError(f"Group {unseen[0]!r} is in the test split but not the training split; "
                         "pick coarser groups.")
    y_true = binarize(dataset.y_test, pos_label)
    predictions = {"original": binarize(predict(model, dataset.X_test), pos_label)}
    optimizer = fit_threshold_optimizer(model, dataset.X_train, dataset.y_train, groups_train,
                                        constraint, pos_label)
    with warnings.catch_warnings():   # fairlearn's own pandas dtype FutureWarning
        warnings.simplefilter("ignore", FutureWarning)
        mitigated = optimizer.predict(dataset.X_test, sensitive_features=groups_test,
                                      random_state=seed)
    predictions[f"threshold optimizer ({constraint.replace('_', ' ')})"] = np.asarray(mitigated)
    trainer = None
    if reweigh:
        config = config or TrainConfig(epochs=30, lr=0.01, seed=seed)
        resampled = reweighed_dataset(dataset, groups_train, pos_label, seed)
        check_stop(should_stop)
        trainer = quick_trainer(resampled, spec, config)
        fit_stoppable(trainer, progress, should_stop)
        trainer.model.eval()
        predictions["reweighing"] = binarize(predict(trainer.model, dataset.X_test), pos_label)
    audits = {name: audit(y_true, pred, groups_test) for name, pred in predictions.items()}
    return MitigationResult(comparison_table(audits), audits, predictions, trainer)
