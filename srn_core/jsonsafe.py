"""Results as strict JSON: one conversion for every file and download that holds numbers.

Numpy arrays and scalars, dataclasses (through their `to_dict` when they have one), paths and
tuples become plain Python values; NaN and infinities become null, so that strict readers
(`allow_nan=False`, browsers, jq) accept every file we write.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np


def json_safe(value: Any) -> Any:
    """`value` as JSON-ready Python values: numpy -> lists / numbers, NaN and infinities -> None, dict keys
    -> str, dataclasses -> their `to_dict()` (or fields), paths -> str."""
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, (np.floating, float)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_safe(value.to_dict() if hasattr(value, "to_dict") else dataclasses.asdict(value))
    return value


def json_text(value: Any, indent: int | None = 1) -> str:
    """`value` (see `json_safe`) as strict JSON text: never NaN or Infinity."""
    return json.dumps(json_safe(value), indent=indent, allow_nan=False)


__all__ = ["json_safe", "json_text"]
