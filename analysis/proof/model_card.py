"""The shipped model's card (weights/README.md), written from its metadata and a scene proof."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from srn_core.checkpoint import CheckpointMeta
from srn_core.evaluation import METRIC_ORDER
from srn_core.heads import HEADS
from srn_core.jsonsafe import json_text

from .card_relations import relation_sections
from .scene_proof import SceneProof


def _pct(value: float) -> str:
    return f"{value:.1f}"


def _metrics_table(metrics: dict[str, dict[str, float]]) -> list[str]:
    lines = ["| head | " + " | ".join(METRIC_ORDER) + " |", "|---|" + "---|" * len(METRIC_ORDER)]
    for head in HEADS:
        lines.append(f"| {head} | " + " | ".join(_pct(metrics[head][k]) for k in METRIC_ORDER) + " |")
    return lines


def srn_versus_main(proof: SceneProof, margin: float = 1.0) -> dict[str, Any]:
    """Which labels SRN (and the fused output) beats the main net on, by more than `margin` AP points."""
    main, srn, fused = (proof.per_label_ap[h] for h in ("main", "srn", "fused"))
    return {
        "fused_gain_mAP": proof.metrics["fused"]["mAP"] - proof.metrics["main"]["mAP"],
        "srn_gain_mAP": proof.metrics["srn"]["mAP"] - proof.metrics["main"]["mAP"],
        "fused_better": [n for n in main if fused[n] - main[n] > margin],
        "fused_worse": [n for n in main if main[n] - fused[n] > margin],
        "srn_better": [n for n in main if srn[n] - main[n] > margin],
    }


def _stage_lines(summary: dict[str, Any], wall_time_min: float | None) -> list[str]:
    """Time and settings of each stage as recorded in the checkpoints (stage 3 may run on cached maps)."""
    stages = summary.get("stages", {})
    seconds = sum(float(r.get("seconds", 0.0)) for r in stages.values())
    lines = [
        f"- wall time of the recipe's training steps (data, four stages with their validation): {wall_time_min:.1f} min"
        if wall_time_min is not None
        else f"- wall time: {summary.get('wall_time_s', float('nan')) / 60:.1f} min",
        f"- training time summed over the stages: {seconds / 60:.1f} min on "
        f"{summary.get('environment', {}).get('device', '?')}; "
        + ", ".join(
            f"stage {k}: {float(r.get('seconds', 0)) / 60:.1f} min ({float(r.get('images_per_s', 0)):.0f} images/s)"
            for k, r in sorted(stages.items())
        ),
    ]
    sr = stages.get("3", {})
    if sr.get("cached_maps"):
        lines.append(
            f"- stage 3 trained f_sr on cached weighted attention maps U of the frozen stage-2 model: "
            f"{sr.get('epochs')} epochs, AdamW lr {sr.get('lr')}, weight decay {sr.get('weight_decay')}, "
            f"conv4 initialisation scaled by {sr.get('conv4_init_scale')}; y_sr mAP on the training maps "
            f"{sr.get('train_sr_map', float('nan')):.1f}, on the validation maps "
            f"{sr.get('val_sr_map', float('nan')):.1f}"
        )
    return lines


def domain_line(meta: CheckpointMeta) -> str:
    """The card's line on the recorded training domain and its out-of-domain threshold."""
    record = meta.domain_record
    if record is None:
        return "- no statistics of the training images are recorded, so images unlike them are not flagged"
    return (
        f"- training domain, shown with every prediction: {record.get('description')}; images whose pooled "
        f"main-net features lie farther than {record['threshold']:.1f} (Mahalanobis distance) from those of "
        f"{record.get('num_images')} training images are flagged as unlike the training data "
        f"({100 * record.get('held_out_flagged', 0.0):.1f} % of {record.get('held_out_images')} held-out "
        "scenes are)"
    )


def render_model_card(
    meta: CheckpointMeta,
    proof: SceneProof,
    weights: Path,
    recipe: str,
    test_description: str,
    context_labels: list[str] | None = None,
    filters_figure: str | None = None,
    notes: str = "",
    wall_time_min: float | None = None,
) -> str:
    """Markdown: what the model is, how it was made, its held-out metrics and the proof numbers."""
    summary = meta.training.get("summary", {})
    config = summary.get("config", {})
    cfg = meta.config
    compare = srn_versus_main(proof)
    size_mb = weights.stat().st_size / 1e6
    lines = [
        "# The shipped demo model",
        "",
        f"`{weights.name}`: an SRN with the `{cfg.backbone}` backbone (widths {list(cfg.widths or [])}), "
        f"input {cfg.input_size} px, so the attention grid and the conv4 filters are {cfg.grid} x {cfg.grid} as "
        f"in the paper; f_att width {cfg.att_channels}, f_sr with {cfg.sr_channels} channels x "
        f"{cfg.filters_per_channel} filters; alpha {cfg.alpha}. File size {size_mb:.1f} MB.",
        "",
        f"Trained on the relation scene benchmark v2 (`srn_core/scenes/default_spec.json`, {len(meta.label_names)} "
        "labels): position labels, arrangement labels, a faint object disambiguated by its partner, co-occurrences, "
        "a layout, an exclusive pair, context pairs and controls (docs/scenes.md).",
        "",
        "## How it was made",
        "",
        "One command regenerates the data and retrains it from scratch on the CPU:",
        "",
        "```bash",
        recipe,
        "```",
        "",
        f"- training images: {summary.get('train_images', '?')} (seed {config.get('seed', '?')} for the model; "
        "data seeds in the recipe), validation images: " + str(summary.get("val_images", "?")),
        *_stage_lines(summary, wall_time_min),
        f"- optimiser {config.get('optimizer')}, lr per stage {config.get('lr')}, epochs per stage "
        f"{config.get('epochs')} (a stage 3 on cached maps, above, replaces the third value of each), "
        f"batch {config.get('batch_size')}, joint weights {config.get('joint_weights')}, "
        f"flips {'on' if config.get('hflip') else 'off'}",
        domain_line(meta),
        "",
        "## Held-out test metrics",
        "",
        f"On {test_description} ({proof.images} images, never used for training or tuning), in percent:",
        "",
        *_metrics_table(proof.metrics),
        "",
        f"SRN vs its own main net: fused mAP {compare['fused_gain_mAP']:+.1f} points, SRN branch alone "
        f"{compare['srn_gain_mAP']:+.1f}. Labels where the fused output beats the main net by more than 1 AP "
        f"point: {', '.join(compare['fused_better']) or 'none'}; where it is worse: "
        f"{', '.join(compare['fused_worse']) or 'none'}.",
        "",
        *_context_sentence(proof, context_labels or []),
        "| label | AP main | AP SRN | AP fused |",
        "|---|---|---|---|",
        *[
            f"| {n} | {_pct(proof.per_label_ap['main'][n])} | {_pct(proof.per_label_ap['srn'][n])} | "
            f"{_pct(proof.per_label_ap['fused'][n])} |"
            for n in meta.label_names
        ],
        "",
    ]
    if proof.relation is not None:
        lines += relation_sections(proof.relation, proof.targets or [], filters_figure, notes)
    lines += _proof_sections(proof)
    return "\n".join(lines) + "\n"


def _context_sentence(proof: SceneProof, labels: list[str]) -> list[str]:
    """The labels that need spatial context are where SRN should help: say plainly what happened there."""
    if not labels:
        return []
    ap = proof.per_label_ap
    parts = [f"{n}: main {_pct(ap['main'][n])}, SRN {_pct(ap['srn'][n])}, fused {_pct(ap['fused'][n])}" for n in labels]
    return [f"Context labels (same glyph, told apart only by their neighbour), AP: {'; '.join(parts)}.", ""]


def _proof_sections(proof: SceneProof) -> list[str]:
    tol = proof.tolerances
    lines = [
        "## Proof that the analysis finds what is there",
        "",
        "### Pointing game: does the attention peak of a present label land on its object?",
        "",
        f"Inside a box of the label: {100 * proof.pointing_rate:.1f} % of (image, present label) pairs; within "
        f"{tol.tolerant_px:g} px of one (the usual pointing game): {100 * proof.pointing_rate_tolerant:.1f} %.",
        "",
    ]
    if proof.gradcam:
        overall = proof.gradcam["overall"]
        lines += [
            f"Against Grad-CAM of the main net on {proof.gradcam['images']} images (inside the box): SRN "
            f"attention {100 * overall['srn']:.1f} %, Grad-CAM {100 * overall['gradcam']:.1f} % "
            f"({overall['pairs']} pairs).",
            "",
        ]
    lines += [f"| label | pairs | inside box | within {tol.tolerant_px:g} px |", "|---|---|---|---|"]
    lines += [
        f"| {name} | {row['trials']} | {100 * row['rate']:.1f} % | "
        f"{100 * proof.pointing_tolerant[name]['rate']:.1f} % |"
        for name, row in proof.pointing.items()
    ]
    off_target = [n for n, row in proof.pointing_tolerant.items() if row["rate"] < tol.localised_rate]
    if off_target:
        lines += [
            "",
            f"The attention of {', '.join(off_target)} does not sit on its own object (under "
            f"{100 * tol.localised_rate:.0f} % within {tol.tolerant_px:g} px): the model looks beside it, at "
            "the place that holds the evidence it uses (see the offsets below).",
        ]
    lines += [
        "",
        f"### Planted offsets against attention centroids (angle <= {tol.angle_deg:g} deg, "
        f"distance within {100 * tol.distance_ratio:.0f} %)",
        "",
        "`attention on both` says whether both labels' attention points at their objects; only then do "
        "attention centroids stand for object positions.",
        "",
        "| rule | planted (dx, dy) px | measured | pairs | angle error | distance ratio | attention on both "
        "| recovered |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in proof.offsets:
        lines.append(
            f"| {row['rule']} | ({row['planted'][0]:g}, {row['planted'][1]:g}) | "
            f"({row['measured'][0]:.1f}, {row['measured'][1]:.1f}) | {row['count']} | "
            f"{row['angle_error_deg']:.1f} | {row['distance_ratio']:.2f} | "
            f"{'yes' if row['localised'] else 'no'} | {'yes' if row['recovered'] else 'NO'} |"
        )
    missed = [r for r in proof.offsets if not r["recovered"]]
    if missed:
        why = {
            True: "attention on both objects, but part of the attention mass lies on the partner and pulls "
            "the centroid toward it",
            False: "the attention is not on both objects",
        }
        lines += ["", "Not recovered: " + "; ".join(f"{r['rule']} ({why[r['localised']]})" for r in missed) + "."]
    related = [r for r in proof.controls if r["related"]]
    worst = max((r["consistency"] for r in proof.controls), default=float("nan"))
    lines += [
        "",
        f"Control pairs (a control label with any other but the position labels, whose planted region puts any "
        f"uniformly placed label in a consistent direction from them; seen together >= {tol.min_pairs} times): "
        f"{len(proof.controls)} pairs, {len(related)} reported as related (direction consistency >= "
        f"{tol.related_consistency:g}); highest consistency {worst:.2f}.",
        "",
        "### Planted co-occurrences against unrelated pairs",
        "",
        "Share of unrelated pairs (any pair with a control label) that rank below each planted pair:",
        "",
        "| measure | " + " | ".join(r["rule"] for r in next(iter(proof.cooccurrence.values()))) + " |",
        "|---|" + "---|" * len(next(iter(proof.cooccurrence.values()))),
    ]
    for measure, rows in proof.cooccurrence.items():
        lines.append(
            f"| {measure} | "
            + " | ".join(f"{r['value']:.3g} ({100 * r['unrelated_below']:.0f} %)" for r in rows)
            + " |"
        )
    return lines + ["", "The numbers in `proof.json` beside this card are the same, in full."]


def card_json(proof: SceneProof) -> str:
    """The proof as strict JSON (NaN as null), written next to the card."""
    return json_text(proof.to_dict())
