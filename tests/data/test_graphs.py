"""Graph data: PyG's karate club as a registered dataset, and Cora refused clearly (never
downloaded) when its files are not on this machine."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from nnplay import data
from nnplay.data import graphs
from nnplay.data.ref import DatasetRef


def test_karate_club_is_pygs_graph_with_one_labelled_member_per_community():
    g = graphs.karate_graph()
    assert (g.n_nodes, g.n_edges, len(g.class_names)) == (34, 78, 4)
    assert sorted(g.y[g.train_nodes].tolist()) == [0, 1, 2, 3]
    assert len(g.test_nodes) == 30 and not set(g.train_nodes) & set(g.test_nodes)
    edges = {tuple(sorted(e)) for e in g.edge_index.T.tolist()}
    assert edges == {tuple(sorted(e)) for e in nx.karate_club_graph().edges()}
    assert g.neighbours(11) == [0] and g.degrees()[0] == 16
    assert "nodes=34" in repr(g)


def test_karate_club_loads_through_the_registry_as_node_rows():
    ds = data.load("karate_club")
    info = data.get_info("karate_club")
    assert (ds.n_train, ds.n_test, ds.n_features, ds.n_classes) == (4, 30, 34, 4)
    assert ds.n_train + ds.n_test == info.n_samples and info.n_features == ds.n_features
    assert ds.X_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert (ds.X_test.argmax(1) == ds.extra["test_nodes"]).all()
    assert set(ds.extra["graph"]) >= {"x", "edge_index", "y", "train_nodes", "test_nodes"}
    again = DatasetRef.of(ds).load()
    np.testing.assert_array_equal(again.X_test, ds.X_test)
    features = data.load("karate_club", inputs="features")   # identity features: the same rows
    np.testing.assert_array_equal(features.X_train, ds.X_train)
    with pytest.raises(ValueError, match="'nodes'"):
        data.load("karate_club", inputs="edges")


def test_cora_missing_is_a_message_naming_the_folder(tmp_path):
    assert not graphs.cora_cached(tmp_path)
    with pytest.raises(graphs.GraphUnavailable, match="Cora is not in") as err:
        graphs.load_cora(root=str(tmp_path))
    assert str(tmp_path) in str(err.value) and "Planetoid" in str(err.value)
    assert not (tmp_path / "Cora").exists()   # nothing was downloaded or made


def test_cora_is_registered_only_where_it_loads():
    names = {info.name for info in data.list_datasets()}
    assert ("cora" in names) == graphs.cora_cached()
