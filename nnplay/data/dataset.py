"""The Dataset container every loader returns and every model, trainer and page consumes."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TASKS = ("classification", "regression")


@dataclass
class Dataset:
    """Train and test arrays plus what a learner needs to read them.

    X arrays are float32 of shape (n, n_features) for tabular/2-D data, (n, C, H, W) for images,
    (n, T, F) for sequences, or int64 token ids (n, T). y is int64 class indices for
    classification (shape (n,), or (n, T) for one target per token) and float32 of shape (n,)
    for regression.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: str
    feature_names: list[str]
    class_names: list[str] | None = None
    description: str = ""
    params: dict = field(default_factory=dict)   # the arguments that made it (for caching, export)
    extra: dict = field(default_factory=dict)    # side columns, e.g. sensitive attributes per split

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")

    @property
    def n_features(self) -> int:
        """Number of input features (for images: channels*height*width)."""
        return int(np.prod(self.X_train.shape[1:]))

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one example, e.g. (2,) or (1, 28, 28)."""
        return tuple(self.X_train.shape[1:])

    @property
    def n_classes(self) -> int | None:
        return len(self.class_names) if self.task == "classification" and self.class_names else None

    @property
    def n_outputs(self) -> int:
        """Output units a model needs: classes for classification, 1 for regression."""
        return self.n_classes if self.task == "classification" else 1

    @property
    def n_train(self) -> int:
        return len(self.X_train)

    @property
    def n_test(self) -> int:
        return len(self.X_test)

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, task={self.task!r}, train={self.n_train}, "
                f"test={self.n_test}, input_shape={self.input_shape}, outputs={self.n_outputs})")
