"""The recurrent-nets lesson's engine: the memory race (gated cells remember 40 steps, a plain RNN
does not), the gate biases it relies on, and the numpy views of a trained recurrent net."""

import math

import numpy as np
import pytest
import torch

from nnplay import data
from nnplay.lessons import sequences as lab
from nnplay.models import build_model, rnn


def test_memory_recipe_biases_the_memory_gates_by_log_t():
    assert lab.memory_bias(50) == pytest.approx(math.log(50))
    assert lab.memory_bias(2) == 1.0  # never below 1
    ds = lab.memory_dataset(30, n=40)
    h = 32
    lstm = build_model(lab.memory_spec("lstm", 30), ds)
    forget = lstm.rnn.bias_ih_l0[h:2 * h] + lstm.rnn.bias_hh_l0[h:2 * h]
    assert torch.allclose(forget, torch.full((h,), math.log(30)))
    gru = build_model(lab.memory_spec("gru", 30), ds)
    update = gru.rnn.bias_ih_l0[h:2 * h] + gru.rnn.bias_hh_l0[h:2 * h]
    assert torch.allclose(update, torch.full((h,), math.log(30)))
    assert lab.memory_spec("rnn", 30)["params"] == {"hidden_size": 32}
    with pytest.raises(ValueError, match="cell"):
        lab.memory_spec("transformer", 30)
    assert lab.memory_retention(0.0, 10) == pytest.approx(0.5**10)


def test_gru_update_bias_keeps_the_old_state_at_the_start():
    torch.manual_seed(0)
    net = rnn(2, 2, cell="gru", hidden_size=8, update_bias=6.0)
    gates = net.gate_activations(torch.randn(3, 5, 2))
    assert gates["update"].mean() > 0.95
    plain = rnn(2, 2, cell="gru", hidden_size=8)
    assert plain.update_bias == 0.0 and "update_bias=0.0" in repr(plain)


def test_gated_cells_remember_forty_steps_where_a_plain_rnn_does_not():
    progress = []
    results = lab.memory_race(40, n=1000, epochs=20, seed=0,
                              progress=lambda done, total: progress.append((done, total)))
    assert progress[-1] == (60, 60)
    accuracy = {cell: r.accuracy for cell, r in results.items()}
    assert accuracy["lstm"] > 0.9 and accuracy["gru"] > 0.9
    assert accuracy["rnn"] < 0.45  # chance is 0.25
    for result in results.values():
        assert result.chance == 0.25 and result.gradient_norms.shape == (40,)
        assert result.trainer.config.grad_clip == 1.0
        assert np.all(np.isfinite(result.gradient_norms)) and result.seconds > 0


def test_a_stopped_memory_race_keeps_the_cells_it_finished():
    from nnplay.train.jobs import Cancelled

    seen = []
    with pytest.raises(Cancelled) as caught:
        lab.memory_race(5, cells=("rnn", "gru"), n=200, epochs=2,
                        progress=lambda done, total: seen.append((done, total)),
                        should_stop=lambda: len(seen) >= 3)  # during the GRU's training
    finished = caught.value.result
    assert list(finished) == ["rnn"] and finished["rnn"].trainer.status == "completed"
    assert seen == [(1, 4), (2, 4), (3, 4)]


def test_numpy_views_of_a_trained_recurrent_net():
    ds = data.load("sine_forecast", n=40, seq_len=12)
    torch.manual_seed(0)
    net = rnn(1, 1, cell="lstm", hidden_size=6)
    x = ds.X_test[0]
    states = lab.hidden_trajectory(net, x)
    assert states.shape == (12, 6)
    np.testing.assert_allclose(states, net.hidden_states(torch.as_tensor(x)[None])[0].numpy())
    gates = lab.gate_trajectories(net, x)
    assert set(gates) == {"input", "forget", "cell", "output", "cell_state"}
    assert all(g.shape == (12, 6) for g in gates.values())
    norms = lab.gradient_norms(net, ds.X_test[:5], ds.y_test[:5])
    assert norms.shape == (12,) and np.all(norms > 0)
    points = lab.principal_directions(states)
    assert points.shape == (12, 2)
    # the first direction carries at least as much spread as the second
    assert points[:, 0].var() >= points[:, 1].var()
    shown = lab.forecast_examples(net, ds, k=3)
    assert shown["windows"].shape == (3, 12) and shown["forecast"].shape == (3,)
