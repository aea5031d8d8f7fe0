"""Grad-CAM of SRN's main net (f_cnn + f_cls -> y_cls), beside SRN's own attention, with the pointing game.

Grad-CAM (the `grad-cam` package) explains the main-net logit y_cls of one label through a
convolutional layer: 'layer4' (f_cls.layer4, the last convolutional stage, as usual) or 'layer3'
(the last block of f_cnn, whose grid equals the attention grid). The map comes back at the model's
input resolution, scaled to [0, 1]; its peak is mapped to original-image pixels as the attention's is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from srn_core import SRN

from ..session import Analyzer, ImageAnalysis, LabelRef
from .attention_stats import POINTING_TOLERANCE, attention_stats, map_stats, pointing_game

GRADCAM_LAYERS = ("layer4", "layer3")


class MainNet(nn.Module):
    """The main net alone: images -> y_cls, the model Grad-CAM explains."""

    def __init__(self, model: SRN) -> None:
        super().__init__()
        self.srn = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.srn.f_cls(self.srn.f_cnn(images))


def target_layer(model: SRN, layer: str = "layer4") -> nn.Module:
    """The module whose activations Grad-CAM weighs: f_cls.layer4 or the last block of f_cnn."""
    if layer == "layer4":
        return model.f_cls.layer4
    if layer == "layer3":
        return model.f_cnn[-1]
    raise ValueError(f"unknown Grad-CAM layer {layer!r}; choose one of {GRADCAM_LAYERS}")


def gradcam_maps(
    analyzer: Analyzer,
    analysis: ImageAnalysis,
    labels: Iterable[LabelRef] | None = None,
    layer: str = "layer4",
    batch_size: int = 8,
) -> np.ndarray:
    """Grad-CAM of y_cls for each of `labels` (default all): float32 (K, S, S) in [0, 1], S = input size.

    The image is repeated once per label so that one forward and one backward serve a whole batch.
    """
    if not analysis.has_pixels:
        raise ValueError(f"{analysis.source}: Grad-CAM needs the image, but this analysis was made without pixels")
    index = analysis.indices(labels)
    tensor = analyzer.preprocess(Image.fromarray(analysis.image)).to(analyzer.device)
    # imported here, not at the top: pytorch_grad_cam pulls in scikit-learn and scipy, about a second
    # of the dashboard's start-up, for a figure drawn on request
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    net = MainNet(analyzer.model)
    cam = GradCAM(net, [target_layer(analyzer.model, layer)])
    try:
        chunks = []
        for start in range(0, len(index), batch_size):
            part = index[start : start + batch_size]
            batch = tensor.unsqueeze(0).expand(len(part), -1, -1, -1).contiguous()
            with torch.enable_grad():
                chunks.append(cam(batch, [ClassifierOutputTarget(i) for i in part]))
    finally:
        cam.activations_and_grads.release()
        net.zero_grad(set_to_none=True)
        analyzer.model.eval()
    size = analyzer.model.config.input_size
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros((0, size, size), np.float32)


@dataclass
class PointingComparison:
    """Pointing game of SRN's attention (map `kind`) and of Grad-CAM over images with boxes.

    Per label: trials (pairs image/label with a box of that label), hits of each method; `records`
    holds one row per pair with both peaks in original-image pixels.
    """

    labels: list[str]
    kind: str
    layer: str
    tolerance: float
    trials: np.ndarray
    srn_hits: np.ndarray
    gradcam_hits: np.ndarray
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def srn_rate(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.srn_hits / self.trials

    @property
    def gradcam_rate(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.gradcam_hits / self.trials

    def overall(self) -> dict[str, float]:
        """Hit rates pooled over every (image, label) pair."""
        total = int(self.trials.sum())
        if total == 0:
            return {"pairs": 0, "srn": float("nan"), "gradcam": float("nan")}
        return {
            "pairs": total,
            "srn": float(self.srn_hits.sum() / total),
            "gradcam": float(self.gradcam_hits.sum() / total),
        }

    def rows(self) -> list[dict[str, Any]]:
        """One row per label with its trials and both hit rates."""
        return [
            {
                "label": name,
                "trials": int(self.trials[k]),
                "srn_hits": int(self.srn_hits[k]),
                "gradcam_hits": int(self.gradcam_hits[k]),
                "srn_rate": float(self.srn_rate[k]),
                "gradcam_rate": float(self.gradcam_rate[k]),
            }
            for k, name in enumerate(self.labels)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "layer": self.layer,
            "tolerance": self.tolerance,
            "overall": self.overall(),
            "per_label": self.rows(),
            "records": self.records,
        }


def compare_pointing(
    analyzer: Analyzer,
    analyses: Iterable[ImageAnalysis],
    kind: str = "attention",
    layer: str = "layer4",
    tolerance: float = POINTING_TOLERANCE,
    progress: Callable[[Iterable], Iterable] | None = None,
) -> PointingComparison:
    """Pointing game of SRN's map peaks and Grad-CAM peaks, for every label that has a box in an image."""
    names = analyzer.label_names
    trials, srn_hits, cam_hits = (np.zeros(len(names), dtype=np.int64) for _ in range(3))
    records: list[dict[str, Any]] = []
    for analysis in progress(analyses) if progress else analyses:
        boxed = sorted({b.label for b in analysis.boxes} & set(names), key=names.index)
        if not boxed:
            continue
        index = analysis.indices(boxed)
        srn_points = attention_stats(analysis, index, kind).peak_xy
        cams = gradcam_maps(analyzer, analysis, index, layer)
        cam_points = map_stats(cams, analysis.image_size, boxed).peak_xy
        srn = pointing_game(srn_points, boxed, analysis.boxes, tolerance)
        cam = pointing_game(cam_points, boxed, analysis.boxes, tolerance)
        for k, i in enumerate(index):
            trials[i] += 1
            srn_hits[i] += int(srn[k])
            cam_hits[i] += int(cam[k])
            records.append(
                {
                    "image": analysis.source,
                    "label": names[i],
                    "srn_hit": bool(srn[k]),
                    "gradcam_hit": bool(cam[k]),
                    "srn_x": float(srn_points[k, 0]),
                    "srn_y": float(srn_points[k, 1]),
                    "gradcam_x": float(cam_points[k, 0]),
                    "gradcam_y": float(cam_points[k, 1]),
                }
            )
    return PointingComparison(list(names), kind, layer, float(tolerance), trials, srn_hits, cam_hits, records)


def merge_pointing(parts: Iterable[PointingComparison]) -> PointingComparison:
    """Pool several comparisons made with the same settings (e.g. one per image) into one."""
    parts = list(parts)
    if not parts:
        raise ValueError("merge_pointing needs at least one comparison")
    first = parts[0]
    for part in parts[1:]:
        if (part.labels, part.kind, part.layer, part.tolerance) != (
            first.labels,
            first.kind,
            first.layer,
            first.tolerance,
        ):
            raise ValueError("cannot merge pointing comparisons made with different labels or settings")
    return PointingComparison(
        first.labels,
        first.kind,
        first.layer,
        first.tolerance,
        sum(p.trials for p in parts),
        sum(p.srn_hits for p in parts),
        sum(p.gradcam_hits for p in parts),
        [r for p in parts for r in p.records],
    )
