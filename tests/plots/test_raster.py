"""The Playground's live images: the same colours and geometry as the interactive figures."""

import numpy as np
import pytest

from nnplay.plots import raster


def test_colorize_follows_the_scale():
    rgb = raster.colorize(np.array([0.0, 0.5, 1.0]), 0.0, 1.0)
    assert np.allclose(rgb[0], raster._rgb("#f59322")) and np.allclose(rgb[2], raster._rgb("#0877bd"))
    assert np.allclose(rgb[1], raster._rgb("#e8eaeb"))


def test_output_image_shows_the_map_and_the_points():
    xs = ys = np.linspace(-6, 6, 20, dtype=np.float32)
    out = np.tile((xs > 0).astype(float), (20, 1))          # class 1 (blue) on the right
    X = np.array([[-5.0, 5.0]], dtype=np.float32)          # one orange point, top left
    img = raster.output_image(xs, ys, out, "classification", X, np.array([0]), scale=5)
    assert img.shape == (100, 100, 3) and img.dtype == np.uint8
    assert img[50, 95, 2] > img[50, 95, 0]                 # right half is blue
    assert img[50, 5, 0] > img[50, 5, 2]                   # left half is orange
    row, col = int(round((6 - 5) / 12 * 99)), int(round((-5 + 6) / 12 * 99))
    assert tuple(img[row, col]) == tuple(raster._rgb("#f59322").astype(np.uint8))  # dot's fill
    assert tuple(img[row - 3, col]) == (255, 255, 255)     # its white outline (a training point)


def test_neuron_and_network_images():
    neurons = [np.random.default_rng(0).normal(size=(3, 60, 60)), np.zeros((2, 60, 60))]
    maps = raster.neuron_maps_image(neurons)
    assert maps.ndim == 3 and maps.shape[0] > maps.shape[1]   # a column per layer, 3 rows
    weights = [np.array([[1.0, -0.1]]), np.array([[0.5]])]
    net = raster.network_image([2, 1, 1], weights, width=200)
    assert net.shape[1] == 200 and (net < 250).any()
    with pytest.raises(ValueError, match="weight matrices"):
        raster.network_image([2, 1, 1], weights[:1])
