"""`python -m analysis faithfulness`: every faithfulness measure on a set of images, written as JSON,
figures and (optionally) the model card's faithfulness section, which is the single source of those
numbers in weights/README.md."""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path

import torch
from tqdm import tqdm

from srn_core.checkpoint import CheckpointError
from srn_core.datasets import DatasetError, Sample
from srn_core.fileio import atomic_write_text
from srn_core.jsonsafe import json_text
from srn_core.scenes import SpecError, generate_dataset, load_spec
from srn_core.sources import align_dataset

from ..export.files import FIGURE_FORMATS
from ..report.inputs import gather_inputs
from ..session import Analyzer, resolve_labels
from .card import render_section, replace_section
from .evaluate import FaithfulnessEvaluator, FaithfulnessOptions
from .methods import METHODS
from .outputs import write_outputs
from .perturbation import FILLS, ROAD_LEVELS
from .randomisation import CASCADE
from .results import summarise


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "faithfulness",
        help="can these maps be trusted? deletion/insertion, ROAD, randomisation, localisation",
        description="Measure SRN's attention A, U = sigmoid(S) A, Grad-CAM of the main net and a centre and a "
        "random baseline on every present label (or --labels) of a set of images: deletion and "
        "insertion AUC, ROAD, the model-randomisation cascade, label specificity and, with boxes, "
        "pointing game, relevance mass and rank; bootstrap intervals over images.",
    )
    parser.add_argument("--weights", required=True, type=Path, help="SRN checkpoint (.safetensors)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", type=Path, metavar="DIR_OR_MANIFEST", help="a folder of images or a dataset")
    source.add_argument("--generate", type=int, metavar="N", help="render N fresh relation scenes (with --seed)")
    parser.add_argument("--seed", type=int, default=1001, help="seed of generated scenes and of the baselines")
    parser.add_argument("--spec", type=Path, help="relation spec for --generate (default: the built-in one)")
    parser.add_argument("--labels", nargs="+", help="labels to measure on every image (default: the present ones)")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--steps", type=int, default=14, help="deletion/insertion steps over the grid cells")
    parser.add_argument("--fill", default="mean", choices=FILLS, help="what a removed cell shows (default mean)")
    parser.add_argument("--sigma", type=float, default=5.0, help="blur sigma in input pixels for --fill blur")
    parser.add_argument("--road-images", type=int, default=2, help="images that also get ROAD (slow; default 2)")
    parser.add_argument(
        "--road-levels",
        type=float,
        nargs="+",
        default=list(ROAD_LEVELS),
        help="ROAD: fractions of pixels removed (default 0.2 0.5 0.8)",
    )
    parser.add_argument(
        "--stages",
        nargs="*",
        default=list(CASCADE),
        choices=CASCADE,
        help="randomisation cascade, top down (none: skip)",
    )
    parser.add_argument("--no-random-label", action="store_true", help="skip the label-specificity check")
    parser.add_argument("--tolerance", type=float, default=15.0, help="pointing game tolerance in pixels")
    parser.add_argument("--batch-size", type=int, default=64, help="perturbed images per forward pass")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--json", type=Path, help="write every number to this JSON file")
    parser.add_argument("--card", type=Path, help="insert / replace the faithfulness section of this model card")
    parser.add_argument("--out", type=Path, help="also write figures and CSV/JSON to this folder")
    parser.add_argument("--formats", nargs="+", default=["png"], choices=FIGURE_FORMATS)
    parser.add_argument("--html", action="store_true", help="with --out: interactive plotly pages too")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, ... (default auto)")
    parser.set_defaults(run=run)
    return parser


def _defaults() -> dict:
    parser = add_parser(argparse.ArgumentParser().add_subparsers())
    return vars(parser.parse_args(["--weights", "-", "--generate", "1"]))


def _options(args: argparse.Namespace) -> FaithfulnessOptions:
    return FaithfulnessOptions(
        methods=tuple(args.methods),
        labels=args.labels,
        steps=args.steps,
        fill=args.fill,
        sigma=args.sigma,
        batch_size=args.batch_size,
        road_images=args.road_images,
        road_levels=tuple(args.road_levels),
        stages=tuple(args.stages),
        random_label=not args.no_random_label,
        tolerance=args.tolerance,
        seed=args.seed,
    )


def command_line(args: argparse.Namespace, parser_defaults: dict | None = None) -> str:
    """The command that reproduces this run: the source, and every option that differs from its default."""
    defaults = parser_defaults or {}
    words = ["python", "-m", "analysis", "faithfulness", "--weights", str(args.weights)]
    words += ["--generate", str(args.generate)] if args.generate else ["--images", str(args.images)]
    for name, value in vars(args).items():
        skip = name in ("weights", "generate", "images", "run", "command") or value in (None, False)
        if skip or value == defaults.get(name):
            continue
        flag = "--" + name.replace("_", "-")
        if value is True:
            words.append(flag)
        elif isinstance(value, list):
            words += [flag, *map(str, value)]
        else:
            words += [flag, str(value)]
    return " ".join(shlex.quote(w) for w in words)


def run(args: argparse.Namespace) -> int:
    """Exit status 0 done, 1 some images failed, 2 nothing measured or bad arguments / weights."""
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        options = _options(args)
        analyzer = Analyzer.from_checkpoint(args.weights, args.device)
        resolve_labels(analyzer.label_names, args.labels)
        evaluator = FaithfulnessEvaluator(analyzer, options)
        with tempfile.TemporaryDirectory(prefix="srn-faithfulness-") as scratch:
            if args.generate:
                dataset = generate_dataset(scratch, args.generate, args.seed, load_spec(args.spec), progress=True)
                samples = list(align_dataset(dataset, analyzer.label_names).samples)
                described = f"{args.generate} fresh scenes of seed {args.seed}"
            else:
                inputs = gather_inputs(args.images, analyzer.label_names)
                samples = [Sample(i.path, i.targets, i.boxes) for i in inputs.items]
                described = f"the images of {args.images}"
            parts, failures = [], {}
            for n, sample in enumerate(tqdm(samples, desc="faithfulness", unit="image")):
                analyses, failed = analyzer.analyse_samples([sample])
                failures.update(failed)
                if analyses:
                    parts.append(evaluator.image(analyses[0], n))
    except (CheckpointError, DatasetError, SpecError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path, reason in failures.items():
        print(f"error: {path}: {reason}", file=sys.stderr)
    if not parts:
        print("error: no image could be measured", file=sys.stderr)
        return 2
    summary = summarise(parts, analyzer.label_names, options, args.resamples)
    if args.json:
        atomic_write_text(args.json, json_text(summary.to_dict()))
    if args.card:
        card = args.card.read_text(encoding="utf-8") if args.card.exists() else ""
        section = render_section(summary, command_line(args, _defaults()), described)
        atomic_write_text(args.card, replace_section(card, section))
    if args.out:
        write_outputs(summary, args.out, args.formats, html=args.html)
    for measure in ("pointing", "deletion_fused", "insertion_fused"):
        cells = [
            f"{m} {summary.overall(measure, m)['mean']:.3f}" for m in options.methods if summary.overall(measure, m)
        ]
        if cells:
            print(f"{measure}: " + ", ".join(cells))
    print(f"{len(parts)} images, {summary.perturbed_images} perturbed images, {summary.seconds:.0f} s")
    return 1 if failures else 0
