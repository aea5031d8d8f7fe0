"""srn_core.jsonsafe: every result becomes strict JSON (numpy, dataclasses, paths; NaN -> null)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from srn_core.jsonsafe import json_safe, json_text


@dataclass
class Point:
    x: float
    y: float


@dataclass
class Named:
    name: str

    def to_dict(self) -> dict:
        return {"name": self.name.upper()}


def test_numbers_arrays_and_non_finite_values() -> None:
    value = {
        "f32": np.float32(0.5),
        "nan": float("nan"),
        "inf": np.float64(-math.inf),
        "i": np.int64(3),
        "b": np.bool_(True),
        "array": np.array([[1.0, np.nan], [np.inf, 2.0]], np.float32),
        7: (1, 2),
    }
    assert json_safe(value) == {
        "f32": 0.5,
        "nan": None,
        "inf": None,
        "i": 3,
        "b": True,
        "array": [[1.0, None], [None, 2.0]],
        "7": [1, 2],
    }
    assert type(json_safe(np.int64(3))) is int and type(json_safe(np.float32(1))) is float


def test_dataclasses_paths_and_plain_values() -> None:
    assert json_safe([Point(1.0, float("nan")), Named("cat"), Path("a") / "b.png", None, "x", True]) == [
        {"x": 1.0, "y": None},
        {"name": "CAT"},
        str(Path("a") / "b.png"),
        None,
        "x",
        True,
    ]


def test_json_text_is_strict_json() -> None:
    text = json_text({"ap": [np.float64("nan"), 0.25]}, indent=None)
    assert text == '{"ap": [null, 0.25]}' and json.loads(text) == {"ap": [None, 0.25]}
    with pytest.raises(TypeError):
        json_text({"object": object()})
