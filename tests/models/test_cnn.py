"""CNN builder: output-size formula against torch, shapes, hand-counted parameters, clear errors,
feature maps, and a small CNN that learns sklearn's 8x8 digits."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

from nnplay.models.cnn import CNN, cnn, conv_output_size


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Small models run fastest on one thread, above all on a machine shared with other jobs."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_conv_output_size_matches_torch_conv_over_a_grid():
    checked = 0
    for size, kernel, stride, padding, dilation in itertools.product(
            range(3, 11), range(1, 6), range(1, 4), range(0, 3), (1, 2)):
        expected = conv_output_size(size, kernel, stride, padding, dilation)
        if expected < 1:
            continue
        conv = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation)
        with torch.no_grad():
            out = conv(torch.zeros(1, 1, size, size + 1))
        assert out.shape[2] == expected, (size, kernel, stride, padding, dilation)
        assert out.shape[3] == conv_output_size(size + 1, kernel, stride, padding, dilation)
        checked += 1
    assert checked > 300


def test_conv_output_size_matches_pooling_and_flags_windows_that_do_not_fit():
    for size in range(2, 12):
        pooled = nn.MaxPool2d(2)(torch.zeros(1, 1, size, size))
        assert pooled.shape[-1] == conv_output_size(size, 2, 2)
    assert conv_output_size(3, 5) == -1
    with pytest.raises(ValueError, match="stride"):
        conv_output_size(8, 3, stride=0)
    with pytest.raises(ValueError, match="padding"):
        conv_output_size(8, 3, padding=-1)


def test_default_cnn_maps_mnist_sized_images_to_ten_logits():
    net = cnn()
    assert net(torch.zeros(4, 1, 28, 28)).shape == (4, 10)
    assert net(torch.zeros(4, 784)).shape == (4, 10)  # flat rows are reshaped
    assert net.feature_shape == (32, 7, 7)


def test_parameter_count_matches_hand_count():
    net = cnn((1, 8, 8), n_outputs=3, channels=(4,), kernel_size=3, padding=1, pool="max",
              hidden=(5,))
    conv = 1 * 4 * 3 * 3 + 4          # weights + biases
    fc1 = (4 * 4 * 4) * 5 + 5         # 4 channels of 4x4 after pooling
    out = 5 * 3 + 3
    assert sum(p.numel() for p in net.parameters()) == conv + fc1 + out == 383
    with_bn = cnn((1, 8, 8), n_outputs=3, channels=(4,), hidden=(5,), batch_norm=True)
    assert sum(p.numel() for p in with_bn.parameters()) == 383 + 2 * 4  # gamma and beta


def test_options_per_block_and_layers_in_order():
    net = cnn((3, 32, 32), n_outputs=5, channels=(8, 16), kernel_size=(5, 3), stride=(1, 2),
              padding=(2, 1), pool="avg", batch_norm=True, dropout=0.2, hidden=(),
              activation="tanh")
    names = [name for name, _ in net.features.named_children()]
    assert names == ["conv1", "bn1", "tanh1", "pool1", "drop1",
                     "conv2", "bn2", "tanh2", "pool2", "drop2"]
    assert [c.kernel_size for c in net.conv_layers()] == [(5, 5), (3, 3)]
    assert isinstance(net.features.pool1, nn.AvgPool2d)
    # 32 -conv-> 32 -pool-> 16 -conv(stride 2)-> 8 -pool-> 4
    assert net.feature_shape == (16, 4, 4)
    net.eval()
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 5)


def test_feature_maps_name_every_conv_activation_and_pool_output():
    net = cnn((1, 12, 12), n_outputs=2, channels=(3, 5), batch_norm=True)
    maps = net.feature_maps(torch.randn(2, 1, 12, 12))
    assert [name for name, _ in maps] == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2"]
    assert [tuple(t.shape) for _, t in maps] == [(2, 3, 12, 12), (2, 3, 12, 12), (2, 3, 6, 6),
                                                 (2, 5, 6, 6), (2, 5, 6, 6), (2, 5, 3, 3)]
    relu = dict(maps)["relu1"]
    assert relu.min() >= 0 and not relu.requires_grad


def test_block_that_shrinks_below_one_pixel_is_named_with_the_formula():
    with pytest.raises(ValueError, match=r"Block 4 does not fit.*max-pooling.*= 0"):
        cnn((1, 8, 8), channels=(4, 4, 4, 4), pool="max")  # 8 -> 4 -> 2 -> 1 -> 0
    with pytest.raises(ValueError, match=r"Block 1 does not fit.*convolution.*\(5 \+ 2\*0"):
        cnn((1, 5, 5), channels=(2,), kernel_size=7, padding=0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(channels=(4, 8), kernel_size=(3, 3, 3)), "kernel_size"),
    (dict(pool="median"), "pool"),
    (dict(channels=()), "at least one conv block"),
    (dict(dropout=1.0), "dropout"),
    (dict(input_shape=(28, 28, 1, 1)), "input_shape"),
    (dict(activation="swishy"), "activation"),
])
def test_invalid_settings_raise_value_error_saying_what_to_change(kwargs, message):
    with pytest.raises(ValueError, match=message):
        cnn(**kwargs)


def test_small_cnn_learns_digits():
    digits = load_digits()
    X = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor(digits.target)
    torch.manual_seed(0)
    order = torch.randperm(len(X))
    train, test = order[:1300], order[1300:]
    net = CNN((1, 8, 8), n_outputs=10, channels=(8,), hidden=(32,))
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    gen = torch.Generator().manual_seed(0)
    for _ in range(150):
        batch = train[torch.randint(0, len(train), (64,), generator=gen)]
        loss = F.cross_entropy(net(X[batch]), y[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        accuracy = (net(X[test]).argmax(1) == y[test]).float().mean().item()
    assert accuracy > 0.9
    assert np.isfinite(loss.item())
