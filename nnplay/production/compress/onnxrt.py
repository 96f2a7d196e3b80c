"""ONNX Runtime: the exported model in an inference engine built for deployment, in fp32 and
quantized to int8 by ONNX Runtime's own tools.

- ``to_onnx``: the ONNX file (nnplay.production.export: the dynamo exporter, batch left open).
- ``ort_quantize_dynamic``: int8 weights for MatMul/Gemm (and ConvInteger for convolutions);
  activations are quantized per call from their observed range. Real int8 kernels on x86.
- ``ort_quantize_static``: weights and activations int8 with activation ranges calibrated on
  training rows (``quantize_static`` with a calibration data reader, QDQ format, per-channel
  weights): the recipe ONNX Runtime recommends for CNNs.

Both run ONNX Runtime's shape pre-processing first (``quant_pre_process``), as its docs advise.
Files go through a temporary folder because the quantization tools read and write paths.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

CALIBRATION_BATCH = 64


def to_onnx(model, example) -> bytes:
    """The model as ONNX bytes (weights inside, batch dynamic); ValueError (NotExportable) with
    the reason when it cannot be traced."""
    from nnplay.production.export import onnx_bytes

    return onnx_bytes(model, example)


def _preprocessed(src: Path, folder: Path) -> Path:
    """ONNX Runtime's pre-processing (shape inference, graph clean-up); the file itself when the
    pre-processing cannot handle it (quantization still works, a little less well)."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    out = folder / "pre.onnx"
    try:
        quant_pre_process(str(src), str(out))
    except Exception:  # noqa: BLE001 - optional step; its failures are many and harmless
        return src
    return out if out.is_file() else src


def ort_quantize_dynamic(onnx: bytes) -> bytes:
    """The ONNX file with int8 weights (QInt8) and dynamically quantized activations."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="nnplay-ort-") as tmp:
        folder = Path(tmp)
        (folder / "fp32.onnx").write_bytes(onnx)
        src, out = _preprocessed(folder / "fp32.onnx", folder), folder / "int8.onnx"
        quantize_dynamic(str(src), str(out), weight_type=QuantType.QInt8)
        return out.read_bytes()


def _reader(input_name: str, calib_X: np.ndarray):
    from onnxruntime.quantization import CalibrationDataReader

    class Batches(CalibrationDataReader):
        """Feeds the calibration rows to ONNX Runtime's calibrator, a batch at a time."""

        def __init__(self):
            self.batches = iter([{input_name: calib_X[i:i + CALIBRATION_BATCH]}
                                 for i in range(0, len(calib_X), CALIBRATION_BATCH)])

        def get_next(self):
            return next(self.batches, None)

    return Batches()


def ort_quantize_static(onnx: bytes, calib_X) -> bytes:
    """The ONNX file with int8 weights (per channel) and uint8 activations whose ranges were
    calibrated on ``calib_X`` (a few hundred training rows), in QDQ format."""
    import onnxruntime as ort
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    calib_X = np.ascontiguousarray(np.asarray(calib_X, dtype=np.float32))
    if len(calib_X) == 0:
        raise ValueError("Static quantization needs calibration rows; the data has none.")
    input_name = ort.InferenceSession(onnx, providers=["CPUExecutionProvider"]) \
        .get_inputs()[0].name
    with tempfile.TemporaryDirectory(prefix="nnplay-ort-") as tmp:
        folder = Path(tmp)
        (folder / "fp32.onnx").write_bytes(onnx)
        src, out = _preprocessed(folder / "fp32.onnx", folder), folder / "int8.onnx"
        quantize_static(str(src), str(out), _reader(input_name, calib_X),
                        quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        return out.read_bytes()
