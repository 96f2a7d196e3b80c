"""Is the network any good? Baseline models on the same train/test split, with k-fold scores.

A dummy model, a linear model, tree ensembles and scikit-learn's own MLP are cross-validated on
the training rows and scored on the test rows, next to the network: fresh copies of it are
trained with its own TrainConfig on every fold, and the trained network itself is scored on the
test rows. Everything is seeded, so the same arguments give the same table.
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.model_selection import KFold, StratifiedKFold
from torch import nn

from nnplay.data.dataset import Dataset
from nnplay.train.jobs import Cancelled, check_stop, fit_stoppable

BASELINES = ("dummy", "linear", "random_forest", "gradient_boosting", "sklearn_mlp")
DEFAULT_BASELINES = ("dummy", "linear", "random_forest", "sklearn_mlp")
BASELINE_TITLES = {"dummy": "Dummy (majority class / mean)", "linear": "Logistic / linear regression",
                   "random_forest": "Random forest", "gradient_boosting": "Gradient boosting",
                   "sklearn_mlp": "scikit-learn MLP", "network": "The network"}
SCORES = {"classification": ("accuracy", "f1_macro"), "regression": ("rmse", "r2")}


def baseline_estimator(name: str, task: str, seed: int = 0):
    """A fresh, seeded scikit-learn estimator for a baseline name and task."""
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    classify = task == "classification"
    makers = {
        "dummy": lambda: DummyClassifier(strategy="most_frequent") if classify
        else DummyRegressor(strategy="mean"),
        "linear": lambda: LogisticRegression(max_iter=1000) if classify else LinearRegression(),
        "random_forest": lambda: (RandomForestClassifier if classify else RandomForestRegressor)(
            n_estimators=100, random_state=seed, n_jobs=1),
        "gradient_boosting": lambda: (HistGradientBoostingClassifier if classify
                                      else HistGradientBoostingRegressor)(random_state=seed),
        "sklearn_mlp": lambda: (MLPClassifier if classify else MLPRegressor)(
            hidden_layer_sizes=(64,), max_iter=200, random_state=seed),
    }
    if name not in makers:
        raise ValueError(f"Unknown baseline {name!r}; choose from {', '.join(BASELINES)}.")
    return makers[name]()


def score(task: str, y_true, y_pred) -> dict:
    """The task's two scores: accuracy and macro F1, or RMSE and R² (NaN when predictions are)."""
    y_pred = np.ravel(y_pred)
    if task == "classification":
        return {"accuracy": float(skm.accuracy_score(y_true, y_pred)),
                "f1_macro": float(skm.f1_score(y_true, y_pred, average="macro", zero_division=0))}
    if not np.all(np.isfinite(y_pred)):
        return {"rmse": math.nan, "r2": math.nan}
    return {"rmse": float(math.sqrt(skm.mean_squared_error(y_true, y_pred))),
            "r2": float(skm.r2_score(y_true, y_pred))}


def fresh_copy(model: nn.Module, seed: int = 0) -> nn.Module:
    """An untrained twin of ``model``: same architecture, parameters re-initialised with ``seed``."""
    import torch

    twin = copy.deepcopy(model).cpu()
    torch.manual_seed(seed)
    if hasattr(twin, "reset_parameters"):
        twin.reset_parameters()      # the model's own init scheme (e.g. MLP's xavier/kaiming)
        return twin
    for module in twin.modules():
        if module is not twin and hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return twin


def _flat(X: np.ndarray) -> np.ndarray:
    return np.asarray(X, dtype=np.float32).reshape(len(X), -1)


def _folds(dataset: Dataset, k: int, seed: int):
    y = np.ravel(dataset.y_train)
    counts = np.bincount(y.astype(int)) if dataset.task == "classification" else np.array([])
    if len(counts) and counts[counts > 0].min() >= k:  # stratify when every class fills k folds
        return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(_flat(dataset.X_train), y))
    return list(KFold(k, shuffle=True, random_state=seed).split(_flat(dataset.X_train)))


class BaselineComparison:
    """Cross-validates baselines (and the network) on a dataset's training rows.

    Parameters: ``k`` folds, ``seed``, the baseline names in ``models``, and ``network_epochs``
    (None: the network's own config.epochs). After ``fit``: ``folds_`` (one row per model and
    fold, plus fold "test" for the full-train fit scored on the test rows) and ``summary_`` (one
    row per model: mean and standard deviation of each score over the folds, the test score and
    the mean seconds to train).
    """

    def __init__(self, k: int = 5, seed: int = 0, models=DEFAULT_BASELINES,
                 network_epochs: int | None = None):
        self.k, self.seed, self.models, self.network_epochs = k, seed, models, network_epochs

    def _check(self, dataset: Dataset) -> None:
        if not 2 <= int(self.k) <= 20:
            raise ValueError(f"Use between 2 and 20 folds, got {self.k}.")
        if int(self.k) > dataset.n_train:
            raise ValueError(f"{self.k} folds need at least {self.k} training rows; "
                             f"the data has {dataset.n_train}.")
        unknown = [m for m in self.models if m not in BASELINES]
        if unknown:
            raise ValueError(f"Unknown baseline(s) {unknown}; choose from {', '.join(BASELINES)}.")

    def fit(self, dataset: Dataset, network: nn.Module | None = None, config=None,
            progress: Callable[[int, int], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> BaselineComparison:
        """Score every baseline (and the network when given, trained with ``config``); returns self.

        ``progress(done, total)`` counts fits. A stop (``should_stop()``, checked before every
        fit and every network epoch) raises Cancelled(result=self): ``folds_`` keeps the fits
        done so far and ``summary_`` the models that finished all of theirs.
        """
        self._check(dataset)
        folds = _folds(dataset, int(self.k), self.seed)
        names = list(self.models) + (["network"] if network is not None else [])
        total, done, rows = len(names) * (len(folds) + 1), 0, []
        X, y = _flat(dataset.X_train), np.ravel(dataset.y_train)
        self.task_ = dataset.task
        try:
            for name in names:
                for i, (tr, va) in enumerate([*folds, (None, None)]):
                    check_stop(should_stop)
                    if name == "network":
                        scores, seconds = self._network_fold(dataset, network, config, tr, va,
                                                             should_stop)
                    else:
                        scores, seconds = self._sklearn_fold(name, dataset, X, y, tr, va)
                    rows.append({"model": name, "fold": "test" if tr is None else str(i + 1),
                                 **scores, "fit_seconds": seconds})
                    done += 1
                    if progress is not None:
                        progress(done, total)
        except Cancelled as stop:
            self._keep(rows, len(folds) + 1)
            raise Cancelled(result=self) from stop
        self._keep(rows, len(folds) + 1)
        return self

    def _keep(self, rows: list[dict], fits_per_model: int) -> None:
        """The fitted attributes from ``rows``; the summary only for models with every fit."""
        self.folds_ = pd.DataFrame(rows)
        whole = [r for r in rows if sum(q["model"] == r["model"] for q in rows) == fits_per_model]
        self.summary_ = summarise(pd.DataFrame(whole), self.task_) if whole else pd.DataFrame()

    def _sklearn_fold(self, name, dataset, X, y, tr, va) -> tuple[dict, float]:
        est = baseline_estimator(name, dataset.task, self.seed)
        if tr is None:
            X_fit, y_fit, X_val, y_val = X, y, _flat(dataset.X_test), np.ravel(dataset.y_test)
        else:
            X_fit, y_fit, X_val, y_val = X[tr], y[tr], X[va], y[va]
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            # a few hundred iterations is the honest budget here; not converging is a result too
            warnings.simplefilter("ignore")
            est.fit(X_fit, y_fit)
        seconds = time.perf_counter() - t0
        return score(dataset.task, y_val, est.predict(X_val)), seconds

    def _network_fold(self, dataset, network, config, tr, va, should_stop) -> tuple[dict, float]:
        from nnplay.train import TrainConfig, Trainer, predict

        if tr is None:  # the network the learner trained already saw exactly the training rows
            # a copy: this may run in a thread while the page predicts with the same module
            pred = predict(copy.deepcopy(network), dataset.X_test, dataset.task)
            return score(dataset.task, np.ravel(dataset.y_test), pred), math.nan
        cfg = config if config is not None else TrainConfig()
        if self.network_epochs is not None:
            cfg = cfg.replace(epochs=int(self.network_epochs))
        cfg = cfg.replace(seed=self.seed)
        fold = Dataset(f"{dataset.name} fold", dataset.X_train[tr], dataset.y_train[tr],
                       dataset.X_train[va], dataset.y_train[va], dataset.task,
                       dataset.feature_names, dataset.class_names)
        trainer = Trainer(fresh_copy(network, self.seed), fold, cfg)
        t0 = time.perf_counter()
        fit_stoppable(trainer, should_stop=should_stop)
        seconds = time.perf_counter() - t0
        pred = predict(trainer.model, fold.X_test, dataset.task)
        return score(dataset.task, np.ravel(fold.y_test), pred), seconds

    def __repr__(self) -> str:
        return (f"BaselineComparison(k={self.k}, seed={self.seed}, models={tuple(self.models)}, "
                f"network_epochs={self.network_epochs})")


def summarise(folds: pd.DataFrame, task: str) -> pd.DataFrame:
    """One row per model: each score's k-fold mean and std, its test score, mean fit seconds."""
    rows = []
    for name, group in folds.groupby("model", sort=False):
        cv, test = group[group["fold"] != "test"], group[group["fold"] == "test"]
        row = {"model": BASELINE_TITLES.get(name, name)}
        for metric in SCORES[task]:
            row[f"{metric}_mean"] = float(cv[metric].mean())
            row[f"{metric}_std"] = float(cv[metric].std(ddof=1)) if len(cv) > 1 else math.nan
            row[f"test_{metric}"] = float(test[metric].iloc[0]) if len(test) else math.nan
        row["fit_seconds"] = float(cv["fit_seconds"].mean())
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")
