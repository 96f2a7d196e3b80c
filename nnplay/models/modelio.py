"""Save and load a trained model as two files: its weights and a JSON config that rebuilds it.

The weights are a safetensors file (the default) or a torch state_dict file (.pt); the config
holds the model spec ``{"family", "params"}``, the dataset's name and parameters and the
training config. Loading never runs code from a file: safetensors holds tensors only, and torch
files load with ``weights_only=True``. A file that is not a model, is too large, or does not
match its config raises ValueError with what is wrong.
"""

from __future__ import annotations

import io
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from nnplay.data.dataset import Dataset

FORMAT = "nnplay-model"
VERSION = 1
WEIGHT_FORMATS = {"safetensors": ".safetensors", "state_dict": ".pt"}
MAX_WEIGHTS_BYTES = 512 * 1024 * 1024   # far above any model nnplay trains
MAX_CONFIG_BYTES = 1024 * 1024


@dataclass
class LoadedModel:
    """A model rebuilt from its config and weights, with the dataset it was trained on."""

    model: nn.Module
    spec: dict          # {"family": ..., "params": {...}}
    dataset: Dataset
    config: dict        # the whole config JSON as read

    def __repr__(self) -> str:
        return f"LoadedModel({self.spec.get('family')!r} on {self.dataset.name!r})"


def model_config(spec: dict, dataset: Dataset, train_config: dict | None = None,
                 weights: str = "safetensors", model: nn.Module | None = None) -> dict:
    """The JSON-able config that, with the weights, rebuilds the model on the same data."""
    if weights not in WEIGHT_FORMATS:
        raise ValueError(f"weights must be one of {', '.join(WEIGHT_FORMATS)}, got {weights!r}.")
    config = {
        "format": FORMAT, "version": VERSION, "weights": weights,
        "family": spec.get("family", "mlp"), "params": dict(spec.get("params", {})),
        "dataset": {"name": dataset.name, "params": dict(dataset.params), "task": dataset.task,
                    "input_shape": list(dataset.input_shape), "n_outputs": dataset.n_outputs},
        "train_config": dict(train_config or {}),
    }
    if model is not None:
        config["tensors"] = {k: list(v.shape) for k, v in model.state_dict().items()}
    return config


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


def export_model(model: nn.Module, spec: dict, dataset: Dataset, train_config: dict | None = None,
                 weights: str = "safetensors") -> tuple[bytes, str]:
    """(weights file bytes, config JSON text) for a download button or two files."""
    config = model_config(spec, dataset, train_config, weights, model)
    return weights_bytes(model, weights), json.dumps(config, indent=2, sort_keys=True)


def save_model(path: str | os.PathLike, model: nn.Module, spec: dict, dataset: Dataset,
               train_config: dict | None = None, weights: str = "safetensors"
               ) -> tuple[Path, Path]:
    """Write ``<path>.safetensors`` (or ``.pt``) and ``<path>.json``; returns both paths."""
    stem = Path(path)
    stem = stem.with_suffix("") if stem.suffix in (".json", *WEIGHT_FORMATS.values()) else stem
    blob, text = export_model(model, spec, dataset, train_config, weights)
    weights_path = stem.parent / (stem.name + WEIGHT_FORMATS[weights])
    config_path = stem.parent / (stem.name + ".json")
    weights_path.write_bytes(blob)
    config_path.write_text(text)
    return weights_path, config_path


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
    if not isinstance(config.get("params"), dict) or not isinstance(config.get("dataset"), dict):
        raise ValueError("The model config lacks its \"params\" or \"dataset\" section.")
    return config


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


def load_model(weights, config, dataset: Dataset | None = None,
               max_bytes: int = MAX_WEIGHTS_BYTES) -> LoadedModel:
    """Rebuild a saved model from its weights and config.

    ``dataset`` defaults to loading the config's dataset by name and parameters (data.load);
    pass it for data that is not in the registry, such as an uploaded CSV.
    """
    from nnplay import data
    from nnplay.models import build_model

    cfg = read_config(config)
    state = read_weights(weights, max_bytes)
    info = cfg["dataset"]
    if dataset is None:
        try:
            dataset = data.load(info.get("name", ""), **dict(info.get("params") or {}))
        except ValueError as err:
            raise ValueError(f"The model was trained on {info.get('name')!r}, which cannot be "
                             f"loaded here: {err}") from None
    if list(dataset.input_shape) != list(info.get("input_shape", dataset.input_shape)) or \
            dataset.n_outputs != info.get("n_outputs", dataset.n_outputs):
        raise ValueError(f"The model expects inputs of shape {info.get('input_shape')} and "
                         f"{info.get('n_outputs')} outputs, but {dataset.name!r} has "
                         f"{list(dataset.input_shape)} and {dataset.n_outputs}.")
    spec = {"family": cfg.get("family", "mlp"), "params": cfg["params"]}
    model = build_model(spec, dataset)
    check_state_dict(model, state)
    model.load_state_dict(state, strict=True)
    model.eval()
    return LoadedModel(model, spec, dataset, cfg)
