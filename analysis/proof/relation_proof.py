"""Proof that f_sr learned the planted *spatial* relations (relation benchmark v2), each number with an interval.

On scenes whose relations are known (`srn_core.scenes`), this module measures:
- AP of the main net, SRN and fused output per family (position, arrangement, support, layout,
  context, co-occurrence, exclusive, control), and the fused-minus-main gain with a bootstrap interval;
- relation probes (analysis.measures.relation_probes) per planted pair: mirroring the partner's map must move
  the SRN logit of a spatial label, and must not move a co-occurrence-only label;
- for each position label, the conv4 filters that carry most of its fc weight against its region;
- the peak of each placement rule's relation field on real maps against the planted offset.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from srn_core import SRN
from srn_core.heads import stacked_logits
from srn_core.metrics import voc_average_precision
from srn_core.scenes import SceneSpec, default_spec

from ..measures.filters import sr_stages
from ..measures.relation_probes import relation_probe
from ..measures.spatial import map_relation_field
from ..session import ImageAnalysis, sigmoid

SPATIAL_FAMILIES = ("position", "arrangement")
PROOF_HEADS = ("main", "srn", "fused")


def label_families(spec: SceneSpec) -> dict[str, list[str]]:
    """Labels of each family the spec plants; a label belongs to the first family that names it."""
    support = [r.label for r in spec.context if r.decoy_p > 0]
    families = {
        "position": list(spec.position_labels),
        "arrangement": [r.label for r in spec.arrangement],
        "support": support,
        "context": [r.label for r in spec.context if r.label not in support],
        "layout": [r.other for r in spec.layout],
        "co-occurrence": [r.then for r in spec.cooccurrence],
        "exclusive": [name for r in spec.exclusive for name in r.labels],
        "control": list(spec.controls),
    }
    seen: set[str] = set()
    out = {}
    for family, labels in families.items():
        out[family] = [name for name in dict.fromkeys(labels) if name not in seen]
        seen |= set(out[family])
    return {k: v for k, v in out.items() if v}


def _family_gain(scores: dict[str, np.ndarray], targets: np.ndarray, columns: list[int]) -> dict[str, float]:
    aps = {h: [voc_average_precision(s[:, c], targets[:, c]) for c in columns] for h, s in scores.items()}
    return {h: 100.0 * float(np.mean(v)) for h, v in aps.items()}


def family_ap(
    analyses: Sequence[ImageAnalysis], spec: SceneSpec, resamples: int = 200, confidence: float = 0.95, seed: int = 0
) -> dict[str, dict[str, Any]]:
    """Per family: mean AP of each head and fused - main (also "srn - main") with bootstrap intervals
    over images; the key "spatial" pools the position and arrangement labels."""
    names = analyses[0].label_names
    targets = np.stack([a.targets for a in analyses]).astype(np.int64)
    scores = {h: sigmoid(logits.astype(np.float64)) for h, logits in stacked_logits(analyses, PROOF_HEADS).items()}
    families = label_families(spec)
    families["spatial"] = [n for f in SPATIAL_FAMILIES for n in families.get(f, [])]
    families["all"] = list(names)
    rng = np.random.default_rng(seed)
    samples = [rng.integers(0, len(analyses), len(analyses)) for _ in range(resamples)]
    tail = (1.0 - confidence) / 2 * 100
    out = {}
    for family, labels in families.items():
        columns = [names.index(n) for n in labels if (targets[:, names.index(n)] == 1).any()]
        if not columns:
            continue
        point = _family_gain(scores, targets, columns)
        boot = [_family_gain({h: s[idx] for h, s in scores.items()}, targets[idx], columns) for idx in samples]
        row: dict[str, Any] = {"labels": [names[c] for c in columns], **{f"ap_{h}": v for h, v in point.items()}}
        for head in ("fused", "srn"):
            gains = [b[head] - b["main"] for b in boot if np.isfinite(b[head] - b["main"])]
            row[f"{head}_minus_main"] = point[head] - point["main"]
            row[f"{head}_minus_main_ci"] = [float(np.percentile(gains, tail)), float(np.percentile(gains, 100 - tail))]
        out[family] = row
    return out


def probe_pairs(spec: SceneSpec) -> list[dict[str, Any]]:
    """The planted pairs to probe: (family, rule, read label, partner labels, anchor, expected verdict)."""
    pairs = []
    for c in spec.classes:
        if c.region is not None:
            siblings = [d.name for d in spec.classes if d.glyph == c.glyph]
            pairs.append(
                {
                    "family": "position",
                    "rule": c.name,
                    "read": c.name,
                    "partners": siblings,
                    "anchor": None,
                    "expect": "layout",
                }
            )
    for r in spec.arrangement:
        pairs.append(
            {
                "family": "arrangement",
                "rule": r.id,
                "read": r.label,
                "partners": [r.other],
                "anchor": r.anchor,
                "expect": "layout",
            }
        )
    for r in spec.context:
        family = "support" if r.decoy_p > 0 else "context"
        pairs.append(
            {
                "family": family,
                "rule": r.id,
                "read": r.label,
                "partners": [r.beside],
                "anchor": r.label,
                "expect": "layout",
            }
        )
    layouts = {frozenset((r.anchor, r.other)) for r in spec.layout}
    for r in spec.cooccurrence:
        family = "layout + co-occurrence" if frozenset((r.given, r.then)) in layouts else "co-occurrence"
        pairs.append(
            {
                "family": family,
                "rule": r.id,
                "read": r.then,
                "partners": [r.given],
                "anchor": r.then,
                "expect": "presence" if family == "co-occurrence" else None,
            }
        )
    if len(spec.controls) >= 2:
        a, b = spec.controls[:2]
        pairs.append(
            {
                "family": "control",
                "rule": f"controls {a}, {b}",
                "read": a,
                "partners": [b],
                "anchor": a,
                "expect": "none",
            }
        )
    return pairs


def planted_presets(label_names: Sequence[str], spec: SceneSpec | None = None) -> dict[str, dict[str, Any]]:
    """The planted pairs of `spec` (default: the shipped spec) by display name, when the labels are the spec's;
    else an empty dict."""
    spec = spec or default_spec()
    if list(label_names) != spec.label_names:
        return {}
    return {f"{p['family']}: {p['read']} by {'+'.join(p['partners'])}": p for p in probe_pairs(spec)}


def probe_table(
    model: SRN, analyses: Sequence[ImageAnalysis], spec: SceneSpec, threshold: float = 1.0
) -> list[dict[str, Any]]:
    """Relation probes of every planted pair, with the mirror and remove effects and the verdict."""
    rows = []
    for n, pair in enumerate(probe_pairs(spec)):
        probe = relation_probe(
            model,
            analyses,
            pair["read"],
            pair["partners"],
            pair["anchor"],
            ops=("remove", "mirror", "move"),
            shift=(0, 3) if pair["family"] == "position" else (3, 0),
            threshold=threshold,
            seed=n,
        )
        mirror, remove, move = (probe.effects[op] for op in ("mirror", "remove", "move"))
        rows.append(
            {
                **pair,
                "images": remove.images,
                "mirror_images": mirror.images,
                "move_images": move.images,
                "mirror_abs_change": mirror.srn_abs_change,
                "mirror_abs_change_ci": list(mirror.srn_abs_change_ci),
                "move_abs_change": move.srn_abs_change,
                "move_abs_change_ci": list(move.srn_abs_change_ci),
                "remove_abs_change": remove.srn_abs_change,
                "remove_abs_change_ci": list(remove.srn_abs_change_ci),
                "verdict": probe.verdict,
                "explanation": probe.explanation(),
            }
        )
    return rows


def region_mask(region: Sequence[float], grid: int) -> np.ndarray:
    """1 on the grid cells whose centre lies in `region` (x0, y0, x1, y1 as fractions), else 0."""
    centres = (np.arange(grid) + 0.5) / grid
    inside_x = (centres >= region[0]) & (centres <= region[2])
    inside_y = (centres >= region[1]) & (centres <= region[3])
    return (inside_y[:, None] & inside_x[None, :]).astype(np.float64)


def position_filters(
    model: SRN, analyses: Sequence[ImageAnalysis], spec: SceneSpec, top: int = 3
) -> list[dict[str, Any]]:
    """For each position label: its `top` conv4 filters by contribution (|fc weight| x mean activation
    over the images) and the correlation of each filter, in the sign of its fc weight, with the region."""
    names = analyses[0].label_names
    param = next(model.f_sr.parameters())
    with torch.inference_mode():
        u = torch.as_tensor(np.stack([a.weighted_attention for a in analyses])).to(param.device, param.dtype)
        activation = sr_stages(model, u)["a4"].mean(dim=0).float().cpu().numpy()
    weights = model.f_sr.conv4.weight.detach().float().cpu().numpy()[:, 0]
    fc = model.f_sr.fc.weight.detach().float().cpu().numpy()
    per_channel = weights.shape[0] // model.f_sr.conv3.out_channels
    rows = []
    for c in spec.classes:
        if c.region is None:
            continue
        label = names.index(c.name)
        mask = region_mask(c.region, weights.shape[-1]).ravel()
        contribution = np.abs(fc[label]) * activation
        best = np.argsort(-contribution)[:top]
        filters = []
        for f in best:
            signed = np.sign(fc[label, f]) * weights[f].ravel()
            corr = float(np.corrcoef(signed, mask)[0, 1]) if signed.std() > 0 else float("nan")
            filters.append(
                {
                    "filter": int(f),
                    "channel": int(f // per_channel),
                    "index": int(f % per_channel),
                    "fc_weight": float(fc[label, f]),
                    "mean_activation": float(activation[f]),
                    "region_correlation": corr,
                }
            )
        rows.append(
            {
                "label": c.name,
                "region": list(c.region),
                "filters": filters,
                "best_correlation": max((x["region_correlation"] for x in filters), default=float("nan")),
            }
        )
    return rows


def field_recovery(
    model: SRN, analyses: Sequence[ImageAnalysis], spec: SceneSpec, cell_px: float, max_images: int = 60
) -> list[dict[str, Any]]:
    """For each placement rule, the peak of the relation field on real maps (moved label around its anchor,
    read: the rule's own label) against the planted offset, in cells; hit = within one cell (Chebyshev)."""
    rules = [("layout", r.id, r.other, r.anchor, r.other, r.offset) for r in spec.layout]
    rules += [
        ("support" if r.decoy_p > 0 else "context", r.id, r.label, r.beside, r.label, r.offset) for r in spec.context
    ]
    rules += [("arrangement", r.id, r.other, r.anchor, r.label, r.offset) for r in spec.arrangement]
    rows = []
    for kind, rule, moved, anchor, read, offset in rules:
        planted = [offset[0] / cell_px, offset[1] / cell_px]
        try:
            field = map_relation_field(model, analyses, moved, anchor, read, max_images=max_images)
        except ValueError as exc:
            rows.append(
                {"kind": kind, "rule": rule, "planted_cells": planted, "images": 0, "hit": False, "warning": str(exc)}
            )
            continue
        best = field.preferred_offset() if field.warning is None else None
        hit = best is not None and max(abs(best[0] - planted[0]), abs(best[1] - planted[1])) <= 1.0 + 1e-9
        angle = float("nan")
        if best is not None and any(best):
            cos = (best[0] * planted[0] + best[1] * planted[1]) / (np.hypot(*best) * np.hypot(*planted))
            angle = float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
        rows.append(
            {
                "kind": kind,
                "rule": rule,
                "moved": moved,
                "anchor": anchor,
                "read": read,
                "planted_cells": planted,
                "peak_cells": list(best) if best else None,
                "images": field.images,
                "contrast": field.contrast,
                "direction_error_deg": angle,
                "hit": bool(hit),
                "warning": field.warning,
            }
        )
    return rows


def relation_proof(model: SRN, analyses: Sequence[ImageAnalysis], spec: SceneSpec) -> dict[str, Any]:
    """Every v2 proof measure (see the module docstring), as JSON-ready data."""
    if not analyses or any(a.targets is None for a in analyses):
        raise ValueError("the relation proof needs analysed scenes with their ground truth")
    cell_px = spec.image_size / analyses[0].grid
    return {
        "families": family_ap(analyses, spec),
        "probes": probe_table(model, analyses, spec),
        "position_filters": position_filters(model, analyses, spec),
        "fields": field_recovery(model, analyses, spec, cell_px),
    }


def proof_targets(
    result: dict[str, Any], pointing: dict[str, dict[str, float]], context_labels: Sequence[str], controls_related: int
) -> list[dict[str, Any]]:
    """The issue's targets, each with its measured value and whether it is met."""
    fam = result["families"]
    spatial = fam.get("spatial", {})
    overall = fam.get("all", {})
    spatial_probes = [p for p in result["probes"] if p["family"] in SPATIAL_FAMILIES]
    cooc = [p for p in result["probes"] if p["family"] == "co-occurrence"]
    fields = result["fields"]
    field_rules = [f for f in fields if f["kind"] in ("layout", "arrangement")]
    pointing_labels = {k: v for k, v in pointing.items() if k not in set(context_labels)}
    worst = min(pointing_labels.items(), key=lambda kv: kv[1]["rate"], default=("-", {"rate": float("nan")}))
    families_change = {}
    for p in spatial_probes:
        families_change.setdefault(p["family"], []).append(max(p["mirror_abs_change"], p["move_abs_change"]))
    return [
        {
            "target": "fused - main AP over the spatial families >= 3",
            "value": spatial.get("fused_minus_main"),
            "ci": spatial.get("fused_minus_main_ci"),
            "met": bool(spatial.get("fused_minus_main", -1e9) >= 3),
        },
        {
            "target": "fused - main mAP overall >= -0.5",
            "value": overall.get("fused_minus_main"),
            "ci": overall.get("fused_minus_main_ci"),
            "met": bool(overall.get("fused_minus_main", -1e9) >= -0.5),
        },
        {
            "target": "moving/mirroring the partner changes the SRN logit by >= 3 on average, per spatial family",
            "value": {k: float(np.mean(v)) for k, v in families_change.items()},
            "met": bool(families_change) and all(np.mean(v) >= 3 for v in families_change.values()),
        },
        {
            "target": "co-occurrence-only pairs: mirroring changes the SRN logit by < 1",
            "value": [p["mirror_abs_change"] for p in cooc],
            "met": bool(cooc) and all(p["mirror_abs_change"] < 1 for p in cooc),
        },
        {
            "target": "each position label: a top-3 filter correlates >= 0.5 with its region",
            "value": {r["label"]: r["best_correlation"] for r in result["position_filters"]},
            "met": all(r["best_correlation"] >= 0.5 for r in result["position_filters"]),
        },
        {
            "target": "relation fields peak within one cell of the planted offset for >= 80 % of layout and "
            "arrangement rules",
            "value": f"{sum(f['hit'] for f in field_rules)}/{len(field_rules)}",
            "met": bool(field_rules) and sum(f["hit"] for f in field_rules) >= 0.8 * len(field_rules),
        },
        {
            "target": "pointing game >= 90 % for every label but the context labels",
            "value": f"lowest: {worst[0]} {100 * worst[1]['rate']:.1f} %",
            "met": all(v["rate"] >= 0.9 for v in pointing_labels.values()),
        },
        {"target": "control pairs never reported as related", "value": controls_related, "met": controls_related == 0},
    ]
