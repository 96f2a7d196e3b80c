"""Uploaded CSVs: bad files rejected with clear messages, good files with every step listed."""

import io

import numpy as np
import pandas as pd
import pytest

from nnplay import data
from nnplay.data import upload


def good_frame(n=40, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "id": np.arange(1, n + 1),
        "name": [f"person {i}" for i in range(n)],
        "age": rng.integers(20, 60, n).astype(float),
        "color": rng.choice(["red", "green", "blue"], n),
        "income": rng.normal(50, 10, n).round(2),
        "same": 1,
        "label": rng.choice(["yes", "no"], n),
    })
    frame.loc[[2, 5, 7], "age"] = np.nan
    frame.loc[[1, 3], "color"] = np.nan
    frame.loc[[10], "label"] = np.nan
    return frame


def csv_bytes(frame):
    return frame.to_csv(index=False).encode()


def test_good_csv_loads_and_lists_its_steps():
    ds = data.from_csv(io.BytesIO(csv_bytes(good_frame())), test_size=0.25)
    assert ds.task == "classification" and ds.class_names == ["no", "yes"]
    assert ds.n_train + ds.n_test == 39
    assert ds.feature_names == ["age", "color=blue", "color=green", "color=missing", "color=red",
                                "income"]
    steps = ds.extra["preprocessing"]
    assert steps[0] == "dropped 1 row whose target 'label' was missing"
    assert "dropped column 'id' (a row number: consecutive whole numbers, one per row)" in steps
    assert "dropped column 'name' (all values unique text, like an id)" in steps
    assert "dropped column 'same' (the same value in every row)" in steps
    filled = [s for s in steps if s.startswith("filled 3 missing values in 'age' with the median")]
    assert filled and "of the training split" in filled[0]
    assert "filled 2 missing values in 'color' with the category 'missing'" in steps
    assert "one-hot encoded 'color' into 4 columns" in steps
    assert steps[-1].startswith("standardised 6 features (2 numeric, 4 one-hot)")
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0, atol=1e-5)
    assert np.isfinite(ds.X_test).all() and ds.X_train.dtype == np.float32


def test_median_comes_from_the_train_split():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"key": rng.permutation(40) + 0.5,   # tells which rows landed in train
                          "f": np.r_[np.arange(30.0), [np.nan] * 10],
                          "y": np.arange(40) % 2})
    ds = data.from_csv(csv_bytes(frame), seed=2)
    raw = ds.X_train * ds.extra["scaler_std"] + ds.extra["scaler_mean"]
    train_rows = frame.set_index("key").loc[np.round(raw[:, 0], 3)]
    train_median = train_rows["f"].median()
    assert train_median != pytest.approx(frame["f"].median())   # the seed makes them differ
    assert f"filled 10 missing values in 'f' with the median {train_median:g} of the training " \
           "split" in ds.extra["preprocessing"]
    filled = train_rows["f"].isna().to_numpy()
    np.testing.assert_allclose(raw[filled, 1], train_median, atol=1e-4)


def test_regression_target_and_task_override():
    frame = good_frame()
    ds = data.from_csv(csv_bytes(frame), target="income")
    assert ds.task == "regression" and ds.class_names is None
    original = np.concatenate([ds.y_train, ds.y_test]) * ds.extra["y_std"] + ds.extra["y_mean"]
    np.testing.assert_allclose(np.sort(original), np.sort(frame["income"]), atol=1e-3)
    assert "label=yes" in ds.feature_names
    small_ints = pd.DataFrame({"x": np.arange(30) % 7 * 1.5, "grade": np.arange(30) % 4})
    assert data.from_csv(csv_bytes(small_ints)).task == "classification"
    assert data.from_csv(csv_bytes(small_ints), task="regression").task == "regression"
    with pytest.raises(ValueError, match="'label' is not numeric.*choose task='classification'"):
        data.from_csv(csv_bytes(frame), target="label", task="regression")


def test_inspect_csv_preview(tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes(good_frame()))
    preview = data.inspect_csv(str(path))
    assert preview.columns[-1] == preview.suggested_target == "label"
    assert preview.suggested_task == "classification" and preview.n_rows == 40
    assert preview.missing == {"id": 0, "name": 0, "age": 3, "color": 2, "income": 0,
                               "same": 0, "label": 1}
    assert preview.dtypes["color"] == "text" and preview.dtypes["income"] == "decimal"
    assert len(preview.head) == 5
    assert data.from_csv(path).name == "people"


def test_file_object_can_be_read_twice():
    handle = io.BytesIO(csv_bytes(good_frame()))
    data.inspect_csv(handle)
    assert data.from_csv(handle).n_train > 0


def test_semicolon_separated_file_is_understood():
    text = csv_bytes(good_frame()).decode().replace(",", ";")
    assert data.from_csv(text.encode()).n_features == 6


def test_mostly_numeric_text_column_is_read_as_numbers():
    frame = pd.DataFrame({"x": [str(i) for i in range(29)] + ["n/a?"], "y": np.arange(30) * 0.5})
    ds = data.from_csv(csv_bytes(frame))
    assert ds.feature_names == ["x"]
    assert "read 'x' as numbers; 1 entry that were not numbers became missing" in \
        ds.extra["preprocessing"]


def test_rare_class_falls_back_to_unstratified_split():
    frame = pd.DataFrame({"x": np.arange(30) * 0.1, "y": ["a"] * 15 + ["b"] * 14 + ["c"]})
    ds = data.from_csv(csv_bytes(frame))
    assert any(s.startswith("split without stratifying: a class has fewer than 2 rows")
               for s in ds.extra["preprocessing"])


TEN_ROWS = "a,b\n" + "".join(f"{i},{i % 2}\n" for i in range(10))


@pytest.mark.parametrize("content, kwargs, message", [
    (b"", {}, "The file is empty"),
    (b"  \n\n", {}, "The file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", {}, "looks like a binary file, not CSV text"),
    (b"PK\x03\x04rest-of-zip", {}, "looks like an Excel or zip file"),
    ("name,y\nJos\xe9,1\n".encode("latin-1"), {}, "not UTF-8 text"),
    (b"only\n1\n2\n3\n", {}, "only one column \\('only'\\)"),
    (b"a,b\n1,2\n3,4,5\n", {}, "do not all have the same number of fields.*line 3, saw 3"),
    (b"a,b,c\n", {}, "header row but no data rows"),
    (TEN_ROWS.encode(), {"target": "c"}, "Target column 'c' is not in the file; its columns "
                                         "are: a, b"),
    (("a,b\n" + "".join(f"{i},\n" for i in range(12))).encode(), {}, "'b' has no values"),
    (("a,b\n" + "".join(f"{i},1\n" for i in range(12))).encode(), {},
     "'b' has the same value \\(1\\) in every row"),
    (b"a,b\n1,0\n2,1\n3,0\n", {}, "Only 3 rows have a target value; at least 10"),
    (("a,b\n" + "".join(f"{i},{i % 2 if i < 8 else ''}\n" for i in range(12))).encode(), {},
     "Only 8 rows have a target value"),
    (TEN_ROWS.encode(), {"task": "ranking"}, "task must be 'classification', 'regression'"),
    (TEN_ROWS.encode(), {"test_size": 2}, "test_size must be a fraction between 0.05 and 0.95"),
    (("a,b\n" + "".join(f",{i % 2}\n" for i in range(12))).encode(), {},
     "No usable feature columns are left: dropped column 'a' \\(it has no values\\)"),
    (("a,b\n" + "".join(f"x{i},{i}.5\n" for i in range(60))).encode(), {"task": "classification"},
     "too many classes \\(limit 50\\)"),
])
def test_bad_csvs_are_rejected_with_clear_messages(content, kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.from_csv(content, **kwargs)


def test_limits_are_enforced(tmp_path):
    body = csv_bytes(good_frame(n=60))
    with pytest.raises(ValueError, match="larger than the 1,000 bytes limit"):
        data.from_csv(body, max_bytes=1000)
    with pytest.raises(ValueError, match="larger than the 20 MB limit"):
        data.from_csv(io.BytesIO(b"a,b\n" + b"1,2\n" * (6 * 2**20)))
    big = tmp_path / "big.csv"
    big.write_bytes(body)
    with pytest.raises(ValueError, match="larger than"):
        data.inspect_csv(big, max_bytes=1000)
    with pytest.raises(ValueError, match="more than 50 rows, the limit"):
        data.from_csv(body, max_rows=50)
    with pytest.raises(ValueError, match="Encoding gives 6 feature columns, more than the limit "
                                         "of 5"):
        data.from_csv(body, max_cols=5)
    levels = pd.DataFrame({"city": [f"c{i % 55}" for i in range(120)], "x": np.arange(120) % 9,
                           "y": np.arange(120) % 2})
    ds = data.from_csv(csv_bytes(levels))
    assert ds.feature_names == ["x"]
    assert ("dropped column 'city' (text with 55 different values; more than 50 is too many to "
            "one-hot encode)") in ds.extra["preprocessing"]
    assert upload.MAX_BYTES == 20 * 1024 * 1024 and upload.MAX_ROWS == 200_000


def test_missing_path_and_wrong_type():
    with pytest.raises(ValueError, match="No file found"):
        data.from_csv("/nonexistent/file.csv")
    with pytest.raises(TypeError):
        data.from_csv(12345)
    with pytest.raises(ValueError, match="pass the text as bytes"):
        data.from_csv("a,b\n1,2\n")
