"""The export lesson's setup: the model it trains when a learner arrives with none, the two
exports run and verified together (a model that cannot be exported gets its reason, not an
error), what the workspace keeps of them for the model card, and the few lines of code that run
each downloaded file. Exporting itself is ``nnplay.production.export``; the card is
``nnplay.production.card``."""

from __future__ import annotations

import re

from nnplay.data.dataset import Dataset
from nnplay.models.registry import ModelSpec
from nnplay.production import export
from nnplay.train.quick import default_spec

DEFAULT_DATASET = "breast_cancer"
EPOCHS = 20
FORMAT_TITLES = {"onnx": "ONNX", "torch-export": "torch.export (.pt2)"}
TORCHSCRIPT_NOTE = ("TorchScript (torch.jit.script and torch.jit.trace) is deprecated in PyTorch; "
                    "torch.export replaces it, and the ONNX exporter is built on torch.export, "
                    "so this page does not offer TorchScript.")


def spec_for(dataset: Dataset) -> ModelSpec:
    """The network trained on the spot: nnplay's default for the data (a CNN for images, an
    LSTM for sequences, a Transformer for token ids, an MLP for tables)."""
    return default_spec(dataset)


def export_all(model, dataset: Dataset) -> dict[str, export.ExportResult | str]:
    """Both formats, each exported and verified on the test rows; a format the model cannot be
    exported in maps to the sentence that says why."""
    results: dict[str, export.ExportResult | str] = {}
    for fmt in export.FORMATS:
        try:
            results[fmt] = export.export_to(fmt, model, dataset)
        except ValueError as err:   # NotExportable, or data it cannot be checked on
            results[fmt] = str(err)
    return results


def export_finding(results: dict) -> dict:
    """What the workspace keeps for the model card: each format's summary, or its error."""
    return {fmt: r.to_dict() if isinstance(r, export.ExportResult) else {"error": str(r)}
            for fmt, r in results.items()}


def sizes(results: dict, weights_bytes: int) -> dict[str, int]:
    """Bytes of each download: the exported files and the safetensors weights."""
    out = {FORMAT_TITLES[f]: r.size_bytes for f, r in results.items()
           if isinstance(r, export.ExportResult)}
    return {**out, "weights (safetensors)": int(weights_bytes)}


def usage_code(fmt: str, dataset: Dataset) -> str:
    """The Python that runs the downloaded file on a batch shaped like this data."""
    shape = ", ".join(str(d) for d in (8, *dataset.input_shape))
    tokens = dataset.X_train.dtype.kind in "iu"
    make = (f"x = np.zeros(({shape}), dtype=np.int64)  # token ids" if tokens else
            f"x = np.random.rand({shape}).astype(np.float32)")
    if fmt == "onnx":
        return ("import numpy as np\nimport onnxruntime as ort\n\n"
                "session = ort.InferenceSession(\"model.onnx\")\n"
                f"{make}  # any batch size\n"
                "logits = session.run(None, {session.get_inputs()[0].name: x})[0]\n")
    return ("import numpy as np\nimport torch\n\n"
            "model = torch.export.load(\"model.pt2\").module()  # no nnplay or model class needed\n"
            f"{make}  # any batch size\n"
            "logits = model(torch.from_numpy(x))\n")


def file_stem(name: str) -> str:
    """A file name from a model's name: letters, digits, '-', '_' and '.' only."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")[:60]
    return stem or "model"
