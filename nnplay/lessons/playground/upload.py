"""Your own 2-D data in the Playground: two numeric columns of a CSV as the plane's x1 and x2 and
a label column (classes, or a number to regress), as a Dataset the input features apply to.

The file goes through ``nnplay.data.from_csv`` (text only: nothing is evaluated or unpickled;
size and row limits), so the Dataset's reference keeps the file's SHA-256 and a model saved from
it needs the same CSV again. ``derive.plane_columns`` then keeps the two chosen columns, each
standardised with the training split's mean and standard deviation and doubled, so that three
standard deviations reach the plane's -6..6 edge: the range the toy sets and the input features
(squares, sines) are made for. ``plane_notes`` says all of this to the learner.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from nnplay import data
from nnplay.data import derive
from nnplay.data.dataset import Dataset
from nnplay.data.upload import inspect_csv
from nnplay.lessons.playground.settings import DATASETS, PlaygroundSettings

MAX_PLANE_ROWS = 5_000          # live training redraws several times a second (TFP draws 500)
MAX_PLANE_BYTES = 5 * 2**20
MAX_PLANE_CLASSES = 5           # the plane has five class colours
PLANE_SCALE = 2.0               # standardised x times 2: +-3 standard deviations span -6..6
NUMERIC = ("integer", "decimal")


@dataclass(frozen=True)
class PlaneCsv:
    """An uploaded CSV before its columns are chosen: bytes, name, hash and column kinds."""

    name: str
    content: bytes = field(repr=False)
    sha256: str
    columns: tuple[str, ...]
    numeric: tuple[str, ...]       # columns that can be x1 or x2
    n_rows: int

    def suggested(self) -> tuple[str, str, str]:
        """x1, x2 and label to start with: the last column is the label unless the file has only
        two numeric columns (then those are x1, x2); the first two numeric others are x1, x2."""
        label = self.columns[-1]
        if len(self.numeric) == 2 and label in self.numeric:
            label = next(c for c in self.columns if c not in self.numeric)
        x1, x2 = [c for c in self.numeric if c != label][:2]
        return x1, x2, label

    def __repr__(self) -> str:
        return f"PlaneCsv({self.name!r}, rows={self.n_rows}, numeric={list(self.numeric)})"


def read_plane_csv(content: bytes, name: str = "upload.csv") -> PlaneCsv:
    """Check a CSV can feed the plane (two numeric columns and a third for the label, at most
    MAX_PLANE_ROWS rows); ValueError saying what to change when it cannot."""
    content = bytes(content)
    preview = inspect_csv(content, max_bytes=MAX_PLANE_BYTES, max_rows=MAX_PLANE_ROWS)
    numeric = tuple(c for c in preview.columns if preview.dtypes[c] in NUMERIC)
    text = [c for c in preview.columns if c not in numeric]
    if len(numeric) < 2:
        found = f" (text columns: {', '.join(text)})" if text else ""
        raise ValueError(f"The plane needs two numeric columns for x1 and x2; this file has "
                         f"{len(numeric)}{found}. Upload a CSV with at least two columns of "
                         "numbers and a label column.")
    if len(preview.columns) < 3:
        raise ValueError("The file has only two columns; add a third for the label (a class or "
                         "a number) besides x1 and x2.")
    return PlaneCsv(name=name, content=content, sha256=hashlib.sha256(content).hexdigest(),
                    columns=tuple(preview.columns), numeric=numeric, n_rows=preview.n_rows)


def plane_key(csv: PlaneCsv, x1: str, x2: str, label: str) -> str:
    """What ``PlaygroundSettings.upload`` holds: the file and columns a person can read, then
    the start of the file's hash (a link shows which file it needs, never the file)."""
    return f"{csv.name}: {x1}, {x2} → {label} · sha256 {csv.sha256[:12]}"


def load_plane(csv: PlaneCsv, x1: str, x2: str, label: str, problem: str = "classification",
               test_size: float = 0.5, seed: int = 0) -> Dataset:
    """The Dataset of 2-D points (x1, x2) with the label column as target, split and scaled as
    the module docstring says; ValueError with what to change when the choice cannot work."""
    if problem not in DATASETS:
        raise ValueError(f"problem must be classification or regression, got {problem!r}.")
    for role, column in (("x1", x1), ("x2", x2)):
        if column not in csv.numeric:
            raise ValueError(f"{role} must be a numeric column; {column!r} is not. Numeric "
                             f"columns: {', '.join(csv.numeric)}.")
    if len({x1, x2, label}) < 3:
        raise ValueError("Choose three different columns for x1, x2 and the label.")
    if label not in csv.columns:
        raise ValueError(f"The label column {label!r} is not in the file.")
    if problem == "regression" and label not in csv.numeric:
        raise ValueError(f"The label {label!r} holds text, so there is no number to regress; "
                         "pick a numeric label or switch the problem type to classification.")
    table = data.from_csv(csv.content, target=label, task=problem, test_size=test_size,
                          seed=seed, max_bytes=MAX_PLANE_BYTES, max_rows=MAX_PLANE_ROWS,
                          name=csv.name)
    if problem == "classification" and table.n_classes > MAX_PLANE_CLASSES:
        raise ValueError(f"The label {label!r} has {table.n_classes} different values; the plane "
                         f"shows at most {MAX_PLANE_CLASSES} classes. Pick another label column, "
                         "or regression for a numeric label.")
    dropped = [note for note in table.extra.get("preprocessing", [])
               if note.startswith("dropped column") and (repr(x1) in note or repr(x2) in note)]
    if dropped:
        raise ValueError(f"The CSV reader {dropped[0]}, so it cannot be a coordinate; choose "
                         "another column.")
    return derive.plane_columns(table, [x1, x2], PLANE_SCALE)


def plane_notes(raw: Dataset) -> list[str]:
    """What happened to the file on its way to the plane, for a person, one sentence each."""
    x1, x2 = raw.extra["plane_columns"]
    target = raw.extra.get("target")
    names = {repr(x1), repr(x2), repr(target)}
    notes = [f"x1 is column {x1!r} and x2 is column {x2!r}, each standardised with the training "
             f"split's mean and standard deviation and multiplied by {raw.extra['plane_scale']:g}, "
             "so 3 standard deviations either side of the mean reach the plane's -6..6 edge."]
    extent = raw.extra["xlim"][1]
    if extent > 6:
        notes[0] += f" The plane reaches ±{extent:g} to show the points further out."
    for note in raw.extra.get("preprocessing", []):
        if note.startswith("standardised ") and "features" in note:
            continue        # about the whole table; the sentence above says what x1, x2 got
        if any(name in note for name in names) or "split" in note:
            notes.append(note[0].upper() + note[1:] + ".")
    classes = f"classes {', '.join(raw.class_names)}" if raw.class_names else "a number"
    notes.append(f"{raw.n_train + raw.n_test} points ({raw.n_train} for training); the label "
                 f"{target!r} is {classes}.")
    return notes


def plane_settings(settings: PlaygroundSettings, csv: PlaneCsv, x1: str, x2: str,
                   label: str) -> PlaygroundSettings:
    """The settings with the CSV's columns as their dataset."""
    return settings.replace(dataset="upload", upload=plane_key(csv, x1, x2, label))
