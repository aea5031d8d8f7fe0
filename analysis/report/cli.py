"""`python -m analysis report`: analyse a folder or dataset of images and write every figure and data file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from srn_core.checkpoint import CheckpointError
from srn_core.cli_options import (
    MAX_DPI,
    MIN_DPI,
    device,
    dpi,
    non_negative,
    number,
    output_folder,
    positive,
    probability,
)

from ..export.files import FIGURE_FORMATS
from ..figures.overlay import UPSAMPLING
from ..measures.gradcam import GRADCAM_LAYERS
from ..session import Analyzer
from .build import ReportOptions, run_report
from .inputs import gather_inputs


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write figures, data files and an index.html for a set of images",
        description="Analyse every image of a folder (or of a dataset / manifest, whose labels and boxes are "
        "then used) and write per-image, data-set and model figures with their numbers, and an "
        "index.html linking them. A failing image is listed with its reason; the rest go on.",
    )
    parser.add_argument("--weights", required=True, type=Path, help="SRN checkpoint (.safetensors)")
    parser.add_argument(
        "--images",
        required=True,
        type=Path,
        metavar="DIR_OR_MANIFEST",
        help="a folder of images, or a dataset srn_core reads (manifest .json/.csv, COCO, VOC)",
    )
    parser.add_argument(
        "--image-dir",
        type=Path,
        metavar="DIR",
        help="with COCO annotations as --images: the folder holding their images",
    )
    parser.add_argument(
        "--out", required=True, type=output_folder, help="output folder (created; re-runs overwrite atomically)"
    )
    parser.add_argument(
        "--formats",
        nargs="+",
        default=list(FIGURE_FORMATS),
        choices=FIGURE_FORMATS,
        help="figure formats (default: png svg pdf)",
    )
    parser.add_argument("--dpi", type=dpi, default=150, help=f"PNG resolution, {MIN_DPI} to {MAX_DPI} (default 150)")
    parser.add_argument("--top-k", type=positive, default=3, help="labels per image to draw (default 3)")
    parser.add_argument(
        "--upsampling", default="nearest", choices=tuple(UPSAMPLING), help="map upsampling (default nearest)"
    )
    parser.add_argument(
        "--cmap", type=colour_map, default="jet", help="matplotlib colour map of the overlays (default jet)"
    )
    parser.add_argument("--opacity", type=probability, default=0.5, help="overlay opacity in [0, 1] (default 0.5)")
    parser.add_argument("--gradcam", action="store_true", help="add Grad-CAM of the main net and the pointing game")
    parser.add_argument(
        "--faithfulness",
        action="store_true",
        help="add the faithfulness checks of every present label's map (slow: see docs/analysis.md)",
    )
    parser.add_argument("--gradcam-layer", default="layer4", choices=GRADCAM_LAYERS)
    parser.add_argument(
        "--tolerance",
        type=number(0.0, 10_000.0),
        default=15.0,
        help="pointing game: pixels a peak may lie outside its box (default 15)",
    )
    parser.add_argument("--html", action="store_true", help="also write interactive plotly pages (no server needed)")
    parser.add_argument("--channels", type=int, nargs="+", help="conv4 channels to draw (default: the 6 strongest)")
    parser.add_argument(
        "--pairs", type=non_negative, default=6, help="label pairs for offset plots and relation fields"
    )
    parser.add_argument("--threshold", type=probability, default=0.5, help="fused probability that counts as present")
    parser.add_argument("--device", type=device, default="auto", help="auto, cpu, cuda, ... (default auto)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(run=run)


def colour_map(text: str) -> str:
    """A matplotlib colour map name."""
    from matplotlib import colormaps

    if text not in colormaps:
        raise argparse.ArgumentTypeError(f"unknown colour map {text!r} (e.g. jet, viridis, inferno, gray)")
    return text


def run(args: argparse.Namespace) -> int:
    """Exit status: 0 all images done, 1 some failed, 2 nothing could be analysed or bad arguments."""
    try:
        analyzer = Analyzer.from_checkpoint(args.weights, args.device)
    except (CheckpointError, OSError, ValueError) as exc:
        print(f"error: cannot load weights: {exc}", file=sys.stderr)
        return 2
    try:
        inputs = gather_inputs(args.images, analyzer.label_names, args.image_dir)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    options = ReportOptions(
        formats=tuple(dict.fromkeys(args.formats)),
        dpi=args.dpi,
        top_k=args.top_k,
        mode=args.upsampling,
        cmap=args.cmap,
        opacity=args.opacity,
        gradcam=args.gradcam,
        gradcam_layer=args.gradcam_layer,
        html=args.html,
        channels=args.channels,
        pairs=args.pairs,
        threshold=args.threshold,
        tolerance=args.tolerance,
        faithfulness=args.faithfulness,
    )
    if args.channels:
        limit = analyzer.model.config.sr_channels
        bad = [c for c in args.channels if not 0 <= c < limit]
        if bad:
            print(f"error: --channels {bad} outside 0..{limit - 1}", file=sys.stderr)
            return 2
    summary = run_report(
        analyzer,
        inputs,
        args.out,
        options,
        progress=not args.no_progress,
        log=lambda line: print(line, file=sys.stderr),
    )
    print(f"{summary.analysed} of {summary.images} images analysed; report: {summary.out / 'index.html'}")
    if summary.analysed == 0:
        return 2
    return 1 if summary.failures else 0
