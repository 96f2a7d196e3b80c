"""JSON-able copies of results, light enough for the CLI to import before torch."""

from __future__ import annotations

import math


def plain_json(value):
    """JSON-able copy: NaN and infinities become None, NumPy numbers become Python numbers."""
    if isinstance(value, dict):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
