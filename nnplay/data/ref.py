"""DatasetRef: what a model was trained on, small enough to save beside its weights.

A registered dataset is its registry name and loader parameters, plus the derivation steps a
lesson applied (``nnplay.data.derive``). A person's uploaded CSV cannot be fetched again, so its
reference keeps the file's SHA-256 and the preprocessing that turns its rows into model inputs
(feature columns, scaler, classes, target scale): the model's inputs can be rebuilt from the same
file, and a different file is refused by name. Data built in memory (a notebook's own Dataset)
is "custom": recorded by name and shape, and rebuilt only by passing that data back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from nnplay.data.dataset import Dataset

SOURCES = ("registry", "upload", "custom")


@dataclass(frozen=True)
class DatasetRef:
    """Enough to get a Dataset back: ``load()`` for registry data, ``load(csv)`` for an upload."""

    name: str                                   # registry name, or the uploaded file's name
    params: dict = field(default_factory=dict)  # loader (or from_csv) parameters
    source: str = "registry"                    # registry | upload | custom
    steps: tuple = ()                           # derivations after loading, oldest first
    sha256: str = ""                            # upload: the file's hash
    preprocessing: dict = field(default_factory=dict)  # upload: columns, scaler, classes, target

    def __post_init__(self):
        if self.source not in SOURCES:
            raise ValueError(f"A dataset's source is one of {', '.join(SOURCES)}, "
                             f"got {self.source!r}.")
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("A dataset reference needs the dataset's name.")
        object.__setattr__(self, "steps", tuple(dict(s) for s in self.steps))

    def __hash__(self) -> int:
        return hash(self.to_json())

    @classmethod
    def of(cls, dataset: Dataset) -> DatasetRef:
        """The reference of a Dataset made by ``data.load``, ``from_csv`` and ``derive`` steps."""
        steps = tuple(dataset.extra.get("steps", ()))
        if "upload" in dataset.extra:
            ex = dataset.extra
            prep = {"feature_names": list(dataset.feature_names),
                    "class_names": list(dataset.class_names or []), "target": ex.get("target"),
                    "scaler_mean": _floats(ex.get("scaler_mean")),
                    "scaler_std": _floats(ex.get("scaler_std")),
                    "y_mean": ex.get("y_mean"), "y_std": ex.get("y_std"),
                    "steps_taken": list(ex.get("preprocessing", []))}
            params = {**dataset.params, "sensitive": list(ex["upload"].get("sensitive") or [])}
            return cls(dataset.name, params, "upload", steps,
                       ex["upload"]["sha256"], prep)
        loaded = dataset.extra.get("loaded_as")
        if loaded is None:   # made in memory: remember what it looked like, not how to make it
            return cls(dataset.name or "data", {"input_shape": list(dataset.input_shape),
                                                "n_train": dataset.n_train, "task": dataset.task},
                       "custom", steps)
        return cls(loaded["name"], dict(loaded["params"]), "registry", steps)

    def load(self, csv=None) -> Dataset:
        """The Dataset again. An upload needs its CSV (bytes, a path or a file object)."""
        from nnplay import data
        from nnplay.data.derive import apply_steps

        if self.source == "custom":
            raise ValueError(f"The model was trained on {self.name!r}, data made in memory (not "
                             "nnplay's registry or a CSV); pass that dataset to load it.")
        if self.source == "registry":
            ds = data.load(self.name, **self.params)
        else:
            if csv is None:
                raise ValueError(f"This model was trained on your file {self.name!r}; upload "
                                 "that CSV as well to rebuild its data.")
            params = {k: v for k, v in self.params.items() if k != "sensitive"}
            ds = data.from_csv(csv, **params, sensitive=self.params.get("sensitive") or None,
                               name=self.name)
            if ds.extra["upload"]["sha256"] != self.sha256:
                raise ValueError(f"That CSV is not the file {self.name!r} this model was trained "
                                 "on (its contents differ); upload the same file.")
        return apply_steps(ds, self.steps)

    @property
    def label(self) -> str:
        """A short description: 'digits', 'moons (features x1, x1_sq)', 'my.csv (your file)'."""
        text = self.name + {"upload": " (your file)", "custom": " (in memory)"}.get(self.source, "")
        notes = []
        for step in self.steps:
            if step.get("op") == "subsample_train":
                notes.append(f"{step['n_rows']} training rows")
            elif step.get("op") == "features":
                notes.append("features " + ", ".join(step["features"]))
            elif step.get("op") == "shuffle_pixels":
                notes.append("pixels shuffled")
        return text + (f" ({'; '.join(notes)})" if notes else "")

    def to_dict(self) -> dict:
        return {"name": self.name, "params": dict(self.params), "source": self.source,
                "steps": [dict(s) for s in self.steps], "sha256": self.sha256,
                "preprocessing": dict(self.preprocessing)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, default=str)

    @classmethod
    def from_dict(cls, d: dict) -> DatasetRef:
        if not isinstance(d, dict):
            raise ValueError("A dataset reference is a JSON object with a name and params.")
        return cls(d.get("name", ""), dict(d.get("params") or {}), d.get("source", "registry"),
                   tuple(d.get("steps") or ()), d.get("sha256", ""),
                   dict(d.get("preprocessing") or {}))

    def __repr__(self) -> str:
        return f"DatasetRef({self.label!r})"


def _floats(values) -> list[float] | None:
    return None if values is None else [float(v) for v in np.asarray(values).ravel()]
