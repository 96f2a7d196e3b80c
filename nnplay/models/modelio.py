"""Save and load a model as its weights plus its record: two files, or one zip of both.

The weights are a safetensors file (the default) or a torch state_dict file (.pt); the JSON holds
the model's ModelRecord (spec, dataset reference, training config, history, metrics, lesson).
Loading never runs code from a file: safetensors holds tensors only, torch files load with
``weights_only=True``, and a zip is read for its two named members only, each size-checked.
A file that is not a model, is too large, or does not match its record raises ValueError with
what is wrong. Files saved by nnplay 0.1 (config version 1) still load.
"""

from __future__ import annotations

import io
import json
import os
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from nnplay.data.dataset import Dataset

FORMAT = "nnplay-model"
VERSION = 2
WEIGHT_FORMATS = {"safetensors": ".safetensors", "state_dict": ".pt"}
MAX_WEIGHTS_BYTES = 512 * 1024 * 1024   # far above any model nnplay trains
MAX_CONFIG_BYTES = 8 * 1024 * 1024      # a record with a long history stays far below
BUNDLE_CONFIG, BUNDLE_WEIGHTS = "model.json", "model.safetensors"


@dataclass
class LoadedModel:
    """A model rebuilt from its record and weights, with the dataset it was trained on."""

    model: nn.Module
    record: object      # nnplay.train.record.ModelRecord
    dataset: Dataset
    config: dict        # the whole config JSON as read

    @property
    def spec(self) -> dict:
        return self.record.spec.to_dict()

    def __repr__(self) -> str:
        return f"LoadedModel({self.record.spec.family!r} on {self.dataset.name!r})"


def model_config(model: nn.Module, record, dataset: Dataset,
                 weights: str = "safetensors") -> dict:
    """The JSON-able config that, with the weights, rebuilds the model on the same data."""
    if weights not in WEIGHT_FORMATS:
        raise ValueError(f"weights must be one of {', '.join(WEIGHT_FORMATS)}, got {weights!r}.")
    return {"format": FORMAT, "version": VERSION, "weights": weights,
            "record": record.to_dict(),
            "data_shape": {"input_shape": list(dataset.input_shape),
                           "n_outputs": dataset.n_outputs, "task": dataset.task},
            "tensors": {k: list(v.shape) for k, v in model.state_dict().items()}}


def weights_bytes(model: nn.Module, weights: str = "safetensors") -> bytes:
    """The model's state_dict serialised as safetensors or as a torch .pt file."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if weights == "safetensors":
        from safetensors.torch import save

        return save(state, metadata={"format": "pt", "producer": FORMAT})
    if weights == "state_dict":
        buf = io.BytesIO()
        torch.save(state, buf)
        return buf.getvalue()
    raise ValueError(f"weights must be one of {', '.join(WEIGHT_FORMATS)}, got {weights!r}.")


def export_model(model: nn.Module, record, dataset: Dataset,
                 weights: str = "safetensors") -> tuple[bytes, str]:
    """(weights file bytes, record JSON text) for two download buttons or two files."""
    config = model_config(model, record, dataset, weights)
    return weights_bytes(model, weights), json.dumps(config, indent=2, sort_keys=True,
                                                     allow_nan=False)


def export_bundle(model: nn.Module, record, dataset: Dataset) -> bytes:
    """One zip holding model.json (the record) and model.safetensors: one download."""
    blob, text = export_model(model, record, dataset)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(BUNDLE_CONFIG, text)
        zf.writestr(BUNDLE_WEIGHTS, blob)
    return buf.getvalue()


def save_model(path: str | os.PathLike, model: nn.Module, record, dataset: Dataset,
               weights: str = "safetensors") -> tuple[Path, Path]:
    """Write ``<path>.safetensors`` (or ``.pt``) and ``<path>.json``; returns both paths."""
    stem = Path(path)
    stem = stem.with_suffix("") if stem.suffix in (".json", *WEIGHT_FORMATS.values()) else stem
    blob, text = export_model(model, record, dataset, weights)
    weights_path = stem.parent / (stem.name + WEIGHT_FORMATS[weights])
    config_path = stem.parent / (stem.name + ".json")
    weights_path.write_bytes(blob)
    config_path.write_text(text)
    return weights_path, config_path


def save_dir(directory: str | os.PathLike, model: nn.Module, record, dataset: Dataset) -> Path:
    """Write the model into ``directory`` (made if missing) as model.safetensors + model.json,
    the files of a bundle: what `nnplay train --save DIR` writes and `nnplay compress DIR` reads."""
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder} is a file; give a folder to save the model in.")
    folder.mkdir(parents=True, exist_ok=True)
    blob, text = export_model(model, record, dataset)
    (folder / BUNDLE_WEIGHTS).write_bytes(blob)
    (folder / BUNDLE_CONFIG).write_text(text)
    return folder


def load_dir(directory: str | os.PathLike, csv=None,
             max_bytes: int = MAX_WEIGHTS_BYTES) -> LoadedModel:
    """Load a model folder written by ``save_dir`` (or an unpacked model zip)."""
    folder = Path(directory)
    missing = [n for n in (BUNDLE_CONFIG, BUNDLE_WEIGHTS) if not (folder / n).is_file()]
    if missing:
        raise ValueError(f"{folder} does not hold {' and '.join(missing)}: give the folder that "
                         "`nnplay train --save DIR` wrote.")
    return load_model(folder / BUNDLE_WEIGHTS, folder / BUNDLE_CONFIG, csv=csv,
                      max_bytes=max_bytes)


# ---- reading -----------------------------------------------------------------------------------
def _read(source, limit: int, what: str) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            if path.stat().st_size > limit:
                raise ValueError(f"The {what} file is larger than {limit // 2**20} MiB; "
                                 "that is not an nnplay model.")
            data = path.read_bytes()
        except OSError as err:
            raise ValueError(f"Cannot read the {what} file {path}: {err.strerror}.") from None
    elif hasattr(source, "read"):
        data = source.read(limit + 1)
    else:
        raise ValueError(f"Give the {what} as bytes, a file path or an open file.")
    if len(data) > limit:
        raise ValueError(f"The {what} file is larger than {limit // 2**20} MiB; "
                         "that is not an nnplay model.")
    return data


def read_config(source) -> dict:
    """Parse and check a model config (JSON text, bytes, dict, a path or an open file)."""
    if isinstance(source, dict):
        config = source
    else:
        if isinstance(source, str) and len(source) < 4096 and not source.lstrip().startswith("{") \
                and Path(source).is_file():
            source = Path(source)
        raw = source.encode() if isinstance(source, str) else _read(source, MAX_CONFIG_BYTES,
                                                                     "config")
        try:
            config = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"The config file is not JSON ({err}); upload the .json file "
                             "saved with the model.") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ValueError("The config file is not an nnplay model config (it has no "
                         f"\"format\": \"{FORMAT}\"); upload the .json saved with the model.")
    if config.get("version", 1) >= 2:
        if not isinstance(config.get("record"), dict):
            raise ValueError("The model config lacks its \"record\" section.")
    elif not isinstance(config.get("params"), dict) or not isinstance(config.get("dataset"), dict):
        raise ValueError("The model config lacks its \"params\" or \"dataset\" section.")
    return config


def record_of(config: dict):
    """The ModelRecord a config holds; a version 1 config (nnplay 0.1) is converted."""
    from nnplay.data.ref import DatasetRef
    from nnplay.train.config import TrainConfig
    from nnplay.train.record import ModelRecord

    if config.get("version", 1) >= 2:
        return ModelRecord.from_dict(config["record"])
    info = config["dataset"]
    train_config = config.get("train_config") or None
    return ModelRecord(
        name=f"{config.get('family', 'mlp')} on {info.get('name', 'data')}",
        spec={"family": config.get("family", "mlp"), "params": config["params"]},
        dataset=DatasetRef(str(info.get("name") or "unknown"), dict(info.get("params") or {})),
        lesson="upload", status="uploaded",
        train_config=TrainConfig.from_dict(train_config) if train_config else None)


def data_shape(config: dict) -> dict:
    """input_shape, n_outputs and task the saved model expects (empty when not recorded)."""
    if config.get("version", 1) >= 2:
        return dict(config.get("data_shape") or {})
    return {k: config["dataset"][k] for k in ("input_shape", "n_outputs", "task")
            if k in config["dataset"]}


def read_weights(source, max_bytes: int = MAX_WEIGHTS_BYTES) -> dict[str, torch.Tensor]:
    """A state_dict from safetensors or torch bytes, without running any code from the file."""
    data = _read(source, max_bytes, "weights")
    state = None
    if _looks_like_safetensors(data):
        from safetensors.torch import load

        try:
            state = load(data)
        except Exception as err:  # safetensors raises its own error types for damaged files
            raise ValueError(f"The weights file is a damaged safetensors file ({err}).") from None
    else:
        try:
            with warnings.catch_warnings():  # torch warns about pickle protocols it then refuses
                warnings.simplefilter("ignore")
                state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except Exception:  # weights_only refuses code; anything else is not a torch file either
            raise ValueError("The weights file is neither safetensors nor a torch state_dict "
                             "of plain tensors, so it was not loaded; upload the weights file "
                             "saved with the model.") from None
    if not isinstance(state, dict) or not state or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise ValueError("The weights file does not hold a state_dict (names mapped to tensors).")
    return state


def _looks_like_safetensors(data: bytes) -> bool:
    """safetensors starts with an 8-byte little-endian header length, then a JSON object."""
    if len(data) < 10:
        return False
    n = int.from_bytes(data[:8], "little")
    return 2 <= n <= len(data) - 8 and data[8:9] == b"{"


def check_state_dict(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """ValueError naming the first differences when ``state`` does not fit ``model``."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}" for k, v in expected.items()
             if k in state and state[k].shape != v.shape]
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing[:3])}")
    if unexpected:
        problems.append(f"unexpected {', '.join(unexpected[:3])}")
    if wrong:
        problems.append(f"wrong shapes {', '.join(wrong[:3])} (file vs config)")
    if problems:
        raise ValueError("The weights do not match the model their config describes: "
                         + "; ".join(problems) + ". Upload the config saved with these weights.")


def load_model(weights, config, dataset: Dataset | None = None, csv=None,
               max_bytes: int = MAX_WEIGHTS_BYTES) -> LoadedModel:
    """Rebuild a saved model from its weights and config (record JSON).

    The data comes from the record's DatasetRef: the registry, or for a model trained on an
    uploaded CSV, that same file given as ``csv``. Pass ``dataset`` to use data you already have
    (it must have the shapes the model expects).
    """
    cfg = read_config(config)
    record = record_of(cfg)
    state = read_weights(weights, max_bytes)
    if dataset is None:
        try:
            dataset = record.dataset.load(csv)
        except ValueError as err:
            raise ValueError(f"The model was trained on {record.dataset.label!r}, which cannot "
                             f"be loaded here: {err}") from None
    shape = data_shape(cfg)
    if list(dataset.input_shape) != list(shape.get("input_shape", dataset.input_shape)) or \
            dataset.n_outputs != shape.get("n_outputs", dataset.n_outputs):
        raise ValueError(f"The model expects inputs of shape {shape.get('input_shape')} and "
                         f"{shape.get('n_outputs')} outputs, but {dataset.name!r} has "
                         f"{list(dataset.input_shape)} and {dataset.n_outputs}.")
    model = record.spec.build(dataset)
    check_state_dict(model, state)
    model.load_state_dict(state, strict=True)
    model.eval()
    return LoadedModel(model, record, dataset, cfg)


def load_bundle(source, csv=None, dataset: Dataset | None = None,
                max_bytes: int = MAX_WEIGHTS_BYTES) -> LoadedModel:
    """Load a zip made by ``export_bundle`` (bytes, a path or an open file)."""
    data = _read(source, max_bytes + MAX_CONFIG_BYTES, "model zip")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            sizes = {i.filename: i.file_size for i in zf.infolist()}
            if BUNDLE_CONFIG not in sizes or BUNDLE_WEIGHTS not in sizes:
                raise ValueError(f"The zip does not hold {BUNDLE_CONFIG} and {BUNDLE_WEIGHTS}; "
                                 "upload a model zip downloaded from nnplay.")
            if sizes[BUNDLE_CONFIG] > MAX_CONFIG_BYTES or sizes[BUNDLE_WEIGHTS] > max_bytes:
                raise ValueError("The model zip's files are larger than any nnplay model.")
            text, blob = zf.read(BUNDLE_CONFIG), zf.read(BUNDLE_WEIGHTS)
    except zipfile.BadZipFile:
        raise ValueError("The file is not a zip; upload the model zip downloaded from nnplay, "
                         "or its weights and .json files.") from None
    return load_model(blob, text, dataset=dataset, csv=csv, max_bytes=max_bytes)
