"""`python -m srn_core train`: the four SRN stages from the command line (also under torchrun)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..backbones import BACKBONE_NAMES, PretrainedWeightsError
from ..checkpoint import CheckpointError, read_metadata
from ..cli_options import device, non_negative, positive
from ..datasets import DatasetError
from ..evaluation import format_table
from .config import AMP_MODES, CACHE_MODES, OPTIMIZERS, SCHEDULES, TrainConfig
from .data_args import add_data_arguments, data_spec
from .loop import TrainingDiverged, train
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


def _numbers(kind: type, count: int | None = None):
    def parse(text: str) -> tuple:
        try:
            values = tuple(kind(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated {kind.__name__}s, got {text!r}") from None
        allowed = (count,) if count else (1, 4)
        if len(values) not in allowed:
            raise argparse.ArgumentTypeError(f"expected {' or '.join(map(str, allowed))} value(s), got {text!r}")
        return values
    return parse


def _stages(text: str) -> tuple[int, ...]:
    try:
        stages = tuple(int(v) for v in text.split(","))
    except ValueError:
        stages = ()
    if not stages or not set(stages) <= {1, 2, 3, 4}:
        raise argparse.ArgumentTypeError(f"expected stage numbers among 1,2,3,4 separated by commas, got {text!r}")
    return stages


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="train an SRN in the four stages of the paper",
        description="Train an SRN: 1 main net (f_cnn + f_cls, loss on y_cls); 2 f_att + conv1 (loss on y_att); "
                    "3 f_sr (loss on y_sr); 4 everything (joint loss on y and y_att). Writes RUN_DIR/stage{k}"
                    ".safetensors, final.safetensors, log.jsonl and a resumable state.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arguments(parser, with_val=True)
    d = TrainConfig(out=Path("."))
    run = parser.add_argument_group("run")
    run.add_argument("--out", required=True, type=Path, metavar="RUN_DIR", help="run folder (created if needed)")
    run.add_argument("--stages", type=_stages, default=d.stages,
                     metavar="1,2,3,4", help="stages to run, each from the previous stage's checkpoint in RUN_DIR "
                                             "(default: all four)")
    run.add_argument("--resume", action="store_true", help="continue the run saved in RUN_DIR where it stopped "
                                                           "(same settings required)")
    run.add_argument("--checkpoint-every", type=positive, default=d.checkpoint_every, metavar="STEPS",
                     help=f"save the resumable state every STEPS optimizer steps, and at each epoch end "
                          f"(default {d.checkpoint_every})")
    run.add_argument("--seed", type=int, default=d.seed, help=f"seed of the initialisation, shuffling and "
                                                              f"augmentation (default {d.seed})")
    run.add_argument("--device", type=device, default=d.device, help="auto, cpu, cuda, cuda:1 ... (default auto; under "
                                                        "torchrun each process takes cuda:LOCAL_RANK)")
    run.add_argument("--amp", default=d.amp, choices=AMP_MODES, help="mixed precision: auto = bf16 (or fp16) on "
                                                                     "GPUs, off on the CPU (default auto)")
    run.add_argument("--workers", type=non_negative, default=d.workers,
                     help=f"DataLoader worker processes (default {d.workers})")
    run.add_argument("--cache", default=d.cache, choices=CACHE_MODES, help="keep preprocessed images in memory; "
                                                                           "auto: if no workers and under 1 GiB")
    run.add_argument("--no-eval-every-epoch", dest="eval_every_epoch", action="store_false",
                     help="with --val-data, evaluate only at the end instead of after every epoch")
    run.add_argument("--quiet", dest="progress", action="store_false", help="no progress bars")
    run.add_argument("--domain-description", default=d.domain_description, metavar="TEXT",
                     help="one line naming the training domain, recorded in final.safetensors and shown with "
                          "predictions (default: the training data's source)")
    run.add_argument("--domain-images", type=non_negative, default=d.domain_images, metavar="N",
                     help=f"training images whose pooled features are recorded so that images unlike them are "
                          f"flagged; threshold set on --val-data (default {d.domain_images}; 0 = none)")
    model = parser.add_argument_group("model")
    model.add_argument("--backbone", default=d.backbone, choices=BACKBONE_NAMES, help=f"default {d.backbone}")
    model.add_argument("--widths", type=int, nargs=4, metavar="W", help="compact backbone stage widths "
                                                                        "(default 32 64 128 256)")
    model.add_argument("--att-channels", type=int, default=d.att_channels,
                       help=f"f_att width (default {d.att_channels})")
    model.add_argument("--sr-channels", type=int, default=d.sr_channels, help=f"f_sr width (default {d.sr_channels})")
    model.add_argument("--input-size", type=int, default=d.input_size, help=f"input side, a multiple of 16 "
                                                                            f"(default {d.input_size})")
    model.add_argument("--alpha", type=float, default=d.alpha, help=f"fusion weight of y_cls (default {d.alpha})")
    model.add_argument("--pretrained", default=d.pretrained, metavar="auto|imagenet|none|PATH",
                       help="backbone initialisation of stage 1: auto = ImageNet weights from torchvision's local "
                            "cache for ResNets, random for compact; nothing is downloaded")
    model.add_argument("--init-weights", metavar="CHECKPOINT", help="start the first requested stage from this "
                                                                    "SRN checkpoint instead")
    opt = parser.add_argument_group("optimisation (X or X1,X2,X3,X4 = one value per stage)")
    opt.add_argument("--epochs", type=_numbers(int), default=d.epochs, metavar="N[,N,N,N]",
                     help=f"epochs per stage (default {','.join(map(str, d.epochs))})")
    opt.add_argument("--lr", type=_numbers(float), default=d.lr, metavar="LR[,LR,LR,LR]",
                     help="learning rate per stage (default 1e-3, the authors' value)")
    opt.add_argument("--optimizer", default=d.optimizer, choices=OPTIMIZERS, help=f"default {d.optimizer}")
    opt.add_argument("--momentum", type=float, default=d.momentum, help=f"SGD momentum (default {d.momentum})")
    opt.add_argument("--weight-decay", type=float, default=d.weight_decay, help=f"default {d.weight_decay}")
    opt.add_argument("--schedule", default=d.schedule, choices=SCHEDULES,
                     help="per stage: cosine decay to 0, step (x0.1 after 2/3) or none (default cosine)")
    opt.add_argument("--batch-size", type=positive, default=d.batch_size, help=f"images per step and process "
                                                                          f"(default {d.batch_size})")
    opt.add_argument("--joint-weights", type=_numbers(float, 2), default=d.joint_weights, metavar="W_Y,W_ATT",
                     help="stage 4 loss = W_Y * BCE(y) + W_ATT * BCE(y_att) (default 1,1)")
    aug = parser.add_argument_group("augmentation (off by default)")
    aug.add_argument("--hflip", action="store_true", help="random horizontal flips: only for data whose label "
                                                          "relations are left/right symmetric")
    aug.add_argument("--crop-scale", type=float, default=d.crop_scale, metavar="MIN",
                     help="random resized crops covering MIN..1 of the image (default 1 = no crop)")
    parser.set_defaults(run=run_train)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The TrainConfig the parsed options describe (ValueError on a bad combination)."""
    return TrainConfig(
        out=args.out, data=data_spec(args), val_data=data_spec(args, val=True), backbone=args.backbone,
        widths=args.widths, att_channels=args.att_channels, sr_channels=args.sr_channels, input_size=args.input_size,
        alpha=args.alpha, pretrained=args.pretrained, init_weights=args.init_weights, stages=args.stages,
        epochs=args.epochs, lr=args.lr, optimizer=args.optimizer, momentum=args.momentum,
        weight_decay=args.weight_decay, schedule=args.schedule, batch_size=args.batch_size, workers=args.workers,
        hflip=args.hflip, crop_scale=args.crop_scale, joint_weights=args.joint_weights, seed=args.seed,
        device=args.device, amp=args.amp, checkpoint_every=args.checkpoint_every,
        eval_every_epoch=args.eval_every_epoch, resume=args.resume, skip_missing=args.skip_missing,
        cache=args.cache, progress=args.progress, domain_description=args.domain_description,
        domain_images=args.domain_images)


def _metric_values(heads: dict) -> dict:
    """Stored metrics with undefined values (saved as null, e.g. a mAP without positives) back as NaN."""
    return {head: {k: float("nan") if v is None else v for k, v in values.items()} for head, values in heads.items()}


def run_train(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
        final = train(config)
    except KeyboardInterrupt:
        print(f"\ninterrupted; continue with the same command and --resume (the state in {args.out} is at most "
              f"--checkpoint-every steps old)", file=sys.stderr)
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
        print(f"final model: {final}  (wall time {summary.get('wall_time_s', 0):.0f} s, images/s per stage "
              f"{json.dumps({k: round(v, 1) for k, v in summary.get('images_per_s', {}).items()})})")
        if metrics.get("heads"):
            print(f"metrics on the {metrics.get('on', 'validation')} data:\n{format_table(_metric_values(metrics['heads']))}")
    return 0
