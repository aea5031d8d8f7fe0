"""What a stage and a run did: the records stored in checkpoint metadata."""

from __future__ import annotations

from typing import Any

import torch

from ..jsonsafe import json_safe
from .config import TrainConfig
from .distributed import DistContext
from .run_state import StageProgress
from .stages import Stage


def stage_record(stage: Stage, config: TrainConfig, progress: StageProgress, steps_per_epoch: int) -> dict[str, Any]:
    """What a stage did, stored in its checkpoint and in the run's summary."""
    number = stage.number
    record = {
        "stage": number,
        "name": stage.name,
        "trainable": list(stage.trainable),
        "loss_on": list(stage.heads),
        "epochs": config.epochs[number - 1],
        "lr": config.lr[number - 1],
        "optimizer": config.optimizer,
        "schedule": config.schedule,
        "batch_size": config.batch_size,
        "steps_per_epoch": steps_per_epoch,
        "steps": progress.global_step,
        "images": progress.images,
        "seconds": progress.seconds,
        "images_per_s": progress.images_per_s,
        "epoch_losses": list(progress.epoch_losses),
    }
    if number == 4:
        record["joint_weights"] = {"fused": config.joint_weights[0], "attention": config.joint_weights[1]}
    return record


def run_summary(
    config: TrainConfig,
    label_names: list[str],
    train_images: int,
    val_images: int,
    records: dict[str, Any],
    wall_time_s: float,
    final_metrics: dict[str, Any],
    ctx: DistContext,
    amp: torch.dtype | None,
) -> dict[str, Any]:
    """The summary stored in final.safetensors: config, stage records, time, speed, final metrics, environment."""
    return json_safe(
        {
            "kind": "srn-training-summary",
            "config": config.to_dict(),
            "label_names": label_names,
            "train_images": train_images,
            "val_images": val_images,
            "stages": records,
            "wall_time_s": wall_time_s,
            "images_per_s": {k: r["images_per_s"] for k, r in records.items()},
            "final_metrics": final_metrics,
            "environment": {
                "torch": torch.__version__,
                "device": str(ctx.device),
                "world_size": ctx.world_size,
                "amp": str(amp).replace("torch.", "") if amp else "off",
            },
        }
    )
