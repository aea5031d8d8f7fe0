"""`python -m analysis scene-proof`: measure a model on relation scenes and check what was planted."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from srn_core.checkpoint import CheckpointError, read_metadata
from srn_core.datasets import DatasetError
from srn_core.fileio import atomic_write_text
from srn_core.scenes import SpecError, load_spec

from ..session import Analyzer
from .card_relations import keep_faithfulness, save_position_filters
from .model_card import card_json, render_model_card
from .scene_inputs import analyse_scenes
from .scene_proof import Tolerances, run_scene_proof


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "scene-proof",
        help="check that the analysis recovers the relations planted in scene data",
        description="Analyse relation scenes (an existing scene manifest, or N fresh ones from a seed) and "
        "report every head's metrics, the pointing game, planted offsets against attention "
        "centroids, control pairs and co-occurrence rankings.",
    )
    parser.add_argument("--weights", required=True, type=Path, help="SRN checkpoint trained on scenes")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="scene manifest.json written by `python -m srn_core generate`")
    source.add_argument("--generate", type=int, metavar="N", help="render N fresh scenes (with --seed)")
    parser.add_argument("--seed", type=int, default=1001, help="seed of generated scenes (default 1001)")
    parser.add_argument("--spec", type=Path, help="relation spec (default: the data's spec.json, else the default)")
    parser.add_argument("--gradcam-images", type=int, default=0, help="also run Grad-CAM's pointing game on N images")
    parser.add_argument("--json", type=Path, help="write every number to this JSON file")
    parser.add_argument("--card", type=Path, help="write a model card (markdown) to this file")
    parser.add_argument("--recipe", default="scripts/train_demo_model.sh", help="command quoted in the card")
    parser.add_argument("--notes", type=Path, help="markdown put in the card under the targets (what was tried)")
    parser.add_argument(
        "--wall-time-min",
        type=float,
        help="wall time of the recipe's training steps (data and four stages), for the card",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, ... (default auto)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        analyzer = Analyzer.from_checkpoint(args.weights, args.device)
        if args.generate:
            spec_path, described = args.spec, f"{args.generate} fresh scenes of seed {args.seed}"
        else:
            spec_path, described = args.spec or args.data.parent / "spec.json", f"scenes of {args.data}"
        spec = load_spec(spec_path if spec_path and Path(spec_path).exists() else None)
        analyses, failures = analyse_scenes(analyzer, args.generate, args.seed, args.spec, args.data)
        for path, reason in failures.items():
            print(f"error: {path}: {reason}", file=sys.stderr)
        proof = run_scene_proof(analyzer, analyses, spec, Tolerances(), args.gradcam_images)
    except (CheckpointError, DatasetError, SpecError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        atomic_write_text(args.json, card_json(proof))
    if args.card:
        figure = None
        if proof.relation and proof.relation["position_filters"]:
            figure = save_position_filters(
                analyzer.model, proof.relation, args.card.with_name("position_filters.png")
            ).name
        notes = args.notes.read_text(encoding="utf-8") if args.notes else ""
        text = render_model_card(
            read_metadata(args.weights),
            proof,
            args.weights,
            args.recipe,
            described,
            [rule.label for rule in spec.context],
            figure,
            notes,
            args.wall_time_min,
        )
        atomic_write_text(args.card, keep_faithfulness(text, args.card))
    print(
        f"fused mAP {proof.metrics['fused']['mAP']:.1f}, main mAP {proof.metrics['main']['mAP']:.1f}, "
        f"pointing {100 * proof.pointing_rate:.1f} %, offsets recovered "
        f"{sum(r['recovered'] for r in proof.offsets)}/{len(proof.offsets)}, control pairs related "
        f"{sum(r['related'] for r in proof.controls)}/{len(proof.controls)}"
    )
    for target in proof.targets or []:
        print(f"{'met ' if target['met'] else 'MISS'}  {target['target']}: {target['value']}")
    return 1 if failures else 0
