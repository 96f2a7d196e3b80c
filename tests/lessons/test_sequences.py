"""The recurrent-nets lesson's engine: the gradient each cell starts with (it vanishes through a
plain RNN, not through the gated cells), the memory race (gated cells remember 50 steps, a plain
RNN does not), verdicts against chance, and the numpy views of a trained recurrent net."""

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


@pytest.mark.parametrize("seq_len", [25, 50])
def test_at_the_start_the_plain_rnns_gradient_vanishes_and_the_gated_cells_keep_it(seq_len):
    """What the memory tab's gradient chart shows, over seeds 0-4: the plain RNN's gradient falls
    at every step back from the loss; the LSTM's and GRU's stay within 0.05 of the last step."""
    for seed in range(5):
        norms = lab.initial_gradient_norms(seq_len, seed=seed)
        assert {c: v.shape for c, v in norms.items()} == {c: (seq_len,) for c in lab.MEMORY_CELLS}
        reach = {cell: lab.gradient_reach(values) for cell, values in norms.items()}
        assert reach["rnn"] < 1e-2 and np.all(np.diff(norms["rnn"]) > 0), (seed, reach)
        for cell in ("lstm", "gru"):
            assert norms[cell].min() > 0.04 * norms[cell][-1], (seed, cell)
            assert reach[cell] > 1e3 * reach["rnn"], (seed, reach)
    sentence = lab.gradient_sentence(norms, {"rnn": "plain RNN"})
    assert "plain RNN: " in sentence and "it vanishes" in sentence and "10⁻" in sentence


def test_a_race_plan_skips_what_is_trained_and_the_race_reports_its_progress():
    assert lab.race_plan([25, 10, 10]) == {10: ["rnn", "lstm", "gru"], 25: ["rnn", "lstm", "gru"]}
    assert lab.race_plan([5, 10], done=[(5, "rnn"), (5, "lstm"), (5, "gru"), (10, "gru")]) == \
        {10: ["rnn", "lstm"]}
    progress = []
    results = lab.memory_race({5: ["rnn", "gru"], 10: ["lstm"]}, n=200, epochs=2, seed=1,
                              progress=lambda done, total: progress.append((done, total)))
    assert progress[-1] == (6, 6) and list(results) == [(5, "rnn"), (5, "gru"), (10, "lstm")]
    start = lab.initial_gradient_norms(5, cells=("gru",), n=200, seed=1)["gru"]
    gru = results[5, "gru"]
    np.testing.assert_allclose(gru.initial_gradient_norms, start, rtol=1e-6)  # the chart's numbers
    assert gru.chance == 0.25 and gru.trainer.config.grad_clip == 1.0 and gru.seconds > 0
    assert gru.trainer.dataset.params["distractor_scale"] == lab.MEMORY_NOISE
    assert np.all(np.isfinite(gru.gradient_norms)) and gru.gradient_norms.shape == (5,)


@pytest.mark.slow
def test_gated_cells_remember_fifty_steps_where_a_plain_rnn_guesses():
    """The race's defaults over seeds 0-2: at T = 50 the plain RNN is no better than guessing and
    the LSTM and GRU are clear wins; at T = 10 the plain RNN remembers too."""
    for seed in range(3):
        results = lab.memory_race({50: list(lab.MEMORY_CELLS)}, seed=seed)
        verdict = {cell: lab.chance_verdict(r.accuracy, r.chance, r.trainer.dataset.n_test)[0]
                   for (_, cell), r in results.items()}
        accuracy = {cell: r.accuracy for (_, cell), r in results.items()}
        assert verdict == {"rnn": "warning", "lstm": "success", "gru": "success"}, accuracy
        assert accuracy["rnn"] < 0.35 and min(accuracy["lstm"], accuracy["gru"]) > 0.9, accuracy
    short = lab.memory_race({10: ["rnn"]}, seed=0)[10, "rnn"]
    assert short.accuracy > 0.9


def test_only_a_clear_win_over_chance_is_a_success():
    assert lab.chance_verdict(0.268, 0.25, 250) == (
        "warning", "No better than guessing: 27% right, and guessing gets 25%.")
    level, sentence = lab.chance_verdict(0.34, 0.25, 250)  # significant, but within 0.1
    assert level == "warning" and sentence.startswith("Barely better than guessing")
    assert lab.chance_verdict(0.45, 0.25, 20)[0] == "warning"  # 9 of 20: could be luck
    assert lab.chance_verdict(0.60, 0.25, 250)[0] == "success"
    assert lab.chance_verdict(float("nan"), 0.25, 250)[0] == "warning"


def test_numbers_are_shown_for_a_person():
    assert lab.shown_number(0.98765) == "0.988" and lab.shown_number(float("nan")) == "diverged"
    assert lab.shown_number(float("inf"), 4) == "diverged"
    assert lab.shown_ratio(0.1364) == "0.14" and lab.shown_ratio(0.0031) == "0.0031"
    assert lab.shown_ratio(2.84e-14) == "3 × 10⁻¹⁴" and lab.shown_ratio(0.0) == "0"
    assert lab.shown_ratio(float("nan")) == "not measurable"
    assert math.isnan(lab.gradient_reach(np.array([1.0, 0.0])))
    assert "not measurable" in lab.gradient_sentence({"gru": np.zeros(4)}, {})


def test_a_stopped_memory_race_keeps_the_cells_it_finished():
    from nnplay.train.jobs import Cancelled

    seen = []
    with pytest.raises(Cancelled) as caught:
        lab.memory_race({5: ["rnn", "gru"]}, n=200, epochs=2,
                        progress=lambda done, total: seen.append((done, total)),
                        should_stop=lambda: len(seen) >= 3)  # during the GRU's training
    finished = caught.value.result
    assert list(finished) == [(5, "rnn")] and finished[5, "rnn"].trainer.status == "completed"
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
