"""The one dataset registry: every dataset has a name, a DatasetInfo card and a loader.

``load(name, **params)`` is the only way pages, the CLI and notebooks get data. Loaders are plain
functions whose keyword arguments are the dataset's parameters; the registry checks names and
values (one place, one set of messages) before calling them and records the full parameters,
defaults included, in ``Dataset.params`` so they can serve as a cache key.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from dataclasses import dataclass

from nnplay.data.dataset import TASKS, Dataset
from nnplay.data.prep import PARAM_CHECKS

KINDS = ("toy", "real", "sequence", "upload")


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is before loading it: enough to list it in a picker or the CLI."""

    name: str
    task: str                  # "classification" or "regression"
    kind: str                  # "toy", "real", "sequence" or "upload"
    n_samples: int             # rows at the default parameters (train + test)
    n_features: int            # inputs per example (for images: channels * height * width)
    n_classes: int | None      # None for regression
    source: str                # where the data comes from: "generated", "scikit-learn", ...
    description: str           # one or two sentences a learner finds useful
    online: bool = False       # read from a local copy of an online source: may be missing offline

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

    def one_line(self) -> str:
        """A single line for listings such as ``nnplay datasets``."""
        classes = f"{self.n_classes} classes" if self.n_classes else "regression"
        return (f"{self.name:<18} {self.kind:<8} {classes:<12} {self.n_samples:>6} x "
                f"{self.n_features:<5} {self.source:<13} {self.description}")

    @classmethod
    def from_dataset(cls, ds: Dataset, kind: str = "upload", source: str = "your file",
                     description: str | None = None) -> DatasetInfo:
        """A card for a Dataset built outside the registry, e.g. an uploaded CSV."""
        return cls(name=ds.name, task=ds.task, kind=kind, n_samples=ds.n_train + ds.n_test,
                   n_features=ds.n_features, n_classes=ds.n_classes, source=source,
                   description=ds.description if description is None else description)


_REGISTRY: dict[str, tuple[DatasetInfo, Callable[..., Dataset]]] = {}


def register(info: DatasetInfo, loader: Callable[..., Dataset] | None = None, *,
             replace: bool = False):
    """Add a dataset. Use as ``register(info, loader)`` or as a decorator ``@register(info)``.

    The loader takes the dataset's parameters as keyword arguments, each with a default, and
    returns a Dataset. Registering a taken name raises ValueError unless ``replace=True``.
    """
    def add(fn: Callable[..., Dataset]) -> Callable[..., Dataset]:
        if info.name in _REGISTRY and not replace:
            raise ValueError(f"A dataset named {info.name!r} is already registered; "
                             "pick another name or pass replace=True.")
        for param in inspect.signature(fn).parameters.values():
            if param.default is inspect.Parameter.empty:
                raise ValueError(f"Loader for {info.name!r} needs a default for "
                                 f"parameter {param.name!r}.")
        _REGISTRY[info.name] = (info, fn)
        return fn

    return add if loader is None else add(loader)


def list_datasets(kind: str | None = None) -> list[DatasetInfo]:
    """Cards of registered datasets, toy first, then real, sequence and upload; within a kind in
    registration order. Pass ``kind`` to list one kind only."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}.")
    infos = [info for info, _ in _REGISTRY.values() if kind is None or info.kind == kind]
    return sorted(infos, key=lambda info: KINDS.index(info.kind))


def _lookup(name: str) -> tuple[DatasetInfo, Callable[..., Dataset]]:
    if isinstance(name, str):
        for key in (name, name.strip(), name.strip().lower()):
            if key in _REGISTRY:
                return _REGISTRY[key]
    close = difflib.get_close_matches(str(name).strip().lower(), list(_REGISTRY), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"Unknown dataset {name!r}.{hint} Choose one of: {', '.join(_REGISTRY)}.")


def get_info(name: str) -> DatasetInfo:
    """The DatasetInfo card of a registered dataset."""
    return _lookup(name)[0]


def dataset_params(name: str) -> dict:
    """The parameters ``load(name, ...)`` accepts, with their defaults, e.g. for a settings form."""
    _, loader = _lookup(name)
    return {p.name: p.default for p in inspect.signature(loader).parameters.values()}


def load(name: str, **params) -> Dataset:
    """Load a registered dataset by name; same name and parameters give the same arrays.

    Raises ValueError for an unknown name, a parameter the dataset does not take, or a value
    out of range, with a message saying what to change.
    """
    info, loader = _lookup(name)
    accepted = dataset_params(info.name)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        takes = ", ".join(accepted) or "no parameters"
        raise ValueError(f"Dataset {info.name!r} does not take {', '.join(map(repr, unknown))}; "
                         f"it takes: {takes}.")
    full = {**accepted, **params}
    for key, check in PARAM_CHECKS.items():
        if key in full:
            full[key] = check(full[key])
    ds = loader(**full)
    ds.params = dict(full)
    # what rebuilds it: derived datasets (nnplay.data.derive) keep this and add their steps
    ds.extra["loaded_as"] = {"name": info.name, "params": dict(full)}
    if not ds.description:
        ds.description = info.description
    return ds
