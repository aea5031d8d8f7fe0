"""Model-randomisation sanity check (Adebayo et al. 2018), cascading from the top of the model down.

Each stage re-initialises one more part of a deep copy of the model (the loaded model is never
touched): f_att, then the confidence conv1, then the main net's head f_cls (stage 4 and its fc),
then the backbone's stage 3, 2, 1 and the stem. A map that explains the model must change once the
parts it reads are random; A and U depend on f_att / conv1 and everything below, Grad-CAM of the
main net on f_cls and below, so each method is expected to decorrelate from its own first stage on.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from srn_core import SRN

CASCADE = ("f_att", "conv1", "f_cls", "layer3", "layer2", "layer1", "stem")


def stage_modules(model: SRN, stage: str) -> list[nn.Module]:
    """The modules one cascade stage re-initialises (f_cnn is stem, layer1, layer2, layer3)."""
    cnn = model.f_cnn
    parts = {
        "f_att": [model.f_att],
        "conv1": [model.conv1],
        "f_cls": [model.f_cls],
        "layer3": [cnn[6]],
        "layer2": [cnn[5]],
        "layer1": [cnn[4]],
        "stem": [cnn[0], cnn[1]],
    }
    if stage not in parts:
        raise ValueError(f"unknown randomisation stage {stage!r}; choose from {CASCADE}")
    return parts[stage]


def reinitialise(modules: Sequence[nn.Module]) -> None:
    """Give every layer of `modules` a fresh default initialisation (BatchNorm: weight 1, bias 0 and
    fresh running statistics)."""
    for module in modules:
        for layer in module.modules():
            reset = getattr(layer, "reset_parameters", None)
            if callable(reset):
                reset()


def randomised_cascade(model: SRN, stages: Sequence[str] = CASCADE, seed: int = 0) -> Iterator[tuple[str, SRN]]:
    """Yield (stage, model with that stage and all before it re-initialised), each a new deep copy in
    eval mode; the global random state and `model` are left as they were."""
    current = copy.deepcopy(model).eval()
    device = next(current.parameters()).device
    devices = [device.index or 0] if device.type == "cuda" else []
    for k, stage in enumerate(stages):
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            torch.manual_seed(seed + k)
            reinitialise(stage_modules(current, stage))
        yield stage, copy.deepcopy(current).eval()
