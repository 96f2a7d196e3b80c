"""Graphs for node classification: Zachary's karate club and, when it is on this machine, Cora.

Each node is one example. With ``inputs="nodes"`` (the default) a node's row is its one-hot
indicator, which node it is, and the graph sits in ``extra["graph"]``: ``x`` every node's
features, ``edge_index`` (2, E) with both directions of every undirected edge, ``y`` every
node's label, ``train_nodes`` and ``test_nodes``. A GCN (``nnplay.models.gnn``) reads the graph
from there; the rows only say which nodes a batch is about. With ``inputs="features"`` the
rows are the nodes' own features and nothing else: what a model that ignores the edges sees.

- karate_club: PyTorch Geometric's copy (34 members, 78 friendships, four communities found by
  modularity clustering, one labelled member per community: the setting of Kipf and Welling's
  GCN paper). Its features are the identity, so both kinds of input are the same one-hot rows.
  The data is written inside PyG's source; nothing is downloaded.
- cora: 2,708 papers, 5,429 citations, 1,433-word bag-of-words features, 7 topics, the Planetoid
  split (140 labelled papers, 1,000 test papers), read through PyG's Planetoid from
  ``<root>/Cora/raw`` (``root`` is ``$NNPLAY_DATA_DIR`` or the user's cache directory). It is
  registered only when its files are there; ``load_cora`` says where they go when they are not.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from nnplay.data.dataset import Dataset
from nnplay.data.registry import DatasetInfo, register

INPUTS = ("nodes", "features")
CORA_FILES = tuple(f"ind.cora.{part}" for part in
                   ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index"))


class GraphUnavailable(ValueError):  # noqa: N818  (a person's message, like the other ValueErrors)
    """A graph's files are not on this machine; the message says where they go."""


@dataclass(frozen=True)
class Graph:
    """A node-classification graph: features, edges (both directions), labels and the split."""

    name: str
    x: np.ndarray = field(repr=False)            # (nodes, features) float32
    edge_index: np.ndarray = field(repr=False)   # (2, directed edges) int64: sender, receiver
    y: np.ndarray = field(repr=False)            # (nodes,) int64 labels
    train_nodes: np.ndarray = field(repr=False)  # the labelled nodes a model learns from
    test_nodes: np.ndarray = field(repr=False)   # the nodes it is scored on
    class_names: tuple[str, ...] = ()

    @property
    def n_nodes(self) -> int:
        return len(self.y)

    @property
    def n_edges(self) -> int:
        """Undirected edges (each is listed in both directions in ``edge_index``)."""
        src, dst = self.edge_index
        return int(len({(min(a, b), max(a, b)) for a, b in zip(src.tolist(), dst.tolist())
                        if a != b}))

    def neighbours(self, node: int) -> list[int]:
        """The nodes with an edge to ``node``, in increasing order."""
        src, dst = self.edge_index
        return sorted(set(src[dst == node].tolist()) - {node})

    def degrees(self) -> np.ndarray:
        """Each node's number of neighbours (no self-loop)."""
        return np.array([len(self.neighbours(i)) for i in range(self.n_nodes)])

    def as_dict(self) -> dict:
        return {"x": self.x, "edge_index": self.edge_index, "y": self.y,
                "train_nodes": self.train_nodes, "test_nodes": self.test_nodes}

    def __repr__(self) -> str:
        return (f"Graph({self.name!r}, nodes={self.n_nodes}, edges={self.n_edges}, "
                f"features={self.x.shape[1]}, classes={len(self.class_names)}, "
                f"labelled={len(self.train_nodes)})")


def _import_pyg_datasets():
    with warnings.catch_warnings():   # PyG's import warns about torch.jit.script; not ours
        warnings.simplefilter("ignore")
        import torch_geometric.datasets as pyg_datasets
    return pyg_datasets


@lru_cache(maxsize=1)
def karate_graph() -> Graph:
    """PyG's Zachary's karate club: 34 nodes, four communities, one labelled node in each."""
    data = _import_pyg_datasets().KarateClub()[0]
    y = data.y.numpy().astype(np.int64)
    train = np.flatnonzero(data.train_mask.numpy())
    test = np.setdiff1d(np.arange(len(y)), train)
    arrays = (data.x.numpy().astype(np.float32), data.edge_index.numpy().astype(np.int64), y,
              train, test)
    for a in arrays:
        a.setflags(write=False)   # shared between calls
    n_classes = int(y.max()) + 1
    return Graph("karate_club", *arrays, tuple(f"community {k}" for k in range(n_classes)))


def data_root(root=None) -> Path:
    """Where graph files are looked for: ``root``, else $NNPLAY_DATA_DIR or nnplay's cache."""
    from nnplay.data.mnist import default_root

    return Path(default_root() if root is None else root).expanduser()


def cora_folder(root=None) -> Path:
    """The folder PyG's Planetoid reads Cora's eight raw files from."""
    return data_root(root) / "Cora" / "raw"


def cora_cached(root=None) -> bool:
    """Whether Cora's eight raw files are on this machine (no import of PyG)."""
    folder = cora_folder(root)
    return all((folder / name).is_file() for name in CORA_FILES)


def how_to_get_cora(root=None) -> str:
    """One sentence on how to put Cora on this machine."""
    return (f"Cora is not in {cora_folder(root)}. On a machine with internet, run "
            f"`torch_geometric.datasets.Planetoid({str(data_root(root))!r}, 'Cora')` once "
            "(or copy its Cora/raw folder here); until then the karate club shows the same "
            "idea.")


@lru_cache(maxsize=2)
def cora_graph(root=None) -> Graph:
    """Cora through PyG's Planetoid, read from the files on this machine; never downloads."""
    where = data_root(root)
    if not cora_cached(where):
        raise GraphUnavailable(how_to_get_cora(where))
    try:
        data = _import_pyg_datasets().Planetoid(str(where), "Cora")[0]
    except Exception as err:  # noqa: BLE001 - a damaged file is PyG's, pickle's or the OS's error
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise GraphUnavailable(f"Cora's files in {cora_folder(where)} could not be read "
                               f"({reason}).") from None
    y = data.y.numpy().astype(np.int64)
    arrays = (data.x.numpy().astype(np.float32), data.edge_index.numpy().astype(np.int64), y,
              np.flatnonzero(data.train_mask.numpy()), np.flatnonzero(data.test_mask.numpy()))
    for a in arrays:
        a.setflags(write=False)
    return Graph("cora", *arrays, tuple(f"topic {k}" for k in range(int(y.max()) + 1)))


def graph_dataset(graph: Graph, inputs: str = "nodes", description: str = "") -> Dataset:
    """A Dataset with one example per labelled (train) or scored (test) node of ``graph``."""
    if inputs not in INPUTS:
        raise ValueError(f"inputs is 'nodes' (one-hot rows, for a GCN) or 'features' (the "
                         f"nodes' own features, for a model without edges), got {inputs!r}.")
    if inputs == "nodes":
        rows = np.eye(graph.n_nodes, dtype=np.float32)
        names = [f"node {i}" for i in range(graph.n_nodes)]
    else:
        rows = np.array(graph.x, dtype=np.float32)
        names = [f"feature {i}" for i in range(rows.shape[1])]
    train, test = graph.train_nodes, graph.test_nodes
    return Dataset(name=graph.name, X_train=rows[train], y_train=np.array(graph.y[train]),
                   X_test=rows[test], y_test=np.array(graph.y[test]), task="classification",
                   feature_names=names, class_names=list(graph.class_names),
                   description=description,
                   extra={"graph": graph.as_dict(), "inputs": inputs,
                          "train_nodes": np.array(train), "test_nodes": np.array(test),
                          "preprocessing": [f"{'one-hot node rows' if inputs == 'nodes' else 'node features'}; "
                                            f"{len(train)} labelled nodes train, "
                                            f"{len(test)} are scored"]})


KARATE_INFO = DatasetInfo(
    "karate_club", "classification", "real", 34, 34, 4, "PyG",
    "Zachary's karate club: 34 members, 78 friendships, four communities, one labelled member "
    "in each; classify the other 30.")
CORA_INFO = DatasetInfo(
    "cora", "classification", "real", 1140, 2708, 7, "PyG (cached)",
    "Cora citation graph: 2,708 papers in 7 topics, 140 labelled; classify 1,000 test papers.",
    online=True)


def _as_loaded(ds: Dataset, name: str, params: dict) -> Dataset:
    # what data.load records too: a model trained on it can be saved and rebuilt by name
    ds.params = dict(params)
    ds.extra["loaded_as"] = {"name": name, "params": dict(params)}
    return ds


@register(KARATE_INFO)
def load_karate_club(inputs: str = "nodes") -> Dataset:
    """The karate club as a Dataset: 4 labelled members train, the other 30 are scored."""
    return _as_loaded(graph_dataset(karate_graph(), inputs, KARATE_INFO.description),
                      "karate_club", {"inputs": inputs})


def load_cora(inputs: str = "nodes", root: str | None = None) -> Dataset:
    """Cora as a Dataset; GraphUnavailable (a ValueError) says where its files go if missing."""
    root = None if root is None else str(root)
    return _as_loaded(graph_dataset(cora_graph(root), inputs, CORA_INFO.description), "cora",
                      {"inputs": inputs, "root": root})


def load_graph(name: str, inputs: str = "nodes") -> Dataset:
    """``karate_club`` or ``cora`` (from the default folder) by name, as its loader gives it."""
    loaders = {"karate_club": load_karate_club, "cora": load_cora}
    if name not in loaders:
        raise ValueError(f"Unknown graph {name!r}; choose one of {', '.join(loaders)}.")
    return loaders[name](inputs=inputs)


if cora_cached():   # listed only where it loads: the registry promises every name loads offline
    register(CORA_INFO, load_cora)
