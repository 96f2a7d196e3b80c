"""Recurrent builder: shapes, hand-counted parameters, gates unrolled by hand against nn.LSTM and
nn.GRU, and gradients through time (vanishing in a plain RNN, carried by an LSTM)."""

import numpy as np
import pytest
import torch
from torch import nn

from nnplay.models.rnn import RNN, gradient_through_time, rnn


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Small models run fastest on one thread, above all on a machine shared with other jobs."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_output_and_hidden_state_shapes(cell, bidirectional):
    net = rnn(3, 4, cell=cell, hidden_size=6, num_layers=2, bidirectional=bidirectional,
              dropout=0.1)
    net.eval()
    x = torch.randn(5, 7, 3)
    assert net(x).shape == (5, 4)
    assert net.hidden_states(x).shape == (5, 7, 6 * (2 if bidirectional else 1))


def test_single_feature_sequences_may_come_without_the_feature_axis():
    net = rnn(1, 1, cell="gru", hidden_size=4)
    x = torch.randn(3, 9)
    assert torch.equal(net(x), net(x.unsqueeze(-1)))


@pytest.mark.parametrize("cell, gates", [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_parameter_count_matches_hand_count(cell, gates):
    n_features, hidden, n_outputs = 3, 5, 2
    recurrent = gates * (hidden * n_features + hidden * hidden + 2 * hidden)  # W_ih, W_hh, 2 biases
    head = hidden * n_outputs + n_outputs
    net = rnn(n_features, n_outputs, cell=cell, hidden_size=hidden)
    assert sum(p.numel() for p in net.parameters()) == recurrent + head
    both_ways = rnn(n_features, n_outputs, cell=cell, hidden_size=hidden, bidirectional=True)
    assert (sum(p.numel() for p in both_ways.parameters())
            == 2 * recurrent + 2 * hidden * n_outputs + n_outputs)


def test_head_reads_the_final_hidden_state():
    torch.manual_seed(0)
    net = rnn(2, 3, cell="lstm", hidden_size=4)
    x = torch.randn(2, 6, 2)
    last = net.hidden_states(x)[:, -1]
    assert torch.allclose(net(x), net.head(last), atol=1e-6)


def test_lstm_forget_bias_is_split_over_both_bias_vectors():
    net = rnn(2, 2, cell="lstm", hidden_size=4, forget_bias=2.0)
    h = 4
    total = net.rnn.bias_ih_l0[h:2 * h] + net.rnn.bias_hh_l0[h:2 * h]
    assert torch.allclose(total, torch.full((h,), 2.0))


def _layer_zero_reference(net: RNN, x: torch.Tensor) -> torch.Tensor:
    """Layer 0's outputs from a fresh one-layer torch module holding layer 0's weights."""
    ref = type(net.rnn)(net.n_features, net.hidden_size, batch_first=True)
    with torch.no_grad():
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            getattr(ref, name).copy_(getattr(net.rnn, name))
        out, _ = ref(x)
    return out


@pytest.mark.parametrize("num_layers", [1, 2])
def test_lstm_gates_unrolled_by_hand_reproduce_nn_lstm(num_layers):
    torch.manual_seed(0)
    net = rnn(3, 2, cell="lstm", hidden_size=8, num_layers=num_layers)
    x = torch.randn(4, 12, 3)
    gates = net.gate_activations(x)
    assert set(gates) == {"input", "forget", "cell", "output", "cell_state", "hidden"}
    for name in ("input", "forget", "cell", "output"):
        assert gates[name].shape == (4, 12, 8)
    reference = _layer_zero_reference(net, x)
    assert torch.allclose(gates["hidden"], reference, atol=1e-5)
    if num_layers == 1:
        assert torch.allclose(gates["hidden"], net.hidden_states(x), atol=1e-5)
    for name in ("input", "forget", "output"):
        assert 0 < gates[name].min() and gates[name].max() < 1
    assert gates["cell"].abs().max() < 1
    # h_t = o_t * tanh(c_t): the recorded pieces fit together
    assert torch.allclose(gates["hidden"], gates["output"] * torch.tanh(gates["cell_state"]),
                          atol=1e-6)


def test_gru_gates_unrolled_by_hand_reproduce_nn_gru():
    torch.manual_seed(1)
    net = rnn(2, 2, cell="gru", hidden_size=5)
    x = torch.randn(3, 9, 2)
    gates = net.gate_activations(x)
    assert set(gates) == {"reset", "update", "new", "hidden"}
    assert torch.allclose(gates["hidden"], net.hidden_states(x), atol=1e-5)


def test_plain_rnn_has_no_gates():
    with pytest.raises(ValueError, match="no gates"):
        rnn(2, 2, cell="rnn").gate_activations(torch.zeros(1, 3, 2))


def test_gradient_through_time_ends_with_the_gradient_of_the_final_state():
    torch.manual_seed(0)
    net = rnn(3, 2, cell="gru", hidden_size=6, num_layers=2)
    x, y = torch.randn(8, 10, 3), torch.randint(0, 2, (8,))
    grads = gradient_through_time(net, x, y)
    assert grads.shape == (10,) and np.all(np.isfinite(grads)) and np.all(grads > 0)
    _, h_n = net.rnn(x)
    h_n.retain_grad()
    nn.functional.cross_entropy(net.head(net._final_state(h_n)), y).backward()
    assert grads[-1] == pytest.approx(h_n.grad.norm().item(), rel=1e-5)


def test_gradient_vanishes_through_a_plain_rnn_but_an_lstm_with_open_forget_gates_keeps_it():
    x, y = torch.randn(16, 30, 3, generator=torch.Generator().manual_seed(0)), torch.zeros(16)
    ratios = {}
    for name, cell, forget_bias in (("rnn", "rnn", 0.0), ("lstm_closed", "lstm", 0.0),
                                    ("lstm_open", "lstm", 3.0)):
        torch.manual_seed(0)
        net = rnn(3, 1, cell=cell, hidden_size=16, forget_bias=forget_bias)
        grads = gradient_through_time(net, x, y)
        ratios[name] = grads[0] / grads[-1]
    assert ratios["rnn"] < 1e-6           # 29 steps back, almost nothing arrives
    assert ratios["lstm_closed"] < 1e-5   # f = 0.5 at the start: memory halves every step
    assert ratios["lstm_open"] > 1e-2     # f = 0.95: the cell state carries it back


@pytest.mark.parametrize("kwargs, message", [
    (dict(cell="transformer"), "cell"),
    (dict(hidden_size=0), "hidden_size"),
    (dict(dropout=-0.1), "dropout"),
])
def test_invalid_settings_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rnn(3, 2, **kwargs)


def test_wrong_input_width_and_bidirectional_gradients_are_refused():
    with pytest.raises(ValueError, match=r"\(batch, T, 3\)"):
        rnn(3, 2)(torch.zeros(2, 5, 4))
    with pytest.raises(ValueError, match="bidirectional"):
        gradient_through_time(rnn(3, 2, bidirectional=True), torch.zeros(2, 5, 3),
                              torch.zeros(2, dtype=torch.long))
