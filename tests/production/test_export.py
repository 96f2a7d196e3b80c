"""nnplay.production.export: every nnplay family exports to ONNX and torch.export, the files are
loaded back and match PyTorch within 1e-4 at batch sizes other than the export's, and a model
that cannot be traced gets a sentence that says why instead of a traceback."""

from __future__ import annotations

import io
import json

import numpy as np
import onnxruntime as ort
import pytest
import torch
from torch import nn

from nnplay.data.dataset import Dataset
from nnplay.lessons import export as lesson
from nnplay.models.registry import ModelSpec
from nnplay.production import export

RNG = np.random.default_rng(0)


def dataset(X: np.ndarray, task: str = "classification", n_classes: int = 3) -> Dataset:
    y = RNG.integers(0, n_classes, len(X)) if task == "classification" else \
        RNG.normal(size=len(X)).astype(np.float32)
    return Dataset("tiny", X, y, X, y, task, [f"x{i}" for i in range(X.shape[-1])],
                   [f"c{i}" for i in range(n_classes)] if task == "classification" else None)


CASES = {
    "mlp": (ModelSpec("mlp", {"hidden": [16, 8], "activation": "tanh"}),
            dataset(RNG.normal(size=(40, 5)).astype(np.float32))),
    "cnn": (ModelSpec("cnn", {"channels": [4, 8], "hidden": [16], "batch_norm": True,
                              "dropout": 0.2}),
            dataset(RNG.random((40, 1, 8, 8)).astype(np.float32))),
    "rnn": (ModelSpec("rnn", {"hidden_size": 8, "num_layers": 2, "bidirectional": True}),
            dataset(RNG.normal(size=(40, 6, 3)).astype(np.float32), "regression")),
    "lstm": (ModelSpec("lstm", {"hidden_size": 8}),
             dataset(RNG.normal(size=(40, 6, 3)).astype(np.float32))),
    "gru": (ModelSpec("gru", {"hidden_size": 8}),
            dataset(RNG.normal(size=(40, 6, 3)).astype(np.float32))),
    "transformer": (ModelSpec("transformer", {"d_model": 16, "n_heads": 2, "n_layers": 1,
                                              "pooling": "cls", "positional": "learned"}),
                    dataset(RNG.integers(0, 10, (40, 7)).astype(np.int64))),
}


def build(name: str) -> tuple[nn.Module, Dataset]:
    spec, ds = CASES[name]
    torch.manual_seed(0)
    return spec.build(ds), ds


def reference(model: nn.Module, X) -> np.ndarray:
    model = model.eval()
    with torch.no_grad():
        return model(torch.as_tensor(X)).numpy()


# MLP and CNN always; the recurrent and Transformer families take ~3-7 s each: marked slow
FAMILIES = [f if f in ("mlp", "cnn") else pytest.param(f, marks=pytest.mark.slow) for f in CASES]


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_exports_and_matches_pytorch_after_reload(family):
    model, ds = build(family)
    model.train()   # the learner's model stays as it was
    onnx_result = export.export_to("onnx", model, ds)
    pt2_result = export.export_to("torch-export", model, ds)
    assert model.training
    for result in (onnx_result, pt2_result):
        assert result.verified and result.max_abs_diff <= 1e-4
        assert [c["batch"] for c in result.checks] == [4, 1, 32]
        assert result.size_bytes == len(result.data) > 1000
    # independently of verify(): load the bytes and run batch sizes the export never saw
    session = ort.InferenceSession(onnx_result.data, providers=["CPUExecutionProvider"])
    loaded = torch.export.load(io.BytesIO(pt2_result.data)).module()
    for n in (3, 9):
        X = ds.X_test[:n]
        expected = reference(model, X)
        onnx_out = session.run(None, {session.get_inputs()[0].name: X})[0]
        with torch.no_grad():
            pt2_out = loaded(torch.as_tensor(X)).numpy()
        assert onnx_out.shape == pt2_out.shape == expected.shape
        assert np.abs(onnx_out - expected).max() <= 1e-4
        assert np.abs(pt2_out - expected).max() <= 1e-4


def test_export_model_writes_the_files_for_scripts(tmp_path):
    model, ds = build("mlp")
    info = export.export_model(model, ds, format="onnx", out=tmp_path)
    path = tmp_path / "model.onnx"
    assert info["path"] == str(path) and path.stat().st_size == info["size_bytes"]
    assert info["verified"] and info["max_abs_diff"] <= 1e-4
    out = tmp_path / "mine.pt2"
    info = export.export_model(model, ds, format="torch-export", out=out)
    loaded = torch.export.load(out).module()
    with torch.no_grad():
        got = loaded(torch.as_tensor(ds.X_test[:5])).numpy()
    assert np.abs(got - reference(model, ds.X_test[:5])).max() <= 1e-4
    with pytest.raises(ValueError, match="format must be one of onnx, torch-export"):
        export.export_model(model, ds, format="torchscript")


def test_a_batch_of_one_is_traced_with_two_rows_and_stays_dynamic():
    model, ds = build("mlp")
    result = export.to_onnx(model, ds.X_test[:1], rows=ds.X_test)
    assert result.export_batch == 2 and result.verified
    assert json.loads(json.dumps(result.to_dict()))["verified"] is True


class DataDependent(nn.Module):
    """Branches on the values of its input: torch.export cannot keep both paths."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(5, 3)

    def forward(self, x):
        if x.sum() > 0:
            return self.linear(x)
        return -self.linear(x)


class FixedBatch(nn.Module):
    """Reshapes to a batch of 4: works only for that batch size."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(5, 3)

    def forward(self, x):
        return self.linear(x).reshape(4, 3)


def test_a_model_that_cannot_be_traced_gets_a_reason_not_a_traceback():
    _, ds = build("mlp")
    for fmt, how in (("onnx", "to ONNX"), ("torch-export", "with torch.export")):
        with pytest.raises(export.NotExportable) as caught:
            export.export_to(fmt, DataDependent(), ds)
        message = str(caught.value)
        assert message.startswith(f"This model is not exportable {how} here because its "
                                  "forward() chooses what to do from the values in its input")
        assert "(at `if x.sum() > 0:`)" in message and "Traceback" not in message
    results = lesson.export_all(FixedBatch(), ds)
    assert all(isinstance(r, str) for r in results.values())
    assert "works for one batch size only" in results["torch-export"]
    finding = lesson.export_finding(results)
    assert set(finding) == {"onnx", "torch-export"} and all("error" in f for f in
                                                            finding.values())


def test_a_diverged_model_is_refused_with_what_to_do():
    model, ds = build("mlp")
    with torch.no_grad():
        model.linear_layers()[0].weight.fill_(float("nan"))
    with pytest.raises(ValueError, match="diverged"):
        export.export_to("torch-export", model, ds)


def test_reasons_and_numbers_for_people():
    err = RuntimeError("\x1b[96mboom\x1b[0m happened\nsecond line")
    assert export.why_not_exportable(err) == \
        "the exporter stopped with RuntimeError: boom happened"
    assert export.difference_text(0.0) == "0 (identical)"
    assert export.difference_text(2.98e-8) == "3.0e-08"
    with pytest.raises(ValueError, match="no rows to export"):
        export.rows_at(np.zeros((0, 3)), 4)


def test_a_damaged_file_or_no_rows_is_a_message():
    model, ds = build("mlp")
    for fmt in export.FORMATS:
        with pytest.raises(export.NotExportable, match="could not be loaded back"):
            export.verify(model, fmt, b"not a model file", ds.X_test, [2])
    empty = Dataset("empty", ds.X_train, ds.y_train, ds.X_test[:0], ds.y_test[:0],
                    "classification", ds.feature_names, ds.class_names)
    results = lesson.export_all(model, empty)
    assert results == {fmt: "There are no rows to export with; the data's test split is empty."
                       for fmt in export.FORMATS}
