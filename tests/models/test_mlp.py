"""The MLP builder: shapes, parameter counts, activations per layer, inits and bad settings."""

import pytest
import torch
from torch import nn

from nnplay import data, models
from nnplay.models.activations import activation_and_derivative


def test_shapes_and_parameter_count():
    net = models.mlp(3, [5, 4], 2, activation="tanh")
    assert net(torch.zeros(7, 3)).shape == (7, 2)
    assert models.count_parameters(net) == 3 * 5 + 5 + 5 * 4 + 4 + 4 * 2 + 2
    assert [lin.out_features for lin in net.linear_layers()] == [5, 4, 2]
    assert "3-5-4-2" in repr(net)


def test_zero_hidden_layers_is_a_linear_model():
    net = models.mlp(2, [], 1)
    assert len(net.linear_layers()) == 1 and net(torch.ones(4, 2)).shape == (4, 1)


def test_one_activation_per_layer_and_hidden_outputs():
    net = models.mlp(2, [3, 3], 2, activation=["relu", "sigmoid"])
    acts = net.hidden_activations(torch.randn(10, 2))
    assert len(acts) == 2 and (acts[0] >= 0).all() and ((acts[1] > 0) & (acts[1] < 1)).all()
    with pytest.raises(ValueError, match="activations"):
        models.mlp(2, [3, 3], 2, activation=["relu"])


def test_images_are_flattened():
    ds = data.load("digits")
    net = models.build_model({"family": "mlp", "params": {"hidden": [16]}}, ds)
    assert net(torch.as_tensor(ds.X_test[:5])).shape == (5, 10)


@pytest.mark.parametrize("init, std_range", [("small", (0.005, 0.02)), ("large", (0.8, 1.2)),
                                             ("kaiming", (0.2, 0.4))])
def test_inits_set_the_weight_scale(init, std_range):
    torch.manual_seed(0)
    net = models.mlp(30, [30, 30], 2, init=init)
    std = float(net.linear_layers()[1].weight.std())
    assert std_range[0] < std < std_range[1]
    assert float(net.linear_layers()[1].bias.abs().sum()) == 0.0


@pytest.mark.parametrize("kwargs, message", [
    ({"activation": "swish"}, "activation"), ({"hidden": [4, 0]}, "neuron"),
    ({"dropout": 1.0}, "dropout"), ({"init": "orthogonal"}, "init"),
])
def test_bad_settings(kwargs, message):
    args = {"n_inputs": 2, "hidden": [4], "n_outputs": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        models.mlp(**args)


def test_activation_derivatives_match_known_forms():
    z = torch.linspace(-3, 3, 13, dtype=torch.float64)
    f, df = activation_and_derivative("sigmoid", z)
    assert torch.allclose(df, f * (1 - f))
    f, df = activation_and_derivative("tanh", z)
    assert torch.allclose(df, 1 - f ** 2)
    assert isinstance(models.activation_module("leaky_relu"), nn.LeakyReLU)
