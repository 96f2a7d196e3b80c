"""The session workspace: every model a learner makes, on any page, with its record and data.

This is plain Python (no Streamlit) so it can be tested and used from notebooks; nnplay.ui keeps
one Workspace per browser session in st.session_state. Later pages (evaluate, explain, audit,
compress) list its models, so one model travels the whole path from training to production.

``Workspace.register`` is the one way in. Models stay until the learner removes them, within a
memory budget (the bytes of their weights; memory several models share counts once); when a new
model does not fit, the oldest unpinned models (a whole group at a time: a race's models go
together) are dropped and named in
``last_dropped`` so the page can say which went. Pinned models are never dropped: when only
pinned models are left, registering raises WorkspaceFull with what to do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from torch import nn

from nnplay.data.dataset import Dataset
from nnplay.data.ref import DatasetRef
from nnplay.models.registry import ModelSpec
from nnplay.train.config import TrainConfig
from nnplay.train.record import ModelRecord

BUDGET_BYTES = 256 * 2**20   # weights kept per session: ~67 M float32 parameters
MAX_MODELS = 100             # a list longer than this is not usable in a picker anyway


class WorkspaceFull(ValueError):  # noqa: N818  (a person's message, like the other ValueErrors)
    """A model does not fit in the budget and every other model is pinned."""


def input_kind(dataset: Dataset) -> str:
    """'tabular' for (n, features), 'image' for (n, C, H, W), 'sequence' for (n, T, ...) data."""
    ndim = len(dataset.input_shape)
    if ndim == 1:
        return "sequence" if dataset.X_train.dtype.kind in "iu" else "tabular"
    if ndim == 3:
        return "image"
    return "sequence"


def model_bytes(model: nn.Module) -> int:
    """Bytes of a model's parameters and buffers."""
    return sum(t.numel() * t.element_size() for t in (*model.parameters(), *model.buffers()))


def weight_memory(*models: nn.Module) -> dict[tuple, int]:
    """The memory the models' parameters and buffers use, by (device, address): a weight that
    several models share (frozen text models share their pretrained encoder) counts once."""
    held: dict[tuple, int] = {}
    for model in models:
        for t in (*model.parameters(), *model.buffers()):
            key = (str(t.device), t.untyped_storage().data_ptr())
            held[key] = max(held.get(key, 0), t.untyped_storage().nbytes())
    return held


@dataclass
class WorkspaceModel:
    """One model in the workspace: its record, the module itself and the data it learned from."""

    record: ModelRecord
    model: nn.Module = field(repr=False)
    dataset: Dataset = field(repr=False)
    pinned: bool = False
    # What later lessons measured on this model, by lesson id ("bias_audit", "robustness",
    # "compression", ...): plain JSON-able summaries, read by the model card.
    findings: dict[str, dict] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def spec(self) -> ModelSpec:
        return self.record.spec

    @property
    def family(self) -> str:
        return self.record.spec.family

    @property
    def lesson(self) -> str:
        return self.record.lesson

    @property
    def train_config(self) -> TrainConfig | None:
        return self.record.train_config

    @property
    def history(self) -> list[dict]:
        return list(self.record.history)

    @property
    def metrics(self) -> dict:
        return dict(self.record.metrics)

    @property
    def group(self) -> str:
        return self.record.group

    @property
    def task(self) -> str:
        return self.dataset.task

    @property
    def input_kind(self) -> str:
        return input_kind(self.dataset)

    @property
    def nbytes(self) -> int:
        return model_bytes(self.model)

    def label(self) -> str:
        """A one-line description for pickers: name, family, dataset and headline metric."""
        metric = ""
        if self.metrics.get("accuracy") is not None:
            metric = f", test accuracy {self.metrics['accuracy']:.3f}"
        elif self.metrics.get("r2") is not None:
            metric = f", test R² {self.metrics['r2']:.3f}"
        return f"{self.name} ({self.family} on {self.record.dataset.label}{metric})"

    def __repr__(self) -> str:
        return f"WorkspaceModel({self.label()!r}, lesson={self.lesson!r}, pinned={self.pinned})"


class Workspace:
    """An ordered collection of WorkspaceModel, keyed by unique name, within a memory budget."""

    def __init__(self, budget_bytes: int = BUDGET_BYTES, max_models: int = MAX_MODELS):
        self.budget_bytes, self.max_models = int(budget_bytes), int(max_models)
        self._models: dict[str, WorkspaceModel] = {}
        self.last_dropped: list[str] = []

    # ---- the one way in -------------------------------------------------------------------------
    def register(self, model: nn.Module, dataset: Dataset, spec: ModelSpec | dict, lesson: str,
                 name: str = "", train_config: TrainConfig | None = None, history=(),
                 metrics: dict | None = None, status: str = "completed", group: str = "",
                 run_id: int | None = None, pinned: bool = False) -> WorkspaceModel:
        """Add a model under a unique name (a suffix is added when taken); returns its entry.

        Makes room within the budget first (see the module docstring); ``last_dropped`` names
        what went. ValueError for a record that does not hold (unknown lesson, bad spec).
        """
        spec = ModelSpec.of(spec)
        base = (name or f"{spec.family} on {dataset.name}").strip() or "model"
        record = ModelRecord(self._unique(base), spec, DatasetRef.of(dataset), lesson,
                             train_config, tuple(history or ()), dict(metrics or {}), status,
                             time.time(), group, run_id)
        return self.add_record(record, model, dataset, pinned)

    def add_record(self, record: ModelRecord, model: nn.Module, dataset: Dataset,
                   pinned: bool = False) -> WorkspaceModel:
        """Add a model whose record already exists (an upload); renamed when the name is taken."""
        if record.name in self._models:
            from dataclasses import replace

            record = replace(record, name=self._unique(record.name))
        entry = WorkspaceModel(record, model, dataset, pinned)
        self.last_dropped = self._make_room(entry)
        self._models[record.name] = entry
        return entry

    def _unique(self, base: str) -> str:
        unique, k = base, 2
        while unique in self._models:
            unique, k = f"{base} ({k})", k + 1
        return unique

    def _make_room(self, new: WorkspaceModel) -> list[str]:
        """Drop the oldest unpinned groups until ``new`` fits; returns the names dropped."""
        need = sum(weight_memory(new.model).values())
        if need > self.budget_bytes:
            raise WorkspaceFull(f"{new.name} needs {need / 2**20:.0f} MiB, more than this "
                                f"session's whole budget of {self.budget_bytes / 2**20:.0f} MiB.")

        def over() -> bool:   # memory shared with a kept model counts once
            kept = [m.model for m in self._models.values()]
            return (sum(weight_memory(*kept, new.model).values()) > self.budget_bytes
                    or len(self._models) + 1 > self.max_models)

        victims: list[str] = []
        order = [m for m in self._models.values() if not m.pinned]
        while over():
            if not order:
                pinned = ", ".join(m.name for m in self._models.values() if m.pinned)
                raise WorkspaceFull(
                    f"This session's models fill its budget ({self.budget_bytes / 2**20:.0f} MiB "
                    f"of weights, at most {self.max_models} models) and the rest are pinned "
                    f"({pinned}); unpin or remove one, then save this model again.")
            oldest = order[0]
            members = [m for m in order if oldest.group and m.group == oldest.group] or [oldest]
            for m in members:
                order.remove(m)
                self._models.pop(m.name)
                victims.append(m.name)
        return victims

    # ---- reading and managing ---------------------------------------------------------------------
    def add_finding(self, name: str, lesson: str, summary: dict) -> None:
        """Keep what ``lesson`` measured on model ``name`` (replacing its earlier finding)."""
        from nnplay.train.record import SOURCES, _plain

        if lesson not in SOURCES:
            raise ValueError(f"unknown lesson {lesson!r}; one of {', '.join(SOURCES)}.")
        self.get(name).findings[lesson] = _plain(dict(summary))

    def get(self, name: str) -> WorkspaceModel:
        if name not in self._models:
            raise KeyError(f"No model named {name!r} in this session.")
        return self._models[name]

    def remove(self, name: str) -> None:
        self._models.pop(name, None)

    def pin(self, name: str, pinned: bool = True) -> None:
        """A pinned model is never dropped to make room."""
        self.get(name).pinned = bool(pinned)

    def clear(self) -> None:
        self._models.clear()

    def list(self, task: str | None = None, kind: str | None = None,
             lesson: str | None = None) -> list[WorkspaceModel]:
        """Models, newest first, optionally only those for a task, an input kind or a lesson."""
        return [m for m in reversed(self._models.values())
                if (task is None or m.task == task) and (kind is None or m.input_kind == kind)
                and (lesson is None or m.lesson == lesson)]

    def group(self, group: str) -> list[WorkspaceModel]:
        """The models registered together under ``group``, oldest first."""
        return [m for m in self._models.values() if group and m.group == group]

    @property
    def total_bytes(self) -> int:
        """The weights' memory, a weight shared by several models counted once."""
        return sum(weight_memory(*(m.model for m in self._models.values())).values())

    def __len__(self) -> int:
        return len(self._models)

    def __contains__(self, name: str) -> bool:
        return name in self._models

    def __repr__(self) -> str:
        return (f"Workspace({list(self._models)}, {self.total_bytes / 2**20:.1f} of "
                f"{self.budget_bytes / 2**20:.0f} MiB)")
