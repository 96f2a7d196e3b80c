"""A person's CSV file turned into a Dataset, with every preprocessing step written down.

``inspect_csv`` previews a file (columns, types, missing values, a suggested target and task);
``from_csv`` builds the Dataset. Each step taken (rows dropped, gaps filled, text one-hot encoded,
columns dropped, features standardised) is a sentence in ``extra["preprocessing"]``, so a page can
show exactly what happened. Anything wrong with the file raises ValueError saying what to fix.
Only text is parsed: nothing is evaluated or unpickled. Medians and the scaler come from the
train split only, so the test split stays unseen.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nnplay.data.dataset import TASKS, Dataset
from nnplay.data.prep import (
    check_seed,
    check_test_size,
    split_indices,
    standardise,
    standardise_target,
)

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
MAX_COLS = 500
MIN_ROWS = 10
MAX_CATEGORY_LEVELS = 50    # text columns with more levels are dropped, not one-hot encoded
MAX_CLASSES = 50
MAX_CLASSIFICATION_LEVELS = 20   # a whole-number target with at most this many values is a class


@dataclass(frozen=True)
class CsvPreview:
    """What a CSV holds before it becomes a Dataset, for a page to show and pre-fill choices."""

    columns: list[str]
    dtypes: dict[str, str]          # column -> "integer", "decimal", "true/false" or "text"
    missing: dict[str, int]         # column -> number of empty cells
    n_rows: int
    suggested_target: str           # the last column
    suggested_task: str             # "classification" or "regression", for the suggested target
    head: pd.DataFrame = field(repr=False)   # first rows, for display


def _too_big(max_bytes: int) -> ValueError:
    limit = f"{max_bytes / 2**20:.0f} MB" if max_bytes >= 2**20 else f"{max_bytes:,} bytes"
    return ValueError(f"The file is larger than the {limit} limit; upload a sample of its rows "
                      "instead.")


def _read_bytes(source, max_bytes: int) -> tuple[bytes, str | None]:
    """The raw bytes of bytes, a path, or a file-like object (e.g. Streamlit's UploadedFile)."""
    name = None
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if "\n" in path:
            raise ValueError("Got CSV text where a file path was expected; pass the text as "
                             "bytes, e.g. text.encode().")
        if not os.path.isfile(path):
            raise ValueError(f"No file found at {path!r}.")
        if os.path.getsize(path) > max_bytes:
            raise _too_big(max_bytes)   # without reading it into memory
        with open(path, "rb") as handle:
            data = handle.read()
        name = path
    elif hasattr(source, "read"):
        if hasattr(source, "seek"):
            source.seek(0)   # a file already read once (by inspect_csv) reads again from the start
        data = source.read(max_bytes + 1)
        data = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        name = getattr(source, "name", None)
    else:
        raise TypeError(f"Expected bytes, a file path or a file object, got {type(source).__name__}.")
    if len(data) > max_bytes:
        raise _too_big(max_bytes)
    stem = os.path.splitext(os.path.basename(str(name)))[0] if name else None
    return data, stem


def _decode(data: bytes) -> str:
    if not data.strip():
        raise ValueError("The file is empty; upload a CSV with a header row and data rows.")
    if data.startswith(b"PK\x03\x04"):
        raise ValueError("This looks like an Excel or zip file, not CSV text; export it as CSV.")
    if b"\0" in data:
        raise ValueError("This looks like a binary file, not CSV text; upload a comma-separated "
                         "text file.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(f"The file is not UTF-8 text (unreadable byte at position {err.start}); "
                         "save it as 'CSV UTF-8' and upload it again.") from None


def _parse(text: str, max_rows: int, sep: str = ",") -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, nrows=max_rows + 1)
    except pd.errors.EmptyDataError:
        raise ValueError("The file is empty; upload a CSV with a header row and data rows.") \
            from None
    except pd.errors.ParserError as err:
        detail = re.sub(r"^.*C error: ", "", str(err)).strip()
        raise ValueError(f"The rows do not all have the same number of fields ({detail}); check "
                         "for unquoted commas inside values or a broken line.") from None
    first_line = text.splitlines()[0] if text else ""
    if frame.shape[1] == 1 and sep == ",":
        for other in (";", "\t"):
            if other in first_line:   # European-style or tab-separated export
                return _parse(text, max_rows, sep=other)
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.shape[1] < 2:
        raise ValueError(f"The file has only one column ({frame.columns[0]!r}); it needs at least "
                         "one feature column and a target column, separated by commas.")
    if len(frame) > max_rows:
        raise ValueError(f"The file has more than {max_rows:,} rows, the limit; upload a sample "
                         "of its rows instead.")
    if len(frame) == 0:
        raise ValueError("The file has a header row but no data rows.")
    return frame


def _read_frame(source, max_bytes: int, max_rows: int) -> tuple[pd.DataFrame, str | None, str]:
    data, stem = _read_bytes(source, max_bytes)
    return _parse(_decode(data), max_rows), stem, hashlib.sha256(data).hexdigest()


def _kind(column: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(column):
        return "true/false"
    if pd.api.types.is_integer_dtype(column):
        return "integer"
    if pd.api.types.is_numeric_dtype(column):
        return "decimal"
    return "text"


def _infer_task(target: pd.Series) -> str:
    """Whole numbers with few distinct values, booleans and text are classes; else regression."""
    values = target.dropna()
    if _kind(values) == "text" or _kind(values) == "true/false":
        return "classification"
    whole = bool(np.all(np.mod(values.to_numpy(dtype=float), 1) == 0))
    return "classification" if whole and values.nunique() <= MAX_CLASSIFICATION_LEVELS \
        else "regression"


def inspect_csv(source, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS) -> CsvPreview:
    """Preview a CSV (bytes, path or file object) without building a Dataset."""
    frame, _, _ = _read_frame(source, max_bytes, max_rows)
    target = frame.columns[-1]
    return CsvPreview(columns=list(frame.columns),
                      dtypes={c: _kind(frame[c]) for c in frame.columns},
                      missing={c: int(frame[c].isna().sum()) for c in frame.columns},
                      n_rows=len(frame), suggested_target=target,
                      suggested_task=_infer_task(frame[target]), head=frame.head(5))


def _encode_target(y: pd.Series, task: str, target: str):
    """Class indices and names, or float values, for the target column."""
    if task == "regression":
        if _kind(y) in ("text", "true/false"):
            raise ValueError(f"Target {target!r} is not numeric, so it cannot be a regression "
                             "target; choose task='classification'.")
        return y.to_numpy(dtype=np.float32), None
    classes = sorted(y.unique(), key=lambda v: (isinstance(v, str), v))
    if len(classes) > MAX_CLASSES:
        raise ValueError(f"Target {target!r} has {len(classes)} different values, too many "
                         f"classes (limit {MAX_CLASSES}); for a numeric target choose "
                         "task='regression', or pick another target column.")
    codes = pd.Categorical(y, categories=classes).codes.astype(np.int64)
    names = [str(int(v)) if isinstance(v, float) and float(v).is_integer() else str(v)
             for v in classes]
    return codes, names


def _plural(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {plural or noun + 's'}"


def _row_number_columns(frame: pd.DataFrame) -> set[str]:
    """Columns that just number the rows (1, 2, 3, ... in file order): no information, only
    a way to memorise rows."""
    return {name for name in frame.columns
            if pd.api.types.is_integer_dtype(frame[name]) and len(frame) > 1
            and np.all(np.diff(frame[name].to_numpy()) == 1)}


def _plan_features(features: pd.DataFrame, row_numbers: set[str],
                   notes: list[str]) -> dict[str, str]:
    """Decide per column: 'numeric', 'categorical' or dropped (with a note saying why)."""
    plan = {}
    n_rows = len(features)
    for name in features.columns:
        column = features[name]
        values = column.dropna()
        if name in row_numbers:
            notes.append(f"dropped column {name!r} (a row number: consecutive whole numbers, "
                         "one per row)")
            continue
        if values.empty:
            notes.append(f"dropped column {name!r} (it has no values)")
            continue
        if values.nunique() == 1:
            notes.append(f"dropped column {name!r} (the same value in every row)")
            continue
        kind = _kind(values)
        if kind == "text":
            as_numbers = pd.to_numeric(values, errors="coerce")
            if as_numbers.notna().mean() >= 0.9:   # mostly numbers with a few typos like "n/a"
                bad = int(as_numbers.isna().sum())
                features[name] = pd.to_numeric(column, errors="coerce")
                notes.append(f"read {name!r} as numbers; {_plural(bad, 'entry', 'entries')} that "
                             "were not numbers became missing")
                kind = "decimal"
        if kind == "text":
            levels = values.nunique()
            if levels == n_rows:
                notes.append(f"dropped column {name!r} (all values unique text, like an id)")
            elif levels > MAX_CATEGORY_LEVELS:
                notes.append(f"dropped column {name!r} (text with {levels} different values; "
                             f"more than {MAX_CATEGORY_LEVELS} is too many to one-hot encode)")
            else:
                plan[name] = "categorical"
            continue
        plan[name] = "numeric"
    return plan


def _build_features(features: pd.DataFrame, plan: dict[str, str], train: np.ndarray,
                    notes: list[str]) -> pd.DataFrame:
    """Fill gaps (train medians, or a 'missing' category) and one-hot encode text columns."""
    parts = []
    for name, kind in plan.items():
        column = features[name]
        n_missing = int(column.isna().sum())
        if kind == "numeric":
            column = column.astype(float)
            if n_missing:
                median = float(column.iloc[train].median())
                column = column.fillna(median)
                notes.append(f"filled {_plural(n_missing, 'missing value')} in {name!r} with the median "
                             f"{median:g} of the training split")
            parts.append(column.rename(name))
        else:
            column = column.astype(str).where(column.notna(), "missing")
            if n_missing:
                notes.append(f"filled {_plural(n_missing, 'missing value')} in {name!r} with the category "
                             "'missing'")
            encoded = pd.get_dummies(column, prefix=name, prefix_sep="=", dtype=float)
            notes.append(f"one-hot encoded {name!r} into {encoded.shape[1]} columns")
            parts.append(encoded)
    return pd.concat(parts, axis=1)


def from_csv(source, target: str | None = None, task: str | None = None,
             test_size: float = 0.25, seed: int = 0, max_bytes: int = MAX_BYTES,
             max_rows: int = MAX_ROWS, max_cols: int = MAX_COLS,
             name: str | None = None, sensitive: Sequence[str] | None = None) -> Dataset:
    """Build a Dataset from a CSV given as bytes, a path, or a file object.

    ``target`` defaults to the last column; ``task`` ("classification" or "regression") is
    inferred from the target when None. Features are standardised (and a regression target too)
    with train-split statistics; steps are listed in ``extra["preprocessing"]``.
    ``sensitive`` names columns (e.g. ["sex"]) whose raw values are also kept, row-aligned with
    the split, in ``extra["sensitive_train"]`` / ``extra["sensitive_test"]`` (DataFrames) for
    fairness audits, as the bundled german_credit does; they stay model features too.
    """
    test_size, seed = check_test_size(test_size), check_seed(seed)
    if task is not None and task not in TASKS:
        raise ValueError(f"task must be 'classification', 'regression' or None (infer it), "
                         f"got {task!r}.")
    frame, stem, sha256 = _read_frame(source, max_bytes, max_rows)
    target = frame.columns[-1] if target is None else str(target).strip()
    if target not in frame.columns:
        raise ValueError(f"Target column {target!r} is not in the file; its columns are: "
                         f"{', '.join(frame.columns)}.")
    sensitive = [str(c).strip() for c in (sensitive or [])]
    for column in sensitive:
        if column not in frame.columns or column == target:
            raise ValueError(f"Sensitive column {column!r} must be one of the file's columns "
                             f"other than the target {target!r}.")
    notes: list[str] = []
    row_numbers = _row_number_columns(frame)   # judged on the file as read, before dropping rows
    n_missing_target = int(frame[target].isna().sum())
    if n_missing_target == len(frame):
        raise ValueError(f"Target column {target!r} has no values.")
    if n_missing_target:
        frame = frame[frame[target].notna()].reset_index(drop=True)
        notes.append(f"dropped {_plural(n_missing_target, 'row')} whose target {target!r} was "
                     "missing")
    if len(frame) < MIN_ROWS:
        raise ValueError(f"Only {len(frame)} rows have a target value; at least {MIN_ROWS} are "
                         "needed to train and test.")
    y_column = frame[target]
    if y_column.nunique() == 1:
        raise ValueError(f"Target column {target!r} has the same value ({y_column.iloc[0]}) in "
                         "every row, so there is nothing to predict; pick another target.")
    task = task or _infer_task(y_column)
    y, class_names = _encode_target(y_column, task, target)

    features = frame.drop(columns=[target])
    plan = _plan_features(features, row_numbers, notes)
    n_out = sum(1 if k == "numeric" else features[c].nunique() + features[c].isna().any()
                for c, k in plan.items())
    if not plan:
        raise ValueError("No usable feature columns are left: " + "; ".join(notes) + ".")
    if n_out > max_cols:
        raise ValueError(f"Encoding gives {n_out} feature columns, more than the limit of "
                         f"{max_cols}; drop some text columns or raise max_cols.")
    train, test, split_note = split_indices(y, test_size, seed,
                                            stratify=task == "classification")
    encoded = _build_features(features, plan, train, notes)
    X = encoded.to_numpy(dtype=np.float64)
    X_train, X_test, mean, std = standardise(X[train], X[test])
    n_numeric = sum(k == "numeric" for k in plan.values())
    notes.append(f"standardised {X.shape[1]} features ({n_numeric} numeric, "
                 f"{X.shape[1] - n_numeric} one-hot) with the mean and std of the training split")
    if split_note:
        notes.append(split_note)
    extra = {"preprocessing": notes, "scaler_mean": mean, "scaler_std": std, "target": target,
             "upload": {"sha256": sha256, "sensitive": sensitive}}
    if sensitive:
        extra["sensitive_columns"] = sensitive
        extra["sensitive_train"] = frame[sensitive].iloc[train].reset_index(drop=True)
        extra["sensitive_test"] = frame[sensitive].iloc[test].reset_index(drop=True)
    y_train, y_test = y[train], y[test]
    if task == "regression":
        y_train, y_test, extra["y_mean"], extra["y_std"] = standardise_target(y_train, y_test)
        notes.append(f"standardised the target {target!r} (mean {extra['y_mean']:.4g}, std "
                     f"{extra['y_std']:.4g}); original units = y * y_std + y_mean")
    return Dataset(name=name or stem or "upload", X_train=X_train, y_train=y_train,
                   X_test=X_test, y_test=y_test, task=task,
                   feature_names=[str(c) for c in encoded.columns], class_names=class_names,
                   description=f"Your CSV: {len(frame)} rows, predicting {target!r} "
                               f"({task}) from {X.shape[1]} features.",
                   params={"target": target, "task": task, "test_size": test_size, "seed": seed},
                   extra=extra)
