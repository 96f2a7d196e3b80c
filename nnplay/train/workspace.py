"""The session workspace: every model a learner trains, on any page, with its data and history.

This is plain Python (no Streamlit) so it can be tested and used from notebooks; nnplay.ui keeps
one Workspace per browser session in st.session_state. Later pages (evaluate, explain, audit,
compress) list its models, so one model travels the whole path from training to production.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from torch import nn

from nnplay.data.dataset import Dataset


def input_kind(dataset: Dataset) -> str:
    """'tabular' for (n, features), 'image' for (n, C, H, W), 'sequence' for (n, T, ...) data."""
    ndim = len(dataset.input_shape)
    if ndim == 1:
        return "sequence" if dataset.X_train.dtype.kind in "iu" else "tabular"
    if ndim == 3:
        return "image"
    return "sequence"


@dataclass
class WorkspaceModel:
    """One trained model: the module, the dataset it learned from, its config and history."""

    name: str
    model: nn.Module
    dataset: Dataset
    config: dict                     # TrainConfig.to_dict() plus the builder's settings
    history: list[dict]
    source: str                      # the page (or "notebook", "upload") that made it
    family: str = "mlp"              # mlp | cnn | rnn | lstm | gru | transformer
    metrics: dict = field(default_factory=dict)
    created: float = field(default_factory=time.time)

    @property
    def task(self) -> str:
        return self.dataset.task

    @property
    def input_kind(self) -> str:
        return input_kind(self.dataset)

    def label(self) -> str:
        """A one-line description for pickers: name, family, dataset and headline metric."""
        metric = ""
        if "accuracy" in self.metrics:
            metric = f", test accuracy {self.metrics['accuracy']:.3f}"
        elif "r2" in self.metrics:
            metric = f", test R² {self.metrics['r2']:.3f}"
        return f"{self.name} ({self.family} on {self.dataset.name}{metric})"

    def __repr__(self) -> str:
        return f"WorkspaceModel({self.label()!r}, source={self.source!r})"


class Workspace:
    """An ordered collection of WorkspaceModel, keyed by unique name."""

    def __init__(self, max_models: int = 20):
        self.max_models = max_models
        self._models: dict[str, WorkspaceModel] = {}

    def add(self, name: str, model: nn.Module, dataset: Dataset, config: dict | None = None,
            history: list[dict] | None = None, source: str = "notebook", family: str = "mlp",
            metrics: dict | None = None) -> WorkspaceModel:
        """Register a trained model under a unique name (a suffix is added when taken).

        Beyond max_models the oldest model is dropped, so a long session cannot exhaust memory.
        """
        base = name.strip() or "model"
        unique, k = base, 2
        while unique in self._models:
            unique, k = f"{base} ({k})", k + 1
        entry = WorkspaceModel(unique, model, dataset, dict(config or {}), list(history or []),
                               source, family, dict(metrics or {}))
        self._models[unique] = entry
        while len(self._models) > self.max_models:
            self._models.pop(next(iter(self._models)))
        return entry

    def get(self, name: str) -> WorkspaceModel:
        if name not in self._models:
            raise KeyError(f"No model named {name!r} in this session.")
        return self._models[name]

    def remove(self, name: str) -> None:
        self._models.pop(name, None)

    def clear(self) -> None:
        self._models.clear()

    def list(self, task: str | None = None, kind: str | None = None) -> list[WorkspaceModel]:
        """Models, newest first, optionally only those for a task and an input kind."""
        out = [m for m in reversed(self._models.values())
               if (task is None or m.task == task) and (kind is None or m.input_kind == kind)]
        return out

    def __len__(self) -> int:
        return len(self._models)

    def __contains__(self, name: str) -> bool:
        return name in self._models

    def __repr__(self) -> str:
        return f"Workspace({list(self._models)})"
