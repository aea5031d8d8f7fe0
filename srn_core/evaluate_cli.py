"""`python -m srn_core evaluate`: the paper's metrics for every head of a checkpoint on a labelled dataset."""

from __future__ import annotations

import argparse
import sys

from .backbones import PretrainedWeightsError
from .checkpoint import CheckpointError
from .cli_options import device, non_negative, output_folder, positive, probability
from .datasets import DatasetError, MultiLabelDataset, load_dataset
from .evaluation import evaluate
from .images import ImageLoadError
from .metrics import CONVENTIONS
from .predictor import Predictor
from .training.data_args import add_data_arguments, data_spec


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="mAP, CP, CR, CF1, OP, OR, OF1 (and top-3) of every head on a labelled dataset",
        description="Score a dataset with a trained SRN and report, for the main net (y_cls), attention (y_att), "
        "SRN (y_sr) and fused (y) heads, the metrics of the official SRN evaluation. With --out, "
        "writes metrics.json and the per-image scores.",
    )
    parser.add_argument("--weights", required=True, help="SRN checkpoint (.safetensors)")
    add_data_arguments(parser)
    parser.add_argument(
        "--out", type=output_folder, metavar="DIR", help="write DIR/metrics.json and DIR/scores.csv (or .npz)"
    )
    parser.add_argument(
        "--scores",
        default="csv",
        choices=("csv", "npz", "both", "none"),
        help="per-image score file(s) written to DIR: csv = one row per (image, label) with path, "
        "label, fused, main, srn, attention, target; npz = arrays (default csv)",
    )
    parser.add_argument(
        "--threshold", type=probability, default=0.5, help="a label is predicted where score > this (default 0.5)"
    )
    parser.add_argument("--top-k", type=positive, default=3, help="k of the top-k metrics (default 3)")
    parser.add_argument(
        "--convention",
        default="voc2012",
        choices=CONVENTIONS,
        help="voc2012 (default): tied scores form one threshold, 0/0 is 0, labels without "
        "positives are left out of mAP, unknown pairs count nowhere; official: the authors' "
        "Matlab evaluation exactly (see docs/training.md)",
    )
    parser.add_argument("--batch-size", type=positive, default=32, help="images per forward pass (default 32)")
    parser.add_argument("--workers", type=non_negative, default=0, help="DataLoader worker processes (default 0)")
    parser.add_argument("--device", type=device, default="auto", help="auto, cpu, cuda, cuda:1, ... (default auto)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def _with_model_labels(dataset: MultiLabelDataset, names: list[str]) -> MultiLabelDataset:
    """Datasets without label names (label_0, label_1, ...) take the model's, column by column."""
    generic = [f"label_{i}" for i in range(len(dataset.label_names))]
    if dataset.label_names == generic and len(names) == len(generic) and names != generic:
        print(f"note: the data has no label names; using the model's {len(names)} in column order", file=sys.stderr)
        return MultiLabelDataset(list(names), dataset.samples, dataset.skipped_missing)
    return dataset


def run(args: argparse.Namespace) -> int:
    try:
        predictor = Predictor.from_checkpoint(args.weights, args.device)
    except (CheckpointError, PretrainedWeightsError, FileNotFoundError, ValueError) as exc:
        print(f"error: cannot load weights: {exc}", file=sys.stderr)
        return 2
    spec = data_spec(args)
    try:
        try:
            dataset = load_dataset(spec.source, spec.fmt, skip_missing=args.skip_missing, **spec.options)
        except TypeError as exc:
            raise ValueError(
                f"{spec.source}: the options {sorted(spec.options)} do not all apply to this dataset's format ({exc})"
            ) from None
        dataset = _with_model_labels(dataset, predictor.label_names)
        result = evaluate(
            predictor,
            dataset,
            batch_size=args.batch_size,
            threshold=args.threshold,
            top_k=args.top_k,
            workers=args.workers,
            progress=not args.quiet,
            convention=args.convention,
        )
    except (DatasetError, ImageLoadError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"{len(result.names)} images, {len(result.label_names)} labels, threshold {args.threshold:g}, "
        f"{args.convention} convention"
    )
    print(result.table())
    for note in result.notes():
        print(f"note: {note}")
    if args.out:
        written = result.write(args.out, args.scores, extra={"weights": str(args.weights), "data": spec.to_dict()})
        print("wrote " + ", ".join(str(p) for p in written))
    return 0
