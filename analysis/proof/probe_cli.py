"""`python -m analysis probe`: did f_sr learn a partner's presence or its layout? (relation probes)"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from srn_core.checkpoint import CheckpointError
from srn_core.datasets import DatasetError
from srn_core.scenes import SpecError

from ..export.files import save_json
from ..measures.relation_probes import PROBE_OPS, relation_probe
from ..session import Analyzer
from .scene_inputs import analyse_scenes


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "probe",
        help="relation probes: remove, move, mirror or add a partner's map and watch a label's scores",
        description="Edit only the partner's weighted attention map in every image (remove, move by an offset, "
        "mirror through the anchor's peak, add where absent), rerun f_sr and report the mean change of "
        "the read label's SRN / main / fused logits with confidence intervals, and whether f_sr "
        "learned the partner's presence or its layout.",
        epilog="example: python -m analysis probe --weights weights/demo_scenes.safetensors --generate 300 "
        "--read T_over_arrow --partner letter_T --anchor arrow",
    )
    parser.add_argument("--weights", required=True, type=Path, help="SRN checkpoint")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="manifest (JSON/CSV) of labelled images")
    source.add_argument("--generate", type=int, metavar="N", help="render N relation scenes (with --seed, --spec)")
    parser.add_argument("--seed", type=int, default=4242, help="seed of generated scenes (default 4242)")
    parser.add_argument("--spec", type=Path, help="relation spec of generated scenes (default: the shipped one)")
    parser.add_argument("--read", required=True, help="label whose scores are read")
    parser.add_argument(
        "--partner", required=True, action="append", help="label whose map is edited (repeat to edit several together)"
    )
    parser.add_argument("--anchor", help="label whose peak is the pivot of mirror and add (default: grid centre)")
    parser.add_argument(
        "--shift",
        type=int,
        nargs=2,
        default=(3, 0),
        metavar=("DX", "DY"),
        help="move: cells right and down (default 3 0)",
    )
    parser.add_argument(
        "--add-offset",
        type=int,
        nargs=2,
        default=(0, 0),
        metavar=("DX", "DY"),
        help="add: cells from the pivot (default 0 0)",
    )
    parser.add_argument("--mirror-axes", choices=("x", "y", "xy"), default="xy", help="mirror along x, y or both")
    parser.add_argument("--ops", default=",".join(PROBE_OPS), help=f"probes to run (default {','.join(PROBE_OPS)})")
    parser.add_argument("--threshold", type=float, default=1.0, help="logit change that counts as an effect")
    parser.add_argument(
        "--min-kept",
        type=float,
        default=0.9,
        help="share of the partner's map that move and mirror must keep on the grid for an image to count "
        "(default 0.9)",
    )
    parser.add_argument("--json", type=Path, help="write the probe (effects, intervals, verdict) to this file")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, ... (default auto)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        analyzer = Analyzer.from_checkpoint(args.weights, args.device)
        analyses, failures = analyse_scenes(analyzer, args.generate, args.seed, args.spec, args.data)
        for path, reason in failures.items():
            print(f"error: {path}: {reason}", file=sys.stderr)
        probe = relation_probe(
            analyzer.model,
            analyses,
            args.read,
            args.partner,
            args.anchor,
            tuple(args.shift),
            args.mirror_axes,
            tuple(args.add_offset),
            [op.strip() for op in args.ops.split(",") if op.strip()],
            args.threshold,
            min_kept=args.min_kept,
        )
    except (CheckpointError, DatasetError, SpecError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"{'probe':<8} {'images':>6}  {'SRN change [95% CI]':<28} {'|SRN change| [95% CI]':<28} fused change  left out"
    )
    for effect in probe.effects.values():
        low, high = effect.srn_change_ci
        alow, ahigh = effect.srn_abs_change_ci
        print(
            f"{effect.op:<8} {effect.images:>6}  {effect.srn_change:+7.2f} [{low:+.2f}, {high:+.2f}]{'':<8} "
            f"{effect.srn_abs_change:6.2f} [{alow:.2f}, {ahigh:.2f}]{'':<10} {effect.fused_change:+12.2f}  "
            f"{effect.left_out:>8}"
        )
    print(f"verdict: {probe.verdict}. {probe.explanation()}")
    if args.json:
        save_json(args.json, probe.to_dict())
    return 1 if failures else 0
