"""Datasets: one registry of toy 2-D sets, bundled real sets and uploaded CSVs.

``load(name, **params)`` returns a Dataset; ``list_datasets()`` says what exists;
``register(info, loader)`` adds more (e.g. sequence tasks); ``from_csv`` and ``inspect_csv``
turn a person's CSV file into a Dataset, with every preprocessing step written down.
"""

from nnplay.data import real, toy  # noqa: F401  (importing registers their datasets)
from nnplay.data.dataset import Dataset
from nnplay.data.registry import (
    KINDS,
    DatasetInfo,
    dataset_params,
    get_info,
    list_datasets,
    load,
    register,
)
from nnplay.data.sequences import SEQUENCE_DATASETS
from nnplay.data.upload import CsvPreview, from_csv, inspect_csv

for _loader, _meta in SEQUENCE_DATASETS.values():
    register(DatasetInfo(**_meta), _loader)

# Datasets of the labs and frontiers (each module registers its own on import): full MNIST from
# torchvision's cache, review text, graphs.
from nnplay.data import domains, graphs, text  # noqa: E402, F401
from nnplay.data.mnist import MNIST_INFO, load_mnist  # noqa: E402

register(MNIST_INFO, load_mnist)

__all__ = ["KINDS", "CsvPreview", "Dataset", "DatasetInfo", "dataset_params", "from_csv",
           "get_info", "inspect_csv", "list_datasets", "load", "register"]
