"""Model summary: parameter totals equal the model's own count, MACs follow the layer formulas,
output shapes come from a real forward pass, and the model is left as it was."""

import pytest
import torch
from torch import nn

from nnplay.models.cnn import cnn
from nnplay.models.mlp import mlp
from nnplay.models.rnn import rnn
from nnplay.models.summary import COLUMNS, summary
from nnplay.models.transformer import transformer


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Small models run fastest on one thread, above all on a machine shared with other jobs."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def numel(model):
    return sum(p.numel() for p in model.parameters())


def test_linear_macs_are_inputs_times_outputs_per_example():
    table = summary(nn.Linear(7, 3), (7,))
    assert list(table.columns) == COLUMNS
    assert table["macs"].tolist() == [21]
    assert table["params"].tolist() == [24]
    batch = summary(nn.Linear(7, 3), torch.zeros(4, 7))  # per example, whatever the batch
    assert batch["macs"].tolist() == [21]
    assert batch["output_shape"].tolist() == ["(4, 3)"]


def test_mlp_rows_shapes_and_totals():
    net = mlp(2, hidden=[8, 4], n_outputs=3)
    table = summary(net, (2,))
    assert table["type"].tolist() == ["Flatten", "Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert table["output_shape"].tolist()[-1] == "(1, 3)"
    assert table.attrs["total_params"] == numel(net) == table["params"].sum()
    assert table.attrs["total_macs"] == 2 * 8 + 8 * 4 + 4 * 3


def test_cnn_conv_macs_and_shapes():
    net = cnn((1, 28, 28), n_outputs=10, channels=(16, 32), batch_norm=True)
    table = summary(net, (1, 28, 28)).set_index("layer")
    assert table.loc["features.conv1", "output_shape"] == "(1, 16, 28, 28)"
    assert table.loc["features.conv1", "macs"] == 16 * 28 * 28 * (1 * 3 * 3)
    assert table.loc["features.conv2", "macs"] == 32 * 14 * 14 * (16 * 3 * 3)
    assert table.loc["head.fc1", "macs"] == 32 * 7 * 7 * 64
    assert table.loc["features.pool2", "output_shape"] == "(1, 32, 7, 7)"
    assert table.loc["features.relu1", "macs"] == 0
    assert table.attrs["total_params"] == numel(net)


@pytest.mark.parametrize("cell, gates", [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_recurrent_macs_count_every_step(cell, gates):
    steps, features, hidden = 12, 3, 8
    net = rnn(features, 2, cell=cell, hidden_size=hidden, num_layers=2)
    table = summary(net, (steps, features)).set_index("layer")
    per_step = gates * (features * hidden + hidden * hidden) + gates * (2 * hidden * hidden)
    assert table.loc["rnn", "macs"] == steps * per_step
    assert table.loc["rnn", "params"] == numel(net.rnn)
    assert table.loc["rnn", "output_shape"] == f"(1, {steps}, {hidden})"
    assert table.attrs["total_params"] == numel(net)


def test_transformer_counts_attention_and_its_own_parameters():
    steps, d = 6, 16
    net = transformer(3, vocab_size=9, d_model=d, n_heads=4, n_layers=2, dim_feedforward=32,
                      positional="learned", pooling="cls", max_len=8)
    net.train()
    table = summary(net, (steps,), dtype=torch.long)
    assert table.attrs["total_params"] == numel(net) == table["params"].sum()
    rows = table.set_index("layer")
    length = steps + 1  # the CLS token joins the sequence
    assert rows.loc["layers.0.attn", "macs"] == 4 * length * d * d + 2 * length * length * d
    assert rows.loc["layers.0.attn", "params"] == 4 * d * d + 4 * d
    assert rows.loc["Transformer", "params"] == d  # the CLS token lives on the model itself
    assert net.training  # summary switches to eval mode for its pass and back


def test_shared_parameters_count_once():
    shared = nn.Linear(4, 4)
    net = nn.Sequential(shared, nn.Tanh(), shared)
    table = summary(net, (4,))
    assert table.attrs["total_params"] == numel(net) == 20
    assert table.attrs["total_macs"] == 2 * 16  # called twice


def test_bad_input_raises_value_error():
    with pytest.raises(ValueError, match="input shape"):
        summary(nn.Linear(2, 2), "2")
    with pytest.raises(ValueError, match="at least 1"):
        summary(nn.Linear(2, 2), (0,))
