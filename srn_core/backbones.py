"""ResNet backbones split the way SRN uses them: f_cnn (stem + stages 1-3) and stage 4.

torchvision's resnet18/34/50/101/152 are used as they are; `compact` is the same topology
(BasicBlock, four stages of strides 1, 2, 2, 2) with narrower stages, small enough to train on a CPU.
`caffe_resnet50/101/152` are the Caffe-style ResNets of the authors' released models (the stride of
a downsampling bottleneck on its first 1x1 convolution, a max-pool without padding that rounds up),
used to hold weights imported from Caffe (srn_core.caffe).
ImageNet weights are only ever read from a local file or torchvision's local cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torchvision import models
from torchvision.models.resnet import BasicBlock, Bottleneck, conv1x1

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

TORCHVISION_RESNETS = {
    "resnet18": (models.resnet18, models.ResNet18_Weights.IMAGENET1K_V1),
    "resnet34": (models.resnet34, models.ResNet34_Weights.IMAGENET1K_V1),
    "resnet50": (models.resnet50, models.ResNet50_Weights.IMAGENET1K_V1),
    "resnet101": (models.resnet101, models.ResNet101_Weights.IMAGENET1K_V1),
    "resnet152": (models.resnet152, models.ResNet152_Weights.IMAGENET1K_V1),
}
COMPACT = "compact"
DEFAULT_COMPACT_WIDTHS = (32, 64, 128, 256)
CAFFE_RESNETS = {"caffe_resnet50": (3, 4, 6, 3), "caffe_resnet101": (3, 4, 23, 3), "caffe_resnet152": (3, 8, 36, 3)}
DEFAULT_CAFFE_WIDTHS = (64, 128, 256, 512)
BACKBONE_NAMES = (*TORCHVISION_RESNETS, COMPACT, *CAFFE_RESNETS)
WIDTH_BACKBONES = (COMPACT, *CAFFE_RESNETS)
"""Backbones whose stage widths are configurable (and recorded in the checkpoint's `widths`)."""


class PretrainedWeightsError(FileNotFoundError):
    """ImageNet weights were asked for but no local copy exists; the message says what to provide."""


@dataclass
class BackboneParts:
    """The pieces of a ResNet that SRN wires up, with the channel counts it needs."""

    stem_to_stage3: nn.Sequential
    stage4: nn.Module
    feature_channels: int
    final_channels: int
    widths: tuple[int, int, int, int]


class CompactResNet(nn.Module):
    """A narrow ResNet (BasicBlock) with torchvision's module names, for CPU training."""

    def __init__(
        self,
        widths: tuple[int, int, int, int] = DEFAULT_COMPACT_WIDTHS,
        blocks: tuple[int, int, int, int] = (1, 1, 1, 1),
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        in_ch = widths[0]
        for index, (width, count, stride) in enumerate(zip(widths, blocks, (1, 2, 2, 2)), start=1):
            layers = []
            for block in range(count):
                s = stride if block == 0 else 1
                down = None
                if s != 1 or in_ch != width:
                    down = nn.Sequential(conv1x1(in_ch, width, s), nn.BatchNorm2d(width))
                layers.append(BasicBlock(in_ch, width, s, down))
                in_ch = width
            setattr(self, f"layer{index}", nn.Sequential(*layers))
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")


class CaffeResNet(nn.Module):
    """A bottleneck ResNet as Caffe builds it, with torchvision's module names.

    Differences from torchvision: a downsampling bottleneck strides in its first 1x1 convolution
    (torchvision strides in the 3x3), and the stem's 3x3/2 max-pool has no padding and rounds its
    output size up (Caffe's ceil rule), so a 224 input still gives 56, 28, 14 and 7.
    """

    def __init__(
        self, blocks: tuple[int, int, int, int], widths: tuple[int, int, int, int] = DEFAULT_CAFFE_WIDTHS
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=0, ceil_mode=True)
        in_ch = widths[0]
        for index, (width, count, stride) in enumerate(zip(widths, blocks, (1, 2, 2, 2)), start=1):
            layers = []
            for block in range(count):
                s = stride if block == 0 else 1
                out_ch = width * Bottleneck.expansion
                down = None
                if s != 1 or in_ch != out_ch:
                    down = nn.Sequential(conv1x1(in_ch, out_ch, s), nn.BatchNorm2d(out_ch))
                unit = Bottleneck(in_ch, width, s, down)
                unit.conv1.stride, unit.conv2.stride = (s, s), (1, 1)
                layers.append(unit)
                in_ch = out_ch
            setattr(self, f"layer{index}", nn.Sequential(*layers))


def _split(net: nn.Module, widths: tuple[int, int, int, int], expansion: int) -> BackboneParts:
    stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3)
    return BackboneParts(stem, net.layer4, widths[2] * expansion, widths[3] * expansion, widths)


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    return torch.load(path, map_location="cpu", weights_only=True)


def locate_imagenet_weights(name: str) -> Path:
    """Path of the ImageNet weights of a torchvision ResNet in torchvision's local cache."""
    _, weights = TORCHVISION_RESNETS[name]
    filename = weights.url.rsplit("/", 1)[-1]
    path = Path(torch.hub.get_dir()) / "checkpoints" / filename
    if not path.is_file():
        raise PretrainedWeightsError(
            f"ImageNet weights for {name} are not on this machine: expected {path}. "
            f"Copy {filename} there (torchvision's cache; TORCH_HOME moves it) or pass a local "
            f"weights file with --pretrained PATH. Nothing is downloaded."
        )
    return path


def build_backbone(
    name: str, widths: tuple[int, int, int, int] | None = None, pretrained: str | Path | bool | None = None
) -> BackboneParts:
    """Build backbone `name`, optionally initialised from ImageNet weights found locally.

    `pretrained`: None/False for random init, True for torchvision's local cache, or a file path
    (.pth state dict read with weights_only=True, or .safetensors).
    """
    if name == COMPACT:
        if pretrained:
            raise ValueError("the compact backbone has no ImageNet weights; train it from scratch")
        w = tuple(widths or DEFAULT_COMPACT_WIDTHS)
        if len(w) != 4 or any(int(v) <= 0 for v in w):
            raise ValueError(f"compact widths must be four positive integers, got {widths!r}")
        return _split(CompactResNet(w), w, 1)
    if name in CAFFE_RESNETS:
        if pretrained:
            raise ValueError(
                f"{name} has no ImageNet weights here; import a Caffe model (python -m srn_core import-caffe)"
            )
        w = tuple(widths or DEFAULT_CAFFE_WIDTHS)
        if len(w) != 4 or any(int(v) <= 0 for v in w):
            raise ValueError(f"{name} widths must be four positive integers, got {widths!r}")
        return _split(CaffeResNet(CAFFE_RESNETS[name], w), w, Bottleneck.expansion)
    if name not in TORCHVISION_RESNETS:
        raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONE_NAMES)}")
    factory, _ = TORCHVISION_RESNETS[name]
    net = factory(weights=None)
    if pretrained:
        path = locate_imagenet_weights(name) if pretrained is True else Path(pretrained)
        if not path.is_file():
            raise PretrainedWeightsError(f"pretrained weights file {path} does not exist")
        net.load_state_dict(_read_state_dict(path))
    expansion = 4 if name in ("resnet50", "resnet101", "resnet152") else 1
    return _split(net, (64, 128, 256, 512), expansion)
