"""Proof that the analysis finds what is really there: measures on scenes whose relations are known.

The scene benchmark (`srn_core.scenes`) plants co-occurrences, spatial layouts, context pairs and
control labels with no relation. Given a model and a freshly generated set of scenes, this module
measures, with the same functions the dashboard and the report use:
- every head's metrics (mAP, CF1, OF1, ...) from the one forward pass per image;
- the pointing game of each label's attention peak (and of Grad-CAM's) against its ground-truth boxes;
- each planted offset (layouts and context pairs) against the mean offset of attention centroids,
  and whether any pair involving a control label looks spatially related;
- where planted co-occurrence pairs rank among unrelated pairs in each semantic measure;
- the spatial proof of relation benchmark v2 (analysis.proof.relation_proof): AP per family with
  intervals, relation probes (presence or layout), position filters and relation-field peaks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from srn_core.heads import stacked_logits
from srn_core.metrics import evaluate_scores, per_class_metrics
from srn_core.scenes.spec import SceneSpec

from ..measures.attention_stats import attention_pointing
from ..measures.gradcam import compare_pointing
from ..measures.semantic import conditional_probability, fsr_similarity, influence_matrix, label_matrix_of
from ..measures.spatial import centroid_offsets
from ..session import Analyzer, ImageAnalysis, sigmoid
from .relation_proof import proof_targets, relation_proof


@dataclass(frozen=True)
class Tolerances:
    """What counts as "recovered" and as "related"; stated in the model card next to the numbers."""

    angle_deg: float = 20.0
    distance_ratio: float = 0.35
    related_consistency: float = 0.6
    min_pairs: int = 10
    pointing_px: float = 0.0
    tolerant_px: float = 15.0
    localised_rate: float = 0.8


@dataclass
class SceneProof:
    """Everything measured; `to_dict` is what the model card and the tests read."""

    images: int
    tolerances: Tolerances
    metrics: dict[str, dict[str, float]]
    per_label_ap: dict[str, dict[str, float]]
    pointing: dict[str, dict[str, float]]
    pointing_tolerant: dict[str, dict[str, float]]
    offsets: list[dict[str, Any]]
    controls: list[dict[str, Any]]
    cooccurrence: dict[str, list[dict[str, Any]]]

    gradcam: dict[str, Any] | None = None
    relation: dict[str, Any] | None = None
    targets: list[dict[str, Any]] | None = None

    @property
    def pointing_rate(self) -> float:
        """Share of (image, present label) pairs whose attention peak lies inside a box of that label."""
        return _pooled(self.pointing)

    @property
    def pointing_rate_tolerant(self) -> float:
        """The same within `tolerances.tolerant_px` of a box (the usual pointing game)."""
        return _pooled(self.pointing_tolerant)

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "pointing_rate": self.pointing_rate,
            "pointing_rate_tolerant": self.pointing_rate_tolerant,
        }


def _pooled(per_label: dict[str, dict[str, float]]) -> float:
    trials = sum(row["trials"] for row in per_label.values())
    return sum(row["hits"] for row in per_label.values()) / trials if trials else float("nan")


def head_metrics(analyses: Sequence[ImageAnalysis]) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """The paper's metrics for each head, and per-label AP of each head, from the analyses' logits."""
    targets = np.stack([a.targets for a in analyses])
    names = analyses[0].label_names
    metrics, per_label = {}, {}
    for head, logits in stacked_logits(analyses).items():
        scores = sigmoid(logits.astype(np.float64))
        metrics[head] = evaluate_scores(scores, targets)
        per_label[head] = dict(zip(names, map(float, per_class_metrics(scores, targets)["AP"])))
    return metrics, per_label


def pointing_by_label(analyses: Iterable[ImageAnalysis], tolerance: float = 0.0) -> dict[str, dict[str, float]]:
    """Per label: trials, hits and rate of the attention peak of a present label landing on its box."""
    trials: dict[str, int] = {}
    hits: dict[str, int] = {}
    for analysis in analyses:
        present = analysis.present_labels()
        for index, hit in zip(present, attention_pointing(analysis, present, "attention", tolerance)):
            if not np.isnan(hit):
                name = analysis.label_names[index]
                trials[name] = trials.get(name, 0) + 1
                hits[name] = hits.get(name, 0) + int(hit)
    return (
        {
            name: {"trials": trials[name], "hits": hits[name], "rate": hits[name] / trials[name]}
            for name in sorted(trials, key=analyses[0].label_names.index)
        }
        if trials
        else {}
    )


def _angle(a: Sequence[float], b: Sequence[float]) -> float:
    """Unsigned angle in degrees between two 2-D vectors."""
    cos = (a[0] * b[0] + a[1] * b[1]) / (math.hypot(*a) * math.hypot(*b))
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def planted_offsets(spec: SceneSpec) -> list[tuple[str, str, str, tuple[float, float]]]:
    """(rule id, anchor, other, (dx, dy)) of every planted layout and context placement."""
    rules = [(r.id, r.anchor, r.other, tuple(r.offset)) for r in spec.layout]
    return rules + [(r.id, r.beside, r.label, tuple(r.offset)) for r in spec.context]


def spatial_recovery(
    analyses: Sequence[ImageAnalysis], spec: SceneSpec, tol: Tolerances, pointing: dict[str, dict[str, float]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Planted offsets against measured attention-centroid offsets; and every control pair's consistency.

    Control pairs leave out position labels: their object sits in one region of the image by
    construction, so any uniformly placed label lies in a consistent direction from it.

    A pair is `localised` when the attention of both labels points at their own objects (tolerant
    pointing-game rate >= `tol.localised_rate`): only then can centroids stand for object positions.
    """
    stats = centroid_offsets(analyses, "attention", "pixels")
    names = stats.label_names
    offsets = []
    for rule, anchor, other, planted in planted_offsets(spec):
        i, j = names.index(anchor), names.index(other)
        measured = stats.mean[i, j]
        row = {
            "rule": rule,
            "anchor": anchor,
            "other": other,
            "planted": list(planted),
            "count": int(stats.count[i, j]),
            "measured": [float(v) for v in measured],
            "consistency": float(stats.consistency[i, j]),
            "localised": all(pointing.get(n, {}).get("rate", 0.0) >= tol.localised_rate for n in (anchor, other)),
        }
        if row["count"]:
            row["angle_error_deg"] = _angle(measured, planted)
            row["distance_ratio"] = float(math.hypot(*measured) / math.hypot(*planted))
            row["recovered"] = bool(
                row["angle_error_deg"] <= tol.angle_deg and abs(row["distance_ratio"] - 1.0) <= tol.distance_ratio
            )
        else:
            row.update(angle_error_deg=float("nan"), distance_ratio=float("nan"), recovered=False)
        offsets.append(row)
    controls = []
    regional = {names.index(n) for n in spec.position_labels}  # placed in one region: any offset to them is biased
    for control in spec.controls:
        c = names.index(control)
        for other in (k for k in range(len(names)) if k not in regional):
            for i, j in ((c, other), (other, c)):
                if i != j and stats.count[i, j] >= tol.min_pairs:
                    consistency = float(stats.consistency[i, j])
                    controls.append(
                        {
                            "anchor": names[i],
                            "other": names[j],
                            "count": int(stats.count[i, j]),
                            "consistency": consistency,
                            "related": bool(consistency >= tol.related_consistency),
                        }
                    )
    return offsets, controls


def _unrelated_pairs(spec: SceneSpec, names: Sequence[str]) -> list[tuple[int, int]]:
    """Ordered pairs with a control label on either side: nothing was planted between them."""
    controls = {names.index(c) for c in spec.controls}
    return [(i, j) for i in range(len(names)) for j in range(len(names)) if i != j and (i in controls or j in controls)]


def cooccurrence_ranking(
    model: torch.nn.Module, analyses: Sequence[ImageAnalysis], spec: SceneSpec
) -> dict[str, list[dict[str, Any]]]:
    """For each semantic measure, each planted pair's value and the share of unrelated pairs below it."""
    names = analyses[0].label_names
    measures = {
        "P(then | given), ground truth": conditional_probability(label_matrix_of(analyses, "truth"), names).values,
        "P(then | given), predictions": conditional_probability(label_matrix_of(analyses, "prediction"), names).values,
        "f_sr similarity": fsr_similarity(model, names).values,
        "influence given -> then": influence_matrix(model, analyses, present_only=True).values,
    }
    unrelated = _unrelated_pairs(spec, names)
    ranking: dict[str, list[dict[str, Any]]] = {}
    for measure, values in measures.items():
        background = np.array([values[i, j] for i, j in unrelated], dtype=np.float64)
        background = background[np.isfinite(background)]
        rows = []
        for rule in spec.cooccurrence:
            value = float(values[names.index(rule.given), names.index(rule.then)])
            rows.append(
                {
                    "rule": rule.id,
                    "given": rule.given,
                    "then": rule.then,
                    "value": value,
                    "unrelated_below": float((background < value).mean()) if background.size else float("nan"),
                    "unrelated_max": float(background.max()) if background.size else float("nan"),
                }
            )
        ranking[measure] = rows
    return ranking


def run_scene_proof(
    analyzer: Analyzer,
    analyses: Sequence[ImageAnalysis],
    spec: SceneSpec,
    tolerances: Tolerances = Tolerances(),
    gradcam_images: int = 0,
) -> SceneProof:
    """All the proof measures over analysed scenes (each with its targets and boxes).

    With `gradcam_images` > 0, the pointing game of the main net's Grad-CAM is also measured on that
    many of the images (one backward pass per label and image, so it is the slow part).
    """
    if not analyses or any(a.targets is None for a in analyses):
        raise ValueError("the scene proof needs analysed scenes with their ground truth (targets and boxes)")
    names = analyses[0].label_names
    missing = sorted({c.name for c in spec.classes} - set(names))
    if missing:
        raise ValueError(f"the model does not know the spec's labels {missing}")
    metrics, per_label = head_metrics(analyses)
    pointing = pointing_by_label(analyses, tolerances.pointing_px)
    tolerant = pointing_by_label(analyses, tolerances.tolerant_px)
    gradcam = None
    if gradcam_images > 0:
        comparison = compare_pointing(
            analyzer, analyses[:gradcam_images], "attention", tolerance=tolerances.pointing_px
        )
        gradcam = {
            "images": min(gradcam_images, len(analyses)),
            "overall": comparison.overall(),
            "labels": [row for row in comparison.rows() if row["trials"]],
        }
    offsets, controls = spatial_recovery(analyses, spec, tolerances, tolerant)
    ranking = cooccurrence_ranking(analyzer.model, analyses, spec)
    relation = relation_proof(analyzer.model, analyses, spec)
    targets = proof_targets(
        relation, tolerant, [r.label for r in spec.context if r.decoy_p == 0], sum(row["related"] for row in controls)
    )
    return SceneProof(
        len(analyses),
        tolerances,
        metrics,
        per_label,
        pointing,
        tolerant,
        offsets,
        controls,
        ranking,
        gradcam,
        relation,
        targets,
    )
