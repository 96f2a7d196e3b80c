"""Lab 3, sentiment with a transformer: the engine side of pages/lab_sentiment.py.

Four ways to tell a good review from a bad one, trained and tested on the same split:
- VADER, a hand-made sentiment lexicon (nothing learned from these reviews);
- TF-IDF word and word-pair weights + logistic regression (scikit-learn);
- frozen sentence embeddings (all-MiniLM-L6-v2's tokens averaged) + a logistic head, the
  embeddings cached on disk per (model, dataset, max_len);
- fine-tuning: the head and the last ``train_layers`` layers of the encoder trained for
  ``steps`` AdamW steps.

``train_text`` trains one text model (frozen or fine-tuned) and ``compare`` builds the
side-by-side table; both run without Streamlit (the CLI calls them) and follow the job protocol
(``progress(done, total)``, ``should_stop()``; a stop keeps what was learned and raises Cancelled
carrying it). ``inspect_sentence`` looks inside one sentence: its tokens, the model's
prediction, attention maps and token attributions.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, f1_score

from nnplay import data
from nnplay.data.dataset import Dataset
from nnplay.data.text import DEFAULT_BASE, TEXT_DATASETS
from nnplay.models.registry import ModelSpec
from nnplay.models.text import (
    CACHE_ENV,
    EVAL_CHUNK,
    MODES,
    Embeddings,
    TextClassifier,
    logistic_head,
    sentence_embeddings,
)
from nnplay.train.config import TrainConfig
from nnplay.train.jobs import Cancelled, check_stop
from nnplay.train.schedules import make_optimizer
from nnplay.train.trainer import seed_everything

DEFAULT_DATASET = "rotten_tomatoes"
DATASETS = TEXT_DATASETS
# CPU defaults: the whole comparison at these settings took about 127 CPU-seconds when measured
# (two threads), most of it the 60 fine-tuning steps
DEFAULTS = {"n": 1200, "test_size": 0.25, "max_len": 64, "steps": 60, "train_layers": 2,
            "batch_size": 16, "lr": 3e-4, "seed": 0}
MAX_LEN_FOR = {"rotten_tomatoes": 64, "drug_reviews": 128, "imdb": 256}
METHODS = ("vader", "tfidf", "frozen", "finetune")
BASE_NAMES = {"all-MiniLM-L6-v2": "MiniLM", "distilbert-base-uncased": "DistilBERT"}
# what each pretrained model learned from, as its model card says
PRETRAINED_ON = {"all-MiniLM-L6-v2": "a billion sentence pairs",
                 "distilbert-base-uncased": "English Wikipedia and a corpus of books"}
METHOD_TITLES = {"vader": "VADER lexicon", "tfidf": "TF-IDF + logistic regression",
                 "frozen": "Frozen {model} embeddings + logistic head",
                 "finetune": "Fine-tuned {model}"}
SHORT_TITLES = {"vader": "VADER", "tfidf": "TF-IDF + LR", "frozen": "Frozen {model} + LR",
                "finetune": "Fine-tuned {model}"}


def method_title(key: str, base: str = DEFAULT_BASE, short: bool = False) -> str:
    """A method's name for a person, with the pretrained model's name where it has one."""
    return (SHORT_TITLES if short else METHOD_TITLES)[key].format(model=BASE_NAMES.get(base, base))


# ---- the data ------------------------------------------------------------------------------------
def load_reviews(name: str = DEFAULT_DATASET, n: int | None = None, test_size: float = 0.25,
                 seed: int = 0, max_len: int | None = None, base: str = DEFAULT_BASE) -> Dataset:
    """A review dataset as token ids; ``n`` reviews (the lab's default, capped at all of them)."""
    if name not in TEXT_DATASETS:
        raise ValueError(f"A text model learns from review text: choose one of "
                         f"{', '.join(TEXT_DATASETS)}, not {name!r}.")
    info = data.get_info(name)
    n = min(int(n or DEFAULTS["n"]), info.n_samples)
    return data.load(name, n=n, test_size=test_size, seed=seed,
                     max_len=int(max_len or MAX_LEN_FOR.get(name, 64)), tokenizer=base)


def scores(y_true, y_pred) -> dict:
    """Accuracy and macro F1 (every class counts the same, however rare)."""
    return {"accuracy": float(accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0))}


# ---- baselines -----------------------------------------------------------------------------------
class VaderBaseline:
    """VADER's compound score mapped to the dataset's classes; nothing is learned but the class
    to answer when a review has no sentiment words at all (the training majority).

    Two classes: compound > 0 is the positive class, < 0 the negative one. Three: VADER's own
    thresholds, >= 0.05 positive, <= -0.05 negative, neutral between.
    """

    def __init__(self, sentiment=("negative", "positive")):
        self.sentiment = tuple(sentiment)

    def fit(self, texts, y) -> VaderBaseline:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.analyzer_ = SentimentIntensityAnalyzer()
        self.majority_ = int(np.bincount(np.asarray(y)).argmax())
        return self

    def compound(self, texts) -> np.ndarray:
        return np.array([self.analyzer_.polarity_scores(t)["compound"] for t in texts])

    def predict(self, texts) -> np.ndarray:
        c = self.compound(texts)
        index = {s: i for i, s in enumerate(self.sentiment)}
        if "neutral" in index:
            return np.where(c >= 0.05, index["positive"],
                            np.where(c <= -0.05, index["negative"], index["neutral"]))
        return np.where(c > 0, index["positive"], np.where(c < 0, index["negative"],
                                                           self.majority_))

    def __repr__(self) -> str:
        return f"VaderBaseline(sentiment={self.sentiment})"


class TfidfBaseline:
    """TF-IDF of words and word pairs (sublinear counts) + multinomial logistic regression."""

    def __init__(self, C: float = 4.0, ngram_range=(1, 2)):   # noqa: N803 (scikit-learn's name)
        self.C, self.ngram_range = C, tuple(ngram_range)

    def fit(self, texts, y) -> TfidfBaseline:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.vectorizer_ = TfidfVectorizer(ngram_range=self.ngram_range, sublinear_tf=True)
        X = self.vectorizer_.fit_transform(texts)
        self.model_ = LogisticRegression(C=self.C, max_iter=2000).fit(X, y)
        return self

    def predict(self, texts) -> np.ndarray:
        return self.model_.predict(self.vectorizer_.transform(texts))

    def __repr__(self) -> str:
        return f"TfidfBaseline(C={self.C}, ngram_range={self.ngram_range})"


# ---- training one text model ------------------------------------------------------------------------
@dataclass
class TextRun:
    """One trained text model: what it scored on the test split, how long it took, how it ended."""

    mode: str                      # frozen | finetune
    dataset: Dataset = field(repr=False)
    model: TextClassifier = field(repr=False)
    spec: ModelSpec = field(repr=False)
    test_accuracy: float = float("nan")
    macro_f1: float = float("nan")
    train_seconds: float = 0.0
    predict_seconds: float = 0.0   # predicting the test split
    cached_seconds: float = 0.0    # frozen: what the cached training embeddings took to compute
    status: str = "completed"      # completed | stopped
    steps_done: int = 0
    steps: int = 0
    history: list = field(default_factory=list, repr=False)   # per step: step, loss, seconds
    predictions: np.ndarray | None = field(default=None, repr=False)
    note: str = ""
    config: TrainConfig | None = field(default=None, repr=False)

    def summary(self) -> dict:
        """JSON-able numbers (what `nnplay train --model text --json` prints)."""
        out = {"dataset": self.dataset.name, "mode": self.mode, "spec": self.spec.to_dict(),
               "test_accuracy": self.test_accuracy, "macro_f1": self.macro_f1,
               "train_seconds": round(self.train_seconds, 2), "status": self.status,
               "steps_done": self.steps_done, "steps": self.steps, "n_train": self.dataset.n_train,
               "n_test": self.dataset.n_test, "note": self.note}
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in out.items()}

    def record(self, lesson: str = "cli"):
        """The model's ModelRecord, to save it with nnplay.models.modelio (``save_dir``)."""
        from nnplay.data.ref import DatasetRef
        from nnplay.train.record import ModelRecord

        return ModelRecord(run_name(self), self.spec, DatasetRef.of(self.dataset), lesson,
                           history=tuple(self.history), metrics=run_metrics(self),
                           status="completed" if self.status == "completed" else "stopped")


def predict_ids(model: TextClassifier, ids: np.ndarray) -> np.ndarray:
    """Predicted classes for token-id rows (chunked, in eval mode)."""
    model.eval()
    with torch.no_grad():
        return model(torch.as_tensor(np.asarray(ids))).argmax(-1).numpy()


def length_batches(lengths: torch.Tensor, batch_size: int, generator: torch.Generator) -> list:
    """One pass over the rows in mini-batches of similar length, in random order.

    Rows are shuffled, cut into pools of 8 batches, sorted by length within a pool and batched;
    the batches are shuffled again. A batch is as long as its longest review, so similar lengths
    waste less computation on padding (transformers' ``group_by_length`` does the same).
    """
    order = torch.randperm(len(lengths), generator=generator)
    pool, batches = batch_size * 8, []
    for start in range(0, len(order), pool):
        chunk = order[start:start + pool]
        batches += list(chunk[torch.argsort(lengths[chunk], stable=True)].split(batch_size))
    return [batches[i] for i in torch.randperm(len(batches), generator=generator)]


def fine_tune(run: TextRun, lr: float, batch_size: int, seed: int, progress=None,
              should_stop=None) -> TextRun:
    """``run.steps`` AdamW steps on mini-batches of similar length (``length_batches``, a new
    order each pass over the data), the gradient norm clipped at 1. A stop ends it after the
    current step, keeping the weights."""
    model, ds = run.model, run.dataset
    n = ds.n_train
    config = TrainConfig(optimizer="adamw", lr=lr, batch_size=batch_size, seed=seed,
                         epochs=max(1, math.ceil(run.steps * batch_size / n)), grad_clip=1.0)
    run.config = config
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(params, config)
    X, y = torch.as_tensor(ds.X_train), torch.as_tensor(ds.y_train)
    lengths, order_gen = model.mask_of(X).sum(1), torch.Generator().manual_seed(seed)
    batches: list = []
    model.train()
    start = time.perf_counter()
    for step in range(1, run.steps + 1):
        if should_stop is not None and should_stop():
            run.status = "stopped"
            break
        if not batches:   # the next pass over the data
            batches = length_batches(lengths, batch_size, order_gen)
        rows = batches.pop()
        loss = torch.nn.functional.cross_entropy(model(X[rows]), y[rows])
        for p in params:
            p.grad = None
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        run.steps_done = step
        run.history.append({"step": step, "loss": float(loss.detach()),
                            "seconds": time.perf_counter() - start})
        if progress is not None:
            progress(step, run.steps)
    run.train_seconds += time.perf_counter() - start
    model.eval()
    return run


def train_text(dataset: str | Dataset = DEFAULT_DATASET, mode: str = "finetune",
               steps: int = DEFAULTS["steps"], seed: int = 0,
               train_layers: int = DEFAULTS["train_layers"], lr: float = DEFAULTS["lr"],
               batch_size: int = DEFAULTS["batch_size"], base: str = DEFAULT_BASE,
               n: int | None = None, max_len: int | None = None, cache: bool = True,
               history: list | None = None, progress=None, should_stop=None) -> TextRun:
    """Train one text classifier; returns a TextRun with test_accuracy, macro_f1, train_seconds
    and status.

    ``dataset`` is a Dataset from nnplay.data.text or a registry name (then ``n`` reviews,
    ``max_len`` tokens, split with ``seed``). ``mode="frozen"``: embeddings (disk-cached) and a
    logistic head; ``"finetune"``: ``steps`` steps on the head and the last ``train_layers``
    layers. ``history``, when given, is filled with the per-step losses as they come (a page
    draws it live). A stop raises Cancelled(result=the run, evaluated as it stands).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}.")
    if isinstance(steps, bool) or not 1 <= int(steps) <= 10_000:
        raise ValueError(f"steps must be a whole number from 1 to 10,000, got {steps!r}.")
    ds = dataset if isinstance(dataset, Dataset) else load_reviews(
        dataset, n=n, seed=seed, max_len=max_len, base=base)
    params = {"base": base, "mode": mode}
    if mode == "finetune":
        params["train_layers"] = int(train_layers)
    spec = ModelSpec("text", params)
    seed_everything(seed)
    model = spec.build(ds)
    run = TextRun(mode, ds, model, spec, steps=int(steps) if mode == "finetune" else 0)
    if history is not None:
        run.history = history
    if mode == "frozen":
        _fit_frozen(run, cache, progress, should_stop)
    else:
        fine_tune(run, lr, batch_size, seed, progress, should_stop)
        run.predictions, run.predict_seconds = _timed(predict_ids, model, ds.X_test)
    s = scores(ds.y_test, run.predictions)
    run.test_accuracy, run.macro_f1 = s["accuracy"], s["macro_f1"]
    if run.status == "stopped":
        raise Cancelled(result=run)
    return run


def _timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def _fit_frozen(run: TextRun, cache: bool, progress, should_stop) -> None:
    """Embed the training rows (cache first), fit the logistic head, embed and predict the
    test rows. A stop while embedding raises Cancelled with nothing trained."""
    model, ds = run.model, run.dataset
    max_len = ds.X_train.shape[1]
    train_chunks = math.ceil(ds.n_train / EVAL_CHUNK)
    total = train_chunks + math.ceil(ds.n_test / EVAL_CHUNK)
    later = None if progress is None else (lambda done, _t: progress(train_chunks + done, total))
    train = sentence_embeddings(model, ds.X_train, ds.name, max_len, cache,
                                None if progress is None else (lambda d, _t: progress(d, total)),
                                should_stop)
    _, fit_s = _timed(logistic_head, model, train.vectors, ds.y_train)
    run.train_seconds, run.cached_seconds = train.seconds + fit_s, train.cached_seconds
    test = sentence_embeddings(model, ds.X_test, ds.name, max_len, cache, later, should_stop)
    with torch.no_grad():
        logits, head_s = _timed(model.head, torch.as_tensor(test.vectors))
    run.predictions, run.predict_seconds = logits.argmax(-1).numpy(), test.seconds + head_s
    cached = train.cached_rows + test.cached_rows
    if cached:
        run.note = (f"{cached} of {ds.n_train + ds.n_test} reviews' embeddings came from the "
                    f"disk cache (computing them took about "
                    f"{train.cached_seconds + test.cached_seconds:.0f} s)")
    if progress is not None:
        progress(total, total)


# ---- the side-by-side comparison ---------------------------------------------------------------------
@dataclass
class Comparison:
    """Every method trained and tested on the same split: the table, predictions and models."""

    dataset: Dataset = field(repr=False)
    table: pd.DataFrame            # one row per method (index: method key), see COLUMNS
    predictions: dict = field(default_factory=dict, repr=False)   # method -> test predictions
    runs: dict = field(default_factory=dict, repr=False)          # frozen / finetune -> TextRun
    complete: bool = True
    base: str = DEFAULT_BASE       # the pretrained model of the frozen and fine-tuned rows

    def titles(self, short: bool = False) -> dict:
        """method key -> its name, for this comparison's pretrained model."""
        return {key: method_title(key, self.base, short) for key in self.table.index}

    @property
    def majority_accuracy(self) -> float:
        """Accuracy of always answering the training set's most common class."""
        majority = np.bincount(self.dataset.y_train).argmax()
        return float(np.mean(self.dataset.y_test == majority))


COLUMNS = ("method", "accuracy", "macro_f1", "train_seconds", "predict_seconds", "status", "note",
           "cached_seconds")


def _row(key: str, base: str, y_true, pred, train_s: float, predict_s: float,
         status: str = "completed", note: str = "", cached_s: float = 0.0) -> dict:
    return {"key": key, "method": method_title(key, base), **scores(y_true, pred),
            "train_seconds": train_s, "predict_seconds": predict_s, "status": status,
            "note": note, "cached_seconds": cached_s}


def comparison(dataset: str | Dataset = DEFAULT_DATASET, steps: int = DEFAULTS["steps"],
               train_layers: int = DEFAULTS["train_layers"], seed: int = 0,
               n: int | None = None, max_len: int | None = None, lr: float = DEFAULTS["lr"],
               batch_size: int = DEFAULTS["batch_size"], methods=METHODS,
               base: str = DEFAULT_BASE, cache: bool = True, history: list | None = None,
               progress=None, should_stop=None) -> Comparison:
    """Train and test every method in ``methods`` on one split; returns a Comparison.

    A stop keeps the rows finished (and a fine-tuning run as it stood) and raises
    Cancelled(result=the partial Comparison).
    """
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ValueError(f"Unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}.")
    ds = dataset if isinstance(dataset, Dataset) else load_reviews(
        dataset, n=n, seed=seed, max_len=max_len, base=base)
    train_text_, test_text = ds.extra["text_train"], ds.extra["text_test"]
    chunks = math.ceil(ds.n_train / EVAL_CHUNK) + math.ceil(ds.n_test / EVAL_CHUNK)
    total = 2 + ("frozen" in methods) * chunks + ("finetune" in methods) * (int(steps) + 1)
    rows, result = [], Comparison(ds, pd.DataFrame(columns=COLUMNS), base=base)

    def report(done: int) -> None:
        if progress is not None:
            progress(done, total)

    def part(before: int):
        return None if progress is None else (lambda done, _total: progress(before + done, total))

    def table() -> pd.DataFrame:
        frame = pd.DataFrame(rows, columns=("key", *COLUMNS))
        return frame.set_index("key").reindex([m for m in METHODS if m in set(frame["key"])])

    try:
        if "vader" in methods:
            vader = VaderBaseline(ds.extra["sentiment"]).fit(train_text_, ds.y_train)
            pred, seconds = _timed(vader.predict, test_text)
            rows.append(_row("vader", base, ds.y_test, pred, 0.0, seconds,
                             note="nothing learned from these reviews"))
            result.predictions["vader"] = pred
        report(1)
        check_stop(should_stop)
        if "tfidf" in methods:
            tfidf, fit_s = _timed(TfidfBaseline().fit, train_text_, ds.y_train)
            pred, seconds = _timed(tfidf.predict, test_text)
            rows.append(_row("tfidf", base, ds.y_test, pred, fit_s, seconds))
            result.predictions["tfidf"] = pred
        report(2)
        if "frozen" in methods:
            run = train_text(ds, "frozen", seed=seed, base=base, cache=cache,
                             progress=part(2), should_stop=should_stop)
            result.runs["frozen"], result.predictions["frozen"] = run, run.predictions
            rows.append(_row("frozen", base, ds.y_test, run.predictions, run.train_seconds,
                             run.predict_seconds, note=run.note, cached_s=run.cached_seconds))
            report(2 + chunks)
        if "finetune" in methods:
            before = 2 + ("frozen" in methods) * chunks
            try:
                run = train_text(ds, "finetune", steps, seed, train_layers, lr, batch_size, base,
                                 history=history, progress=part(before), should_stop=should_stop)
            except Cancelled as stop:
                run = stop.result
            report(total)   # the fine-tuned model has been tested too
            result.runs["finetune"], result.predictions["finetune"] = run, run.predictions
            rows.append(_row("finetune", base, ds.y_test, run.predictions, run.train_seconds,
                             run.predict_seconds, run.status, _finetune_note(run)))
            if run.status == "stopped":
                raise Cancelled()
    except Cancelled:
        result.table, result.complete = table(), False
        raise Cancelled(result=result) from None
    result.table = table()
    return result


def compare(dataset: str | Dataset = DEFAULT_DATASET, **kwargs) -> pd.DataFrame:
    """The side-by-side table alone (accuracy, macro F1, seconds per method); see comparison."""
    return comparison(dataset, **kwargs).table


def _finetune_note(run: TextRun) -> str:
    layers = "all layers" if run.model.train_layers == len(run.model.layers) else \
        f"last {run.model.train_layers} of {len(run.model.layers)} layers"
    return f"{layers}, {run.steps_done} of {run.steps} steps of {run.config.batch_size} reviews"


def _points(x: float) -> str:
    return f"{100 * x:+.1f} points"


def findings(result: Comparison) -> list[str]:
    """What the table shows, in sentences built from its numbers (nothing typed in)."""
    t = result.table
    done = t[t["accuracy"].notna()]
    if done.empty:
        return []
    n_test, best = result.dataset.n_test, done["accuracy"].idxmax()
    lines = [f"On these {n_test:,} test reviews, **{t.loc[best, 'method']}** is the most accurate "
             f"({t.loc[best, 'accuracy']:.1%}, macro F1 {t.loc[best, 'macro_f1']:.3f}); always "
             f"answering the most common class would score {result.majority_accuracy:.1%}."]
    for key in done.index.drop(best):
        lines.append(f"{t.loc[key, 'method']}: {t.loc[key, 'accuracy']:.1%} "
                     f"({_points(t.loc[key, 'accuracy'] - t.loc[best, 'accuracy'])} against the "
                     f"best), macro F1 {t.loc[key, 'macro_f1']:.3f}.")
    if {"frozen", "tfidf"} <= set(done.index):
        gap = t.loc["frozen", "accuracy"] - t.loc["tfidf", "accuracy"]
        if gap > 0:
            lines.append(f"With {result.dataset.n_train:,} training reviews, the pretrained "
                         f"embeddings beat TF-IDF by {100 * gap:.1f} points: they bring what "
                         f"{BASE_NAMES.get(result.base, result.base)} learned about language "
                         f"from {PRETRAINED_ON.get(result.base, 'its pretraining')}, while "
                         "TF-IDF knows only the words of these reviews.")
        else:
            lines.append(f"Here TF-IDF matches or beats the frozen embeddings "
                         f"({_points(-gap)}): with {result.dataset.n_train:,} training reviews "
                         "the words themselves carry enough.")
    if {"frozen", "finetune"} <= set(done.index):
        ft, fr = t.loc["finetune"], t.loc["frozen"]
        frozen_s = fr["train_seconds"] + fr["cached_seconds"]   # as if nothing were cached
        cached = (f" (its training embeddings came from the disk cache: {fr['train_seconds']:.1f} s "
                  f"this time, about {frozen_s:.0f} s to compute them)"
                  if fr["cached_seconds"] > 0 else "")
        lines.append(f"Fine-tuning ({ft['note']}) scored {_points(ft['accuracy'] - fr['accuracy'])} "
                     f"against the frozen embeddings and trained for {ft['train_seconds']:.0f} s, "
                     f"{ft['train_seconds'] / max(frozen_s, 1e-9):.1f}x the frozen model's "
                     f"{frozen_s:.1f} s{cached}.")
    gaps = (done["accuracy"] - done["macro_f1"])
    if gaps.max() > 0.05:
        key = gaps.idxmax()
        lines.append(f"{t.loc[key, 'method']}'s macro F1 is {gaps.max():.3f} below its accuracy: "
                     "it gets the rarer classes wrong more often (macro F1 counts every class "
                     "the same).")
    return lines


def misclassified(result: Comparison, method: str, limit: int = 50) -> pd.DataFrame:
    """Test reviews ``method`` got wrong: the text, the true class, its answer and the others'."""
    if method not in result.predictions:
        raise ValueError(f"{method_title(method, result.base)} has no predictions in this "
                         "comparison.")
    ds, names, titles = result.dataset, result.dataset.class_names, result.titles()
    wrong = np.flatnonzero(result.predictions[method] != ds.y_test)[:limit]
    frame = pd.DataFrame({"review": [ds.extra["text_test"][i] for i in wrong],
                          "true class": [names[ds.y_test[i]] for i in wrong],
                          titles[method]: [names[result.predictions[method][i]]
                                                  for i in wrong]})
    for key, pred in result.predictions.items():
        if key != method:
            frame[titles[key]] = [names[pred[i]] for i in wrong]
    return frame


# ---- one sentence, inside the model ----------------------------------------------------------------
def inspect_sentence(model: TextClassifier, text: str, class_names, max_len: int = 64,
                     target: int | None = None, n_steps: int = 50) -> dict:
    """The sentence's tokens, the model's class probabilities, its attention maps per layer,
    integrated-gradient attributions per token and attention rollout. ValueError for an empty
    text; a text longer than ``max_len`` tokens is cut (``view.truncated`` says so)."""
    from nnplay.data.text import tokens_of
    from nnplay.models.text import attention_rollout, token_attributions

    view = tokens_of(text, model.base, max_len)
    ids = torch.as_tensor([view.ids])
    model.eval()
    with torch.no_grad():
        proba = torch.softmax(model(ids), -1)[0].numpy()
    maps = model.attention_maps(ids)
    ig = token_attributions(model, ids, target, n_steps)
    return {"view": view, "proba": proba, "predicted": int(proba.argmax()),
            "class_names": list(class_names), "maps": [m.numpy() for m in maps],
            "ig": ig, "rollout": attention_rollout(maps).numpy()}


def run_name(run: TextRun) -> str:
    """The name a run's model gets in the session's workspace."""
    model = BASE_NAMES.get(run.model.base, run.model.base)
    if run.mode == "frozen":
        return f"{model} frozen + logistic head on {run.dataset.name}"
    return f"{model} fine-tuned ({_finetune_note(run)}) on {run.dataset.name}"


def same_frozen_model(entries, run: TextRun) -> str | None:
    """The name of a workspace model that ``run`` would only repeat: a frozen model has no
    randomness, so the same spec on the same data gives the same weights. None otherwise."""
    if run.mode != "frozen":
        return None
    from nnplay.data.ref import DatasetRef

    ref = DatasetRef.of(run.dataset)
    return next((e.name for e in entries if e.spec == run.spec and e.record.dataset == ref), None)


def review_choices(name: str, wanted: int) -> tuple[list[int], int]:
    """Review counts to offer for a dataset (all of it the last), and ``wanted`` snapped to one."""
    total = dataset_size(name)
    choices = sorted({c for c in REVIEW_CHOICES if c < total} | {total})
    return choices, min(choices, key=lambda c: abs(c - wanted))


def run_metrics(run: TextRun) -> dict:
    return {"accuracy": run.test_accuracy, "macro_f1": run.macro_f1}


def dataset_size(name: str) -> int:
    return data.get_info(name).n_samples


REVIEW_CHOICES = (200, 400, 800, 1200, 2000, 4000, 8000)
MAX_LEN_CHOICES = (16, 32, 48, 64, 96, 128, 192, 256)


def layers_label(k: int) -> str:
    return "head only" if k == 0 else "all 6 + embeddings" if k == 6 else f"last {k}"


def run_caption(settings: dict, result: Comparison) -> str:
    """What a comparison ran on, in one line."""
    ds = result.dataset
    cut = ds.extra["truncated_train"] + ds.extra["truncated_test"]
    return (f"{ds.name}: {ds.n_train + ds.n_test:,} reviews ({ds.n_train:,} to train on, "
            f"{ds.n_test:,} to test), at most {ds.extra['max_len']} tokens each ({cut:,} cut), "
            f"seed {settings['seed']}.")


def timing_text(result: Comparison | None) -> str:
    """How long fine-tuning takes, from the last run's measured pace (nothing typed in)."""
    text = ("Time grows with the steps, the reviews per step and their tokens; frozen "
            "embeddings are computed once per review and kept on disk for the next run.")
    run = None if result is None else result.runs.get("finetune")
    if run is None or not run.steps_done:
        return text
    pace = run.train_seconds / run.steps_done
    return (f"{text} The last run fine-tuned at {pace:.2f} s a step ({run.steps_done} steps in "
            f"{run.train_seconds:.0f} s) on this machine, shared with everyone using it.")


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison formatted for a person: percentages, seconds, words for missing values."""
    def fmt(value, pattern: str) -> str:
        return "—" if value is None or (isinstance(value, float) and not math.isfinite(value)) \
            else pattern.format(value)

    return pd.DataFrame({
        "method": table["method"],
        "accuracy": [fmt(v, "{:.1%}") for v in table["accuracy"]],
        "macro F1": [fmt(v, "{:.3f}") for v in table["macro_f1"]],
        "training (s)": [fmt(v, "{:.1f}") for v in table["train_seconds"]],
        "predicting (s)": [fmt(v, "{:.2f}") for v in table["predict_seconds"]],
        "how it ended": list(table["status"])})


def table_notes(table: pd.DataFrame) -> list[str]:
    """The table's notes, one line per method that has one."""
    return [f"{method}: {note}." for method, note in zip(table["method"], table["note"]) if note]


def completeness_latex(ig: dict) -> str:
    """The completeness check of integrated gradients, with this sentence's numbers."""
    total = float(np.sum(ig["attributions"]))
    change = ig["score"] - ig["baseline_score"]
    return (rf"\sum_i \mathrm{{IG}}_i = {total:.4f} \approx F(x) - F(x_{{\text{{[PAD]}}}}) = "
            rf"{ig['score']:.4f} - ({ig['baseline_score']:.4f}) = {change:.4f}")


HABITS = ("the previous token", "the next token", "itself", "[CLS]", "[SEP]")


def head_habits(layer_maps: np.ndarray, threshold: float = 0.5) -> list[tuple[int, str, float]]:
    """(head, habit, share) for each head of one layer that puts more than ``threshold`` of its
    attention, averaged over the sentence's tokens, on one place: the previous token, the next
    one, itself, [CLS] (first) or [SEP] (last). Computed from this sentence's maps."""
    maps = np.asarray(layer_maps, dtype=float)
    n = maps.shape[-1]
    if n < 3:
        return []
    rows = np.arange(1, n - 1)   # the words, not [CLS] and [SEP] themselves
    found = []
    for head, a in enumerate(maps):
        shares = [a[rows, rows - 1].mean(), a[rows, rows + 1].mean(), a[rows, rows].mean(),
                  a[rows, 0].mean(), a[rows, n - 1].mean()]
        best = int(np.argmax(shares))
        if shares[best] > threshold:
            found.append((head, HABITS[best], float(shares[best])))
    return found


def habits_text(layer_maps: np.ndarray, layer: int) -> str:
    """One sentence on the clear habits of a layer's heads for this sentence."""
    found = head_habits(layer_maps)
    if not found:
        return (f"In layer {layer + 1}, no head puts more than half of its attention on one "
                "place for this sentence: each mixes many tokens.")
    parts = [f"head {h + 1} reads {habit} ({share:.0%} of its attention)"
             for h, habit, share in found]
    return (f"In layer {layer + 1}, {len(found)} of {len(layer_maps)} heads have one clear habit "
            f"for this sentence: " + "; ".join(parts) + ".")


def vocabulary_text(base: str = DEFAULT_BASE) -> str:
    from nnplay.data.text import tokenizer

    return (f"The model never sees letters: the tokenizer cuts the text into pieces of its "
            f"{len(tokenizer(base)):,}-entry vocabulary ('##' continues a word) and the model "
            "reads their ids. [CLS] opens every text and [SEP] closes it.")


def model_text(model: TextClassifier) -> str:
    """What the picked model is, with its sizes counted from the model itself."""
    total = sum(p.numel() for p in model.parameters())
    trained = "only its head was trained" if model.train_layers == 0 else \
        f"its head and last {model.train_layers} layers were trained"
    n = model.n_trainable()
    count = f"{n:,} parameters" if n < 100_000 else f"{n / 1e6:.2f} M parameters"
    return (f"{model.base}: {len(model.layers)} layers, {model.n_heads} attention heads each, "
            f"{total / 1e6:.1f} M parameters; {trained} ({count}).")


IG_TEXT = ("**Integrated gradients** (signed): each token's share of the predicted class's score, "
           "measured along a straight path from a sentence of [PAD] tokens to yours. Red tokens "
           "pushed towards the prediction, blue ones against it; the shares add up to the score's "
           "change from the [PAD] sentence (checked below).")
ROLLOUT_TEXT = ("**Attention rollout** (unsigned): how much of the averaged final representation "
                "flows from each token through all layers' attention, the residual path "
                "included. It shows where the model looked, not which class a token favours; "
                "the shares add up to 1.")

__all__ = ["BASE_NAMES", "CACHE_ENV", "COLUMNS", "PRETRAINED_ON", "DATASETS", "DEFAULTS", "IG_TEXT", "MAX_LEN_CHOICES",
           "MAX_LEN_FOR", "METHODS", "METHOD_TITLES", "REVIEW_CHOICES", "ROLLOUT_TEXT",
           "SHORT_TITLES", "Comparison", "Embeddings", "TextRun", "TfidfBaseline",
           "VaderBaseline", "compare", "comparison", "completeness_latex", "dataset_size",
           "display_table", "fine_tune", "findings", "habits_text", "head_habits",
           "inspect_sentence", "layers_label", "length_batches", "load_reviews", "logistic_head",
           "method_title", "misclassified", "model_text", "predict_ids", "review_choices", "run_caption", "run_metrics", "run_name", "same_frozen_model",
           "scores",
           "sentence_embeddings", "table_notes", "timing_text", "train_text", "vocabulary_text"]
