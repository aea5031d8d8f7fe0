"""Spatial label relations: offsets between attention centroids, and relation fields read from f_sr.

Offsets are (dx, dy), x to the right and y down, of label j's centroid minus label i's (the
anchor's), as in the scene generator's layouts: "j above i" is dy < 0.

Relation field (moved label i, anchor label j, read label r, default r = j): start from an image's U
(or a synthetic one), take label i's map out, put its mass m as a point on one cell, run f_sr and read
label r's SRN logit; do this for every cell. `map_relation_field` (the default view) does the same on
real maps: label i's own map is shifted so its peak lands on each cell, in every image that holds
both labels, and the logits are averaged. A field whose logits hardly vary (`contrast` below
`min_contrast`) has no preferred offset: it carries a `warning` instead. Cells are indexed by their
offset (dx, dy) from the anchor cell (label j's peak unless given), so the field shows where f_sr
wants label i relative to label j. Only f_sr runs, never the backbone. The computation is exact and
batched over all cells and all moved labels: conv2/conv3 act per position, so only the placed cell's
column changes, and conv4 is linear before its ReLU.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from srn_core import SRN

from ..session import ImageAnalysis, LabelRef, resolve_labels, sigmoid, sr_forward
from .attention_stats import map_stats
from .whatif import shift_map

OFFSET_UNITS = ("cells", "pixels", "fraction")


@dataclass
class OffsetStats:
    """Centroid offsets (dx, dy) of label j (column) relative to label i (row), over images with both.

    count (C, C); mean and std (C, C, 2); consistency (C, C) = length of the mean unit direction
    (1: always the same direction, near 0: no preferred direction). `offsets[(i, j)]` holds the raw
    (n, 2) offsets.
    """

    label_names: list[str]
    units: str
    kind: str
    count: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    consistency: np.ndarray
    offsets: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)

    def pair(self, anchor: LabelRef, other: LabelRef) -> np.ndarray:
        i, j = resolve_labels(self.label_names, [anchor, other])
        return self.offsets.get((i, j), np.zeros((0, 2)))

    def rows(self) -> list[dict[str, Any]]:
        """One row per ordered pair seen together at least once."""
        names = self.label_names
        return [
            {
                "anchor": names[i],
                "other": names[j],
                "count": int(self.count[i, j]),
                "mean_dx": float(self.mean[i, j, 0]),
                "mean_dy": float(self.mean[i, j, 1]),
                "std_dx": float(self.std[i, j, 0]),
                "std_dy": float(self.std[i, j, 1]),
                "consistency": float(self.consistency[i, j]),
                "units": self.units,
            }
            for i, j in sorted(self.offsets)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "kind": self.kind,
            "pairs": self.rows(),
            "offsets": {f"{self.label_names[i]}->{self.label_names[j]}": v for (i, j), v in self.offsets.items()},
        }


def centroid_offsets(
    analyses: Iterable[ImageAnalysis], kind: str = "attention", units: str = "cells", threshold: float = 0.5
) -> OffsetStats:
    """Offsets between the centroids of `kind` maps of every pair of labels present in the same image.

    Present: ground truth when the image has targets, else fused score > `threshold`. `units`:
    'cells' (grid cells), 'pixels' (original image) or 'fraction' (of the image width / height).
    """
    if units not in OFFSET_UNITS:
        raise ValueError(f"units must be one of {OFFSET_UNITS}, got {units!r}")
    collected: dict[tuple[int, int], list[np.ndarray]] = {}
    names: list[str] = []
    for analysis in analyses:
        names = analysis.label_names
        present = analysis.present_labels(threshold)
        if len(present) < 2:
            continue
        stats = map_stats(analysis.maps(kind)[present], analysis.image_size)
        width, height = analysis.image_size
        if units == "cells":
            points = stats.centroid_cell[:, ::-1]
        else:
            points = stats.centroid_xy / (np.array([width, height]) if units == "fraction" else 1.0)
        diff = points[None, :, :] - points[:, None, :]
        for a, i in enumerate(present):
            for b, j in enumerate(present):
                if i != j and np.isfinite(diff[a, b]).all():
                    collected.setdefault((i, j), []).append(diff[a, b])
    size = len(names)
    count, consistency = np.zeros((size, size), np.int64), np.full((size, size), np.nan)
    mean, std = np.full((size, size, 2), np.nan), np.full((size, size, 2), np.nan)
    offsets = {pair: np.stack(values) for pair, values in collected.items()}
    for (i, j), values in offsets.items():
        count[i, j] = len(values)
        mean[i, j], std[i, j] = values.mean(axis=0), values.std(axis=0)
        length = np.linalg.norm(values, axis=1)
        moving = length > 1e-9
        consistency[i, j] = (
            np.linalg.norm((values[moving] / length[moving, None]).mean(axis=0)) if moving.any() else np.nan
        )
    return OffsetStats(list(names), units, kind, count, mean, std, consistency, offsets)


def placement_logits(
    model: SRN, weighted_attention: np.ndarray, moved: Sequence[int], masses: Sequence[float], chunk: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """y_sr for every moved label k put as a point of mass masses[k] on every cell, the rest of U kept.

    Returns (placed (K, g, g, C), removed (K, C)): the logits with label k's point at cell (row, col),
    and with label k's map removed altogether. Exact f_sr arithmetic, batched over cells and labels: f_sr's
    channel maps are computed cell by cell, so filling label k's map with m everywhere gives, at every
    cell, the channel maps of a point there; conv4's pre-activation changes by that cell's term only.
    """
    sr = model.f_sr
    param = next(sr.parameters())
    u = torch.as_tensor(np.asarray(weighted_attention, np.float32)).to(param.device, param.dtype)
    labels, grid = u.shape[0], u.shape[-1]
    placed, removed = [], []
    with torch.inference_mode():
        for start in range(0, len(moved), chunk):
            ks = torch.as_tensor(list(moved[start : start + chunk]), device=u.device)
            m = torch.as_tensor(list(masses[start : start + chunk]), device=u.device, dtype=u.dtype)
            rows = torch.arange(len(ks), device=u.device)
            base = u.expand(len(ks), -1, -1, -1).clone()
            base[rows, ks] = 0.0
            channels = sr.channel_maps(base)
            z4 = sr.filter_preactivations(channels)
            removed.append(sr.readout(z4))
            filled = base.clone()
            filled[rows, ks] = m[:, None, None]
            change = sr.cell_terms(sr.channel_maps(filled) - channels)
            placed.append(sr.readout(z4[:, None, :] + change.transpose(1, 2)))
    shape = (len(moved), grid, grid, labels)
    return (
        torch.cat(placed).float().cpu().numpy().reshape(shape) if placed else np.zeros(shape, np.float32),
        torch.cat(removed).float().cpu().numpy() if removed else np.zeros((0, labels), np.float32),
    )


@dataclass
class RelationField:
    """Label `read`'s SRN logit with label `moved`'s mass at each offset (dx, dy) from `anchor_cell`.

    `logits[dy + g - 1, dx + g - 1]`, NaN where the offset leaves the grid; `offsets` is -(g-1)..g-1.
    `removed` is the logit with the moved label's map taken out, `original` with U unchanged.
    `mode` is "point" (a point of mass `mass`) or "map" (the label's own map, averaged over `images`).
    """

    label_names: list[str]
    moved: str
    anchor: str
    read: str
    anchor_cell: tuple[int, int]
    mass: float
    offsets: np.ndarray
    logits: np.ndarray
    removed: float
    original: float
    mode: str = "point"
    images: int = 1
    min_contrast: float = 0.5

    @property
    def contrast(self) -> float:
        """Highest minus lowest logit of the field (NaN for an empty field)."""
        finite = self.logits[np.isfinite(self.logits)]
        return float(finite.max() - finite.min()) if finite.size else float("nan")

    @property
    def warning(self) -> str | None:
        """Why the field names no preferred offset (too little contrast), or None when it does."""
        if not self.contrast >= self.min_contrast:
            return (
                f"no contrast: {self.read}'s SRN logit varies by only {self.contrast:.2f} (< {self.min_contrast:g}) "
                f"wherever {self.moved} sits, so the field has no preferred offset"
            )
        return None

    @property
    def probabilities(self) -> np.ndarray:
        return np.where(np.isnan(self.logits), np.nan, sigmoid(np.nan_to_num(self.logits)))

    def preferred_offset(self) -> tuple[int, int]:
        """(dx, dy) of the highest logit."""
        dy, dx = np.unravel_index(np.nanargmax(self.logits), self.logits.shape)
        return int(self.offsets[dx]), int(self.offsets[dy])

    def rows(self) -> list[dict[str, Any]]:
        dys, dxs = np.nonzero(np.isfinite(self.logits))
        return [
            {
                "dx": int(self.offsets[x]),
                "dy": int(self.offsets[y]),
                "logit": float(self.logits[y, x]),
                "probability": float(sigmoid(self.logits[y, x])),
            }
            for y, x in zip(dys, dxs)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "moved": self.moved,
            "anchor": self.anchor,
            "read": self.read,
            "anchor_cell": list(self.anchor_cell),
            "mass": self.mass,
            "offsets": self.offsets,
            "logits": self.logits,
            "removed": self.removed,
            "original": self.original,
            "mode": self.mode,
            "images": self.images,
            "contrast": self.contrast,
            "warning": self.warning,
        }


def relation_fields(
    model: SRN,
    weighted_attention: np.ndarray,
    label_names: Sequence[str],
    anchor: LabelRef,
    moved: Iterable[LabelRef] | None = None,
    read: LabelRef | None = None,
    anchor_cell: tuple[int, int] | None = None,
    mass: float | None = None,
) -> list[RelationField]:
    """Relation fields of several moved labels (default every label but the anchor) around one anchor.

    `mass`: the point's mass; None keeps each moved label's own mass in U (sum of its map).
    `read`: whose logit to record (default the anchor, as in "how label i's place moves label j").
    """
    u = np.asarray(weighted_attention, np.float32)
    if u.ndim != 3 or u.shape[0] != len(label_names) or u.shape[1] != u.shape[2]:
        raise ValueError(f"weighted attention must be ({len(label_names)}, g, g), got shape {u.shape}")
    grid = u.shape[-1]
    j = resolve_labels(label_names, [anchor])[0]
    r = j if read is None else resolve_labels(label_names, [read])[0]
    ks = [k for k in range(len(label_names)) if k != j] if moved is None else resolve_labels(label_names, moved)
    cell = tuple(int(v) for v in (np.unravel_index(u[j].argmax(), u[j].shape) if anchor_cell is None else anchor_cell))
    if not (0 <= cell[0] < grid and 0 <= cell[1] < grid):
        raise ValueError(f"anchor cell {cell} is outside the {grid}x{grid} grid")
    masses = [float(u[k].sum()) if mass is None else float(mass) for k in ks]
    placed, removed = placement_logits(model, u, ks, masses)
    original = float(sr_forward(model, u)[r])
    offsets = np.arange(-(grid - 1), grid)
    fields = []
    for n, k in enumerate(ks):
        logits = np.full((2 * grid - 1, 2 * grid - 1), np.nan, dtype=np.float32)
        logits[grid - 1 - cell[0] : 2 * grid - 1 - cell[0], grid - 1 - cell[1] : 2 * grid - 1 - cell[1]] = placed[
            n, :, :, r
        ]
        fields.append(
            RelationField(
                list(label_names),
                label_names[k],
                label_names[j],
                label_names[r],
                cell,
                masses[n],
                offsets,
                logits,
                float(removed[n, r]),
                original,
            )
        )
    return fields


def relation_field(
    model: SRN,
    weighted_attention: np.ndarray,
    label_names: Sequence[str],
    moved: LabelRef,
    anchor: LabelRef,
    read: LabelRef | None = None,
    anchor_cell: tuple[int, int] | None = None,
    mass: float | None = None,
) -> RelationField:
    """The relation field of one moved label around one anchor (see `relation_fields`)."""
    return relation_fields(model, weighted_attention, label_names, anchor, [moved], read, anchor_cell, mass)[0]


def point_attention(num_labels: int, grid: int, points: dict[int, tuple[int, int, float]]) -> np.ndarray:
    """A synthetic U (C, g, g): label i holds mass m on cell (row, col) for each i: (row, col, m) in `points`."""
    u = np.zeros((num_labels, grid, grid), np.float32)
    for label, (row, col, mass) in points.items():
        u[label, row, col] = mass
    return u


def holds_label(analysis: ImageAnalysis, index: int) -> bool:
    """Whether the image holds label `index`: ground truth when known, else a positive fused logit."""
    if analysis.targets is not None and analysis.targets[index] >= 0:
        return bool(analysis.targets[index] == 1)
    return bool(analysis.logits[index] > 0)


def map_relation_field(
    model: SRN,
    analyses: Iterable[ImageAnalysis],
    moved: LabelRef,
    anchor: LabelRef,
    read: LabelRef | None = None,
    min_contrast: float = 0.5,
    max_images: int | None = None,
    min_share: float = 0.5,
) -> RelationField:
    """The relation field on real maps, averaged over the images that hold both labels.

    In each image, label `moved`'s own U map is shifted (zero fill) so that its peak lands on every
    cell in turn; f_sr runs on each, and `read`'s SRN logit (default: the anchor's) is recorded at
    the offset of that cell from the anchor's peak. Offsets reachable in fewer than `min_share` of
    the images (far offsets exist only where the anchor sits near a corner, and would rest on a
    handful of images) are NaN. Raises ValueError when no image holds both labels.
    """
    analyses = list(analyses)
    if not analyses:
        raise ValueError("a relation field on real maps needs analysed images")
    names = analyses[0].label_names
    k, j = resolve_labels(names, [moved, anchor])
    r = j if read is None else resolve_labels(names, [read])[0]
    both = [a for a in analyses if holds_label(a, k) and holds_label(a, j)][:max_images]
    if not both:
        raise ValueError(f"no image holds both {names[k]} and {names[j]}")
    grid = both[0].grid
    total = np.zeros((2 * grid - 1, 2 * grid - 1))
    count = np.zeros_like(total)
    removed, original, mass = [], [], []
    cells = [(row, col) for row in range(grid) for col in range(grid)]
    for analysis in both:
        u = np.asarray(analysis.weighted_attention, np.float32)
        peak = np.unravel_index(int(u[k].argmax()), u[k].shape)
        centre = np.unravel_index(int(u[j].argmax()), u[j].shape)
        batch = np.repeat(u[None], len(cells) + 2, axis=0)
        for n, (row, col) in enumerate(cells):
            batch[n, k] = shift_map(u[k], col - peak[1], row - peak[0])
        batch[len(cells), k] = 0.0
        logits = sr_forward(model, batch)[:, r]
        for n, (row, col) in enumerate(cells):
            total[row - centre[0] + grid - 1, col - centre[1] + grid - 1] += logits[n]
            count[row - centre[0] + grid - 1, col - centre[1] + grid - 1] += 1
        removed.append(logits[len(cells)])
        original.append(logits[len(cells) + 1])
        mass.append(float(u[k].sum()))
    field = np.where(count >= max(1.0, min_share * len(both)), total / np.maximum(count, 1), np.nan)
    field = field.astype(np.float32)
    return RelationField(
        list(names),
        names[k],
        names[j],
        names[r],
        (grid - 1, grid - 1),
        float(np.mean(mass)),
        np.arange(-(grid - 1), grid),
        field,
        float(np.mean(removed)),
        float(np.mean(original)),
        "map",
        len(both),
        min_contrast,
    )
