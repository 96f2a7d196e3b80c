"""The convolution explainer's arithmetic against torch: outputs, one position's numbers, the
output-size check, pooling, and the numpy views of a trained CNN."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nnplay.lessons import cnn as conv
from nnplay.models import cnn


def torch_conv(image, kernel, stride, padding):
    x = torch.as_tensor(image, dtype=torch.float64)[None, None]
    w = torch.as_tensor(kernel, dtype=torch.float64)[None, None]
    return F.conv2d(x, w, stride=stride, padding=padding)[0, 0].numpy()


@pytest.mark.parametrize("size, k, stride, padding", [(7, 3, 1, 0), (7, 3, 2, 1), (8, 5, 3, 2),
                                                      (6, 1, 1, 0), (5, 4, 1, 3)])
def test_convolve2d_matches_torch_conv2d(size, k, stride, padding):
    rng = np.random.default_rng(size + k)
    image, kernel = rng.normal(size=(size, size)), rng.normal(size=(k, k))
    np.testing.assert_allclose(conv.convolve2d(image, kernel, stride, padding),
                               torch_conv(image, kernel, stride, padding), atol=1e-12)
    assert conv.conv_fit(size, k, stride, padding).output == torch_conv(image, kernel, stride,
                                                                        padding).shape[0]


def test_one_position_shows_the_window_the_products_and_their_sum():
    image = conv.sample_image("square", 7)
    kernel = conv.make_kernel("vertical edge", 3)
    step = conv.conv_step(image, kernel, stride=2, padding=1, index=5)
    assert step.n_positions == 16 and (step.row, step.col) == (1, 1)
    assert (step.top, step.left) == (2, 2)
    np.testing.assert_array_equal(step.window, np.pad(image, 1)[2:5, 2:5])
    np.testing.assert_array_equal(step.products, step.window * kernel)
    full = torch_conv(image, kernel, 2, 1)
    assert step.value == pytest.approx(full[1, 1]) == pytest.approx(step.products.sum())
    filled = step.output.ravel()
    np.testing.assert_allclose(filled[:6], full.ravel()[:6])
    assert np.isnan(filled[6:]).all()
    # the arithmetic shown is of the same numbers, ending in the same value
    latex = conv.step_arithmetic(step)
    assert latex.startswith("y_{1,1} =") and latex.endswith(f"= {step.value:.4g}")
    assert latex.count(r"\cdot") == int(np.count_nonzero(step.products))


def test_positions_out_of_range_are_clipped():
    image, kernel = conv.sample_image("cross", 5), conv.make_kernel("box blur", 3)
    assert conv.conv_step(image, kernel, index=100).index == 8
    assert conv.conv_step(image, kernel, index=-3).index == 0


def test_fit_check_says_when_a_combination_does_not_fit_or_does_not_tile():
    exact = conv.conv_fit(7, 3, 2, 0)
    assert exact.fits and exact.output == 3 and exact.message == ""
    assert exact.formula().endswith("= 3")
    uneven = conv.conv_fit(7, 3, 3, 0)
    assert uneven.fits and uneven.output == 2 and uneven.leftover == 1
    assert "not tile" in uneven.message
    too_big = conv.conv_fit(4, 7, 1, 1)
    assert not too_big.fits and too_big.output < 1 and "does not fit" in too_big.message
    with pytest.raises(ValueError, match="does not fit"):
        conv.convolve2d(np.zeros((4, 4)), np.zeros((7, 7)), 1, 1)


@pytest.mark.parametrize("kind, reference", [("max", F.max_pool2d), ("avg", F.avg_pool2d)])
@pytest.mark.parametrize("size", [2, 3])
def test_pooling_matches_torch(kind, reference, size):
    image = np.random.default_rng(0).normal(size=(8, 8))
    expected = reference(torch.as_tensor(image)[None, None], size)[0, 0].numpy()
    np.testing.assert_allclose(conv.pool2d(image, size, kind), expected)
    step = conv.pool_step(image, size, kind, index=3)
    assert step["value"] == pytest.approx(expected.ravel()[3])
    assert step["window"].shape == (size, size)


def test_named_kernels_and_images():
    assert conv.make_kernel("box blur", 3).sum() == pytest.approx(1.0)
    assert conv.make_kernel("vertical edge", 3).sum() == 0
    # an edge kernel answers where the image changes and is silent on a flat area
    edges = conv.convolve2d(conv.sample_image("square", 8), conv.make_kernel("vertical edge", 3))
    assert edges.max() > 0 and edges.min() < 0 and edges[2, 2] == 0  # inside the square
    np.testing.assert_array_equal(conv.convolve2d(np.eye(5), conv.make_kernel("identity", 3), 1, 1),
                                  np.eye(5))
    digit = conv.sample_image("digit", 8)
    assert 5 <= digit.max() <= 9 and digit.min() == 0 and np.all(digit == np.round(digit))
    for bad in (lambda: conv.make_kernel("emboss", 3), lambda: conv.sample_image("cat"),
                lambda: conv.pool2d(np.zeros((2, 2)), 3), lambda: conv.make_kernel("identity", 9)):
        with pytest.raises(ValueError):
            bad()


def test_filters_and_feature_maps_of_a_cnn():
    torch.manual_seed(0)
    net = cnn((1, 8, 8), 10, channels=(4, 6), hidden=(8,))
    filters = conv.learned_filters(net)
    assert filters.shape == (4, 3, 3)
    np.testing.assert_allclose(filters, net.features.conv1.weight.detach().mean(1).numpy())
    image = np.random.default_rng(0).random((1, 8, 8)).astype(np.float32)
    maps = conv.layer_feature_maps(net, image)
    assert [name for name, _ in maps] == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2"]
    assert maps[0][1].shape == (4, 8, 8) and maps[-1][1].shape == (6, 2, 2)
    assert (maps[1][1] >= 0).all()  # after ReLU
    assert net.training  # the mode is put back


def test_a_drawing_becomes_a_centred_digit_like_the_datasets():
    grid = np.zeros((56, 56), dtype=np.float32)
    grid[5:20, 40:44] = 1.0          # a short vertical stroke far from the centre
    image = conv.prepare_drawing(grid, (1, 28, 28))
    assert image.shape == (1, 28, 28) and image.dtype == np.float32
    assert image.max() == pytest.approx(1.0)
    rows, cols = np.nonzero(image[0] > 0.1)
    assert rows.max() - rows.min() + 1 == pytest.approx(20, abs=1)   # the 20-pixel box
    mass = image[0] / image[0].sum()
    cy = (mass.sum(axis=1) * np.arange(28)).sum()
    cx = (mass.sum(axis=0) * np.arange(28)).sum()
    assert abs(cy - 13.5) < 1.5 and abs(cx - 13.5) < 1.5             # centred by mass
    small = conv.prepare_drawing(grid, (1, 8, 8))
    assert small.shape == (1, 8, 8)
    with pytest.raises(ValueError, match="empty"):
        conv.prepare_drawing(np.zeros((56, 56)), (1, 28, 28))


def test_one_channels_convolution_adds_up_to_the_layers_output():
    from nnplay import data, models

    ds = data.load("digits")
    torch.manual_seed(0)
    model = models.cnn(ds.input_shape, 10, channels=[4, 6], hidden=[16])
    image = ds.X_test[0]
    for layer, channel in ((0, 2), (1, 5)):
        parts = conv.channel_convolution(model, image, layer, channel)
        assert parts["contributions"].shape[0] == parts["inputs"].shape[0] == (1, 4)[layer]
        np.testing.assert_allclose(parts["sum"], parts["output"], atol=1e-5)
    with pytest.raises(ValueError, match="pick 1 to 6"):
        conv.channel_convolution(model, image, 1, 6)
