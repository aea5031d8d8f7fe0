"""What the matplotlib and plotly twins of a figure share: titles, label choices and the positions of
the marks, computed once so that both renderings put them in the same place."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..measures.attention_stats import attention_stats, map_stats
from ..session import ImageAnalysis, LabelRef

KIND_TITLES = {"attention": "attention A", "confidence": "confidence sigmoid(S)", "weighted": "weighted U"}
GRADCAM_TITLE = "Grad-CAM (main net)"


def score_text(analysis: ImageAnalysis, i: int) -> str:
    probs = analysis.probabilities()
    return f"fused {probs['fused'][i]:.2f} | main {probs['main'][i]:.2f} | SRN {probs['srn'][i]:.2f}"


def default_labels(analysis: ImageAnalysis, labels: Iterable[LabelRef] | None, top_k: int) -> list[int]:
    """The given labels, or the `top_k` highest fused scores."""
    return analysis.indices(labels) if labels is not None else analysis.top_labels(top_k)


def map_points(analysis: ImageAnalysis, values: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(peak, centroid) of one (g, g) map as (x, y) pixels of the image shrunk by `scale`."""
    stats = map_stats(np.asarray(values)[None], analysis.image_size)
    return stats.peak_xy[0] * scale, stats.centroid_xy[0] * scale


def label_boxes(analysis: ImageAnalysis, name: str, scale: float) -> list[tuple[float, float, float, float]]:
    """The ground-truth boxes of label `name` as (x0, y0, x1, y1) pixels of the image shrunk by `scale`."""
    return [(b.x0 * scale, b.y0 * scale, b.x1 * scale, b.y1 * scale) for b in analysis.boxes if b.label == name]


def filter_sign(sign: float) -> str:
    """'+', '-' or '0': the sign of a conv4 filter's effect."""
    return "+" if sign > 0 else "-" if sign < 0 else "0"


def kind_rows(analysis: ImageAnalysis, labels: Sequence[LabelRef], kinds: Sequence[str]) -> list[dict[str, Any]]:
    """Peak, centroid and spread of each label's map of each kind, one row each (the maps' data)."""
    return [{"kind": kind, **row} for kind in kinds for row in attention_stats(analysis, labels, kind).rows()]
