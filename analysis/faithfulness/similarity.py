"""How alike two maps are: Spearman rank correlation and SSIM, vectorised over pairs of maps.

SSIM follows scikit-image's `structural_similarity` defaults (7 x 7 uniform window, K1 = 0.01,
K2 = 0.03, sample covariance, mean over the valid window positions), on maps scaled to [0, 1] by
their own minimum and maximum, as Quantus does before comparing explanations.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter
from scipy.stats import rankdata


def spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman correlation of each pair of maps a[n], b[n] ((N, ...) each) -> (N,). Ties get mean
    ranks; a constant map has no ranking, so its correlation is 0 (1 when both are constant)."""
    a = np.asarray(a, dtype=np.float64).reshape(len(a), -1)
    b = np.asarray(b, dtype=np.float64).reshape(len(b), -1)
    ra = rankdata(a, axis=1) - (a.shape[1] + 1) / 2
    rb = rankdata(b, axis=1) - (b.shape[1] + 1) / 2
    na, nb = np.sqrt((ra**2).sum(axis=1)), np.sqrt((rb**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (ra * rb).sum(axis=1) / (na * nb)
    flat_a, flat_b = na == 0, nb == 0
    return np.where(flat_a & flat_b, 1.0, np.where(flat_a | flat_b, 0.0, rho))


def _unit(maps: np.ndarray) -> np.ndarray:
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    return np.where(span > 0, (maps - low) / np.where(span > 0, span, 1.0), 0.0)


def ssim(a: np.ndarray, b: np.ndarray, window: int = 7) -> np.ndarray:
    """SSIM of each pair of square maps a[n], b[n] ((N, h, w) each) -> (N,), after scaling to [0, 1]."""
    x, y = _unit(np.asarray(a, dtype=np.float64)), _unit(np.asarray(b, dtype=np.float64))
    window = min(window, x.shape[1], x.shape[2])
    window -= 1 - window % 2
    size = (1, window, window)
    mx, my = uniform_filter(x, size), uniform_filter(y, size)
    cov = window * window / (window * window - 1.0)
    vx = cov * (uniform_filter(x * x, size) - mx * mx)
    vy = cov * (uniform_filter(y * y, size) - my * my)
    vxy = cov * (uniform_filter(x * y, size) - mx * my)
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    pad = (window - 1) // 2
    return s[:, pad : s.shape[1] - pad, pad : s.shape[2] - pad].mean(axis=(1, 2))
