"""What a relations view shows beside a matrix: how many images stand behind each cell, and which pair
to open first (the strongest one that some image actually holds, so its panels are never empty)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..session import ImageAnalysis
from ..tables import LabelMatrix
from .browse import strongest_pairs


def presence(analyses: Sequence[ImageAnalysis], threshold: float = 0.5) -> np.ndarray:
    """(N, C) bool: label present in each image (ground truth where the image has it, else fused > threshold)."""
    rows = [a.targets == 1 if a.targets is not None else a.probabilities()["fused"] > threshold for a in analyses]
    return np.array(rows, dtype=bool).reshape(len(rows), -1)


def held_together(analyses: Sequence[ImageAnalysis], threshold: float = 0.5) -> np.ndarray:
    """(C, C) int: the number of images holding both labels (the diagonal: images holding the label)."""
    present = presence(analyses, threshold).astype(np.int64)
    return present.T @ present


def row_counts(analyses: Sequence[ImageAnalysis], threshold: float = 0.5) -> np.ndarray:
    """(C, C) int: the number of images holding the row label, the n behind P(column | row)."""
    together = held_together(analyses, threshold)
    return np.repeat(np.diag(together)[:, None], together.shape[1], axis=1)


def default_pair(matrix: LabelMatrix, analyses: Sequence[ImageAnalysis], threshold: float = 0.5) -> tuple[str, str]:
    """(row, column) names of the strongest off-diagonal cell of `matrix` whose two labels some image holds
    together; the strongest cell overall when no image holds two labels."""
    names = matrix.row_names
    together = held_together(analyses, threshold) if analyses else np.zeros((len(names), len(names)), int)
    ranked = strongest_pairs(matrix, len(names) * len(names))
    held = [(r, c) for r, c, _ in ranked if together.shape == matrix.values.shape and together[r, c] > 0]
    r, c = held[0] if held else ranked[0][:2] if ranked else (0, 1 % len(names))
    return names[r], matrix.col_names[c]
