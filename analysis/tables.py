"""Named matrices and the conversion of analysis results to plain JSON / CSV-ready values."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class LabelMatrix:
    """A matrix with named rows and columns (labels, channels, filters), its title and its meaning."""

    values: np.ndarray
    row_names: list[str]
    col_names: list[str]
    title: str
    description: str = ""

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values)
        if self.values.shape != (len(self.row_names), len(self.col_names)):
            raise ValueError(f"{self.title}: values of shape {self.values.shape} for "
                             f"{len(self.row_names)} rows and {len(self.col_names)} columns")

    def top(self, row: str | int, k: int = 5, absolute: bool = False) -> list[tuple[str, float]]:
        """The `k` largest entries of a row (by absolute value if `absolute`), as (column, value)."""
        return self._top(self.values[self._index(row, self.row_names)], self.col_names, k, absolute)

    def top_in_column(self, col: str | int, k: int = 5, absolute: bool = False) -> list[tuple[str, float]]:
        """The `k` largest entries of a column, as (row, value)."""
        return self._top(self.values[:, self._index(col, self.col_names)], self.row_names, k, absolute)

    def rows(self) -> list[dict[str, Any]]:
        """Wide table: one dict per row, first key 'row' then one key per column."""
        return [{"row": name, **{col: plain(v) for col, v in zip(self.col_names, values)}}
                for name, values in zip(self.row_names, self.values)]

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "description": self.description, "rows": self.row_names,
                "columns": self.col_names, "values": plain(self.values)}

    @staticmethod
    def _index(key: str | int, names: list[str]) -> int:
        if isinstance(key, (int, np.integer)):
            return int(key)
        if key not in names:
            raise ValueError(f"unknown name {key!r}")
        return names.index(key)

    @staticmethod
    def _top(values: np.ndarray, names: list[str], k: int, absolute: bool) -> list[tuple[str, float]]:
        score = np.abs(values) if absolute else values
        score = np.where(np.isnan(score), -np.inf, score)
        order = np.argsort(-score, kind="stable")[:k]
        return [(names[i], float(values[i])) for i in order]


def plain(value: Any) -> Any:
    """Numpy arrays / scalars, dataclasses, paths, tuples -> JSON-ready Python values (NaN/inf -> None)."""
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, (np.floating, float)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(value.to_dict() if hasattr(value, "to_dict") else dataclasses.asdict(value))
    return value
