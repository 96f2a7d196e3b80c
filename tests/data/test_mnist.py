"""Full MNIST through torchvision (read from tiny IDX files written here, never the network), the
offline fallback to mnist5k with its note, a failed download's message, and the MNIST
preprocessing of a drawn digit step by step."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from nnplay import data
from nnplay.data import mnist


def write_idx(folder: Path, prefix: str, images: np.ndarray, labels: np.ndarray) -> None:
    """MNIST's IDX format: big-endian magic number and sizes, then unsigned bytes."""
    n, h, w = images.shape
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(
        struct.pack(">iiii", 2051, n, h, w) + images.astype(np.uint8).tobytes())
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(
        struct.pack(">ii", 2049, n) + labels.astype(np.uint8).tobytes())


@pytest.fixture
def tiny_mnist(tmp_path) -> Path:
    """A root holding MNIST/raw with 30 training and 12 test 'digits' (random bytes)."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    write_idx(raw, "train", rng.integers(0, 256, (30, 28, 28)), np.arange(30) % 10)
    write_idx(raw, "t10k", rng.integers(0, 256, (12, 28, 28)), np.arange(12) % 10)
    return tmp_path


def test_full_mnist_is_read_through_torchvision_when_cached(tiny_mnist):
    assert mnist.is_cached(tiny_mnist)
    ds = mnist.load_mnist(root=str(tiny_mnist))
    assert ds.name == "mnist" and ds.X_train.shape == (30, 1, 28, 28) and ds.n_test == 12
    assert ds.X_train.dtype == np.float32 and 0.0 <= ds.X_train.min() and ds.X_train.max() <= 1.0
    raw = np.frombuffer((tiny_mnist / "MNIST/raw/train-images-idx3-ubyte").read_bytes()[16:],
                        dtype=np.uint8).reshape(30, 28, 28)
    np.testing.assert_allclose(ds.X_train[:, 0], raw / 255.0, atol=1e-6)
    assert ds.y_train.tolist() == (np.arange(30) % 10).tolist()
    assert ds.extra["loaded_as"] == {"name": "mnist",
                                     "params": {"train_rows": 30, "test_rows": 12, "seed": 0}}
    some = mnist.load_mnist(train_rows=20, test_rows=10, seed=3, root=str(tiny_mnist))
    again = mnist.load_mnist(train_rows=20, test_rows=10, seed=3, root=str(tiny_mnist))
    assert some.n_train == 20 and some.n_test == 10
    np.testing.assert_array_equal(some.X_train, again.X_train)
    choice = mnist.mnist_or_fallback(root=str(tiny_mnist))
    assert choice.full and choice.dataset.name == "mnist" and "Full MNIST" in choice.note


def test_without_the_files_it_falls_back_to_mnist5k_and_says_how_to_get_mnist(tmp_path):
    assert not mnist.is_cached(tmp_path)
    with pytest.raises(mnist.MnistUnavailable, match="not in .*MNIST"):
        mnist.load_mnist(root=str(tmp_path))
    choice = mnist.mnist_or_fallback(root=str(tmp_path))
    assert not choice.full and choice.dataset.name == "mnist5k"
    assert choice.dataset.n_train + choice.dataset.n_test == 5000
    assert "mnist5k" in choice.note and str(tmp_path / "MNIST" / "raw") in choice.note
    assert "download=True" in choice.note


def test_the_default_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(mnist.ENV_VAR, str(tmp_path))
    assert mnist.raw_folder() == tmp_path / "MNIST" / "raw"


def test_a_failed_download_is_a_clear_message(tmp_path, monkeypatch):
    import torchvision.datasets

    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried mirror one, "
                           "got:\n<urlopen error [Errno -2] Name or service not known>\n")

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    with pytest.raises(mnist.MnistUnavailable) as err:
        mnist.download_mnist(root=str(tmp_path))
    message = str(err.value)
    assert message.startswith("Full MNIST could not be downloaded (urlopen error [Errno -2] "
                              "Name or service not known).")
    assert "mnist5k" in message


# ---- preprocessing ------------------------------------------------------------------------------

def one_far_off_centre() -> np.ndarray:
    """A thick, slightly slanted '1' drawn in the top-right corner of a 56x56 canvas."""
    canvas = np.zeros((56, 56))
    for row in range(4, 34):
        col = 46 - row // 8
        canvas[row, col:col + 4] = 1.0
    return ndimage.gaussian_filter(canvas, 0.7)


def test_an_off_centre_one_is_cropped_scaled_into_20x20_and_centred():
    steps = mnist.preprocess_drawing(one_far_off_centre())
    images = steps.images()
    assert list(images) == ["drawn", "cropped", "scaled", "centred", "normalised"]
    assert max(steps.scaled.shape) == 20 and min(steps.scaled.shape) < 10   # tall and thin kept
    assert steps.normalised.shape == (28, 28) and steps.input.shape == (1, 28, 28)
    assert steps.input.dtype == np.float32
    row, col = ndimage.center_of_mass(steps.normalised)
    assert abs(row - 14) <= 1 and abs(col - 14) <= 1
    assert steps.centre_of_mass == pytest.approx((row, col))
    rows, cols = np.nonzero(steps.normalised > 0)
    assert rows.max() - rows.min() < 20 and cols.max() - cols.min() < 20
    assert steps.normalised.max() == pytest.approx(1.0) and steps.normalised.min() >= 0.0
    top, left, bottom, right = steps.box
    assert top <= 4 and bottom >= 34 and left >= 40       # the ink's box in the drawing
    assert len(steps.describe()) == 5 and "20" in steps.describe()["scaled"]


def test_a_wide_stroke_keeps_its_aspect_ratio():
    canvas = np.zeros((56, 56))
    canvas[30:34, 5:45] = 1.0                  # 4 tall, 40 wide: a dash
    steps = mnist.preprocess_drawing(canvas)
    h, w = steps.scaled.shape
    assert w == 20 and h == 2


def test_an_mnist_digit_is_almost_unchanged():
    """MNIST's digits were made this way, so doing it again changes them little."""
    ds = data.load("mnist5k")
    correlations = [np.corrcoef(mnist.preprocess_drawing(x[0]).normalised.ravel(),
                                x[0].ravel())[0, 1] for x in ds.X_test[:100]]
    assert np.median(correlations) > 0.99
    assert np.mean(np.array(correlations) > 0.9) >= 0.95


def test_a_blank_or_broken_drawing_is_a_message():
    with pytest.raises(ValueError, match="blank"):
        mnist.preprocess_drawing(np.zeros((56, 56)))
    with pytest.raises(ValueError, match="2-D"):
        mnist.preprocess_drawing(np.zeros(10))
    noisy = np.full((56, 56), np.nan)
    noisy[20:40, 25:29] = 255.0                 # NaN as background, 0..255 brightness
    steps = mnist.preprocess_drawing(noisy[None])
    assert np.isfinite(steps.normalised).all() and steps.normalised.max() == pytest.approx(1.0)
