"""The maps under test, one per (method, label), on the attention grid and at the model's input size.

Methods: SRN's attention A ('attention'), U = sigmoid(S) A ('weighted'), Grad-CAM of the main-net
logit y_cls ('gradcam', f_cls.layer4, average-pooled onto the attention grid), and two baselines
that know nothing about the image: a centre Gaussian ('centre', sigma = a quarter of the side) and
i.i.d. uniform noise ('random', seeded per image, the same for every label of that image).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..measures.gradcam import gradcam_maps
from ..session import Analyzer, ImageAnalysis

METHODS = ("attention", "weighted", "gradcam", "centre", "random")
MODEL_METHODS = ("attention", "weighted", "gradcam")
BASELINES = ("centre", "random")
METHOD_NAMES = {
    "attention": "A",
    "weighted": "U = sigmoid(S) A",
    "gradcam": "Grad-CAM (main net)",
    "centre": "centre Gaussian",
    "random": "random",
}


def check_methods(methods: Sequence[str]) -> list[str]:
    """`methods` in canonical order; an unknown name is a ValueError naming the choices."""
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise ValueError(f"unknown or no methods {bad}; choose from {METHODS}")
    return [m for m in METHODS if m in methods]


def centre_map(grid: int) -> np.ndarray:
    """A Gaussian centred on the grid's middle, sigma = grid / 4 cells, (g, g)."""
    coords = np.arange(grid, dtype=np.float64) - (grid - 1) / 2
    sigma = grid / 4
    line = np.exp(-0.5 * (coords / sigma) ** 2)
    return np.outer(line, line)


def random_map(grid: int, seed: int) -> np.ndarray:
    """Uniform noise on the grid, (g, g), reproducible for `seed`."""
    return np.random.default_rng(seed).random((grid, grid))


def pool_to_grid(maps: np.ndarray, grid: int) -> np.ndarray:
    """(K, S, S) maps averaged over each of the g x g cells -> (K, g, g); S must be a multiple of g."""
    k, size, _ = maps.shape
    if size % grid:
        raise ValueError(f"map size {size} is not a multiple of the grid {grid}")
    step = size // grid
    return maps.reshape(k, grid, step, grid, step).mean(axis=(2, 4))


def upsample_to_input(maps: np.ndarray, size: int) -> np.ndarray:
    """(K, g, g) grid maps -> (K, S, S), each cell a block of (S/g)^2 equal pixels (nearest)."""
    step = size // maps.shape[-1]
    return np.repeat(np.repeat(maps, step, axis=1), step, axis=2)


def method_maps(
    analyzer: Analyzer,
    analysis: ImageAnalysis,
    labels: Sequence[int],
    methods: Sequence[str],
    seed: int = 0,
    cams: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """{method: (K, g, g) float64 grid map} for label indices `labels`.

    `cams` may pass precomputed Grad-CAM maps (K, S, S) of the same labels to skip the backward pass.
    """
    grid, k = analysis.grid, len(labels)
    out: dict[str, np.ndarray] = {}
    for method in check_methods(methods):
        if method in ("attention", "weighted"):
            out[method] = analysis.maps(method)[list(labels)].astype(np.float64)
        elif method == "gradcam":
            cams = gradcam_maps(analyzer, analysis, list(labels)) if cams is None else cams
            out[method] = pool_to_grid(np.asarray(cams, dtype=np.float64), grid)
        elif method == "centre":
            out[method] = np.broadcast_to(centre_map(grid), (k, grid, grid)).copy()
        else:
            out[method] = np.broadcast_to(random_map(grid, seed), (k, grid, grid)).copy()
    return out
