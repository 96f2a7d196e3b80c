"""Image datasets for transfer learning: IDX parsing, Fashion-MNIST and what happens without it,
the digits 0-4 / 5-9 split, and a person's zip of images (good, hostile and broken)."""

from __future__ import annotations

import gzip
import io
import stat
import zipfile

import numpy as np
import pytest
from PIL import Image

from nnplay import data
from nnplay.data import images


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def png(color, size=(20, 12)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def make_zip(files: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, blob in files.items():
            zf.writestr(name, blob)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


def class_folders(n=6, top="photos/") -> dict[str, bytes]:
    files = {f"{top}cats/{i}.png": png((200, 40 + i, 40)) for i in range(n)}
    files.update({f"{top}dogs/{i}.jpg": png((30, 40, 200 - i)) for i in range(n)})
    return files


def test_read_idx_round_trip_and_damage(tmp_path):
    a = np.arange(2 * 3 * 4).reshape(2, 3, 4) % 256
    (tmp_path / "x-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(a)))
    np.testing.assert_array_equal(images.read_idx(tmp_path / "x-idx3-ubyte.gz"), a)
    (tmp_path / "bad").write_bytes(idx_bytes(a)[:-5])
    with pytest.raises(ValueError, match="damaged"):
        images.read_idx(tmp_path / "bad")
    (tmp_path / "text").write_bytes(b"hello world")
    with pytest.raises(ValueError, match="not an IDX file"):
        images.read_idx(tmp_path / "text")


@pytest.mark.skipif(images.find_fashion_mnist() is None,
                    reason="Debian's dataset-fashion-mnist is not installed "
                           "(/usr/share/datasets/fashion-mnist is missing)")
def test_fashion_mnist_from_debian_files():
    ds = data.load("fashion_mnist", n_train=200, n_test=100, seed=1)
    assert ds.X_train.shape == (200, 1, 28, 28) and ds.X_test.shape == (100, 1, 28, 28)
    assert ds.X_train.dtype == np.float32 and 0 <= ds.X_train.min() and ds.X_train.max() <= 1
    assert np.bincount(ds.y_train).tolist() == [20] * 10     # drawn per class
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[-1] == "Ankle boot"
    again = data.load("fashion_mnist", n_train=200, n_test=100, seed=1)
    np.testing.assert_array_equal(ds.X_train, again.X_train)
    with pytest.raises(ValueError, match="n_train must be a whole number"):
        data.load("fashion_mnist", n_train=5)


def test_fashion_mnist_missing_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "DEBIAN_FASHION_DIR", tmp_path / "none")
    monkeypatch.setenv("NNPLAY_FASHION_MNIST", str(tmp_path / "empty"))
    monkeypatch.setenv("NNPLAY_DATA", str(tmp_path / "data"))
    images._fashion_raw.cache_clear()
    try:
        assert images.find_fashion_mnist() is None
        with pytest.raises(ValueError, match="dataset-fashion-mnist.*digits_5to9"):
            data.load("fashion_mnist")
    finally:
        images._fashion_raw.cache_clear()


def test_fashion_mnist_from_a_folder_of_idx_files(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for split, n in (("train", 40), ("t10k", 20)):
        pixels = rng.integers(0, 256, (n, 28, 28))
        (tmp_path / f"{split}-images-idx3-ubyte").write_bytes(idx_bytes(pixels))
        (tmp_path / f"{split}-labels-idx1-ubyte.gz").write_bytes(
            gzip.compress(idx_bytes(np.arange(n) % 10)))
    monkeypatch.setenv("NNPLAY_FASHION_MNIST", str(tmp_path))
    images._fashion_raw.cache_clear()
    try:
        ds = data.load("fashion_mnist", n_train=20, n_test=10)
        assert ds.n_train == 20 and ds.n_test == 10 and ds.n_outputs == 10
    finally:
        images._fashion_raw.cache_clear()


def test_digit_splits_relabel_and_name_their_classes():
    low, high = data.load("digits_0to4"), data.load("digits_5to9")
    assert low.class_names == ["0", "1", "2", "3", "4"]
    assert high.class_names == ["5", "6", "7", "8", "9"]
    assert set(high.y_train) == set(range(5)) and high.n_train + high.n_test == 2500
    assert high.input_shape == (1, 28, 28)


def test_zip_with_one_folder_per_class():
    files = class_folders()
    files["photos/notes.txt"] = b"not an image"
    files["photos/dogs/broken.png"] = b"\x89PNG but not really"
    files["__MACOSX/photos/cats/._0.png"] = b"junk"
    ds = images.from_image_zip(make_zip(files), size=32, test_size=0.25, seed=0)
    assert ds.class_names == ["cats", "dogs"]           # the shared top folder is not a class
    assert ds.n_train + ds.n_test == 12 and ds.input_shape == (3, 32, 32)
    assert 0 <= ds.X_train.min() and ds.X_train.max() <= 1
    cats = ds.X_train[ds.y_train == 0]
    assert cats[:, 0].mean() > cats[:, 2].mean()        # red stays red: RGB order kept
    assert sorted(ds.extra["skipped_files"]) == ["photos/dogs/broken.png", "photos/notes.txt"]
    assert any("skipped 2 file(s)" in step for step in ds.extra["preprocessing"])


@pytest.mark.parametrize("name", ["../evil.png", "cats/../../evil.png", "/etc/evil.png",
                                  "C:/evil.png", "cats\\..\\evil.png"])
def test_zip_with_paths_that_leave_the_folder_is_refused(name):
    files = class_folders()
    files[name] = png((0, 0, 0))
    with pytest.raises(ValueError, match="leave"):
        images.from_image_zip(make_zip(files))


def test_zip_with_a_link_is_refused():
    with pytest.raises(ValueError, match="link"):
        images.from_image_zip(make_zip(class_folders(), links=("cats/passwd.png",)))


@pytest.mark.parametrize("files, message", [
    ({"a.txt": b"hello"}, "no images"),
    ({"cat.png": png((1, 2, 3))}, "own folder"),
    ({f"cats/{i}.png": png((9, 9, 9)) for i in range(6)}, "one class"),
    ({**{f"cats/{i}.png": png((9, 9, 9)) for i in range(6)}, "dogs/1.png": png((1, 1, 1))},
     r"Too few images in dogs \(1\)"),
])
def test_zip_that_cannot_make_a_dataset_says_why(files, message):
    with pytest.raises(ValueError, match=message):
        images.from_image_zip(make_zip(files))


def test_not_a_zip_and_oversized_members():
    with pytest.raises(ValueError, match="not a zip"):
        images.from_image_zip(b"PK but no zip at all")
    big = class_folders()
    big["cats/huge.png"] = bytes(images.MAX_IMAGE_BYTES + 1)   # zeros: a tiny compressed zip
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, blob in big.items():
            zf.writestr(name, blob)
    with pytest.raises(ValueError, match="under 20 MiB"):
        images.from_image_zip(buf.getvalue())
