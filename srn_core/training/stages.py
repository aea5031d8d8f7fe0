"""The four training stages of SRN_SPEC.md: what each trains, what it computes, and its loss.

1. main net (f_cnn, f_cls): loss on y_cls.
2. f_att and conv1, the rest frozen: loss on y_att.
3. f_sr, the rest frozen: loss on y_sr.
4. everything: w_y * loss on y + w_att * loss on y_att (weights configurable).
Frozen parts run under torch.no_grad() (no graph is built for them) and stay in eval mode, so their
BatchNorm statistics do not move. Every loss is sigmoid cross-entropy over the known targets only.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..model import SRN, attention_logits, weighted_attention

ALL_PARTS = ("f_cnn", "f_cls", "f_att", "conv1", "f_sr")


@dataclass(frozen=True)
class Stage:
    """One stage: its number, a short name, the SRN sub-modules it trains and the heads its loss reads."""

    number: int
    name: str
    trainable: tuple[str, ...]
    heads: tuple[str, ...]


STAGES = {
    1: Stage(1, "main net", ("f_cnn", "f_cls"), ("main",)),
    2: Stage(2, "attention", ("f_att", "conv1"), ("attention",)),
    3: Stage(3, "spatial regularization", ("f_sr",), ("srn",)),
    4: Stage(4, "joint", ALL_PARTS, ("fused", "attention")),
}


def get_stage(number: int) -> Stage:
    if number not in STAGES:
        raise ValueError(f"there is no stage {number}; stages are 1, 2, 3, 4")
    return STAGES[number]


def freeze_for_stage(model: SRN, stage: Stage) -> list[nn.Parameter]:
    """Make exactly the stage's parameters trainable and return them (in model order)."""
    trainable = {id(p) for part in stage.trainable for p in getattr(model, part).parameters()}
    params = []
    for param in model.parameters():
        param.requires_grad_(id(param) in trainable)
        if id(param) in trainable:
            params.append(param)
    return params


def set_train_modes(model: SRN, stage: Stage) -> None:
    """Trained parts in train mode, frozen parts (and their BatchNorm layers) in eval mode."""
    model.eval()
    for part in stage.trainable:
        getattr(model, part).train()


class StageModule(nn.Module):
    """The part of the SRN forward pass a stage needs, returning the logits its loss reads.

    This is what DistributedDataParallel wraps: every parameter that requires a gradient is used.
    """

    def __init__(self, model: SRN, stage: Stage) -> None:
        super().__init__()
        self.model = model
        self.stage = stage

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        m = self.model
        m.check_input(images)
        number = self.stage.number
        if number == 1:
            return {"main": m.f_cls(m.f_cnn(images))}
        if number == 4:
            out = m(images)
            return {"fused": out.logits, "attention": out.att_logits}
        with torch.no_grad():
            features = m.f_cnn(images)
            if number == 3:
                weighted = weighted_attention(m.f_att(features), m.conv1(features))
        if number == 2:
            return {"attention": attention_logits(m.f_att(features), m.conv1(features))}
        return {"srn": m.f_sr(weighted)}


def masked_bce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Sigmoid cross-entropy averaged over the known (target != -1) entries; 0 if none is known."""
    known = targets >= 0
    losses = F.binary_cross_entropy_with_logits(logits.float(), targets.clamp(min=0).float(), reduction="none")
    return (losses * known).sum() / known.sum().clamp(min=1)


def stage_loss(
    stage: Stage,
    logits: dict[str, torch.Tensor],
    targets: torch.Tensor,
    joint_weights: tuple[float, float] = (1.0, 1.0),
) -> torch.Tensor:
    """The stage's loss: one head's BCE, or for stage 4 w_y * BCE(y) + w_att * BCE(y_att)."""
    if stage.number == 4:
        w_fused, w_att = joint_weights
        return w_fused * masked_bce(logits["fused"], targets) + w_att * masked_bce(logits["attention"], targets)
    (head,) = stage.heads
    return masked_bce(logits[head], targets)
