"""Graph convolutional networks (Kipf and Welling, 2017) in plain PyTorch, registered as "gcn".

A graph convolution mixes each node's features with its neighbours':

    H' = D^-1/2 (A + I) D^-1/2 H W + b

so node i receives W h_j / sqrt(d_i d_j) from every neighbour j and from itself (the self-loop
``+ I``), with degrees d counting that self-loop. ``gcn_norm`` computes those weights and
``GCNLayer`` applies them with ``index_add_`` over the edge list; the numbers equal
PyTorch Geometric's ``GCNConv`` (tests/models/test_gnn.py checks it), without needing PyG to
build or run the model.

A node-classification dataset (``nnplay.data.graphs``) has one example per node: the input row
is the node's one-hot indicator (which node it is) and the graph itself, with every node's
features, sits in ``dataset.extra["graph"]``. ``GCN`` keeps the graph as buffers that are not
saved with the weights (they come back from the dataset), computes every node's output at once
and returns the rows the batch asks for, so the one Trainer trains it like any other model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from nnplay.models.activations import activation_module, check_activation


def gcn_norm(edge_index: torch.Tensor, n_nodes: int,
             self_loops: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """(edge_index, weight): the edges with a self-loop per node and the weight 1/sqrt(d_i d_j)
    of each, d the degree counted at the receiving node (self-loop included).

    ``edge_index`` is (2, E): row 0 the sending node j, row 1 the receiving node i; an
    undirected graph lists both directions. Self-loops already present are kept once.
    """
    edge_index = torch.as_tensor(edge_index, dtype=torch.long)
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"edge_index must be shaped (2, edges), got {tuple(edge_index.shape)}.")
    if edge_index.numel() and (edge_index.min() < 0 or edge_index.max() >= n_nodes):
        raise ValueError(f"edge_index names nodes outside 0..{n_nodes - 1}.")
    if self_loops:
        keep = edge_index[0] != edge_index[1]
        loops = torch.arange(n_nodes, dtype=torch.long).repeat(2, 1)
        edge_index = torch.cat([edge_index[:, keep], loops], dim=1)
    src, dst = edge_index
    degree = torch.zeros(n_nodes).index_add_(0, dst, torch.ones(dst.numel()))
    inv_sqrt = degree.pow(-0.5).masked_fill(degree == 0, 0.0)
    return edge_index, inv_sqrt[src] * inv_sqrt[dst]


def propagate(h: torch.Tensor, edge_index: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """out_i = sum over edges j -> i of weight_ji * h_j (the aggregation step of a GCN layer)."""
    src, dst = edge_index
    out = torch.zeros(h.shape[0], h.shape[1], dtype=h.dtype, device=h.device)
    return out.index_add_(0, dst, h[src] * weight.unsqueeze(1))


class GCNLayer(nn.Module):
    """One graph convolution: a linear map of every node, then the normalised sum over each
    node's neighbourhood, then a bias (PyG's GCNConv, same parameter names under ``linear``)."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(int(in_features), int(out_features), bias=False)
        self.bias = nn.Parameter(torch.zeros(int(out_features)))
        nn.init.xavier_uniform_(self.linear.weight)   # Glorot, as Kipf and Welling and PyG

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor,
                weight: torch.Tensor) -> torch.Tensor:
        return propagate(self.linear(h), edge_index, weight) + self.bias

    def __repr__(self) -> str:
        return f"GCNLayer({self.linear.in_features} -> {self.linear.out_features})"


class GCN(nn.Module):
    """Graph convolutions over one fixed graph: hidden layers with an activation, and a last
    graph convolution to the classes.

    ``forward(nodes)`` takes one-hot node indicator rows (batch, n_nodes), or integer node ids,
    and returns those nodes' logits; ``node_outputs()`` returns every node's logits and, with
    ``hidden=True``, each hidden layer's output (the node embeddings).
    """

    def __init__(self, node_features, edge_index, n_classes: int,
                 hidden: Sequence[int] = (16,), activation: str = "relu", dropout: float = 0.5):
        super().__init__()
        x = torch.tensor(np.asarray(node_features, dtype=np.float32))
        if x.dim() != 2:
            raise ValueError(f"node_features must be (nodes, features), got {tuple(x.shape)}.")
        hidden = [int(h) for h in hidden]
        if any(h < 1 for h in hidden):
            raise ValueError(f"Every hidden layer needs at least one unit, got {hidden}.")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
        if int(n_classes) < 1:
            raise ValueError("A GCN needs at least one output.")
        self.n_nodes, self.n_features = x.shape
        self.hidden, self.n_classes = hidden, int(n_classes)
        self.activation, self.dropout = check_activation(activation), float(dropout)
        edges, weight = gcn_norm(torch.tensor(np.asarray(edge_index)), self.n_nodes)
        # the graph travels with the dataset, not with the weights: non-persistent buffers
        self.register_buffer("node_features", x, persistent=False)
        self.register_buffer("edge_index", edges, persistent=False)
        self.register_buffer("edge_weight", weight, persistent=False)
        sizes = [self.n_features, *hidden, self.n_classes]
        self.layers = nn.ModuleList(GCNLayer(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.act = activation_module(self.activation)

    def node_outputs(self, hidden: bool = False):
        """Logits of every node (n_nodes, classes); with ``hidden=True`` also the list of each
        hidden layer's output after its activation."""
        h, states = self.node_features, []
        for i, layer in enumerate(self.layers):
            h = F.dropout(h, self.dropout, self.training)
            h = layer(h, self.edge_index, self.edge_weight)
            if i < len(self.layers) - 1:
                h = self.act(h)
                states.append(h)
        return (h, states) if hidden else h

    def forward(self, nodes: torch.Tensor) -> torch.Tensor:
        logits = self.node_outputs()
        if nodes.is_floating_point():   # one-hot indicator rows pick (or mix) nodes' outputs
            return nodes.reshape(nodes.shape[0], -1) @ logits
        return logits[nodes.reshape(-1)]

    def __repr__(self) -> str:
        sizes = " -> ".join(map(str, [self.n_features, *self.hidden, self.n_classes]))
        return (f"GCN({sizes}, {self.activation}, dropout={self.dropout:g}, "
                f"{self.n_nodes} nodes, {self.edge_index.shape[1]} edges with self-loops)")


def gcn(graph: dict, n_classes: int, hidden: Sequence[int] = (16,), activation: str = "relu",
        dropout: float = 0.5) -> GCN:
    """A GCN over ``graph`` ({"x": node features, "edge_index": (2, E)}, as
    ``nnplay.data.graphs`` keeps it in ``dataset.extra["graph"]``)."""
    return GCN(graph["x"], graph["edge_index"], n_classes, hidden, activation, dropout)


def _gcn_for(dataset, hidden=(16,), activation="relu", dropout=0.5) -> GCN:
    graph = dataset.extra.get("graph")
    if graph is None:
        raise ValueError(f"A GCN needs a graph; {dataset.name} has none. Use a graph dataset "
                         "such as karate_club.")
    n_nodes = len(graph["x"])
    if dataset.extra.get("inputs", "nodes") != "nodes" or dataset.input_shape != (n_nodes,):
        raise ValueError(f"A GCN reads one-hot node rows ({n_nodes} columns); {dataset.name} "
                         f"was loaded with node features. Load it with inputs='nodes'.")
    return gcn(graph, dataset.n_outputs, hidden, activation, dropout)


def _register() -> None:
    from nnplay.models.registry import register_family

    register_family("gcn", _gcn_for, ("hidden", "activation", "dropout"))


_register()
