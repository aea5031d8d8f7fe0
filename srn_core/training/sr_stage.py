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
from dataclasses import dataclass
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
from ..model import SRN, weighted_attention
from ..preprocess import Preprocessor
from ..sources import aligned, as_source
from .optim import StageSchedule
from .options import add_options, from_options, setting
from .stages import get_stage, masked_bce


@torch.no_grad()
def cache_maps(model: SRN, source, batch_size: int = 32, progress: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """U (N, C, g, g) float32 and targets (N, C) int8 of every image of `source`, the model in eval mode."""
    model.eval()
    dataset = ImageTensors(source, Preprocessor(model.config.input_size, IMAGENET_MEAN, IMAGENET_STD))
    maps, targets = [], []
    for images, batch_targets, _ in tqdm(
        DataLoader(dataset, batch_size=batch_size), desc="cache U", unit="batch", disable=not progress
    ):
        features = model.f_cnn(images)
        maps.append(weighted_attention(model.f_att(features), model.conv1(features)))
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
    aps = [
        voc_average_precision(scores[:, c], targets[:, c].numpy())
        for c in range(targets.shape[1])
        if (targets[:, c] == 1).any()
    ]
    return 100.0 * float(np.mean(aps)) if aps else float("nan")


def train_f_sr(
    model: SRN,
    maps: torch.Tensor,
    targets: torch.Tensor,
    epochs: int,
    lr: float,
    weight_decay: float,
    batch_size: int = 64,
    seed: int = 0,
    progress: bool = True,
) -> list[float]:
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
            batch = order[start : start + batch_size]
            loss = masked_bce(f_sr(maps[batch]), targets[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += float(loss.detach()) * len(batch)
        losses.append(total / len(maps))
    f_sr.eval()
    return losses


@dataclass(frozen=True)
class CachedStageConfig:
    """Settings of stage 3 on cached maps; each field declares its option of this module's command line."""

    run: Path = setting(help="run folder holding stage2", parse=Path, metavar="RUN_DIR")
    data: str = setting(help="training manifest (the data of stages 1-2)")
    val_data: str | None = setting(None, "validation manifest: report y_sr mAP on it")
    epochs: int = setting(60)
    lr: float = setting(3e-3)
    weight_decay: float = setting(0.5)
    conv4_init: float = setting(0.1, "scale of conv4's default initialisation")
    batch_size: int = setting(64)
    seed: int = setting(0)
    progress: bool = setting(True, flag="--quiet")


def run_stage3(config: CachedStageConfig) -> Path:
    """Read RUN_DIR/stage2.safetensors, train f_sr on cached U, write RUN_DIR/stage3.safetensors."""
    start, c = time.perf_counter(), config
    model, meta = load_checkpoint(c.run / "stage2.safetensors")
    source = aligned(as_source(load_dataset(c.data)), meta.label_names)
    maps, targets = cache_maps(model, source, progress=c.progress)
    scale_conv4_init(model, c.conv4_init, c.seed)
    losses = train_f_sr(model, maps, targets, c.epochs, c.lr, c.weight_decay, c.batch_size, c.seed, c.progress)
    record = {
        "stage": 3,
        "name": get_stage(3).name,
        "trainable": ["f_sr"],
        "loss_on": ["srn"],
        "epochs": c.epochs,
        "lr": c.lr,
        "optimizer": "adamw",
        "weight_decay": c.weight_decay,
        "schedule": "cosine",
        "batch_size": c.batch_size,
        "seed": c.seed,
        "cached_maps": True,
        "conv4_init_scale": c.conv4_init,
        "images": c.epochs * len(maps),
        "seconds": time.perf_counter() - start,
        "epoch_losses": losses,
        "train_sr_map": sr_mean_ap(model, maps, targets),
    }
    record["images_per_s"] = record["images"] / record["seconds"]
    if c.val_data:
        val = aligned(as_source(load_dataset(c.val_data)), meta.label_names)
        record["val_sr_map"] = sr_mean_ap(model, *cache_maps(model, val, progress=c.progress))
    return save_checkpoint(
        c.run / "stage3.safetensors", model, meta.label_names, {"record": record}, meta.mean, meta.std
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m srn_core.training.sr_stage", description=__doc__.split("\n")[0])
    add_options(parser, CachedStageConfig)
    try:
        out = run_stage3(from_options(CachedStageConfig, parser.parse_args(argv)))
    except (CheckpointError, DatasetError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"stage 3 (cached U): {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
