"""Per-label and overall means of every measure with bootstrap confidence intervals over images.

The overall value of a measure is the mean over labels of each label's mean over images (TorchRay's
convention for the pointing game, used for every measure so that frequent labels do not dominate).
Intervals are percentile bootstrap intervals: images are resampled with replacement (all labels of
an image together) and both means recomputed, `resamples` times, with a fixed seed.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

ALL_LABELS = "all labels"


def bootstrap_table(
    records: Sequence[dict[str, Any]], resamples: int = 1000, level: float = 0.95, seed: int = 0
) -> list[dict[str, Any]]:
    """Records {image, label, method, measure, value} -> rows {label, method, measure, mean, low, high,
    images}, one per label and one 'all labels' row for every (method, measure). NaN values are left out."""
    images = sorted({r["image"] for r in records})
    image_index = {name: n for n, name in enumerate(images)}
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(len(images), np.full(len(images), 1.0 / max(len(images), 1)), size=resamples)
    groups: dict[tuple[str, str], dict[str, dict[int, float]]] = {}
    for r in records:
        if r["value"] is None or not np.isfinite(r["value"]):
            continue
        by_label = groups.setdefault((r["method"], r["measure"]), {})
        by_label.setdefault(r["label"], {})[image_index[r["image"]]] = float(r["value"])
    tail = 100 * (1 - level) / 2
    rows: list[dict[str, Any]] = []
    for (method, measure), by_label in groups.items():
        labels = list(by_label)
        values = np.zeros((len(images), len(labels)))
        present = np.zeros((len(images), len(labels)))
        for j, label in enumerate(labels):
            for i, v in by_label[label].items():
                values[i, j], present[i, j] = v, 1.0
        with np.errstate(invalid="ignore", divide="ignore"):
            boot = (weights @ values) / (weights @ present)
        point = values.sum(axis=0) / present.sum(axis=0)
        for j, label in enumerate(labels):
            low, high = np.nanpercentile(boot[:, j], [tail, 100 - tail])
            rows.append(
                {
                    "label": label,
                    "method": method,
                    "measure": measure,
                    "mean": float(point[j]),
                    "low": float(low),
                    "high": float(high),
                    "images": int(present[:, j].sum()),
                }
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            overall = np.nanmean(boot, axis=1)
        low, high = np.nanpercentile(overall, [tail, 100 - tail])
        rows.append(
            {
                "label": ALL_LABELS,
                "method": method,
                "measure": measure,
                "mean": float(point.mean()),
                "low": float(low),
                "high": float(high),
                "images": int(present.any(axis=1).sum()),
            }
        )
    return rows
