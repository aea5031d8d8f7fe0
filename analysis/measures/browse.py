"""Orderings and small tables for browsing a model: channels ranked by norm or by a label's drive,
what each filter is read into, the channels two labels share, the strongest pairs of a relation
matrix, offset statistics as matrices and the preferred offsets of relation fields.

These are the dashboard's numbers; they only reorder or slice what `filters`, `semantic` and
`spatial` compute, so they run in microseconds and never touch the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..session import ImageAnalysis, LabelRef, resolve_labels, sigmoid
from ..tables import LabelMatrix
from .filters import Conv4Filters, ProbeResult
from .spatial import OffsetStats, RelationField


def rank_channels(
    filters: Conv4Filters, probes: ProbeResult | None = None, label: LabelRef | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(channel order, strongest first; score of every channel).

    Without `label` the score is the L2 norm of the channel's filters taken together; with a label it
    is the measured drive of that label on the channel (`probes.channel_drive`), which needs `probes`.
    """
    if label is None:
        score = np.sqrt((filters.norm**2).sum(axis=1))
    else:
        if probes is None:
            raise ValueError("ranking channels by a label's drive needs the probe result (probe_sr)")
        score = probes.channel_drive[resolve_labels(probes.label_names, [label])[0]]
    return np.argsort(-score, kind="stable"), score


def page_count(count: int, per_page: int) -> int:
    """How many pages of `per_page` hold `count` items (at least 1, so an empty list still has a page)."""
    if per_page < 1:
        raise ValueError(f"per_page must be at least 1, got {per_page}")
    return max(1, -(-count // per_page))


def channel_page(order: np.ndarray, page: int, per_page: int) -> list[int]:
    """The channels of page `page` (1-based) of the ranking `order`, `per_page` to a page."""
    if page < 1:
        raise ValueError(f"page must be at least 1, got {page}")
    return [int(c) for c in order[(page - 1) * per_page : page * per_page]]


def _names(pairs: Sequence[tuple[str, float]]) -> str:
    return ", ".join(f"{name} ({value:+.3g})" for name, value in pairs)


def filter_rows(
    filters: Conv4Filters, readout: LabelMatrix, channels: Sequence[int], k: int = 3
) -> list[dict[str, Any]]:
    """One row per filter of `channels`: its norm and sign and the labels the fc layer reads it into
    most positively ('raises') and most negatively ('lowers')."""
    per_channel = filters.weights.shape[1]
    rows = []
    for c in channels:
        for f in range(per_channel):
            name = f"ch{int(c)}/f{f}"
            values = readout.values[readout.row_names.index(name)]
            order = np.argsort(-values, kind="stable")
            rows.append(
                {
                    "filter": name,
                    "norm": float(filters.norm[c, f]),
                    "sign": int(filters.sign[c, f]),
                    "raises": _names([(readout.col_names[j], float(values[j])) for j in order[:k]]),
                    "lowers": _names([(readout.col_names[j], float(values[j])) for j in order[::-1][:k]]),
                }
            )
    return rows


def channel_rows(
    filters: Conv4Filters, probes: ProbeResult, channels: Sequence[int], scores: np.ndarray, k: int = 3
) -> list[dict[str, Any]]:
    """One row per channel: its ranking score, the norm of its filters and the `k` labels driving it most."""
    return [
        {
            "channel": int(c),
            "score": float(scores[c]),
            "norm": float(np.sqrt((filters.norm[c] ** 2).sum())),
            "driven by": _names(probes.channel_labels(int(c), k)),
        }
        for c in channels
    ]


def shared_channels(probes: ProbeResult, first: LabelRef, second: LabelRef, k: int = 4) -> list[dict[str, Any]]:
    """The `k` channels both labels drive, ranked by the smaller of the two measured drives."""
    i, j = resolve_labels(probes.label_names, [first, second])
    both = np.minimum(probes.channel_drive[i], probes.channel_drive[j])
    order = np.argsort(-both, kind="stable")[:k]
    return [
        {
            "channel": int(c),
            "shared": float(both[c]),
            f"drive by {probes.label_names[i]}": float(probes.channel_drive[i, c]),
            f"drive by {probes.label_names[j]}": float(probes.channel_drive[j, c]),
        }
        for c in order
    ]


def is_symmetric(matrix: LabelMatrix) -> bool:
    """True for a square matrix equal to its transpose (NaN equal to NaN)."""
    values = np.asarray(matrix.values, dtype=np.float64)
    return values.shape[0] == values.shape[1] and bool(np.allclose(values, values.T, equal_nan=True))


def strongest_pairs(
    matrix: LabelMatrix, k: int = 20, absolute: bool = True, diagonal: bool = False
) -> list[tuple[int, int, float]]:
    """The `k` largest entries (by |value| if `absolute`) as (row, column, value), NaN skipped.

    For a symmetric matrix each unordered pair appears once (row < column).
    """
    values = np.asarray(matrix.values, dtype=np.float64)
    score = np.abs(values) if absolute else values.copy()
    score[~np.isfinite(score)] = -np.inf
    if not diagonal and values.shape[0] == values.shape[1]:
        np.fill_diagonal(score, -np.inf)
    if is_symmetric(matrix):
        score[np.tril_indices_from(score, -1)] = -np.inf
    flat = np.argsort(-score, axis=None, kind="stable")[:k]
    rows, cols = np.unravel_index(flat, values.shape)
    return [(int(r), int(c), float(values[r, c])) for r, c in zip(rows, cols) if np.isfinite(score[r, c])]


def offset_matrices(stats: OffsetStats) -> dict[str, LabelMatrix]:
    """Centroid-offset statistics as label x label matrices (row: anchor, column: the other label)."""
    names = stats.label_names
    units = stats.units
    return {
        "pairs seen": LabelMatrix(
            stats.count, names, names, "pairs seen together", "number of images where both labels are present"
        ),
        "consistency": LabelMatrix(
            stats.consistency,
            names,
            names,
            "offset consistency",
            "length of the mean unit direction of the column's centroid around the row's "
            "(1: always the same direction)",
        ),
        "mean dx": LabelMatrix(
            stats.mean[..., 0],
            names,
            names,
            f"mean dx ({units})",
            "mean horizontal offset of the column's centroid from the row's (right positive)",
        ),
        "mean dy": LabelMatrix(
            stats.mean[..., 1],
            names,
            names,
            f"mean dy ({units})",
            "mean vertical offset of the column's centroid from the row's (down positive)",
        ),
    }


def images_with(analyses: Sequence[ImageAnalysis], labels: Sequence[LabelRef], threshold: float = 0.5) -> list[int]:
    """Indices of the analyses where every one of `labels` is present (ground truth, else score > threshold)."""
    found = []
    for n, analysis in enumerate(analyses):
        wanted = set(analysis.indices(labels))
        if wanted <= set(analysis.present_labels(threshold)):
            found.append(n)
    return found


def preferred_offsets(fields: Sequence[RelationField]) -> list[dict[str, Any]]:
    """One row per relation field: where the moved label raises the read label's SRN score most, and by how much."""
    rows = []
    for field in fields:
        dx, dy = field.preferred_offset()
        best = float(np.nanmax(field.logits))
        rows.append(
            {
                "moved": field.moved,
                "anchor": field.anchor,
                "read": field.read,
                "best dx": dx,
                "best dy": dy,
                "best probability": float(sigmoid(best)),
                "without moved": float(sigmoid(field.removed)),
                "as in the image": float(sigmoid(field.original)),
                "spread of the field (logit)": float(best - np.nanmin(field.logits)),
            }
        )
    return rows
