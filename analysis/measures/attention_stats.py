"""Where each label's map points: peak, centroid and spread, in grid cells and original-image pixels,
and the pointing game against ground-truth boxes.

Cell (r, c) of a g x g map stands for the image block centred at ((c + 0.5) W / g, (r + 0.5) H / g)
(the whole image is resized to the model's input, no crop). The same holds for any square map, e.g.
a Grad-CAM map at input resolution.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from srn_core.datasets import Box

from ..session import ImageAnalysis, LabelRef

POINTING_TOLERANCE = 15.0


def cell_to_pixel(rows: np.ndarray, cols: np.ndarray, grid: int, image_size: tuple[int, int]) -> np.ndarray:
    """Cell coordinates (fractional allowed) -> (N, 2) pixel (x, y) in the original image (W, H)."""
    width, height = image_size
    x = (np.asarray(cols, dtype=np.float64) + 0.5) * width / grid
    y = (np.asarray(rows, dtype=np.float64) + 0.5) * height / grid
    return np.stack([x, y], axis=-1)


def cell_centres(grid: int, image_size: tuple[int, int]) -> tuple[list[float], list[float]]:
    """Pixel x of each column's centre and pixel y of each row's centre, for a map shown at `image_size` (W, H)."""
    centres = cell_to_pixel(np.arange(grid), np.arange(grid), grid, image_size)
    return centres[:, 0].tolist(), centres[:, 1].tolist()


def pixel_to_cell(x: float, y: float, grid: int, image_size: tuple[int, int]) -> tuple[int, int]:
    """The (row, col) of the cell holding pixel (x, y) of a map shown at `image_size` (W, H); points on or
    past an edge belong to the nearest cell, so a click anywhere on the picture picks a cell."""
    width, height = image_size
    col = min(max(int(np.floor(x * grid / width)), 0), grid - 1)
    row = min(max(int(np.floor(y * grid / height)), 0), grid - 1)
    return row, col


def shift_to_cell(
    analysis: ImageAnalysis, label: LabelRef, cell: tuple[int, int], kind: str = "weighted"
) -> tuple[int, int]:
    """(dx, dy) in cells (right, down) that moves the peak of `label`'s `kind` map onto `cell` = (row, col)."""
    peak = attention_stats(analysis, [label], kind).peak_cell[0]
    return int(cell[1] - peak[1]), int(cell[0] - peak[0])


@dataclass
class AttentionStats:
    """Per-label statistics of K square maps. Cells are (row, col); pixels are (x, y).

    `spread` is the radius of gyration in cells (sqrt of the mass-weighted mean squared distance to the
    centroid); `spread_xy` the standard deviations along x and y in pixels. `mass` is each map's sum.
    """

    labels: list[str]
    grid: int
    image_size: tuple[int, int]
    peak_cell: np.ndarray
    peak_xy: np.ndarray
    peak_value: np.ndarray
    centroid_cell: np.ndarray
    centroid_xy: np.ndarray
    spread: np.ndarray
    spread_xy: np.ndarray
    mass: np.ndarray

    def rows(self) -> list[dict[str, Any]]:
        """One row per label (for CSV/JSON export)."""
        return [
            {
                "label": name,
                "peak_row": int(self.peak_cell[k, 0]),
                "peak_col": int(self.peak_cell[k, 1]),
                "peak_x": float(self.peak_xy[k, 0]),
                "peak_y": float(self.peak_xy[k, 1]),
                "peak_value": float(self.peak_value[k]),
                "centroid_row": float(self.centroid_cell[k, 0]),
                "centroid_col": float(self.centroid_cell[k, 1]),
                "centroid_x": float(self.centroid_xy[k, 0]),
                "centroid_y": float(self.centroid_xy[k, 1]),
                "spread_cells": float(self.spread[k]),
                "spread_x": float(self.spread_xy[k, 0]),
                "spread_y": float(self.spread_xy[k, 1]),
                "mass": float(self.mass[k]),
            }
            for k, name in enumerate(self.labels)
        ]


def map_stats(maps: np.ndarray, image_size: tuple[int, int], labels: Sequence[str] | None = None) -> AttentionStats:
    """Statistics of (K, g, g) non-negative maps for an image of `image_size` = (W, H), vectorised over K.

    The first maximum (row-major) is the peak. A map with no mass has NaN centroid and spread.
    """
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim != 3 or maps.shape[1] != maps.shape[2]:
        raise ValueError(f"maps must be (K, g, g), got shape {maps.shape}")
    k, grid, _ = maps.shape
    flat = maps.reshape(k, grid * grid)
    peak = flat.argmax(axis=1)
    peak_cell = np.stack([peak // grid, peak % grid], axis=1)
    mass = flat.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        weights = maps / mass[:, None, None]
    coords = np.arange(grid, dtype=np.float64)
    mean_r = (weights.sum(axis=2) * coords).sum(axis=1)
    mean_c = (weights.sum(axis=1) * coords).sum(axis=1)
    var_r = (weights.sum(axis=2) * (coords[None] - mean_r[:, None]) ** 2).sum(axis=1)
    var_c = (weights.sum(axis=1) * (coords[None] - mean_c[:, None]) ** 2).sum(axis=1)
    width, height = image_size
    return AttentionStats(
        labels=list(labels) if labels is not None else [str(i) for i in range(k)],
        grid=grid,
        image_size=(int(width), int(height)),
        peak_cell=peak_cell,
        peak_xy=cell_to_pixel(peak_cell[:, 0], peak_cell[:, 1], grid, image_size),
        peak_value=flat.max(axis=1),
        centroid_cell=np.stack([mean_r, mean_c], axis=1),
        centroid_xy=cell_to_pixel(mean_r, mean_c, grid, image_size),
        spread=np.sqrt(var_r + var_c),
        spread_xy=np.stack([np.sqrt(var_c) * width / grid, np.sqrt(var_r) * height / grid], axis=1),
        mass=mass,
    )


def attention_stats(
    analysis: ImageAnalysis, labels: Iterable[LabelRef] | None = None, kind: str = "attention"
) -> AttentionStats:
    """Peak, centroid and spread of A, sigmoid(S) or U (`kind`) for `labels` (default all)."""
    index = analysis.indices(labels)
    return map_stats(analysis.maps(kind)[index], analysis.image_size, [analysis.label_names[i] for i in index])


def box_distance(points: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
    """Euclidean distance (pixels) from each (x, y) point to the nearest of `boxes` (0 inside; inf if none)."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if not boxes:
        return np.full(len(points), np.inf)
    corners = np.array([[b.x0, b.y0, b.x1, b.y1] for b in boxes], dtype=np.float64)
    dx = np.maximum(np.maximum(corners[None, :, 0] - points[:, None, 0], 0), points[:, None, 0] - corners[None, :, 2])
    dy = np.maximum(np.maximum(corners[None, :, 1] - points[:, None, 1], 0), points[:, None, 1] - corners[None, :, 3])
    return np.hypot(dx, dy).min(axis=1)


def pointing_game(
    points: np.ndarray, labels: Sequence[str], boxes: Sequence[Box], tolerance: float = POINTING_TOLERANCE
) -> np.ndarray:
    """Hit (1.0) / miss (0.0) for each label's point, NaN where the image has no box of that label.

    A hit is a point within `tolerance` pixels of a ground-truth box of the same label (15 px in
    Zhang et al.'s pointing game; 0 asks for the point to lie inside a box).
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    out = np.full(len(labels), np.nan)
    for k, name in enumerate(labels):
        own = [b for b in boxes if b.label == name]
        if own:
            out[k] = float(box_distance(points[k], own)[0] <= tolerance)
    return out


def attention_pointing(
    analysis: ImageAnalysis,
    labels: Iterable[LabelRef] | None = None,
    kind: str = "attention",
    tolerance: float = POINTING_TOLERANCE,
) -> np.ndarray:
    """Pointing game of the analysed image's map peaks against its ground-truth boxes (NaN: no box)."""
    stats = attention_stats(analysis, labels, kind)
    return pointing_game(stats.peak_xy, stats.labels, analysis.boxes, tolerance)
