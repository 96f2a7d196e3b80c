"""The explainability lesson's engine side: the model it trains on the spot when a learner arrives
with none (an MLP on a table, a CNN on images), and the What-If view of one table row: its
prediction, its SHAP and LIME explanations in original units, the texts the page shows.

The explanations, counterfactuals and partial dependence themselves are the shared concept
``nnplay.explain``; this module only chooses and words what the page shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnplay import explain
from nnplay.data.dataset import Dataset
from nnplay.models.registry import ModelSpec
from nnplay.train.quick import default_spec

DEFAULT_DATASET = "breast_cancer"
TABLE_EPOCHS = 40
IMAGE_EPOCHS = 3
MAX_METRICS = 4          # classes shown as metrics; the rest are in the table below them


def families_for(dataset: Dataset) -> list[str]:
    """The networks the page offers for this data: a CNN first for images."""
    return ["cnn", "mlp"] if len(dataset.input_shape) == 3 else ["mlp"]


def spec_for(dataset: Dataset, family: str | None = None) -> ModelSpec:
    return default_spec(dataset, family or families_for(dataset)[0])


def epochs_for(dataset: Dataset) -> int:
    return IMAGE_EPOCHS if len(dataset.input_shape) == 3 else TABLE_EPOCHS


def output_label(dataset: Dataset, target: int) -> str:
    """What an explanation explains: "P(good)", or the predicted target for regression."""
    if target < 0 or dataset.task == "regression":
        return explain.output_names(dataset)[0]
    names = dataset.class_names or [str(c) for c in range(dataset.n_outputs)]
    return f"P({names[target]})"


@dataclass
class RowExplanation:
    """SHAP and LIME for one row, over the features in original units."""

    shap: object                 # shap.Explanation over the raw features (see OriginalUnits)
    lime: explain.LimeResult
    labels: list[str]            # "feature = value" per feature, for the figures
    target: int                  # the class explained (-1 for regression)
    output_label: str            # "P(good)"

    @property
    def agreement(self) -> str:
        return explain.agreement_note(explain.compare_shap_lime(self.shap.values[0], self.lime))

    def __repr__(self) -> str:
        return f"RowExplanation({self.output_label}, features={len(self.labels)})"


def explain_row(model, dataset: Dataset, x: np.ndarray, n_background: int = 100,
                nsamples: int | str = 1024, target: int | None = None,
                lime_samples: int = 5000) -> RowExplanation:
    """KernelSHAP and LIME for the model-input row ``x``, one value per feature in original units
    (a one-hot group is one feature), a regression explained in its target's units."""
    units = explain.original_units(dataset)
    model = explain.in_target_units(model, dataset)
    background = units.to_raw(explain.background_sample(dataset.X_train, n_background))
    raw = units.to_raw(x)
    shap_exp = explain.shap_values(model, background, raw, target=target, task=dataset.task,
                                   nsamples=nsamples, feature_names=units.names,
                                   input_map=units.from_raw)
    explained = int(shap_exp.nnplay["targets"][0])
    categories = {j: list(f.categories) for j, f in enumerate(units.features)
                  if f.kind == "category"}
    lime = explain.lime_tabular(model, raw[0], units.to_raw(dataset.X_train),
                                target=None if explained < 0 else explained, task=dataset.task,
                                feature_names=units.names, class_names=dataset.class_names,
                                num_samples=lime_samples, input_map=units.from_raw,
                                categorical_names=categories)
    return RowExplanation(shap_exp, lime, units.labels(raw[0]), explained,
                          output_label(dataset, explained))


def shap_set_args(model, dataset: Dataset, n_rows: int, n_background: int = 100):
    """(model, background, rows, input_map) for SHAP over the first test rows, in original units."""
    units = explain.original_units(dataset)
    background = units.to_raw(explain.background_sample(dataset.X_train, n_background))
    return (explain.in_target_units(model, dataset), background,
            units.to_raw(dataset.X_test[:n_rows]), units.from_raw)


def raw_texts(dataset: Dataset, raw: np.ndarray) -> np.ndarray:
    """Raw rows as the texts a person reads, (rows, features), for hover labels."""
    units = explain.original_units(dataset)
    return np.array([[units.text(f, v) for f, v in zip(units.features, r, strict=True)]
                     for r in np.atleast_2d(raw)], dtype=object)


@dataclass(frozen=True)
class Shown:
    """One number as the page shows it: a label, the value and the change from the original."""

    label: str
    value: str
    delta: str | None


def prediction_metrics(dataset: Dataset, before: np.ndarray, after: np.ndarray) -> list[Shown]:
    """The edited row's outputs next to the original row's: each class (the MAX_METRICS most
    likely for either row when there are more), or the regression value in the target's units."""
    names = explain.output_names(dataset)
    order = range(len(after))     # class order, so a metric stays put while the row changes
    if len(after) > MAX_METRICS:
        order = sorted(np.argsort(-np.maximum(before, after))[:MAX_METRICS])
    shown = []
    for k in order:
        change = float(after[k] - before[k])
        value = explain.format_number(after[k]) if dataset.task == "regression" \
            else f"{after[k]:.3f}"
        delta = None if abs(change) < 5e-4 else (
            f"{change:+.3f}" if dataset.task == "classification"
            else f"{'+' if change > 0 else ''}{explain.format_number(change)}")
        shown.append(Shown(names[k], value, delta))
    return shown


def predicted_sentence(dataset: Dataset, proba: np.ndarray) -> str:
    """ "The model predicts **good** (P = 0.71)." or the regression value."""
    if dataset.task == "regression":
        return f"The model predicts **{explain.format_number(proba[0])}**."
    names = dataset.class_names or [str(c) for c in range(len(proba))]
    k = int(np.argmax(proba))
    return f"The model predicts **{names[k]}** (P = {proba[k]:.3f})."


def out_of_range(dataset: Dataset, edits: dict) -> list[str]:
    """The edited numeric features that left the training range, as "age = 120 (trained on
    19 to 75)": there the model extrapolates."""
    units = explain.original_units(dataset)
    notes = []
    for name, value in edits.items():
        f = units.feature(name)
        if f.kind == "numeric" and not f.low <= float(value) <= f.high:
            notes.append(f"{name} = {explain.format_number(value, f.integer)} (trained on "
                         f"{explain.format_number(f.low, f.integer)} to "
                         f"{explain.format_number(f.high, f.integer)})")
    return notes


def counterfactual_sentence(dataset: Dataset, cf: explain.Counterfactual) -> str:
    """What the counterfactual search found, in one or two sentences, honest about failure."""
    names = dataset.class_names or [str(c) for c in range(len(cf.proba))]
    goal = names[cf.target]
    p_new = f"P({goal}) {cf.original_proba[cf.target]:.3f} → {cf.proba[cf.target]:.3f}"
    if not cf.found:
        return (f"No change flipping the prediction to **{goal}** was found within "
                f"{cf.steps} moves ({cf.evaluations:,} rows scored); the closest reached "
                f"{p_new}. Free some fixed features or pick another class.")
    n = cf.n_changed
    return (f"Changing **{n} feature{'s' if n != 1 else ''}** flips the prediction from "
            f"**{names[cf.original_class]}** to **{goal}**: {p_new} (distance "
            f"{cf.cost:.2f} training standard deviations; {cf.evaluations:,} rows scored).")
