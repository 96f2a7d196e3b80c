"""ModelRecord: everything about a model a learner made, except its weights.

One frozen record per model: the network (a ModelSpec), how it was trained (a TrainConfig, or
None for a model that was not trained by the Trainer), what it learned from (a DatasetRef), the
per-epoch history, the final metrics, the lesson that made it and when. With the weights, a
record rebuilds the model on any machine (``nnplay.models.modelio``); it is also what the model
pickers on later pages list, and what the run store keeps of a run.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from nnplay.data.ref import DatasetRef
from nnplay.jsonable import plain_json
from nnplay.models.registry import ModelSpec
from nnplay.train.config import TrainConfig

# The one vocabulary for "which lesson made this" (a record's lesson, a run's lesson): the
# lesson's page name, or where else the work was done.
LESSON_IDS = ("neuron", "backprop", "optimizers", "gradients", "playground", "training_lab",
              "cnn", "sequences", "transformer", "architectures", "evaluate", "explain",
              "bias_audit", "robustness", "compression", "export", "monitoring",
              "lab_mnist", "lab_transfer", "lab_sentiment", "why_now", "gnn", "federated",
              "gan", "green_ai", "applications")
OTHER_SOURCES = ("cli", "notebook", "upload")
SOURCES = LESSON_IDS + OTHER_SOURCES
STATUSES = ("completed", "early_stopped", "stopped", "diverged", "paused", "uploaded")


_plain = plain_json   # the older name, used across the engine


def check_source(source: str) -> str:
    """``source`` when it is a lesson id or another known source; ValueError naming them if not."""
    if source not in SOURCES:
        raise ValueError(f"Unknown lesson {source!r}; use one of {', '.join(SOURCES)}.")
    return source


@dataclass(frozen=True)
class ModelRecord:
    """A model's spec, training config, dataset reference, history, metrics, lesson and time."""

    name: str                                  # unique within a workspace
    spec: ModelSpec                            # family and builder settings
    dataset: DatasetRef                        # what it learned from
    lesson: str                                # the lesson id that made it (nnplay.lessons)
    train_config: TrainConfig | None = None    # None: not trained by the Trainer (e.g. uploaded)
    history: tuple = ()                        # per-epoch dicts, as the Trainer logs them
    metrics: dict = field(default_factory=dict)  # final test metrics, e.g. {"accuracy": 0.97}
    status: str = "completed"                  # how training ended
    created: float = field(default_factory=time.time)
    group: str = ""                            # models made together (a race) share a group
    run_id: int | None = None                  # its run in the run store, once saved

    def __post_init__(self):
        if not isinstance(self.spec, ModelSpec):
            object.__setattr__(self, "spec", ModelSpec.of(self.spec))
        if not isinstance(self.dataset, DatasetRef):
            raise ValueError("A model record's dataset is a DatasetRef (DatasetRef.of(dataset)).")
        check_source(self.lesson)
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}.")
        if self.train_config is not None and not isinstance(self.train_config, TrainConfig):
            raise ValueError("train_config must be a TrainConfig or None.")
        object.__setattr__(self, "history", tuple(_plain(dict(h)) for h in self.history))
        object.__setattr__(self, "metrics", _plain(dict(self.metrics)))

    def __hash__(self) -> int:
        return hash((self.name, self.created))

    @property
    def family(self) -> str:
        return self.spec.family

    def to_dict(self) -> dict:
        return {"name": self.name, "spec": self.spec.to_dict(), "dataset": self.dataset.to_dict(),
                "lesson": self.lesson,
                "train_config": None if self.train_config is None else self.train_config.to_dict(),
                "history": [dict(h) for h in self.history], "metrics": dict(self.metrics),
                "status": self.status, "created": self.created, "group": self.group,
                "run_id": self.run_id}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, allow_nan=False)

    @classmethod
    def from_dict(cls, d: dict) -> ModelRecord:
        """Rebuild from ``to_dict()`` output; bad content raises ValueError saying what."""
        if not isinstance(d, dict):
            raise ValueError("A model record is a JSON object.")
        try:
            config = d.get("train_config")
            return cls(name=str(d.get("name") or "model"), spec=ModelSpec.of(d.get("spec") or {}),
                       dataset=DatasetRef.from_dict(d.get("dataset") or {}),
                       lesson=d.get("lesson", "upload"),
                       train_config=None if config is None else TrainConfig.from_dict(config),
                       history=tuple(d.get("history") or ()), metrics=dict(d.get("metrics") or {}),
                       status=d.get("status", "completed"),
                       created=float(d.get("created") or time.time()),
                       group=str(d.get("group") or ""), run_id=d.get("run_id"))
        except (TypeError, AttributeError) as err:
            raise ValueError(f"The model record is damaged: {err}.") from None

    def __repr__(self) -> str:
        return (f"ModelRecord({self.name!r}, {self.spec.family} on {self.dataset.label}, "
                f"lesson={self.lesson!r})")
