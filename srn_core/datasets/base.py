"""The in-memory form of a multi-label dataset, shared by every reader and writer."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..text_safety import label_names_problem

POSITIVE, NEGATIVE, UNKNOWN = 1, 0, -1


class DatasetError(ValueError):
    """A dataset file is missing or malformed; the message names the file, line and reason."""


@dataclass(frozen=True)
class Box:
    """One ground-truth object: its label and its box in pixels of the original image."""

    label: str
    x0: float
    y0: float
    x1: float
    y1: float

    def contains(self, x: float, y: float) -> bool:
        """Whether the point (x, y), in pixels, lies inside the box (edges included)."""
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1


@dataclass
class Sample:
    """One image and its labels.

    `targets` is int8 of shape (C,): 1 positive, 0 negative, -1 unknown (left out of losses and AP).
    """

    path: Path
    targets: np.ndarray
    boxes: list[Box] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def positive_labels(self, label_names: list[str]) -> list[str]:
        """The names of the labels marked positive."""
        return [name for name, t in zip(label_names, self.targets) if t == POSITIVE]


@dataclass
class MultiLabelDataset:
    """Images, each with a set of positive labels out of `label_names`."""

    label_names: list[str]
    samples: list[Sample]
    skipped_missing: int = 0

    @property
    def num_labels(self) -> int:
        return len(self.label_names)

    def __len__(self) -> int:
        return len(self.samples)

    def target_matrix(self) -> np.ndarray:
        """All targets stacked, int8 of shape (N, C)."""
        if not self.samples:
            return np.zeros((0, self.num_labels), dtype=np.int8)
        return np.stack([s.targets for s in self.samples]).astype(np.int8)


def check_label_names(names: list[str], where: str) -> list[str]:
    """`names` when usable as a model's label names (1-200 printable characters, unique), else DatasetError.

    The same rule as checkpoints, so a model trained on the data can always be saved and loaded.
    """
    problem = label_names_problem(names)
    if problem:
        raise DatasetError(f"{where}: {problem}")
    return list(names)


def load_json(path: Path) -> Any:
    """Parse a JSON file; bad JSON or bad text raises DatasetError naming the file, line and column."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except RecursionError:
        raise DatasetError(f"{path}: JSON nested too deeply to be a dataset") from None
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}, line {exc.lineno}, column {exc.colno}: bad JSON: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc.reason})") from None


def image_present(path: Path, where: str, skip_missing: bool) -> bool:
    """True if the image file exists; False if it is missing and `skip_missing`; else DatasetError at `where`."""
    if path.is_file():
        return True
    if skip_missing:
        return False
    raise DatasetError(f"{where}: image not found: {path}")


def text_lines(path: Path, what: str = "file") -> list[tuple[int, str]]:
    """(line number, stripped text) of each non-blank line of a UTF-8 text file (a BOM is allowed);
    `what` names the file in the error when it is missing."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DatasetError(f"{path}: {what} not found") from None
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc.reason})") from None
    return [(n, raw.strip()) for n, raw in enumerate(text.splitlines(), start=1) if raw.strip()]
