"""The GNN lesson's engine: the page's claim (a GCN beats an MLP that ignores the edges on the
karate club's unlabelled members, at every seed), the sentence built from the numbers, the
embeddings recorded while training, and the stepped convolution against PyG."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nnplay.data import graphs
from nnplay.lessons import gnn
from nnplay.train.jobs import Cancelled


@pytest.fixture(scope="module")
def graph():
    return graphs.karate_graph()


@pytest.mark.slow
def test_gcn_beats_the_mlp_over_seeds(graph):
    results = gnn.compare_over_seeds(graph, seeds=4)
    wide = results.pivot(index="seed", columns="model", values="accuracy")
    assert (wide["gcn"] > wide["mlp"]).all()
    assert wide["gcn"].mean() >= 0.65 and wide["mlp"].mean() <= 0.4   # chance is 25%, majority 40%
    summary = gnn.comparison_summary(results, graph)
    assert summary["wins"] == 4 and summary["n_test"] == 30
    assert f"the GCN labels {100 * wide['gcn'].mean():.0f}%" in summary["sentence"]
    assert "near chance" in summary["sentence"] and "in 4 of 4 seeds" in summary["sentence"]


def test_sentence_reads_the_numbers_it_is_given(graph):
    results = pd.DataFrame({"seed": [0, 0, 1, 1], "model": ["gcn", "mlp"] * 2,
                            "accuracy": [0.8, 0.3, 0.7, 0.75]})
    summary = gnn.comparison_summary(results, graph)
    assert summary["wins"] == 1 and summary["majority"] == pytest.approx(12 / 30)
    assert "the GCN labels 75% of the 30" in summary["sentence"]
    assert "(70% to 80%)" in summary["sentence"] and "in 1 of 2 seeds" in summary["sentence"]


def test_a_stopped_comparison_keeps_the_finished_seeds(graph):
    calls = []

    def stop_after_two():
        calls.append(1)
        return len(calls) > 3   # seed 0 both models, seed 1 the GCN, then stop

    with pytest.raises(Cancelled) as stop:
        gnn.compare_over_seeds(graph, seeds=3, epochs=5, should_stop=stop_after_two)
    assert stop.value.result["seed"].tolist() == [0, 0]


def test_training_records_embeddings_and_stops_keeping_what_it_learned(graph):
    run = gnn.train_gcn(graph, hidden=8, epochs=30, seed=1)
    assert run.epochs[0] == 0 and run.epochs[-1] == 30 and len(run.embeddings) == 31
    assert run.embeddings[0].shape == (34, 8) and run.predictions.shape == (34,)
    frames = gnn.embedding_frames(run)
    assert frames.shape == (31, 34, 2) and np.isfinite(frames).all()
    assert abs(frames[-1].mean(axis=0)).max() < 1e-5     # centred on the final layer
    assert run.trainer.spec.family == "gcn"
    stopped = gnn.train_gcn(graph, epochs=50, should_stop=lambda: True)
    assert stopped.trainer.status == "stopped" and stopped.epochs == [0]
    long = gnn.train_gcn(graph, hidden=2, epochs=300)
    assert len(long.epochs) <= gnn.MAX_FRAMES and long.epochs[-1] == 300
    assert gnn.embedding_frames(long).shape[2] == 2


def test_stepped_convolution_matches_pyg_and_the_layer(graph):
    run = gnn.train_gcn(graph, epochs=5)
    step = gnn.step_convolution(run.model, graph, 33)
    assert step.max_abs_diff < 1e-5 and step.degree == len(graph.neighbours(33)) + 1
    assert len(step.table) == step.degree and "33 (itself)" in step.table["sender j"].tolist()
    layer = run.model.layers[0]
    import torch

    with torch.no_grad():
        full = layer(run.model.node_features, run.model.edge_index, run.model.edge_weight)
    np.testing.assert_allclose(step.total, full[33].numpy(), atol=1e-6)
    assert "Node 33 has 17 neighbours" in gnn.message_passing_sentence(step, graph)
    with pytest.raises(ValueError, match="between 0 and 33"):
        gnn.step_convolution(run.model, graph, 34)


@pytest.mark.parametrize("kwargs, message", [
    ({"seeds": 0}, "seeds"), ({"epochs": 0}, "epochs"), ({"dropout": 1.0}, "Dropout"),
    ({"lr": float("nan")}, "learning rate"), ({"hidden": 0}, "hidden units")])
def test_impossible_settings_say_what_to_change(graph, kwargs, message):
    with pytest.raises(ValueError, match=message):
        gnn.compare_over_seeds(graph, **kwargs)


def test_layout_and_edges_for_drawing(graph):
    positions = gnn.layout(graph)
    assert positions.shape == (34, 2) and np.allclose(positions, gnn.layout(graph))
    assert len(gnn.undirected_edges(graph)) == 78
    assert gnn.shown_vector(np.arange(6.0)) == "[0.000, 1.000, 2.000, 3.000, … (6 in all)]"
