"""Optimizer, learning-rate schedule and mixed-precision choice of one stage."""

from __future__ import annotations

import math

import torch
from torch import nn

from .config import TrainConfig


def make_optimizer(config: TrainConfig, params: list[nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """SGD (with momentum), Adam or AdamW over `params`, with the configured weight decay."""
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=config.momentum, weight_decay=config.weight_decay)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=config.weight_decay)
    return torch.optim.AdamW(params, lr=lr, weight_decay=config.weight_decay)


class StageSchedule:
    """Learning-rate factor per step: cosine decay to 0, x0.1 after two thirds ("step"), or constant.

    A callable object (not a function), so LambdaLR's state_dict stores its settings as plain data.
    """

    def __init__(self, kind: str, total_steps: int) -> None:
        self.kind = kind
        self.total_steps = max(1, int(total_steps))

    def __call__(self, step: int) -> float:
        if self.kind == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * min(step, self.total_steps) / self.total_steps))
        if self.kind == "step":
            return 0.1 if step >= (2 * self.total_steps) // 3 else 1.0
        return 1.0


def make_scheduler(optimizer: torch.optim.Optimizer, kind: str, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-step LambdaLR following StageSchedule."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, StageSchedule(kind, total_steps))


def amp_dtype(mode: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for `mode` on `device`, or None for full precision.

    auto: bfloat16 on GPUs that support it, else float16 on GPUs; full precision on the CPU.
    """
    if mode == "off":
        return None
    if mode == "auto":
        if device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if mode == "fp16" and device.type != "cuda":
        raise ValueError("--amp fp16 needs a CUDA device; use --amp bf16 or off on the CPU")
    return torch.bfloat16 if mode == "bf16" else torch.float16
