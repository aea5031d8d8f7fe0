"""`python -m srn_core predict`: labels and scores for images, one failing image never stops the rest."""

from __future__ import annotations

import argparse
import json
import sys

from .checkpoint import CheckpointError
from .cli_options import device, non_negative, output_file, positive, probability
from .fileio import atomic_write_text
from .images import ImageLoadError, load_image
from .predictor import Prediction, Predictor
from .text_safety import plain_text


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="predict the labels of images with a trained SRN",
        description="Print each image's labels above a threshold and its top-k "
        "labels with fused / main-net / SRN probabilities.",
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    parser.add_argument("--weights", required=True, help="SRN checkpoint (.safetensors)")
    parser.add_argument(
        "--threshold",
        type=probability,
        default=0.5,
        help="fused probability to report a label, in [0, 1] (default 0.5)",
    )
    parser.add_argument("--top-k", type=non_negative, default=3, help="also print the k best labels (default 3)")
    parser.add_argument("--batch-size", type=positive, default=8, help="images per forward pass (default 8)")
    parser.add_argument("--device", type=device, default="auto", help="auto, cpu, cuda, cuda:1, ... (default auto)")
    parser.add_argument("--json", type=output_file, metavar="OUT", help="write every label's scores to this JSON file")
    parser.set_defaults(run=run)


def _format(prediction: Prediction, threshold: float, top_k: int) -> str:
    scores = prediction.scores()
    lines = [f"{plain_text(prediction.source)}:"]
    if prediction.domain is not None and prediction.domain.outside:
        lines.append(
            f"  warning: this image looks unlike the training images (feature distance "
            f"{prediction.domain.distance:.1f} > threshold {prediction.domain.threshold:.1f}); "
            "its labels are guesses"
        )
    above = prediction.above(threshold)
    lines.append(f"  labels > {threshold:g}: " + (", ".join(above) if above else "(none)"))
    lines.append(f"  top {top_k}:  {'label':<20} fused   main    srn")
    for name in prediction.top_k(top_k):
        s = scores[name]
        lines.append(f"    {name:<24} {s['fused']:.3f}  {s['main']:.3f}  {s['srn']:.3f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        predictor = Predictor.from_checkpoint(args.weights, args.device)
    except (CheckpointError, FileNotFoundError, ValueError) as exc:
        print(f"error: cannot load weights: {exc}", file=sys.stderr)
        return 2
    print(plain_text(predictor.meta.domain_summary(), 2000))
    if predictor.meta.domain is None:
        print(
            "note: this checkpoint records no statistics of its training images, so images unlike them "
            "cannot be flagged (add them with python -m srn_core domain)"
        )
    loaded, names, failures = [], [], {}
    for path in args.images:
        try:
            loaded.append(load_image(path))
            names.append(path)
        except ImageLoadError as exc:
            failures[path] = exc.reason
            print(f"error: {exc}", file=sys.stderr)
    predictions = predictor.predict(loaded, batch_size=args.batch_size, names=names) if loaded else []
    for prediction in predictions:
        print(_format(prediction, args.threshold, args.top_k))
    if args.json:
        report = {
            "weights": str(args.weights),
            "labels": predictor.label_names,
            "threshold": args.threshold,
            "domain": predictor.meta.domain_record,
            "images": {
                p.source: {
                    "above_threshold": p.above(args.threshold),
                    "scores": p.scores(),
                    "domain": p.domain.to_dict() if p.domain is not None else None,
                }
                for p in predictions
            },
            "errors": failures,
        }
        try:
            atomic_write_text(args.json, json.dumps(report, indent=2))
        except OSError as exc:
            print(f"error: cannot write {args.json}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    if failures:
        print(f"{len(failures)} of {len(args.images)} images failed", file=sys.stderr)
    return 1 if failures else 0
