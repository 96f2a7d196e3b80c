"""Export a stored run to TensorBoard: its per-epoch history as scalars, its settings as text
and hyperparameters, so runs from nnplay sit beside any other TensorBoard logs.

Tags follow TensorBoard's habit of one section per split: ``train/loss``, ``train/accuracy``,
``train/lr``, ``train/grad_norm``, ``val/loss``, ``val/accuracy``, ``time/epoch_seconds``...,
each at step = epoch; the final test metrics go under ``test/...`` at the last epoch and into the
hyperparameter table. TensorBoard is an optional extra (``pip install 'nnplay[tensorboard]'``);
without it these functions raise TensorBoardUnavailable, an ImportError that says so.
"""

from __future__ import annotations

import io
import json
import math
import tempfile
import zipfile
from pathlib import Path

INSTALL_HINT = ("TensorBoard export needs the tensorboard package: "
                "pip install 'nnplay[tensorboard]' (or pip install tensorboard).")
# History keys that are not per-epoch measurements, and the few with their own tag.
_NOT_SCALARS = ("epoch",)
_RENAMED = {"seconds": "time/epoch_seconds", "time": "time/total_seconds"}


class TensorBoardUnavailable(ImportError):
    """tensorboard is not installed; the message says how to install it."""


def tensorboard_available() -> bool:
    """True when the tensorboard package can be imported (the export can work)."""
    try:
        _summary_writer()
    except TensorBoardUnavailable:
        return False
    return True


def _summary_writer():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # torch raises this when tensorboard itself is missing
        raise TensorBoardUnavailable(INSTALL_HINT) from None
    return SummaryWriter


def scalar_tag(key: str) -> str:
    """The TensorBoard tag of one history key: val_loss -> val/loss, loss -> train/loss."""
    if key in _RENAMED:
        return _RENAMED[key]
    if key.startswith("val_"):
        return "val/" + key[len("val_"):]
    return "train/" + key


def history_scalars(history: list[dict]) -> dict[str, list[tuple[int, float]]]:
    """{tag: [(epoch, value), ...]} for every finite number in the history (gaps stay gaps)."""
    series: dict[str, list[tuple[int, float]]] = {}
    for row in history:
        step = int(row.get("epoch", 0))
        for key, value in row.items():
            if key in _NOT_SCALARS or isinstance(value, bool):
                continue
            if isinstance(value, (int, float)) and math.isfinite(value):
                series.setdefault(scalar_tag(key), []).append((step, float(value)))
    return series


def _hparams(record: dict) -> dict:
    """The run's settings flattened into the scalar/string values TensorBoard's table takes."""
    flat = {"lesson": record.get("lesson", ""), "dataset": (record.get("dataset") or {}).get(
        "name", ""), "family": (record.get("model_spec") or {}).get("family", "")}
    for key, value in (record.get("config") or {}).items():
        if isinstance(value, (bool, int, float, str)):
            flat[key] = value
        else:  # None, lists: shown as text
            flat[key] = json.dumps(value)
    return flat


def _test_metrics(record: dict) -> dict[str, float]:
    return {"test/" + k[len("test_"):]: float(v) for k, v in (record.get("metrics") or {}).items()
            if k.startswith("test_") and isinstance(v, (int, float)) and math.isfinite(v)}


def export_tensorboard(record_or_id, directory, store=None) -> Path:
    """Write one run as TensorBoard event files into ``directory`` (new or empty); returns it.

    ``record_or_id`` is a record dict (``RunStore.get``) or a run id, read from ``store``
    (default: ``RunStore()``). Open the result with ``tensorboard --logdir DIRECTORY``.
    """
    if not isinstance(record_or_id, dict):
        from nnplay.train.runs import RunStore

        record_or_id = (store or RunStore()).get(record_or_id)
    record = record_or_id
    SummaryWriter = _summary_writer()
    from torch.utils.tensorboard.summary import hparams

    directory = Path(directory).expanduser()
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ValueError(f"{directory} is not an empty folder; TensorBoard would mix this run "
                         "with what is there. Name a new or empty folder.")
    last_epoch = max([int(r.get("epoch", 0)) for r in record.get("history") or []] or [0])
    writer = SummaryWriter(log_dir=str(directory))
    try:
        for tag, points in history_scalars(record.get("history") or []).items():
            for step, value in points:
                writer.add_scalar(tag, value, global_step=step)
        tests = _test_metrics(record)
        for tag, value in tests.items():
            writer.add_scalar(tag, value, global_step=last_epoch)
        settings = {k: record.get(k) for k in ("id", "name", "lesson", "owner", "status",
                                               "stop_reason", "config", "model_spec", "dataset",
                                               "metrics", "epochs_run", "device", "duration_s")}
        writer.add_text("config", "```json\n" + json.dumps(settings, indent=2, sort_keys=True)
                        + "\n```", global_step=last_epoch)
        # The hparams plugin's table: settings beside the final test metrics (same tags).
        for event in hparams(_hparams(record), tests):
            writer.file_writer.add_summary(event)
    finally:
        writer.close()
    return directory


def tensorboard_zip(record: dict) -> bytes:
    """The run's TensorBoard event folder as a zip (one folder, ``run-ID/``) for a download."""
    folder = f"run-{record.get('id', 'export')}"
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="nnplay-tb-") as tmp:
        root = export_tensorboard(record, Path(tmp) / folder)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    archive.write(path, Path(folder) / path.relative_to(root))
    return buffer.getvalue()
