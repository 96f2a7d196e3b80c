"""Lesson: graph neural networks. A GCN on Zachary's karate club (four labelled members, one per
community) against an MLP that sees each member alone, over several seeds; the node embeddings
moving while the GCN trains; and one graph convolution stepped for one node, with its
neighbours, the weights 1/sqrt(d_i d_j) and the sum, checked against PyTorch Geometric's GCNConv.

Both networks train on the one Trainer (full batch, Adam) with the same widths, dropout and
weight decay; they differ only in whether the edges are used. Cora (``nnplay.data.graphs``)
runs the same comparison when its files are on this machine.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
import torch

from nnplay.data.dataset import Dataset
from nnplay.data.graphs import Graph, karate_graph, load_graph
from nnplay.device import torch_threads
from nnplay.models.gnn import GCN, gcn_norm
from nnplay.train.callbacks import LambdaCallback
from nnplay.train.config import TrainConfig
from nnplay.train.jobs import Cancelled, check_stop, fit_stoppable
from nnplay.train.quick import quick_trainer

HIDDEN, DROPOUT, LR, L2, EPOCHS = 16, 0.5, 0.01, 5e-4, 200   # Kipf and Welling's settings
SEEDS = 5
MAX_SEEDS, MAX_EPOCHS = 20, 1000
MODELS = {"gcn": "GCN (uses the edges)", "mlp": "MLP (ignores the edges)"}
SHOWN_DIMS = 4           # message vectors shown in the stepped convolution
MAX_FRAMES = 101         # embedding snapshots kept for the animation

GCN_LATEX = (r"h_i' = b + \sum_{j \in \mathcal{N}(i) \cup \{i\}} "
             r"\frac{1}{\sqrt{d_i\, d_j}}\; W h_j")


_single_thread = partial(torch_threads, 1)   # small nets: see nnplay.device.torch_threads


def check_settings(seeds: int = SEEDS, epochs: int = EPOCHS, hidden: int = HIDDEN,
                   dropout: float = DROPOUT, lr: float = LR) -> None:
    """ValueError saying what to change when a setting is out of range."""
    if not 1 <= int(seeds) <= MAX_SEEDS:
        raise ValueError(f"Use between 1 and {MAX_SEEDS} seeds, got {seeds}.")
    if not 1 <= int(epochs) <= MAX_EPOCHS:
        raise ValueError(f"Train for between 1 and {MAX_EPOCHS} epochs, got {epochs}.")
    if not 1 <= int(hidden) <= 256:
        raise ValueError(f"Use between 1 and 256 hidden units, got {hidden}.")
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"Dropout must be at least 0 and below 1, got {dropout}.")
    if not (math.isfinite(float(lr)) and 0 < float(lr) <= 1):
        raise ValueError(f"The learning rate must be above 0 and at most 1, got {lr}.")


def spec_for(family: str, hidden: int = HIDDEN, dropout: float = DROPOUT,
             activation: str = "relu") -> dict:
    """The ModelSpec dict of the GCN or of the MLP with the same widths and dropout."""
    if family not in MODELS:
        raise ValueError(f"family is one of {', '.join(MODELS)}, got {family!r}.")
    return {"family": family, "params": {"hidden": [int(hidden)], "activation": activation,
                                         "dropout": float(dropout)}}


def config_for(epochs: int = EPOCHS, lr: float = LR, seed: int = 0) -> TrainConfig:
    """Full-batch Adam with Kipf and Welling's weight decay."""
    return TrainConfig(optimizer="adam", lr=float(lr), batch_size=0, epochs=int(epochs),
                       l2=L2, seed=int(seed), track_grad_norm=False)


def datasets_for(graph: Graph) -> dict[str, Dataset]:
    """What each model reads: one-hot node rows for the GCN, the nodes' own features for the MLP."""
    return {"gcn": load_graph(graph.name, "nodes"), "mlp": load_graph(graph.name, "features")}


def compare_over_seeds(graph: Graph | None = None, seeds: int = SEEDS, epochs: int = EPOCHS,
                       hidden: int = HIDDEN, dropout: float = DROPOUT, lr: float = LR,
                       progress=None, should_stop=None) -> pd.DataFrame:
    """Test accuracy on the unlabelled nodes of the GCN and the MLP for seeds 0..seeds-1:
    one row per (seed, model) with columns seed, model, accuracy. Stopped, it raises Cancelled
    carrying the seeds finished by both models."""
    check_settings(seeds, epochs, hidden, dropout, lr)
    graph = graph or karate_graph()
    data = datasets_for(graph)
    rows = []
    with _single_thread():
        for seed in range(int(seeds)):
            for family in MODELS:
                try:
                    check_stop(should_stop)
                except Cancelled:   # keep the seeds both models finished
                    done = [r for r in rows if r["seed"] < seed]
                    raise Cancelled(result=pd.DataFrame(done, columns=["seed", "model",
                                                                       "accuracy"])) from None
                trainer = quick_trainer(data[family], spec_for(family, hidden, dropout),
                                        config_for(epochs, lr, seed))
                trainer.fit()
                rows.append({"seed": seed, "model": family,
                             "accuracy": trainer.history[-1].get("val_accuracy", float("nan"))})
                if progress is not None:
                    progress(len(rows), 2 * int(seeds))
    return pd.DataFrame(rows, columns=["seed", "model", "accuracy"])


def baselines(graph: Graph) -> dict:
    """Chance levels on the test nodes: one class in k, and always the most common test class."""
    counts = np.bincount(graph.y[graph.test_nodes], minlength=len(graph.class_names))
    return {"uniform": 1.0 / len(graph.class_names), "majority": counts.max() / counts.sum(),
            "n_test": int(counts.sum())}


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%" if math.isfinite(value) else "diverged"


def comparison_summary(results: pd.DataFrame, graph: Graph) -> dict:
    """Mean, lowest and highest accuracy per model, the seeds the GCN won, and the sentence."""
    base = baselines(graph)
    stats = {m: results.loc[results.model == m, "accuracy"].agg(["mean", "min", "max"]).to_dict()
             for m in MODELS}
    wide = results.pivot(index="seed", columns="model", values="accuracy")
    wins, n = int((wide["gcn"] > wide["mlp"]).sum()), len(wide)
    gcn, mlp = stats["gcn"], stats["mlp"]
    near = abs(mlp["mean"] - base["uniform"]) <= 0.1 or mlp["mean"] <= base["majority"]
    verdict = ("near chance" if near else "above chance")
    sentence = (f"Over {n} seed{'s' if n > 1 else ''}, the GCN labels {_pct(gcn['mean'])} of the "
                f"{base['n_test']} unlabelled nodes correctly ({_pct(gcn['min'])} to "
                f"{_pct(gcn['max'])}); the MLP, which sees each node alone, {_pct(mlp['mean'])} "
                f"({_pct(mlp['min'])} to {_pct(mlp['max'])}), {verdict}: guessing one class in "
                f"{len(graph.class_names)} gets {_pct(base['uniform'])} and always naming the "
                f"most common class {_pct(base['majority'])}. The GCN did better in {wins} of "
                f"{n} seeds.")
    return {"gcn": gcn, "mlp": mlp, "wins": wins, "seeds": n, "sentence": sentence, **base}


# ---- one GCN trained with its embeddings recorded -----------------------------------------
@dataclass
class GCNRun:
    """A trained GCN with the node embeddings (hidden layer) at each recorded epoch."""

    trainer: object = field(repr=False)
    epochs: list[int]                                  # the recorded epochs, 0 first
    embeddings: list[np.ndarray] = field(repr=False)   # (nodes, hidden) at each recorded epoch
    predictions: np.ndarray = field(repr=False)        # every node's predicted class
    accuracy: float                                    # on the unlabelled (test) nodes

    @property
    def model(self) -> GCN:
        return self.trainer.model


@torch.no_grad()
def _hidden_state(model: GCN) -> np.ndarray:
    was_training = model.training
    model.eval()
    _, states = model.node_outputs(hidden=True)
    model.train(was_training)
    return states[-1].numpy().copy()


def train_gcn(graph: Graph | None = None, hidden: int = HIDDEN, dropout: float = DROPOUT,
              epochs: int = EPOCHS, lr: float = LR, seed: int = 0, progress=None,
              should_stop=None) -> GCNRun:
    """Train one GCN on ``graph`` (the karate club), keeping its hidden layer at up to
    MAX_FRAMES evenly spaced epochs; stopped early, it keeps what it learned."""
    check_settings(1, epochs, hidden, dropout, lr)
    graph = graph or karate_graph()
    every = max(1, math.ceil(int(epochs) / (MAX_FRAMES - 1)))
    recorded, states = [], []

    def record(trainer, logs=None) -> None:
        if trainer.epoch % every == 0 or trainer.epoch == trainer.config.epochs:
            recorded.append(trainer.epoch)
            states.append(_hidden_state(trainer.model))

    with _single_thread():
        trainer = quick_trainer(load_graph(graph.name, "nodes"), spec_for("gcn", hidden, dropout),
                                config_for(epochs, lr, seed),
                                callbacks=[LambdaCallback(on_epoch_end=record)])
        record(trainer)
        try:
            fit_stoppable(trainer, progress, should_stop)
        except Cancelled:
            pass   # what it learned so far is shown
        if recorded[-1] != trainer.epoch:
            recorded.append(trainer.epoch)
            states.append(_hidden_state(trainer.model))
        with torch.no_grad():
            trainer.model.eval()
            predictions = trainer.model.node_outputs().argmax(-1).numpy()
    test = graph.test_nodes
    accuracy = float((predictions[test] == graph.y[test]).mean())
    return GCNRun(trainer, recorded, states, predictions, accuracy)


def embedding_frames(run: GCNRun) -> np.ndarray:
    """(recorded epochs, nodes, 2): every recorded hidden layer projected on the two principal
    directions of the final one, so the axes stay the same from frame to frame."""
    final = run.embeddings[-1]
    centre = final.mean(axis=0)
    if final.shape[1] == 1:
        axes = np.array([[1.0], [0.0]]).T
    else:
        _, _, vt = np.linalg.svd(final - centre, full_matrices=False)
        axes = vt[:2].T
        axes = axes * np.sign(axes[np.abs(axes).argmax(axis=0), range(axes.shape[1])])
    frames = np.stack([(e - centre) @ axes for e in run.embeddings])
    if frames.shape[2] == 1:
        frames = np.concatenate([frames, np.zeros_like(frames)], axis=2)
    return frames


# ---- the drawing -------------------------------------------------------------------------
def layout(graph: Graph, seed: int = 0) -> np.ndarray:
    """(nodes, 2) positions from networkx's spring layout, the same for the same seed."""
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(range(graph.n_nodes))
    g.add_edges_from(zip(graph.edge_index[0].tolist(), graph.edge_index[1].tolist()))
    pos = nx.spring_layout(g, seed=seed)
    return np.array([pos[i] for i in range(graph.n_nodes)])


def undirected_edges(graph: Graph) -> list[tuple[int, int]]:
    """Each edge once, as (smaller node, larger node)."""
    src, dst = graph.edge_index
    return sorted({(min(a, b), max(a, b)) for a, b in zip(src.tolist(), dst.tolist()) if a != b})


# ---- one graph convolution, stepped ------------------------------------------------------
@dataclass
class MessagePassing:
    """One GCN layer at one node: who sends, with what weight, what arrives, and PyG's answer."""

    node: int
    degree: int                          # d_i, self-loop included
    table: pd.DataFrame = field(repr=False)   # one row per sender j (the node itself included)
    total: np.ndarray = field(repr=False)     # the sum plus the bias: h_i'
    pyg: np.ndarray = field(repr=False)       # GCNConv's output at the node
    max_abs_diff: float = 0.0


def step_convolution(model: GCN, graph: Graph, node: int) -> MessagePassing:
    """The first graph convolution of ``model`` at ``node`` written out, and the same layer's
    output from PyTorch Geometric's GCNConv given the same weights."""
    if not 0 <= int(node) < graph.n_nodes:
        raise ValueError(f"Pick a node between 0 and {graph.n_nodes - 1}, got {node}.")
    node = int(node)
    layer = model.layers[0]
    x = torch.tensor(np.asarray(graph.x, dtype=np.float32))
    edges, weight = gcn_norm(torch.tensor(np.asarray(graph.edge_index)), graph.n_nodes)
    degree = torch.zeros(graph.n_nodes).index_add_(0, edges[1], torch.ones(edges.shape[1]))
    with torch.no_grad():
        transformed = layer.linear(x)                      # W h_j for every node
        into = (edges[1] == node).nonzero().flatten()
        senders = edges[0, into]
        order = torch.argsort(senders)
        senders, norms = senders[order], weight[into][order]
        messages = transformed[senders] * norms.unsqueeze(1)
        total = messages.sum(0) + layer.bias
        pyg = _gcnconv_output(layer, x, torch.tensor(np.asarray(graph.edge_index)))[node]
    d_i = int(degree[node])
    shown = min(SHOWN_DIMS, transformed.shape[1])
    rows = []
    for j, w, wh, msg in zip(senders.tolist(), norms.tolist(), transformed[senders], messages):
        d_j = int(degree[j])
        row = {"sender j": f"{j} (itself)" if j == node else str(j), "d_j": d_j,
               "weight": f"1/√({d_i}·{d_j}) = {w:.3f}"}
        row.update({f"(W h_j)[{k}]": float(wh[k]) for k in range(shown)})
        row.update({f"message[{k}]": float(msg[k]) for k in range(shown)})
        rows.append(row)
    total_np, pyg_np = total.numpy(), pyg.numpy()
    return MessagePassing(node, d_i, pd.DataFrame(rows), total_np, pyg_np,
                          float(np.abs(total_np - pyg_np).max()))


def _gcnconv_output(layer, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    with warnings.catch_warnings():   # PyG's import warns about torch.jit.script; not ours
        warnings.simplefilter("ignore")
        from torch_geometric.nn import GCNConv
    conv = GCNConv(layer.linear.in_features, layer.linear.out_features)
    with torch.no_grad():
        conv.lin.weight.copy_(layer.linear.weight)
        conv.bias.copy_(layer.bias)
        return conv(x, edge_index)


def message_passing_sentence(step: MessagePassing, graph: Graph) -> str:
    """What the stepped convolution shows, with its numbers."""
    n = len(step.table) - 1
    weights = [float(w.split("= ")[-1]) for w in step.table["weight"]]
    return (f"Node {step.node} has {n} neighbour{'s' if n != 1 else ''}, so with its self-loop "
            f"d = {step.degree} and {n + 1} messages arrive, weighted from {min(weights):.3f} to "
            f"{max(weights):.3f}: a neighbour with many friends of its own counts for less. "
            f"PyTorch Geometric's GCNConv with the same weights gives the same "
            f"{len(step.total)} numbers at this node, the largest difference "
            f"{step.max_abs_diff:.1e}.")


def shown_vector(values: np.ndarray, dims: int = SHOWN_DIMS) -> str:
    """The first ``dims`` entries as text, with how many there are."""
    head = ", ".join(f"{v:.3f}" for v in values[:dims])
    more = f", … ({len(values)} in all)" if len(values) > dims else ""
    return f"[{head}{more}]"
