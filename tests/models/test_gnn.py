"""The GCN family: parity with PyTorch Geometric's GCNConv (values and gradients), node rows and
ids pick the same outputs, the "gcn" spec builds on graph data only, and a saved GCN loads back."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from nnplay import train
from nnplay.data import graphs
from nnplay.models import ModelSpec, build_model, modelio
from nnplay.models.gnn import GCN, GCNLayer, gcn_norm, propagate

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from torch_geometric.nn import GCNConv
    from torch_geometric.nn.conv.gcn_conv import gcn_norm as pyg_gcn_norm


def random_graph(n=12, p=0.3, seed=0):
    rng = np.random.default_rng(seed)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < p]
    edges = np.array(pairs + [(j, i) for i, j in pairs]).T
    return torch.as_tensor(edges, dtype=torch.long)


def test_normalisation_equals_pyg():
    edges = random_graph()
    ours, weight = gcn_norm(edges, 12)
    theirs, theirs_w = pyg_gcn_norm(edges, None, 12, add_self_loops=True)
    as_dict = lambda e, w: {(a, b): round(float(v), 6) for a, b, v in zip(*e.tolist(), w)}  # noqa: E731
    assert as_dict(ours, weight) == as_dict(theirs, theirs_w)


def test_a_layer_equals_gcnconv_in_values_and_gradients():
    torch.manual_seed(0)
    edges, x = random_graph(), torch.randn(12, 5)
    ours, conv = GCNLayer(5, 3), GCNConv(5, 3)
    with torch.no_grad():
        conv.lin.weight.copy_(ours.linear.weight)
        conv.bias.copy_(torch.randn(3))
        ours.bias.copy_(conv.bias)
    e, w = gcn_norm(edges, 12)
    out_ours, out_pyg = ours(x, e, w), conv(x, edges)
    torch.testing.assert_close(out_ours, out_pyg, atol=1e-6, rtol=1e-5)
    target = torch.randn(12, 3)
    ((out_ours - target) ** 2).sum().backward()
    ((out_pyg - target) ** 2).sum().backward()
    torch.testing.assert_close(ours.linear.weight.grad, conv.lin.weight.grad, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(ours.bias.grad, conv.bias.grad, atol=1e-5, rtol=1e-4)


def test_propagate_is_the_normalised_adjacency_product():
    edges = random_graph(8, 0.5, seed=1)
    e, w = gcn_norm(edges, 8)
    dense = torch.zeros(8, 8)
    dense[e[1], e[0]] = w
    h = torch.randn(8, 4)
    torch.testing.assert_close(propagate(h, e, w), dense @ h)


def test_one_hot_rows_and_ids_pick_the_same_nodes():
    torch.manual_seed(0)
    net = GCN(torch.eye(12), random_graph(), 3, hidden=[4], dropout=0.0).eval()
    every = net.node_outputs()
    ids = torch.tensor([3, 0, 7])
    torch.testing.assert_close(net(torch.eye(12)[ids]), every[ids])
    torch.testing.assert_close(net(ids), every[ids])
    logits, states = net.node_outputs(hidden=True)
    assert states[0].shape == (12, 4) and logits.shape == (12, 3)
    assert "12 nodes" in repr(net)
    assert set(net.state_dict()) == {"layers.0.linear.weight", "layers.0.bias",
                                     "layers.1.linear.weight", "layers.1.bias"}


@pytest.mark.parametrize("kwargs, message", [
    ({"hidden": [0]}, "at least one unit"), ({"dropout": 1.0}, "dropout"),
    ({"activation": "wobble"}, "wobble")])
def test_bad_settings_say_what_to_change(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GCN(torch.eye(5), random_graph(5, 0.8), 2, **kwargs)


def test_gcn_family_builds_on_graph_data_only():
    from nnplay import data

    ds = graphs.load_karate_club()
    net = build_model({"family": "gcn", "params": {"hidden": [8], "dropout": 0.1}}, ds)
    assert isinstance(net, GCN) and net.n_nodes == 34 and net.hidden == [8]
    assert ModelSpec("gcn", {"hidden": [8]}).build(ds).n_classes == 4
    with pytest.raises(ValueError, match="needs a graph"):
        build_model({"family": "gcn"}, data.load("iris"))
    with pytest.raises(ValueError, match="inputs='nodes'"):
        build_model({"family": "gcn"}, graphs.load_karate_club(inputs="features"))
    with pytest.raises(ValueError, match="does not take"):
        ModelSpec("gcn", {"channels": [4]})


def test_a_trained_gcn_saves_and_loads_bit_for_bit(tmp_path):
    from nnplay.data.ref import DatasetRef
    from nnplay.train.quick import quick_trainer
    from nnplay.train.record import ModelRecord

    ds = graphs.load_karate_club()
    spec = {"family": "gcn", "params": {"hidden": [4]}}
    cfg = train.TrainConfig(epochs=5, batch_size=0, seed=0)
    trainer = quick_trainer(ds, spec, cfg).fit()
    record = ModelRecord("gcn karate", spec, DatasetRef.of(ds), "notebook", cfg)
    loaded = modelio.load_dir(modelio.save_dir(tmp_path / "m", trainer.model, record, ds))
    trainer.model.eval()
    x = torch.as_tensor(ds.X_test)
    torch.testing.assert_close(loaded.model.eval()(x), trainer.model(x), atol=0, rtol=0)
