"""The Applications lesson's engine: three domains, each judged by the numbers that matter there.

- Health: a CNN on medical images (MedMNIST when cached, else patches of a real IHC slide) or an
  MLP on breast biopsies; sensitivity at a fixed specificity with a bootstrap interval, the ROC
  curve, and calibration (reliability diagram, expected calibration error).
- Finance: next-day returns of a real stock, walk-forward, an LSTM and a linear model against the
  naive forecast "tomorrow's price is today's", with MAE, RMSE and directional accuracy; the
  page's verdict is built from those numbers. Then an autoencoder flags GENERATED card
  transactions by reconstruction error: a threshold, precision and recall.
- Support: a sentiment model (Lab 3's, from the session, or TF-IDF + logistic regression trained
  here on review text) on support-style messages written for this demo, with its errors.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from nnplay import data
from nnplay.data import domains
from nnplay.data.dataset import Dataset
from nnplay.device import torch_threads
from nnplay.evaluation import metrics
from nnplay.models import ModelSpec, mlp
from nnplay.train import TrainConfig, Trainer, predict_proba, predict_raw, seed_everything
from nnplay.train.jobs import Cancelled, Job, fit_stoppable, progress_part
from nnplay.train.quick import default_spec, quick_trainer

single_thread = partial(torch_threads, 1)   # small nets: see nnplay.device.torch_threads


def fit_single_thread(trainer: Trainer, progress: Callable[[int, int], None] | None = None,
                      should_stop: Callable[[], bool] | None = None) -> Trainer:
    """``fit_stoppable`` on one thread: the work function of this lesson's training jobs."""
    with single_thread():
        return fit_stoppable(trainer, progress, should_stop)


def training_job(trainer: Trainer, label: str = "") -> Job:
    """A background Job that trains ``trainer`` on one thread ("Epoch 3/8" progress, Stop)."""
    job = Job(fit_single_thread, trainer, label=label or f"train {trainer.dataset.name}")
    job.trainer = trainer
    job.report(trainer.epoch, trainer.config.epochs)
    return job


def shown(value: float, fmt: str = ".3f", missing: str = "—") -> str:
    """A number for the page, or a dash where there is none (nan, None, infinite)."""
    if value is None or not math.isfinite(float(value)):
        return missing
    return format(float(value), fmt)


# ==== Health ======================================================================================
HEALTH_SOURCES = {"medmnist": "Chest X-rays (MedMNIST PneumoniaMNIST)",
                  "ihc_patches": "Tissue patches of one IHC slide (scikit-image)",
                  "breast_cancer": "Breast biopsies: 30 measurements, not images (scikit-learn)"}
HEALTH_NOTES = {
    "medmnist": "Real paediatric chest X-rays at 28x28 pixels, labelled normal or pneumonia; "
                "MedMNIST's official train, validation and test splits.",
    "ihc_patches": "MedMNIST is not on this machine (it needs a download), so this is the "
                   "nearest real substitute on it: one real immunohistochemistry slide of "
                   "colon tissue "
                   "(FHL2 protein stained brown with DAB, nuclei blue with hematoxylin). The "
                   "labels come from the stain, not from a pathologist: a patch is 'DAB-stained' "
                   "when over half its pixels are brown enough. The CNN sees only the "
                   "hematoxylin channel, the nuclei, so it must tell stained tissue by how the "
                   "nuclei are arranged. One slide from one patient: it says nothing about "
                   "other slides.",
    "breast_cancer": "Real diagnoses: 569 breast biopsies (Wisconsin), each described by 30 "
                     "measurements of its cell nuclei, malignant or benign. A table, not images, "
                     "so the network is an MLP.",
}
HEALTH_POSITIVE = {"breast_cancer": 0}   # the condition's class where it is not class 1
HEALTH_EPOCHS = {"image": 8, "tabular": 40}


def health_sources() -> dict[str, str]:
    """source -> '' when it loads here, else the reason it does not (MedMNIST needs a download)."""
    return {name: domains.medmnist_missing() if name == "medmnist" else ""
            for name in HEALTH_SOURCES}


def default_health_source() -> str:
    return "medmnist" if not health_sources()["medmnist"] else "ihc_patches"


def health_dataset(source: str, seed: int = 0) -> Dataset:
    if source not in HEALTH_SOURCES:
        raise ValueError(f"Unknown source {source!r}; choose one of {', '.join(HEALTH_SOURCES)}.")
    missing = health_sources()[source]
    if missing:
        raise ValueError(missing)
    if source == "medmnist":
        return data.load("medmnist")
    return data.load(source, seed=seed)


def positive_class(ds: Dataset) -> int:
    """Index of the class a screening test looks for (the condition)."""
    return int(ds.extra.get("positive", HEALTH_POSITIVE.get(ds.name, 1)))


def health_trainer(ds: Dataset, epochs: int | None = None, seed: int = 0) -> Trainer:
    """A small CNN (images) or MLP (tables) for ``ds``, not yet trained."""
    image = len(ds.input_shape) == 3
    epochs = epochs or HEALTH_EPOCHS["image" if image else "tabular"]
    config = TrainConfig(optimizer="adam", lr=0.003 if image else 0.01, batch_size=64,
                         epochs=int(epochs), seed=int(seed))
    return quick_trainer(ds, default_spec(ds), config)


def sensitivity_at_specificity(truth, score, specificity: float = 0.95) -> dict:
    """The ROC point with the highest sensitivity whose specificity is at least ``specificity``:
    {sensitivity, specificity, threshold}."""
    truth = np.asarray(truth).astype(int)
    if truth.min() == truth.max():
        return {"sensitivity": math.nan, "specificity": math.nan, "threshold": math.nan}
    # every threshold: drop_intermediate may drop the best point under the bound
    fpr, tpr, thr = skm.roc_curve(truth, score, drop_intermediate=False)
    ok = np.flatnonzero(fpr <= 1.0 - specificity + 1e-12)[-1]   # fpr never decreases
    return {"sensitivity": float(tpr[ok]), "specificity": float(1.0 - fpr[ok]),
            "threshold": float(min(thr[ok], 1.0))}


def expected_calibration_error(calibration: pd.DataFrame) -> float:
    """ECE: the gap between predicted and observed frequency, averaged over bins by their rows."""
    gap = (calibration["observed"] - calibration["mean_predicted"]).abs()
    return float((gap * calibration["count"]).sum() / calibration["count"].sum())


@dataclass
class HealthReport:
    """What a screening test is judged by, on the test split."""

    positive_name: str
    negative_name: str
    n_test: int
    n_positive: int
    auc: float
    target_specificity: float
    sensitivity: float
    specificity: float
    threshold: float
    sensitivity_interval: tuple[float, float]   # 95% bootstrap interval over test rows
    roc: pd.DataFrame = field(repr=False)
    calibration: pd.DataFrame = field(repr=False)
    ece: float = math.nan
    brier: float = math.nan


def health_report(y_true, proba, positive: int, class_names, specificity: float = 0.95,
                  n_bins: int = 10, n_boot: int = 200, seed: int = 0) -> HealthReport:
    """Sensitivity at ``specificity`` (with a bootstrap interval), ROC and calibration."""
    if not 0.5 <= specificity < 1.0:
        raise ValueError(f"Specificity must be from 0.5 to just under 1, got {specificity}.")
    y = np.asarray(y_true).astype(int)
    proba = np.asarray(proba, dtype=float)
    truth, score = (y == positive).astype(int), proba[:, positive]
    point = sensitivity_at_specificity(truth, score, specificity)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        rows = rng.integers(0, len(y), len(y))
        if 0 < truth[rows].sum() < len(rows):
            boots.append(sensitivity_at_specificity(truth[rows], score[rows], specificity)
                         ["sensitivity"])
    low, high = (np.percentile(boots, [2.5, 97.5]) if boots else (math.nan, math.nan))
    calibration = metrics.calibration_frame(y, proba, n_bins=n_bins, positive=positive)
    names = list(class_names)
    return HealthReport(
        names[positive], "not " + names[positive] if len(names) > 2 else names[1 - positive],
        len(y), int(truth.sum()), metrics.curve_summary(y, proba, positive)["roc_auc"],
        float(specificity), point["sensitivity"], point["specificity"], point["threshold"],
        (float(low), float(high)), metrics.roc_frame(y, proba, positive), calibration,
        expected_calibration_error(calibration), calibration.attrs["brier"])


def health_sentence(r: HealthReport) -> str:
    n_negative = r.n_test - r.n_positive
    if not math.isfinite(r.sensitivity):
        return "The test split holds only one class, so sensitivity cannot be measured."
    return (f"At a specificity of at least {r.target_specificity:.0%} (at most "
            f"{math.floor(n_negative * (1 - r.target_specificity) + 1e-9)} of the {n_negative} "
            f"'{r.negative_name}' test cases flagged), the network finds "
            f"{r.sensitivity:.0%} of the {r.n_positive} '{r.positive_name}' cases "
            f"(95% bootstrap interval {shown(r.sensitivity_interval[0], '.0%')} to "
            f"{shown(r.sensitivity_interval[1], '.0%')}); ROC AUC {shown(r.auc)}. Its "
            f"probabilities are off by {shown(r.ece * 100, '.1f')} percentage points on "
            f"average (ECE over the bins), Brier score {shown(r.brier)}.")


# ==== Finance: forecasting =======================================================================
FORECASTERS = {"naive": "Naive: no change tomorrow", "linear": "Linear (ridge)",
               "lstm": "LSTM"}
CLEAR_GAIN = 0.02   # a model "beats" the naive forecast when its MAE is over 2% lower


@dataclass
class ForecastResult:
    """Walk-forward forecasts of next-day returns (in %) over every finished test fold."""

    ticker: str
    window: int
    n_folds: int
    dates: list[str]
    actual: np.ndarray
    predictions: dict[str, np.ndarray]
    fold_of: np.ndarray
    trainer: Trainer | None = field(default=None, repr=False)   # the last fold's LSTM
    seconds: float = 0.0

    @property
    def folds_done(self) -> int:
        return len(np.unique(self.fold_of))

    @property
    def up_share(self) -> float:
        """Share of test days the price rose: what 'up every day' gets right."""
        return float((self.actual > 0).mean())

    def errors(self) -> pd.DataFrame:
        """Per model: MAE and RMSE (% per day), directional accuracy and the share of days it
        says 'up' (none for 'no change'), and the MAE change against the naive forecast."""
        rows, naive_mae = [], float(np.abs(self.actual).mean())
        moved = self.actual != 0
        for name, pred in self.predictions.items():
            mae = float(np.abs(self.actual - pred).mean())
            calls = name != "naive"   # "no change" calls no direction
            rows.append({"model": name, "mae": mae,
                         "rmse": float(np.sqrt(((self.actual - pred) ** 2).mean())),
                         "direction": float((np.sign(pred[moved]) == np.sign(
                             self.actual[moved])).mean()) if calls else math.nan,
                         "up_calls": float((pred > 0).mean()) if calls else math.nan,
                         "mae_vs_naive": mae / naive_mae - 1.0})
        return pd.DataFrame(rows).set_index("model")


def _forecast_config(epochs: int, seed: int) -> TrainConfig:
    return TrainConfig(optimizer="adam", lr=0.003, batch_size=64, epochs=int(epochs),
                       grad_clip=1.0, seed=int(seed))


def forecast_comparison(ticker: str = "AAPL", window: int = 20, n_folds: int = 4,
                        epochs: int = 5, hidden: int = 16, seed: int = 0,
                        progress: Callable[[int, int], None] | None = None,
                        should_stop: Callable[[], bool] | None = None) -> ForecastResult:
    """Naive, ridge and LSTM forecasts, each fold trained only on the days before it.

    Stopping keeps the folds finished so far (Cancelled carries them)."""
    with single_thread():
        return _forecast_comparison(ticker, window, n_folds, epochs, hidden, seed, progress,
                                    should_stop)


def _forecast_comparison(ticker, window, n_folds, epochs, hidden, seed, progress, should_stop):
    from sklearn.linear_model import Ridge

    started, parts = time.perf_counter(), []
    spec = ModelSpec("lstm", {"hidden_size": int(hidden)})
    trainer = None

    def result() -> ForecastResult:
        joined = {k: np.concatenate([p[1][k] for p in parts]) for k in FORECASTERS}
        return ForecastResult(ticker, window, n_folds, sum((p[0] for p in parts), []),
                              np.concatenate([p[2] for p in parts]), joined,
                              np.concatenate([np.full(len(p[2]), i) for i, p in
                                              enumerate(parts)]), trainer,
                              time.perf_counter() - started)

    for fold in range(n_folds):
        ds = data.load("stock_returns", ticker=ticker, window=window, n_folds=n_folds, fold=fold)
        scale = ds.extra["scale_pct"]
        flat_train, flat_test = ds.X_train.reshape(ds.n_train, -1), ds.X_test.reshape(ds.n_test, -1)
        linear = Ridge(alpha=1.0).fit(flat_train, ds.y_train).predict(flat_test)
        seed_everything(seed + fold)
        fold_trainer = Trainer(spec.build(ds), ds, _forecast_config(epochs, seed + fold))
        fold_trainer.spec = spec
        try:
            fit_stoppable(fold_trainer, progress_part(progress, fold * epochs, n_folds * epochs),
                          should_stop)
        except Cancelled:
            raise Cancelled(result=result() if parts else None) from None
        trainer = fold_trainer
        lstm = predict_raw(fold_trainer.model, ds.X_test).reshape(-1)
        parts.append((ds.extra["dates_test"],
                      {"naive": np.zeros(ds.n_test), "linear": linear * scale,
                       "lstm": lstm.astype(float) * scale}, ds.y_test.astype(float) * scale))
    return result()


def forecast_verdict(errors: pd.DataFrame, gain: float = CLEAR_GAIN) -> dict:
    """Which models beat the naive forecast's MAE by more than ``gain`` (a share of it)."""
    others = errors.drop(index="naive")
    winners = [m for m in others.index if others.loc[m, "mae_vs_naive"] < -gain]
    best = others["mae_vs_naive"].idxmin()
    return {"winners": winners, "best": best,
            "best_change": float(others.loc[best, "mae_vs_naive"]),
            "naive_hard_to_beat": not winners}


def forecast_table(result: ForecastResult) -> pd.DataFrame:
    """The errors formatted for a person, a dash where a number does not apply."""
    e = result.errors()
    return pd.DataFrame({
        "model": [FORECASTERS[m] for m in e.index],
        "MAE (% a day)": [shown(v, ".3f") for v in e["mae"]],
        "RMSE (% a day)": [shown(v, ".3f") for v in e["rmse"]],
        "direction right": [shown(v, ".1%") for v in e["direction"]],
        "says 'up'": [shown(v, ".0%") for v in e["up_calls"]],
        "MAE against naive": ["—" if m == "naive" else "±0.0%" if abs(v) < 0.0005
                              else f"{v:+.1%}" for m, v in e["mae_vs_naive"].items()]}
    ).set_index("model")


def against_naive(change: float) -> str:
    """'0.9% more error than naive', 'as naive (within 0.1%)', '3.0% less error than naive'."""
    if abs(change) < 0.0005:
        return "the same error as naive to 0.1%"
    return f"{abs(change):.1%} {'more' if change > 0 else 'less'} error than naive"


def forecast_sentence(result: ForecastResult) -> str:
    """What the measured errors say, naive baseline first; the verdict from forecast_verdict."""
    e = result.errors()
    v = forecast_verdict(e)
    naive = e.loc["naive"]
    parts = [f"Over {len(result.actual)} test days ({result.dates[0]} to {result.dates[-1]}), "
             f"the naive forecast 'no change tomorrow' misses {result.ticker}'s next-day move by "
             f"{naive['mae']:.2f}% on average (RMSE {naive['rmse']:.2f}%)."]
    for m, title in (("linear", "The linear model"), ("lstm", "The LSTM")):
        parts.append(f"{title}: {e.loc[m, 'mae']:.2f}% ({against_naive(e.loc[m, 'mae_vs_naive'])}"
                     f"), RMSE {e.loc[m, 'rmse']:.2f}%, direction right on "
                     f"{e.loc[m, 'direction']:.1%} of days.")
    parts.append(f"Saying 'up' every day is right on {result.up_share:.1%}.")
    if e.loc["lstm", "up_calls"] >= 0.8 or e.loc["lstm", "up_calls"] <= 0.2:
        parts.append(f"The LSTM says 'up' on {e.loc['lstm', 'up_calls']:.0%} of days: its "
                     "direction score is mostly the market's drift.")
    if v["naive_hard_to_beat"]:
        parts.append(f"Neither model beats the naive forecast by more than {CLEAR_GAIN:.0%} of "
                     "its error: yesterday's price is a hard baseline, as it usually is for "
                     "daily prices.")
    else:
        names = " and ".join("the LSTM" if w == "lstm" else "the linear model"
                             for w in v["winners"])
        parts.append(f"Here {names} beat{'s' if len(v['winners']) == 1 else ''} the naive "
                     f"forecast by more than {CLEAR_GAIN:.0%}; check other tickers and seeds "
                     "before believing it.")
    return " ".join(parts)


# ==== Finance: anomalies in generated transactions ================================================
AUTOENCODER_HIDDEN = (16, 2, 16)
DETECTORS = {"autoencoder": "Autoencoder (reconstruction error)",
             "distance": "Distance from the average transaction"}


def autoencoder_dataset(ds: Dataset) -> Dataset:
    """The genuine training transactions with the inputs as targets (what an autoencoder learns
    to reproduce); the test split keeps every row. Trained on all rows, 2% of them fraud, it
    learns to reproduce the frauds too: seeds 0-2 gave average precision 0.18-0.63, against
    0.96-0.98 on genuine rows only."""
    genuine = ds.y_train == 0
    return Dataset(f"{ds.name} (genuine, inputs as targets)", ds.X_train[genuine],
                   ds.X_train[genuine].copy(), ds.X_test, ds.X_test.copy(), "regression",
                   list(ds.feature_names),
                   description="Reconstruct each transaction through a 2-number bottleneck.")


def anomaly_trainer(ds: Dataset, epochs: int = 40, seed: int = 0) -> Trainer:
    """An MLP autoencoder (8 -> 16 -> 2 -> 16 -> 8) on the genuine training transactions."""
    seed_everything(seed)
    model = mlp(ds.n_features, list(AUTOENCODER_HIDDEN), ds.n_features, activation="tanh")
    config = TrainConfig(optimizer="adam", lr=0.01, batch_size=128, epochs=int(epochs),
                         seed=int(seed))
    return Trainer(model, autoencoder_dataset(ds), config)


def reconstruction_errors(model, X: np.ndarray) -> np.ndarray:
    """Mean squared reconstruction error per row."""
    out = predict_raw(model, X)
    return ((out - np.asarray(X)) ** 2).mean(axis=1)


def anomaly_scores(model, ds: Dataset) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """detector -> (scores of the genuine training rows, scores of the test rows). The baseline
    needs no network: the mean squared standardised feature, how far a row is from average."""
    genuine = ds.X_train[ds.y_train == 0]
    distance = lambda X: (np.asarray(X, dtype=float) ** 2).mean(axis=1)  # noqa: E731
    return {"autoencoder": (reconstruction_errors(model, genuine),
                            reconstruction_errors(model, ds.X_test)),
            "distance": (distance(genuine), distance(ds.X_test))}


@dataclass
class AnomalyReport:
    """Flagging by a score above a threshold set on the genuine training transactions."""

    flag_share: float
    threshold: float
    precision: float
    recall: float
    tp: int
    fp: int
    fn: int
    average_precision: float
    recall_by_kind: dict[str, float]
    scores_test: np.ndarray = field(repr=False)
    labels_test: np.ndarray = field(repr=False)


def anomaly_report(genuine_scores, test_scores, y_test, kinds_test, flag_share: float = 0.02
                   ) -> AnomalyReport:
    """Threshold = the (1 - flag_share) quantile of the genuine training rows' scores, so about
    ``flag_share`` of genuine transactions are flagged; precision and recall on the test rows."""
    if not 0.001 <= flag_share <= 0.5:
        raise ValueError(f"Flag between 0.1% and 50% of transactions, got {flag_share:.1%}.")
    threshold = float(np.quantile(genuine_scores, 1.0 - flag_share))
    y, score = np.asarray(y_test).astype(int), np.asarray(test_scores)
    flagged = score > threshold
    tp, fp = int((flagged & (y == 1)).sum()), int((flagged & (y == 0)).sum())
    fn = int((~flagged & (y == 1)).sum())
    kinds = np.asarray(kinds_test)
    by_kind = {str(k): float(flagged[kinds == k].mean()) for k in np.unique(kinds[y == 1])}
    return AnomalyReport(flag_share, threshold, tp / (tp + fp) if tp + fp else math.nan,
                         tp / (tp + fn) if tp + fn else math.nan, tp, fp, fn,
                         float(skm.average_precision_score(y, score)) if y.any() else math.nan,
                         by_kind, score, y)


def anomaly_table(reports: dict[str, AnomalyReport]) -> pd.DataFrame:
    """Both detectors side by side, formatted for a person."""
    return pd.DataFrame({
        "detector": [DETECTORS[d] for d in reports],
        "frauds caught": [f"{r.tp} of {r.tp + r.fn}" for r in reports.values()],
        "recall": [shown(r.recall, ".0%") for r in reports.values()],
        "false alarms": [str(r.fp) for r in reports.values()],
        "precision": [shown(r.precision, ".0%") for r in reports.values()],
        "average precision": [shown(r.average_precision) for r in reports.values()],
    }).set_index("detector")


def anomaly_sentence(reports: dict[str, AnomalyReport]) -> str:
    r, base = reports["autoencoder"], reports["distance"]
    kinds = " and ".join(f"{share:.0%} of the {kind} frauds" for kind, share in
                         r.recall_by_kind.items())
    better = r.average_precision > base.average_precision
    return (f"With a threshold that flags {r.flag_share:.1%} of genuine training transactions, "
            f"the autoencoder catches {r.tp} of {r.tp + r.fn} test frauds (recall "
            f"{shown(r.recall, '.0%')}: {kinds}) with {r.fp} false alarms (precision "
            f"{shown(r.precision, '.0%')}). The distance from the average transaction, with no "
            f"network, catches {base.tp} with {base.fp} false alarms. Over all thresholds the "
            f"autoencoder's average precision is {shown(r.average_precision)} against "
            f"{shown(base.average_precision)}: the network {'earns' if better else 'does not earn'}"
            " its place here. The fraud share is 2%, so always saying 'genuine' is 98% accurate "
            "and catches nothing.")


# ==== Support messages ============================================================================
class TfidfSentiment:
    """TF-IDF word and word-pair weights into a logistic regression: the classic text baseline."""

    def __init__(self, max_features: int = 30_000, C: float = 4.0, seed: int = 0):
        self.max_features, self.C, self.seed = max_features, C, seed

    def fit(self, texts, labels) -> TfidfSentiment:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        # no stop-word list: "not", "no" and "never" carry sentiment
        self.vectorizer_ = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                                           max_features=self.max_features)
        X = self.vectorizer_.fit_transform(list(texts))
        self.classifier_ = LogisticRegression(C=self.C, max_iter=2000, random_state=self.seed)
        self.classifier_.fit(X, np.asarray(labels))
        return self

    def predict_proba(self, texts) -> np.ndarray:
        """(n, 2): P(negative), P(positive)."""
        return self.classifier_.predict_proba(self.vectorizer_.transform(list(texts)))

    def top_terms(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        """The terms of ``text`` that pushed the score most, with their push (+ positive)."""
        row = self.vectorizer_.transform([text]).tocoo()
        push = row.data * self.classifier_.coef_[0][row.col]
        names = self.vectorizer_.get_feature_names_out()
        order = np.argsort(-np.abs(push))[:k]
        return [(str(names[row.col[i]]), float(push[i])) for i in order]

    def __repr__(self) -> str:
        return f"TfidfSentiment(max_features={self.max_features}, C={self.C})"


def sentiment_baseline(source: str = "rotten_tomatoes", seed: int = 0,
                       test_size: float = 0.25) -> tuple[TfidfSentiment, float, int]:
    """TF-IDF + logistic regression trained on review text: (model, held-out accuracy, rows)."""
    from nnplay.data.prep import split_indices

    texts, labels = domains.review_texts(source)
    train, test, _ = split_indices(labels, test_size, seed, stratify=True)
    model = TfidfSentiment(seed=seed).fit([texts[i] for i in train], labels[train])
    proba = model.predict_proba([texts[i] for i in test])
    return model, float((proba.argmax(1) == labels[test]).mean()), len(test)


def is_text_model(entry) -> bool:
    """A session model trained on review text by nnplay.data.text (Lab 3's sentiment models)."""
    extra = entry.dataset.extra
    return "tokenizer" in extra and "negative" in extra.get("sentiment", ()) \
        and "positive" in extra.get("sentiment", ())


def text_model_scorer(model, dataset: Dataset) -> Callable[[list[str]], np.ndarray]:
    """texts -> P(positive) for a model on token ids from nnplay.data.text (neutral left out)."""
    from nnplay.data import text

    base, max_len = dataset.extra["tokenizer"], int(dataset.extra.get("max_len",
                                                                      dataset.X_train.shape[1]))
    sentiment = list(dataset.extra["sentiment"])
    pos, neg = sentiment.index("positive"), sentiment.index("negative")

    def score(texts) -> np.ndarray:
        ids, _ = text.tokenize(list(texts), base, max_len)
        p = predict_proba(model, ids)
        return p[:, pos] / np.maximum(p[:, pos] + p[:, neg], 1e-12)

    return score


def score_messages(messages, score: Callable[[list[str]], np.ndarray],
                   explain: Callable[[str], list[tuple[str, float]]] | None = None
                   ) -> pd.DataFrame:
    """Each message with P(positive), the verdict and (TF-IDF) the terms that pushed it most."""
    messages = [str(m) for m in messages]
    if not messages or not all(m.strip() for m in messages):
        raise ValueError("Write a message to score.")
    frame = pd.DataFrame({"message": messages,
                          "p_positive": np.asarray(score(messages), dtype=float)})
    frame["predicted"] = np.where(frame["p_positive"] >= 0.5, "positive", "negative")
    if explain is not None:
        terms = [explain(m) for m in messages]
        frame["pushed_by"] = [", ".join(f"{w} ({v:+.2f})" for w, v in t) or "no known word"
                              for t in terms]
        # the strongest term pushing towards the verdict: why it said what it said
        frame["decisive_term"] = [next((w for w, v in t if (v > 0) == (p == "positive")), "")
                                  for t, p in zip(terms, frame["predicted"], strict=True)]
    return frame


def support_probe(score: Callable[[list[str]], np.ndarray],
                  explain: Callable[[str], list[tuple[str, float]]] | None = None) -> pd.DataFrame:
    """The demo's support messages scored, with the sentiment a person reads and whether the
    model agrees."""
    messages = domains.support_messages()
    frame = score_messages(messages["message"], score, explain)
    frame.insert(1, "sentiment", messages["sentiment"])
    frame.insert(2, "difficulty", messages["difficulty"])
    frame["correct"] = frame["predicted"] == frame["sentiment"]
    return frame


def probe_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Messages and share read right, per difficulty."""
    grouped = frame.groupby("difficulty", sort=False)["correct"]
    return pd.DataFrame({"messages": grouped.size(), "right": grouped.sum().astype(int),
                         "share_right": grouped.mean()})


def support_sentence(frame: pd.DataFrame, heldout_accuracy: float | None, trained_on: str) -> str:
    summary = probe_summary(frame)
    wrong = summary.sort_values("share_right").index[0]
    parts = []
    if heldout_accuracy is not None:
        parts.append(f"On held-out {trained_on} the model is right {heldout_accuracy:.1%} of "
                     "the time.")
    parts.append(f"On the {len(frame)} support messages it reads {int(frame['correct'].sum())} "
                 f"right; it does worst on '{wrong}' ({summary.loc[wrong, 'right']} of "
                 f"{summary.loc[wrong, 'messages']}) and best on "
                 f"'{summary['share_right'].idxmax()}'.")
    misled = frame[~frame["correct"] & (frame["difficulty"] == wrong)]
    words = [w for w in dict.fromkeys(misled.get("decisive_term", ())) if w]
    if words:
        quoted = ", ".join(repr(w) for w in words[:3])
        parts.append(f"In the '{wrong}' messages, words such as {quoted} pushed it the wrong way.")
    parts.append("The messages were written for this demo: a probe of where it breaks, not a "
                 "benchmark.")
    return " ".join(parts)


def probe_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The probe for a person: wrong verdicts first, probabilities to two decimals."""
    shown_frame = pd.DataFrame({
        "message": frame["message"], "a person reads": frame["sentiment"],
        "what makes it hard": frame["difficulty"],
        "P(positive)": [f"{p:.2f}" for p in frame["p_positive"]],
        "model says": frame["predicted"],
        "right": np.where(frame["correct"], "yes", "no")})
    if "pushed_by" in frame:
        shown_frame["terms that pushed it (+ positive)"] = frame["pushed_by"]
    return shown_frame.sort_values("right", kind="stable")
