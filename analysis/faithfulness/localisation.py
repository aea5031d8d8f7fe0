"""Localisation against ground-truth boxes: pointing game, relevance mass and relevance rank.

- Pointing game in TorchRay's convention: the map's maximum is a hit when it lies within
  `tolerance` (15) pixels of a box of the label, in original-image pixels; the score of a label is
  hits / (hits + misses) and the overall score the mean over labels. A grid map points at its peak
  cell's centre, Grad-CAM at its peak pixel, the centre baseline at the image centre.
- Relevance mass (Arras et al. 2022): the share of the map's mass inside the label's boxes.
- Relevance rank accuracy: of the K most relevant pixels, K being the boxes' area, the share inside
  the boxes; pixels tied at the cut-off count in proportion (the expectation over tie orders), so
  the blocks of a grid map upsampled to pixels are not ranked by reading order.
Both mass and rank are measured at the model's input resolution, boxes scaled to it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from srn_core.datasets import Box

from ..measures.attention_stats import POINTING_TOLERANCE, map_stats, pointing_game


def peak_points(maps: np.ndarray, image_size: tuple[int, int], centre: bool = False) -> np.ndarray:
    """(K, 2) pixel (x, y) in the original image where each (K, s, s) map points (its first maximum);
    `centre` points at the exact image centre instead (TorchRay's centre baseline)."""
    if centre:
        return np.tile([image_size[0] / 2, image_size[1] / 2], (len(maps), 1)).astype(np.float64)
    return map_stats(maps, image_size).peak_xy


def box_masks(boxes: Sequence[Box], labels: Sequence[str], image_size: tuple[int, int], size: int) -> np.ndarray:
    """(K, S, S) bool: input-resolution pixels whose centre lies in a box of each label."""
    width, height = image_size
    centres = np.arange(size) + 0.5
    masks = np.zeros((len(labels), size, size), dtype=bool)
    for k, name in enumerate(labels):
        for box in (b for b in boxes if b.label == name):
            rows = (centres >= box.y0 * size / height) & (centres <= box.y1 * size / height)
            cols = (centres >= box.x0 * size / width) & (centres <= box.x1 * size / width)
            masks[k] |= rows[:, None] & cols[None, :]
    return masks


def relevance_mass(maps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Share of each non-negative map's mass inside its mask, (K,); NaN for an empty mask or map."""
    maps = np.clip(np.asarray(maps, dtype=np.float64), 0, None)
    total = maps.sum(axis=(1, 2))
    inside = (maps * masks).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = inside / total
    return np.where(masks.any(axis=(1, 2)) & (total > 0), out, np.nan)


def relevance_rank(maps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Share of the K most relevant pixels (K = mask area) inside the mask, (K,); ties at the cut-off
    are shared in proportion. NaN for an empty mask."""
    maps = np.asarray(maps, dtype=np.float64)
    out = np.full(len(maps), np.nan)
    for k, (values, mask) in enumerate(zip(maps.reshape(len(maps), -1), masks.reshape(len(masks), -1))):
        area = int(mask.sum())
        if area == 0:
            continue
        cut = np.partition(values, values.size - area)[values.size - area]
        above = values > cut
        tied = values == cut
        share = (area - above.sum()) / tied.sum()
        out[k] = ((above & mask).sum() + share * (tied & mask).sum()) / area
    return out


def localisation(
    maps: np.ndarray,
    points: np.ndarray,
    labels: Sequence[str],
    boxes: Sequence[Box],
    image_size: tuple[int, int],
    tolerance: float = POINTING_TOLERANCE,
) -> dict[str, np.ndarray]:
    """{'pointing', 'relevance_mass', 'relevance_rank'}: (K,) each, NaN where a label has no box.
    `maps` are (K, S, S) at the input resolution, `points` (K, 2) in original pixels."""
    masks = box_masks(boxes, labels, image_size, maps.shape[-1])
    return {
        "pointing": pointing_game(points, labels, boxes, tolerance),
        "relevance_mass": relevance_mass(maps, masks),
        "relevance_rank": relevance_rank(maps, masks),
    }
