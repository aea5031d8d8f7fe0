"""Training throughput: SRN stage 1..4 steps vs a bare classifier of the same backbone, interleaved.

A step is forward, loss, backward and optimizer step on one batch already in memory (data loading
is left out; the trainer's log reports images/s with loading). The bare classifier is the backbone
+ global average pooling + fc (for ResNets, torchvision's own model), trained with the same loss,
optimizer and batch. Stage 1 trains exactly that network, so its ratio shows SRN's overhead there. Denormal floats
are flushed to zero, as the trainer does on the CPU (without it stage 4 slowed down 3-4x here).
Run: python benchmarks/bench_training.py [--backbones compact resnet18] [--batch-size 16] [--rounds 8]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn
from torchvision import models

from srn_core import SRN
from srn_core.backbones import COMPACT, build_backbone
from srn_core.training import STAGES, StageModule, freeze_for_stage, masked_bce, set_train_modes, stage_loss


def bare_classifier(backbone: str, num_labels: int) -> nn.Module:
    """The plain multi-label classifier of `backbone`: torchvision's ResNet, or compact + pooling + fc."""
    if backbone != COMPACT:
        return getattr(models, backbone)(weights=None, num_classes=num_labels)
    parts = build_backbone(COMPACT)
    return nn.Sequential(
        parts.stem_to_stage3,
        parts.stage4,
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(parts.final_channels, num_labels),
    )


def bare_step(model: nn.Module, images: torch.Tensor, targets: torch.Tensor) -> Callable[[], None]:
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    model.train()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        masked_bce(model(images), targets).backward()
        optimizer.step()

    return step


def srn_step(
    backbone: str, number: int, num_labels: int, images: torch.Tensor, targets: torch.Tensor
) -> Callable[[], None]:
    model = SRN(num_labels, backbone=backbone, input_size=images.shape[-1])
    stage = STAGES[number]
    optimizer = torch.optim.SGD(freeze_for_stage(model, stage), lr=1e-3, momentum=0.9)
    set_train_modes(model, stage)
    module = StageModule(model, stage)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        stage_loss(stage, module(images), targets).backward()
        optimizer.step()

    return step


def _time(step: Callable[[], None]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbones", nargs="+", default=[COMPACT])
    parser.add_argument("--input-size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--labels", type=int, default=80)
    parser.add_argument("--stages", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--rounds", type=int, default=8, help="timed steps of each model (median reported)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # as the trainer does on the CPU
    torch.manual_seed(0)
    images = torch.randn(args.batch_size, 3, args.input_size, args.input_size)
    targets = torch.randint(0, 2, (args.batch_size, args.labels), dtype=torch.int8)
    print(
        f"{args.input_size} px, batch {args.batch_size}, {args.labels} labels, {args.threads} threads, "
        f"median of {args.rounds} interleaved steps (after 2 warm-up steps)"
    )
    print(f"{'backbone':<10} {'model':<18} {'s/step':>8} {'images/s':>9} {'vs bare':>8}")
    for backbone in args.backbones:
        steps = {"bare classifier": bare_step(bare_classifier(backbone, args.labels), images, targets)}
        for number in args.stages:
            steps[f"SRN stage {number}"] = srn_step(backbone, number, args.labels, images, targets)
        for step in steps.values():
            for _ in range(2):
                step()
        times: dict[str, list[float]] = {name: [] for name in steps}
        for _ in range(args.rounds):
            for name, step in steps.items():
                times[name].append(_time(step))
        bare = statistics.median(times["bare classifier"])
        for name, values in times.items():
            seconds = statistics.median(values)
            print(f"{backbone:<10} {name:<18} {seconds:>8.3f} {args.batch_size / seconds:>9.1f} {bare / seconds:>8.2f}")


if __name__ == "__main__":
    main()
