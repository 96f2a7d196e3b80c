"""Feature attribution for tabular models: KernelSHAP and LIME on any torch model.

The model is treated as a black box: a NumPy function returning, per row, the probability of one
target class (classification) or the predicted value (regression). KernelSHAP fits the Shapley
values exactly under its efficiency constraint, so base value + sum of the values equals that
output; LIME fits a weighted linear surrogate around the row. shap and lime are imported inside
the functions, so importing this module stays light.

Both can explain in another space than the model's inputs: ``input_map`` turns the explained rows
into model inputs. With ``OriginalUnits.from_raw`` the features are the ones a person reads (age in
years, sex as one categorical feature) instead of z-scores and one-hot columns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from torch import nn

from nnplay.train.jobs import check_stop

EFFICIENCY_TOLERANCE = 1e-3   # the bar for base value + sum of SHAP values vs the output


def eval_copy(model: nn.Module) -> nn.Module:
    """A private copy in eval mode: explanations may run in a thread while the page uses the
    model, and switching train/eval mode on a shared module would race."""
    import copy

    return copy.deepcopy(model).eval()


def background_sample(X_train, n_rows: int = 100, seed: int = 0) -> np.ndarray:
    """``n_rows`` training rows drawn without replacement (all of them if there are fewer): the
    reference SHAP compares each row against."""
    X = _rows(X_train)
    if int(n_rows) < 1:
        raise ValueError(f"The background needs at least one row, got {n_rows}.")
    if len(X) <= int(n_rows):
        return X
    return X[np.sort(np.random.default_rng(seed).choice(len(X), int(n_rows), replace=False))]


InputMap = Callable[[np.ndarray], np.ndarray]


def _inputs(X, input_map: InputMap | None) -> np.ndarray:
    return np.asarray(input_map(X) if input_map is not None else X, dtype=np.float32)


def model_output_fn(model: nn.Module, target: int | None, task: str = "classification",
                    input_map: InputMap | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """f(X) -> one number per row: P(target class) for classification, the value for regression.

    Computed in float64 from the model's float32 logits, in eval mode, without gradients.
    ``input_map`` turns X into the model's inputs first (e.g. ``OriginalUnits.from_raw``).
    """
    from nnplay.train import predict_raw

    def f(X: np.ndarray) -> np.ndarray:
        out = predict_raw(model, _inputs(X, input_map)).astype(np.float64)
        out = out.reshape(len(out), -1)
        if task == "regression":
            return out[:, 0]
        z = out - out.max(1, keepdims=True)
        proba = np.exp(z) / np.exp(z).sum(1, keepdims=True)
        return proba[:, target]
    return f


def default_targets(model: nn.Module, X: np.ndarray, target: int | None, task: str,
                    input_map: InputMap | None = None) -> np.ndarray:
    """The class explained for each row: ``target`` if given, class 1 for two classes, else the
    predicted class. Regression rows get -1 (there is only one output)."""
    from nnplay.train import predict_raw

    if task == "regression":
        return np.full(len(X), -1)
    logits = predict_raw(model, _inputs(X, input_map))
    n_classes = logits.shape[1]
    if target is not None:
        if not 0 <= int(target) < n_classes:
            raise ValueError(f"target must be a class between 0 and {n_classes - 1}, got {target}.")
        return np.full(len(X), int(target))
    if n_classes == 2:
        return np.ones(len(X), dtype=int)
    return logits.argmax(1)


def _rows(X, n_features: int | None = None) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2:
        raise ValueError(f"Tabular explanations need rows of features, shape (n, features); got "
                         f"{X.shape}. For images use nnplay.explain.attribution.")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"The rows have {X.shape[1]} features but the background has "
                         f"{n_features}.")
    return X


def shap_values(model: nn.Module, background, X, target: int | None = None,
                task: str = "classification", nsamples: int | str = "auto",
                feature_names: list[str] | None = None, seed: int = 0,
                progress: Callable[[int, int], None] | None = None,
                should_stop: Callable[[], bool] | None = None,
                input_map: InputMap | None = None):
    """KernelSHAP values of ``model`` for the rows of ``X`` against a ``background`` sample.

    Returns a ``shap.Explanation``: ``.values`` (n_rows, n_features), ``.base_values`` (n_rows,),
    ``.data`` and ``.feature_names``. What is explained is P(class ``target``) (default: class 1
    for two classes, else each row's predicted class) or the regression output, and
    ``base_values + values.sum(1)`` equals it (efficiency). Extra facts ride along in
    ``explanation.nnplay``: targets, model_output, seconds, nsamples, background_rows.
    Rows are explained one at a time so ``should_stop`` can cancel between rows.
    ``background`` and ``X`` may live in another space than the model's inputs when
    ``input_map`` maps them there (see the module docstring).
    """
    import shap

    model = eval_copy(model)
    bg = _rows(background)
    if len(bg) == 0:
        raise ValueError("The background needs at least one row.")
    X = _rows(X, bg.shape[1])
    names = list(feature_names) if feature_names is not None else [f"x{i}" for i in range(X.shape[1])]
    if len(names) != X.shape[1]:
        raise ValueError(f"Got {len(names)} feature names for {X.shape[1]} features.")
    if nsamples != "auto" and int(nsamples) < 2:
        raise ValueError(f"nsamples must be 'auto' or at least 2, got {nsamples}.")
    t0 = time.perf_counter()
    targets = default_targets(model, X, target, task, input_map)
    explainers: dict[int, object] = {}   # one per target class: each explains its own function
    functions: dict[int, Callable] = {}
    values = np.zeros(X.shape, dtype=np.float64)
    base = np.zeros(len(X))
    output = np.zeros(len(X))
    for i, (row, tgt) in enumerate(zip(X, targets, strict=True)):
        check_stop(should_stop)
        tgt = int(tgt)
        if tgt not in explainers:
            functions[tgt] = model_output_fn(model, tgt, task, input_map)
            explainers[tgt] = shap.KernelExplainer(functions[tgt], bg)
        explainer = explainers[tgt]
        np.random.seed(seed + i)  # KernelExplainer samples coalitions from NumPy's global RNG
        # l1_reg=False: every feature gets its value (shap's default keeps only 10)
        row_values = explainer.shap_values(row[None, :], nsamples=nsamples, l1_reg=False,
                                           silent=True)
        values[i] = np.asarray(row_values).reshape(-1)
        base[i] = float(np.ravel(explainer.expected_value)[0])
        output[i] = float(functions[tgt](row[None, :])[0])
        if progress is not None:
            progress(i + 1, len(X))
    explanation = shap.Explanation(values=values, base_values=base, data=X.astype(np.float64),
                                   feature_names=names)
    used = next(iter(explainers.values())).nsamples if explainers else 0
    explanation.nnplay = {"targets": targets, "model_output": output,
                          "seconds": time.perf_counter() - t0, "nsamples": int(used),
                          "background_rows": len(bg)}
    return explanation


def efficiency_frame(explanation) -> pd.DataFrame:
    """Per row: base value, sum of SHAP values, their total, the model's output and the gap."""
    total = explanation.base_values + explanation.values.sum(1)
    out = explanation.nnplay["model_output"]
    return pd.DataFrame({"base_value": explanation.base_values,
                         "sum_of_shap_values": explanation.values.sum(1),
                         "base_plus_sum": total, "model_output": out,
                         "gap": np.abs(total - out)})


@dataclass
class LimeResult:
    """A LIME explanation of one input: the local linear surrogate's weights and how well it fits.

    Tabular: ``weights`` has columns feature (index), name, rule and weight. Image: columns
    segment and weight, with ``segments`` (segment id per pixel) and ``heatmap`` (weight per pixel).
    """

    weights: pd.DataFrame
    intercept: float
    local_prediction: float        # the surrogate's output at the explained input
    model_prediction: float        # the model's output it tries to match
    score: float                   # R² of the surrogate on its weighted neighbourhood
    target: int | None
    num_samples: int
    seconds: float
    segments: np.ndarray | None = None
    heatmap: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"LimeResult(target={self.target}, features={len(self.weights)}, "
                f"score={self.score:.3f}, samples={self.num_samples}, seconds={self.seconds:.2f})")


def _readable_quartiles(train_rows: np.ndarray, categorical: list[int], names: list[str],
                        seed: int):
    """LIME's quartile bins, with rules that keep four significant digits: LIME prints two
    decimals, so a boundary of 0.0017 would read "<= 0.00"."""
    from lime.discretize import QuartileDiscretizer

    from nnplay.explain.units import format_number

    class ReadableQuartiles(QuartileDiscretizer):
        def __init__(self, data, categorical_features, feature_names, labels=None,
                     random_state=None):
            super().__init__(data, categorical_features, feature_names, labels, random_state)
            bins = [np.unique(b) for b in self.bins(data, labels)]
            for feature, qts in zip(self.to_discretize, bins, strict=True):
                name, q = feature_names[feature], [format_number(v) for v in qts]
                self.names[feature] = ([f"{name} <= {q[0]}"]
                                       + [f"{lo} < {name} <= {hi}" for lo, hi in zip(q, q[1:])]
                                       + [f"{name} > {q[-1]}"])

    return ReadableQuartiles(train_rows, categorical, names, random_state=seed)


def _spaced(rule: str, name: str, is_category: bool) -> str:
    """LIME writes a category rule "sex=male"; the other figures read "sex = male"."""
    if is_category and rule.startswith(f"{name}="):
        return f"{name} = {rule[len(name) + 1:]}"
    return rule


def lime_tabular(model: nn.Module, x, training_data, target: int | None = None,
                 task: str = "classification", feature_names: list[str] | None = None,
                 class_names: list[str] | None = None, num_samples: int = 5000,
                 num_features: int | None = None, seed: int = 0,
                 progress: Callable[[int, int], None] | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 input_map: InputMap | None = None,
                 categorical_names: dict[int, list[str]] | None = None) -> LimeResult:
    """LIME for one row ``x``: perturb it around the training data's statistics, fit a weighted
    linear model to P(target) (or the regression value), return its weights per feature.

    ``input_map`` maps rows to model inputs (see the module docstring); ``categorical_names``
    ({column: labels}) marks columns holding category indices, which LIME then samples as
    categories and names in its rules ("sex=male").
    """
    from lime.lime_tabular import LimeTabularExplainer

    from nnplay.train import predict_raw

    model = eval_copy(model)
    train_rows = _rows(training_data)
    row = _rows(x, train_rows.shape[1])[0]
    if int(num_samples) < 10:
        raise ValueError(f"LIME needs at least 10 samples, got {num_samples}.")
    names = list(feature_names) if feature_names is not None else [f"x{i}" for i in range(len(row))]
    tgt = int(default_targets(model, row[None, :], target, task, input_map)[0])
    done = {"rows": 0}

    def predict_fn(batch: np.ndarray) -> np.ndarray:
        check_stop(should_stop)
        out = predict_raw(model, _inputs(batch, input_map)).astype(np.float64)
        done["rows"] += len(batch)
        if progress is not None:
            progress(min(done["rows"], int(num_samples)), int(num_samples))
        if task == "regression":
            return out.reshape(len(out), -1)[:, 0]
        z = out - out.max(1, keepdims=True)
        return np.exp(z) / np.exp(z).sum(1, keepdims=True)

    t0 = time.perf_counter()
    categorical = dict(categorical_names or {})
    explainer = LimeTabularExplainer(
        train_rows, mode=task, feature_names=names, class_names=class_names, random_state=seed,
        categorical_features=sorted(categorical) or None, categorical_names=categorical or None,
        discretizer=_readable_quartiles(train_rows, sorted(categorical), names, seed))
    label = 1 if task == "regression" else tgt
    exp = explainer.explain_instance(row, predict_fn, labels=(label,),
                                     num_features=int(num_features or len(row)),
                                     num_samples=int(num_samples))
    pairs, rules = exp.as_map()[label], exp.as_list(label=label)
    weights = pd.DataFrame({"feature": [int(i) for i, _ in pairs],
                            "name": [names[int(i)] for i, _ in pairs],
                            "rule": [_spaced(r, names[int(i)], int(i) in categorical)
                                     for (i, _), (r, _) in zip(pairs, rules, strict=True)],
                            "weight": [float(w) for _, w in pairs]})
    model_pred = (float(exp.predicted_value) if task == "regression"
                  else float(exp.predict_proba[tgt]))
    return LimeResult(weights, float(exp.intercept[label]), float(np.ravel(exp.local_pred)[0]),
                      model_pred, float(exp.score), None if task == "regression" else tgt,
                      int(num_samples), time.perf_counter() - t0)


def compare_shap_lime(shap_row: np.ndarray, lime: LimeResult, top_k: int = 5) -> dict:
    """Where SHAP and LIME agree on one row: top-k overlap, sign agreement, rank correlation.

    top_overlap: share of SHAP's top-k features (by |value|) also in LIME's top k. sign_agreement:
    share of LIME's features whose weight has the same sign as the SHAP value. spearman: rank
    correlation of the two attributions over the features LIME weighted.
    """
    from scipy.stats import spearmanr

    shap_row = np.ravel(shap_row)
    idx = lime.weights["feature"].to_numpy()
    lime_w = lime.weights["weight"].to_numpy()
    k = int(min(top_k, len(idx), len(shap_row)))
    top_shap = set(np.argsort(-np.abs(shap_row))[:k].tolist())
    top_lime = set(idx[np.argsort(-np.abs(lime_w))[:k]].tolist())
    same_sign = np.sign(shap_row[idx]) == np.sign(lime_w)
    rho = spearmanr(shap_row[idx], lime_w).statistic if len(idx) > 2 else np.nan
    disagree = [int(i) for i, ok in zip(idx, same_sign, strict=True) if not ok]
    return {"top_k": k, "top_overlap": len(top_shap & top_lime) / k if k else np.nan,
            "sign_agreement": float(same_sign.mean()) if len(idx) else np.nan,
            "spearman": float(rho), "shared_top": sorted(top_shap & top_lime),
            "only_shap_top": sorted(top_shap - top_lime), "only_lime_top": sorted(top_lime - top_shap),
            "sign_disagreements": disagree}


def agreement_note(comparison: dict) -> str:
    """One short sentence, from compare_shap_lime's numbers, on how far the two methods agree."""
    c = comparison
    shared = round(c["top_overlap"] * c["top_k"]) if c["top_k"] else 0
    if not c["top_k"] or np.isnan(c["sign_agreement"]):
        return "LIME weighted no feature, so there is nothing to compare with SHAP."
    rho = "" if np.isnan(c["spearman"]) else f" (rank correlation {c['spearman']:.2f})"
    return (f"SHAP and LIME share {shared} of their top {c['top_k']} features and push the same "
            f"way on {c['sign_agreement']:.0%} of all features{rho}.")
