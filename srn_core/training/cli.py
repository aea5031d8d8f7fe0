"""`python -m srn_core train`: the four SRN stages from the command line (also under torchrun)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from ..backbones import PretrainedWeightsError
from ..checkpoint import CheckpointError, read_metadata
from ..datasets import DatasetError
from ..evaluation import format_table
from .config import TrainConfig
from .data_args import add_data_arguments, data_spec
from .loop import TrainingDiverged, train
from .options import add_options, from_options
from .run_folder import RunFolderError
from .state import StateError

EPILOG = """examples:
  python -m srn_core train --data data/shapes/manifest.json --out runs/shapes --backbone compact \\
      --input-size 128 --epochs 8,4,4,4 --lr 1e-2 --optimizer adam
  python -m srn_core train --data coco/annotations/instances_train2014.json \\
      --val-data coco/annotations/instances_val2014.json --out runs/coco --backbone resnet101
  python -m srn_core train ... --resume              # continue an interrupted run
  torchrun --nproc-per-node 4 -m srn_core train ...  # one process per GPU (DDP)
"""


GROUPS = {
    "run": "run",
    "model": "model",
    "optim": "optimisation (X or X1,X2,X3,X4 = one value per stage)",
    "augment": "augmentation (off by default)",
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train an SRN in the four stages of the paper",
        description="Train an SRN: 1 main net (f_cnn + f_cls, loss on y_cls); 2 f_att + conv1 (loss on y_att); "
        "3 f_sr (loss on y_sr); 4 everything (joint loss on y and y_att). Writes RUN_DIR/stage{k}"
        ".safetensors, final.safetensors, log.jsonl and a resumable state.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_data_arguments(parser, with_val=True)
    add_options(parser, TrainConfig, GROUPS)
    parser.set_defaults(run=run_train)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The TrainConfig the parsed options describe (ValueError on a bad combination)."""
    return from_options(TrainConfig, args, data=data_spec(args), val_data=data_spec(args, val=True))


def _metric_values(heads: dict) -> dict:
    """Stored metrics with undefined values (saved as null, e.g. a mAP without positives) back as NaN."""
    return {head: {k: float("nan") if v is None else v for k, v in values.items()} for head, values in heads.items()}


def run_train(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
        final = train(config)
    except KeyboardInterrupt:
        print(
            f"\ninterrupted; continue with the same command and --resume (the state in {args.out} is at most "
            f"--checkpoint-every steps old)",
            file=sys.stderr,
        )
        return 130
    except TrainingDiverged as exc:
        print(f"error: training diverged: {exc}", file=sys.stderr)
        return 3
    except (DatasetError, RunFolderError, StateError, CheckpointError, PretrainedWeightsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if os.environ.get("RANK", "0") == "0" and final.is_file():
        summary = read_metadata(final).training.get("summary", {})
        metrics = summary.get("final_metrics", {})
        print(
            f"final model: {final}  (wall time {summary.get('wall_time_s', 0):.0f} s, images/s per stage "
            f"{json.dumps({k: round(v, 1) for k, v in summary.get('images_per_s', {}).items()})})"
        )
        if metrics.get("heads"):
            table = format_table(_metric_values(metrics["heads"]))
            print(f"metrics on the {metrics.get('on', 'validation')} data:\n{table}")
    return 0
