"""`python -m srn_core domain`: record in a checkpoint what its training images look like.

Training does this by itself at the end of a run; this command adds (or refits) the statistics of
any checkpoint, for example one trained before they existed or one imported from elsewhere.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .cli_options import device, number, output_file, positive
from .datasets import DatasetError, load_dataset
from .domain import DEFAULT_QUANTILE, fit_domain
from .images import ImageLoadError
from .predictor import resolve_device
from .sources import as_source
from .training.data_args import add_data_arguments, data_spec


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "domain",
        help="record the training images' feature statistics, so that unlike images are flagged",
        description="Fit the mean and covariance of the main net's pooled features on training images (--data) "
        "and set the out-of-domain threshold on held-out images of the same domain (--val-data; "
        "without it, a fifth of the training images is held out), "
        "then write them into the checkpoint. predict, the report and the dashboard then flag "
        "images far from the training data.",
    )
    parser.add_argument("--weights", required=True, type=Path, help="SRN checkpoint (.safetensors)")
    add_data_arguments(parser, with_val=True)
    parser.add_argument(
        "--description",
        required=True,
        help="one line naming the training domain, e.g. 'synthetic glyph scenes, 224 px'",
    )
    parser.add_argument("--images", type=positive, default=2000, help="training images to fit on (default 2000)")
    parser.add_argument(
        "--quantile",
        type=number(0.5, 0.9999),
        default=DEFAULT_QUANTILE,
        help=f"share of held-out images under the threshold (default {DEFAULT_QUANTILE})",
    )
    parser.add_argument("--out", type=output_file, help="write the checkpoint here (default: update --weights)")
    parser.add_argument("--batch-size", type=positive, default=32, help="images per forward pass (default 32)")
    parser.add_argument("--device", type=device, default="auto", help="auto, cpu, cuda, ... (default auto)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        device = resolve_device(args.device)
        model, meta = load_checkpoint(args.weights, device)
        train, held_out = (
            as_source(load_dataset(spec.source, spec.fmt, skip_missing=args.skip_missing, **spec.options))
            if spec is not None
            else None
            for spec in (data_spec(args), data_spec(args, val=True))
        )
        domain = fit_domain(
            model,
            train,
            held_out,
            meta.preprocessor(),
            args.description,
            args.images,
            args.quantile,
            args.batch_size,
            device,
        )
        out = save_checkpoint(
            args.out or args.weights, model, meta.label_names, meta.training, meta.mean, meta.std, domain=domain
        )
    except (CheckpointError, DatasetError, ImageLoadError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    record = domain.record
    print(
        f"wrote {out}: {record['num_images']} training images, threshold {domain.threshold:.3g} "
        f"({100 * record['held_out_flagged']:.1f} % of {record['held_out_images']} held-out images flagged)"
    )
    return 0
