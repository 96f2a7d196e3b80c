"""Full MNIST (70,000 digits) through torchvision when it is on this machine, and the MNIST
preprocessing that turns a drawn digit into what an MNIST network expects.

Full MNIST is not shipped: torchvision reads it from ``<root>/MNIST/raw`` (the four IDX files),
where ``root`` is ``$NNPLAY_DATA_DIR`` or the user's cache directory for nnplay. ``load_mnist``
never reaches the network unless asked (``download=True``); when the files are missing it raises
MnistUnavailable saying where they go. ``mnist_or_fallback`` is what a lesson calls: full MNIST
when it is cached, else the bundled 5,000-digit sample (``mnist5k``) with a note saying so.

``preprocess_drawing`` follows what LeCun, Cortes and Burges did to NIST's digits, step by step:
crop to the ink, scale the longer side to 20 pixels keeping the aspect ratio, put the result in a
28x28 field with its centre of mass in the middle, and scale the brightness as the training
images were (pixels in [0, 1], ink at 1). Every step is kept, so a page can show each one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage

from nnplay.data.dataset import Dataset
from nnplay.data.registry import DatasetInfo

ENV_VAR = "NNPLAY_DATA_DIR"
RAW_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte")
FULL_TRAIN, FULL_TEST = 60_000, 10_000
SIDE, BOX = 28, 20           # MNIST: 28x28 images, each digit scaled into a 20x20 box
INK_THRESHOLD = 0.1          # share of the brightest pixel that counts as ink when cropping
FALLBACK = "mnist5k"


# For the dataset registry: register(MNIST_INFO, load_mnist) makes data.load("mnist") work.
MNIST_INFO = DatasetInfo("mnist", "classification", "real", FULL_TRAIN + FULL_TEST, SIDE * SIDE,
                         10, "torchvision", "MNIST: 70,000 handwritten digits, 28x28 grey images "
                         "(60,000 train, 10,000 test); read from a local copy, downloaded only "
                         "when asked.", online=True)


class MnistUnavailable(ValueError):  # noqa: N818  (a person's message, like the other ValueErrors)
    """Full MNIST is not on this machine (or could not be downloaded); the message says what to do."""


def default_root() -> Path:
    """$NNPLAY_DATA_DIR when set, else the user's cache directory for nnplay."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("nnplay"))


def raw_folder(root: str | os.PathLike | None = None) -> Path:
    """Where torchvision looks for MNIST's four IDX files."""
    return Path(default_root() if root is None else root).expanduser() / "MNIST" / "raw"


def is_cached(root: str | os.PathLike | None = None) -> bool:
    """Whether the four MNIST files are in ``raw_folder(root)`` (no import of torchvision)."""
    folder = raw_folder(root)
    return all((folder / name).is_file() for name in RAW_FILES)


def how_to_get(root: str | os.PathLike | None = None) -> str:
    """One sentence on how to get full MNIST onto this machine."""
    return (f"Full MNIST is not in {raw_folder(root)}: download it on the MNIST lab's page, or with "
            "`torchvision.datasets.MNIST(root, download=True)` where root is "
            f"{raw_folder(root).parent.parent} (or set {ENV_VAR} to a folder that has "
            "MNIST/raw in it).")


def _subset(n_keep: int | None, n_all: int, seed: int) -> np.ndarray:
    """Indices of a seeded random subset of ``n_keep`` rows (all rows, in order, when None)."""
    if n_keep is None or int(n_keep) >= n_all:
        return np.arange(n_all)
    if int(n_keep) < 10:
        raise ValueError(f"Keep at least 10 rows, got {n_keep}.")
    return np.sort(np.random.default_rng(seed).choice(n_all, int(n_keep), replace=False))


def load_mnist(train_rows: int = FULL_TRAIN, test_rows: int = FULL_TEST, seed: int = 0,
               root: str | None = None, download: bool = False) -> Dataset:
    """Full MNIST as (n, 1, 28, 28) images in [0, 1]: its own 60,000 / 10,000 split, or a seeded
    random subset of ``train_rows`` and ``test_rows`` of it.

    Reads ``root`` (default ``default_root()``) through torchvision. With ``download=True`` a
    missing copy is downloaded first. Raises MnistUnavailable, saying what to do, when the files
    are not there or the download failed.
    """
    where = Path(default_root() if root is None else root).expanduser()
    if not download and not is_cached(where):
        raise MnistUnavailable(how_to_get(where))
    try:
        from torchvision.datasets import MNIST

        parts = [MNIST(str(where), train=train, download=download) for train in (True, False)]
    except Exception as err:  # noqa: BLE001 - a failed download is urllib's, torchvision's or OS's
        # torchvision lists each mirror it tried; the last line is the last mirror's answer
        lines = [line.strip(" <>") for line in str(err).strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else type(err).__name__
        what = "could not be downloaded" if download else "could not be read"
        raise MnistUnavailable(f"Full MNIST {what} ({reason}). Without it, use the bundled "
                               f"{FALLBACK} (5,000 real MNIST digits). {how_to_get(where)}"
                               ) from None
    arrays = []
    for part, keep in zip(parts, (train_rows, test_rows), strict=True):
        rows = _subset(keep, len(part.data), seed)
        arrays.append((part.data.numpy()[rows].astype(np.float32)[:, None] / 255.0,
                       part.targets.numpy()[rows].astype(np.int64)))
    (X_train, y_train), (X_test, y_test) = arrays
    params = {"train_rows": len(y_train), "test_rows": len(y_test), "seed": int(seed)}
    kept = "" if len(y_train) == FULL_TRAIN else \
        f"; a seeded random {len(y_train):,} of the 60,000 training and {len(y_test):,} of the " \
        "10,000 test digits"
    ds = Dataset(name="mnist", X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test,
                 task="classification",
                 feature_names=[f"pixel_{r}_{c}" for r in range(SIDE) for c in range(SIDE)],
                 class_names=[str(d) for d in range(10)],
                 description="MNIST: 70,000 handwritten digits, 28x28 grey images, with its own "
                             "60,000 / 10,000 train/test split.",
                 params=params,
                 extra={"preprocessing": ["pixel values (0..255) divided by 255 to lie in "
                                          f"[0, 1]{kept}"],
                        "loaded_as": {"name": "mnist", "params": params}})
    return ds


def download_mnist(root: str | None = None) -> Path:
    """Download full MNIST into ``root`` (default ``default_root()``) unless it is there; returns
    the folder of its files. MnistUnavailable says why when it fails (e.g. no internet)."""
    load_mnist(train_rows=10, test_rows=10, root=root, download=True)
    return raw_folder(root)


@dataclass(frozen=True)
class MnistChoice:
    """The data a lesson got: the Dataset, whether it is full MNIST, and a note for the learner."""

    dataset: Dataset = field(repr=False)
    full: bool
    note: str


def mnist_or_fallback(train_rows: int = FULL_TRAIN, test_rows: int = FULL_TEST, seed: int = 0,
                      root: str | None = None, prefer_full: bool = True) -> MnistChoice:
    """Full MNIST when it is cached (and preferred), else mnist5k; never touches the network."""
    from nnplay.data.registry import load  # the registry is filled when nnplay.data is imported

    if prefer_full:
        try:
            ds = load_mnist(train_rows, test_rows, seed, root=root)
            return MnistChoice(ds, True, f"Full MNIST from {raw_folder(root)}: "
                                         f"{ds.n_train:,} training and {ds.n_test:,} test digits.")
        except MnistUnavailable as err:
            missing = str(err)
    else:
        missing = ""
    ds = load(FALLBACK, seed=seed)
    note = (f"The bundled {FALLBACK}: 5,000 real MNIST digits (500 of each), {ds.n_train:,} for "
            f"training and {ds.n_test:,} for testing, no download needed.")
    return MnistChoice(ds, False, f"{note} {missing}".strip())


# ---- preprocessing a drawing the way MNIST's digits were prepared --------------------------------

@dataclass(frozen=True)
class DrawingSteps:
    """A drawing on its way to an MNIST network: the image after each step, and what each did."""

    drawn: np.ndarray = field(repr=False)       # as given, brightness in [0, 1], white on black
    cropped: np.ndarray = field(repr=False)     # the ink's bounding box
    scaled: np.ndarray = field(repr=False)      # longer side BOX pixels, aspect ratio kept
    centred: np.ndarray = field(repr=False)     # SIDE x SIDE, centre of mass in the middle
    normalised: np.ndarray = field(repr=False)  # as the training images: [0, 1], ink at 1
    box: tuple[int, int, int, int]              # top, left, bottom, right (exclusive) in drawn
    scale: float                                # cropped -> scaled factor
    centre_of_mass: tuple[float, float]         # (row, col) in the final image
    shift: tuple[int, int]                      # rows and columns moved to centre it

    def images(self) -> dict[str, np.ndarray]:
        """Each step's image by name, in order."""
        return {"drawn": self.drawn, "cropped": self.cropped, "scaled": self.scaled,
                "centred": self.centred, "normalised": self.normalised}

    @property
    def input(self) -> np.ndarray:
        """The network's input: (1, 28, 28) float32."""
        return self.normalised[None].astype(np.float32)

    def describe(self) -> dict[str, str]:
        """A caption per step, with this drawing's numbers."""
        (top, left, bottom, right), (h, w) = self.box, self.cropped.shape
        row, col = self.centre_of_mass
        return {"drawn": f"your drawing, {self.drawn.shape[0]}x{self.drawn.shape[1]}",
                "cropped": f"cropped to the ink: rows {top}-{bottom - 1}, columns "
                           f"{left}-{right - 1} ({h}x{w})",
                "scaled": f"scaled by {self.scale:.2f} to {self.scaled.shape[0]}x"
                          f"{self.scaled.shape[1]} (longer side {BOX}, shape kept)",
                "centred": f"in a {SIDE}x{SIDE} field, centre of mass at ({row:.1f}, {col:.1f})",
                "normalised": "brightness as in training: pixels in [0, 1], ink at 1"}

    def __repr__(self) -> str:
        return (f"DrawingSteps(box={self.box}, scale={self.scale:.3f}, "
                f"centre_of_mass=({self.centre_of_mass[0]:.2f}, {self.centre_of_mass[1]:.2f}))")


def _resize(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``image`` resized to ``shape`` by bilinear interpolation, smoothed first when it shrinks
    (so thin strokes are averaged, not skipped), pixel edges aligned as in an image editor."""
    factors = np.array(shape) / np.array(image.shape)
    sigma = np.maximum(0.0, (1.0 / factors - 1.0) / 2.0)   # no smoothing when enlarging
    smooth = ndimage.gaussian_filter(image, sigma) if sigma.any() else image
    out = ndimage.zoom(smooth, factors, order=1, grid_mode=True, mode="grid-constant", cval=0.0)
    out = out[:shape[0], :shape[1]]
    if out.shape != tuple(shape):   # zoom rounds the output size; pad what it dropped
        out = np.pad(out, [(0, shape[0] - out.shape[0]), (0, shape[1] - out.shape[1])])
    return np.clip(out, 0.0, None)


def preprocess_drawing(image: np.ndarray, box: int = BOX, side: int = SIDE) -> DrawingSteps:
    """Prepare a drawn digit as MNIST's digits were prepared (see the module docstring).

    ``image`` is a 2-D array of brightness, white ink on black (any size; values are scaled to
    [0, 1] by the brightest pixel). A blank image raises ValueError.
    """
    drawn = np.asarray(image, dtype=np.float64)
    if drawn.ndim == 3 and drawn.shape[0] == 1:
        drawn = drawn[0]
    if drawn.ndim != 2 or min(drawn.shape) < 2:
        raise ValueError(f"Give the drawing as a 2-D grid of pixels, got shape {drawn.shape}.")
    drawn = np.nan_to_num(drawn, nan=0.0, posinf=0.0, neginf=0.0).clip(0.0, None)
    peak = float(drawn.max())
    if peak <= 1e-6:
        raise ValueError("The drawing is blank: draw a digit first.")
    drawn = drawn / peak if peak > 1.0 else drawn
    rows, cols = np.nonzero(drawn >= INK_THRESHOLD * drawn.max())
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    cropped = drawn[top:bottom, left:right]
    h, w = cropped.shape
    scale = box / max(h, w)
    shape = (max(1, round(h * scale)), max(1, round(w * scale)))
    scaled = _resize(cropped, shape)
    if scaled.max() <= 0:          # a single faint dot smoothed away: keep it as one pixel
        scaled = np.full(shape, cropped.max())
    # centre of mass to pixel (14, 14) as in MNIST (its digits' centres of mass average 14.0),
    # by whole pixels (no blur), the box kept inside the field
    com = np.array(ndimage.center_of_mass(scaled))
    corner = np.floor(side / 2 - com + 0.5).astype(int)
    corner = np.clip(corner, 0, np.array([side, side]) - np.array(shape))
    centred = np.zeros((side, side))
    centred[corner[0]:corner[0] + shape[0], corner[1]:corner[1] + shape[1]] = scaled
    normalised = np.clip(centred / centred.max(), 0.0, 1.0)
    final_com = tuple(float(c) for c in ndimage.center_of_mass(normalised))
    start = ((side - shape[0]) // 2, (side - shape[1]) // 2)   # where plain centring puts it
    return DrawingSteps(drawn, cropped, scaled, centred, normalised,
                        (int(top), int(left), int(bottom), int(right)), float(scale), final_com,
                        (int(corner[0] - start[0]), int(corner[1] - start[1])))
