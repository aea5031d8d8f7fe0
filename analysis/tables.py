"""Named matrices (labels, channels, filters) with their rows for CSV and JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from srn_core.jsonsafe import json_safe


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
            raise ValueError(
                f"{self.title}: values of shape {self.values.shape} for "
                f"{len(self.row_names)} rows and {len(self.col_names)} columns"
            )

    def top(self, row: str | int, k: int = 5, absolute: bool = False) -> list[tuple[str, float]]:
        """The `k` largest entries of a row (by absolute value if `absolute`), as (column, value)."""
        return self._top(self.values[self._index(row, self.row_names)], self.col_names, k, absolute)

    def top_in_column(self, col: str | int, k: int = 5, absolute: bool = False) -> list[tuple[str, float]]:
        """The `k` largest entries of a column, as (row, value)."""
        return self._top(self.values[:, self._index(col, self.col_names)], self.row_names, k, absolute)

    def rows(self) -> list[dict[str, Any]]:
        """Wide table: one dict per row, first key 'row' then one key per column."""
        return [
            {"row": name, **{col: json_safe(v) for col, v in zip(self.col_names, values)}}
            for name, values in zip(self.row_names, self.values)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "rows": self.row_names,
            "columns": self.col_names,
            "values": json_safe(self.values),
        }

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
