"""Stage 3 on cached maps: f_sr trained on the weighted attention maps U of the frozen stage-2 model.

In stage 3 everything but f_sr is frozen (SRN_SPEC), so U does not change during the stage.
Computing U once and training f_sr on the cached maps gives the same loss as the full stage at a
small fraction of the cost per epoch, so f_sr can train long enough for its conv4 filters to move
well away from their random initialisation (which is what the conv4 view shows). `conv4_init`
scales that initialisation down so that what remains in a filter is what it learned.

    python -m srn_core.training.sr_stage --run RUN_DIR --data train/manifest.json --val-data val/manifest.json
reads RUN_DIR/stage2.safetensors and writes RUN_DIR/stage3.safetensors; then
`python -m srn_core train --stages 4 --out RUN_DIR ...` continues from it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from ..backbones import IMAGENET_MEAN, IMAGENET_STD
from ..checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ..datasets import DatasetError, load_dataset
from ..evaluation import ImageTensors
from ..metrics import voc_average_precision
from ..model import SRN
from ..preprocess import Preprocessor
from ..sources import aligned, as_source
from .optim import StageSchedule
from .stages import get_stage, masked_bce


@torch.no_grad()
def cache_maps(model: SRN, source, batch_size: int = 32, progress: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """U (N, C, g, g) float32 and targets (N, C) int8 of every image of `source`, the model in eval mode."""
    model.eval()
    dataset = ImageTensors(source, Preprocessor(model.config.input_size, IMAGENET_MEAN, IMAGENET_STD))
    maps, targets = [], []
    for images, batch_targets, _ in tqdm(DataLoader(dataset, batch_size=batch_size), desc="cache U", unit="batch",
                                         disable=not progress):
        features = model.f_cnn(images)
        maps.append(torch.sigmoid(model.conv1(features)) * model.f_att(features))
        targets.append(batch_targets)
    return torch.cat(maps), torch.cat(targets)


def scale_conv4_init(model: SRN, factor: float, seed: int) -> None:
    """Re-draw conv4 with PyTorch's default initialisation (seeded) times `factor`."""
    generator = torch.Generator().manual_seed(seed)
    conv4 = model.f_sr.conv4
    bound = 1.0 / float(np.sqrt(conv4.weight[0].numel()))
    with torch.no_grad():
        conv4.weight.copy_((torch.rand(conv4.weight.shape, generator=generator) * 2 - 1) * bound * factor)
        conv4.bias.zero_()


def sr_mean_ap(model: SRN, maps: torch.Tensor, targets: torch.Tensor) -> float:
    """mAP (percent) of y_sr over the labels that have positives."""
    with torch.no_grad():
        scores = torch.sigmoid(model.f_sr(maps)).numpy()
    aps = [voc_average_precision(scores[:, c], targets[:, c].numpy()) for c in range(targets.shape[1])
           if (targets[:, c] == 1).any()]
    return 100.0 * float(np.mean(aps)) if aps else float("nan")


def train_f_sr(model: SRN, maps: torch.Tensor, targets: torch.Tensor, epochs: int, lr: float, weight_decay: float,
               batch_size: int = 64, seed: int = 0, progress: bool = True) -> list[float]:
    """AdamW on f_sr alone (cosine schedule), loss on y_sr; returns the mean loss of each epoch."""
    torch.manual_seed(seed)
    f_sr = model.f_sr.train()
    optimizer = torch.optim.AdamW(f_sr.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * -(-len(maps) // batch_size)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, StageSchedule("cosine", steps))
    losses = []
    for _ in tqdm(range(epochs), desc="stage 3 (cached U)", unit="epoch", disable=not progress):
        order, total = torch.randperm(len(maps)), 0.0
        for start in range(0, len(maps), batch_size):
            batch = order[start:start + batch_size]
            loss = masked_bce(f_sr(maps[batch]), targets[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += float(loss.detach()) * len(batch)
        losses.append(total / len(maps))
    f_sr.eval()
    return losses


def run_stage3(run_dir: Path, data: str, val_data: str | None, epochs: int, lr: float, weight_decay: float,
               conv4_init: float, batch_size: int, seed: int, progress: bool = True) -> Path:
    """Read RUN_DIR/stage2.safetensors, train f_sr on cached U, write RUN_DIR/stage3.safetensors."""
    start = time.perf_counter()
    model, meta = load_checkpoint(run_dir / "stage2.safetensors")
    source = aligned(as_source(load_dataset(data)), meta.label_names)
    maps, targets = cache_maps(model, source, progress=progress)
    scale_conv4_init(model, conv4_init, seed)
    losses = train_f_sr(model, maps, targets, epochs, lr, weight_decay, batch_size, seed, progress)
    record = {"stage": 3, "name": get_stage(3).name, "trainable": ["f_sr"], "loss_on": ["srn"], "epochs": epochs,
              "lr": lr, "optimizer": "adamw", "weight_decay": weight_decay, "schedule": "cosine",
              "batch_size": batch_size, "seed": seed, "cached_maps": True, "conv4_init_scale": conv4_init,
              "images": epochs * len(maps), "seconds": time.perf_counter() - start,
              "epoch_losses": losses, "train_sr_map": sr_mean_ap(model, maps, targets)}
    record["images_per_s"] = record["images"] / record["seconds"]
    if val_data:
        val = aligned(as_source(load_dataset(val_data)), meta.label_names)
        record["val_sr_map"] = sr_mean_ap(model, *cache_maps(model, val, progress=progress))
    return save_checkpoint(run_dir / "stage3.safetensors", model, meta.label_names, {"record": record},
                           meta.mean, meta.std)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m srn_core.training.sr_stage", description=__doc__.split("\n")[0])
    parser.add_argument("--run", required=True, type=Path, metavar="RUN_DIR", help="run folder holding stage2")
    parser.add_argument("--data", required=True, help="training manifest (the data of stages 1-2)")
    parser.add_argument("--val-data", help="validation manifest: report y_sr mAP on it")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=0.5)
    parser.add_argument("--conv4-init", type=float, default=0.1, help="scale of conv4's default initialisation")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", dest="progress", action="store_false")
    args = parser.parse_args(argv)
    try:
        out = run_stage3(args.run, args.data, args.val_data, args.epochs, args.lr, args.weight_decay,
                         args.conv4_init, args.batch_size, args.seed, args.progress)
    except (CheckpointError, DatasetError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"stage 3 (cached U): {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
