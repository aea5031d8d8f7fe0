"""What a relations view shows: the label x label matrices by name, how many images stand behind each cell,
which pair to open first (the strongest one that some image actually holds, so its panels are never
empty), and the relation fields of every label around one anchor."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from srn_core import SRN

from ..session import ImageAnalysis, LabelRef, resolve_labels
from ..tables import LabelMatrix
from .browse import offset_matrices, strongest_pairs
from .filters import ProbeResult
from .semantic import conditional_probability, cooccurrence, fsr_similarity, influence_matrix, label_matrix_of
from .spatial import RelationField, centroid_offsets, point_attention, relation_fields

MATRICES = ("co-occurrence", "P(j | i)", "f_sr similarity", "influence", "offset consistency", "mean dx", "mean dy")
MEANING = {
    "co-occurrence": "how often two labels are present in the same image",
    "P(j | i)": "how likely the column label is present when the row label is",
    "f_sr similarity": "how alike f_sr treats two labels (cosine of their measured channel drives)",
    "influence": "how much the row label's attention moves the column label's SRN logit (red raises)",
    "offset consistency": "how reliably the column label's attention sits in one direction from the row label's",
    "mean dx": "mean horizontal offset (cells) of the column label's attention centroid from the row label's",
    "mean dy": "mean vertical offset (cells, down) of the column label's attention centroid from the row label's",
}


def presence(analyses: Sequence[ImageAnalysis], threshold: float = 0.5) -> np.ndarray:
    """(N, C) bool: label present in each image (ground truth where the image has it, else fused > threshold)."""
    rows = [a.targets == 1 if a.targets is not None else a.probabilities()["fused"] > threshold for a in analyses]
    return np.array(rows, dtype=bool).reshape(len(rows), -1)


def presence_source(analyses: Sequence[ImageAnalysis]) -> str:
    """'truth' when every image has ground truth, else 'prediction' (fused score above the threshold)."""
    return "truth" if all(a.targets is not None for a in analyses) else "prediction"


def held_together(analyses: Sequence[ImageAnalysis], threshold: float = 0.5) -> np.ndarray:
    """(C, C) int: the number of images holding both labels (the diagonal: images holding the label)."""
    present = presence(analyses, threshold).astype(np.int64)
    return present.T @ present


def row_counts(analyses: Sequence[ImageAnalysis], threshold: float = 0.5) -> np.ndarray:
    """(C, C) int: the number of images holding the row label, the n behind P(column | row)."""
    together = held_together(analyses, threshold)
    return np.repeat(np.diag(together)[:, None], together.shape[1], axis=1)


def relation_matrix(
    name: str,
    model: SRN,
    analyses: Sequence[ImageAnalysis],
    label_names: Sequence[str],
    threshold: float = 0.5,
    probes: ProbeResult | None = None,
    influence: Callable[[], LabelMatrix] | None = None,
) -> tuple[LabelMatrix, np.ndarray | None]:
    """The matrix `name` (one of MATRICES) over `analyses`, and the number of images behind each cell (None
    when every cell rests on all of them). `influence` supplies the influence matrix (the dashboard passes
    its cached computation); by default it is computed here, over the images where the row label is present."""
    if name in ("co-occurrence", "P(j | i)"):
        targets = label_matrix_of(analyses, presence_source(analyses), threshold)
        if name == "co-occurrence":
            return cooccurrence(targets, label_names), None
        return conditional_probability(targets, label_names), row_counts(analyses, threshold)
    if name == "f_sr similarity":
        return fsr_similarity(model, label_names, probes), None
    if name == "influence":
        return (influence() if influence else influence_matrix(model, analyses, present_only=True)), None
    if name in ("offset consistency", "mean dx", "mean dy"):
        stats = centroid_offsets(analyses, "attention", "cells", threshold)
        return offset_matrices(stats)[{"offset consistency": "consistency"}.get(name, name)], stats.count
    raise ValueError(f"unknown relation matrix {name!r}; choose one of {MATRICES}")


def default_pair(matrix: LabelMatrix, analyses: Sequence[ImageAnalysis], threshold: float = 0.5) -> tuple[str, str]:
    """(row, column) names of the strongest off-diagonal cell of `matrix` whose two labels some image holds
    together; the strongest cell overall when no image holds two labels."""
    names = matrix.row_names
    together = held_together(analyses, threshold) if analyses else np.zeros((len(names), len(names)), int)
    ranked = strongest_pairs(matrix, len(names) * len(names))
    held = [(r, c) for r, c, _ in ranked if together.shape == matrix.values.shape and together[r, c] > 0]
    r, c = held[0] if held else ranked[0][:2] if ranked else (0, 1 % len(names))
    return names[r], matrix.col_names[c]


def anchor_alone(label_names: Sequence[str], grid: int, anchor: LabelRef) -> np.ndarray:
    """A synthetic U (C, g, g) holding only `anchor`, mass 1 on the centre cell: f_sr's own preference around it."""
    index = resolve_labels(label_names, [anchor])[0]
    return point_attention(len(label_names), grid, {index: (grid // 2, grid // 2, 1.0)})


def fields_around(
    model: SRN,
    weighted_attention: np.ndarray,
    label_names: Sequence[str],
    anchor: LabelRef,
    mass: float | None = None,
    batch: int = 4,
    progress: Callable[[int, int], None] | None = None,
) -> list[RelationField]:
    """Relation fields of every other label around `anchor` on U, `batch` labels per f_sr run;
    `progress(done, total)` is called after each run."""
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    anchor_name = label_names[resolve_labels(label_names, [anchor])[0]]
    moved = [n for n in label_names if n != anchor_name]
    fields: list[RelationField] = []
    for start in range(0, len(moved), batch):
        fields += relation_fields(
            model, weighted_attention, label_names, anchor_name, moved[start : start + batch], mass=mass
        )
        if progress:
            progress(len(fields), len(moved))
    return fields
