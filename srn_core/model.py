"""The Spatial Regularization Network (Zhu et al., CVPR 2017), built as SRN_SPEC.md draws it.

Sub-module names follow the paper: f_cnn, f_cls, f_att, conv1 (confidence), f_sr (conv2, conv3,
conv4, fc). One forward pass returns every logit and every map, so nothing is recomputed for
visualisation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from .backbones import WIDTH_BACKBONES, build_backbone

FEATURE_STRIDE = 16
PADDING_MODES = ("zeros", "reflect", "replicate")


@dataclass(frozen=True)
class SRNConfig:
    """Everything needed to rebuild an SRN's layers; stored in every checkpoint."""

    num_labels: int
    backbone: str = "resnet101"
    widths: tuple[int, ...] | None = None
    alpha: float = 0.5
    input_size: int = 224
    att_channels: int = 512
    sr_channels: int = 512
    filters_per_channel: int = 4
    padding_mode: str = "zeros"

    def __post_init__(self) -> None:
        if self.num_labels < 1:
            raise ValueError(f"num_labels must be >= 1, got {self.num_labels}")
        if self.input_size % FEATURE_STRIDE or self.input_size < FEATURE_STRIDE:
            raise ValueError(f"input_size must be a positive multiple of {FEATURE_STRIDE}, got {self.input_size}")
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1], got {self.alpha}")
        if self.padding_mode not in PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {', '.join(PADDING_MODES)}, got {self.padding_mode!r}")
        if self.widths is not None:
            object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))

    @property
    def grid(self) -> int:
        """Side of the attention grid (input / 16), which is also conv4's kernel size."""
        return self.input_size // FEATURE_STRIDE

    def to_dict(self) -> dict:
        data = asdict(self)
        data["widths"] = list(self.widths) if self.widths is not None else None
        return data


@dataclass
class SRNOutput:
    """All outputs of one forward pass. Logits are (B, C); maps are (B, C, g, g).

    `logits` is the fused y, `cls_logits` y_cls, `sr_logits` y_sr, `att_logits` y_att; `attention` is A,
    `confidence_logits` is S (conv1's output; the confidence is sigmoid(S)) and `weighted_attention` is
    U = sigmoid(S) * A, the input of f_sr.
    """

    logits: torch.Tensor
    cls_logits: torch.Tensor
    sr_logits: torch.Tensor
    att_logits: torch.Tensor
    attention: torch.Tensor
    confidence_logits: torch.Tensor
    weighted_attention: torch.Tensor


def attention_logits(attention: torch.Tensor, confidence_logits: torch.Tensor) -> torch.Tensor:
    """y_att (B, C) = sum over positions of A * S."""
    return (attention * confidence_logits).sum(dim=(2, 3))


def weighted_attention(attention: torch.Tensor, confidence_logits: torch.Tensor) -> torch.Tensor:
    """U = sigmoid(S) * A (B, C, g, g), the input of f_sr."""
    return torch.sigmoid(confidence_logits) * attention


class MainNetHead(nn.Module):
    """f_cls: ResNet stage 4, global average pooling and a linear layer -> y_cls."""

    def __init__(self, stage4: nn.Module, in_channels: int, num_labels: int) -> None:
        super().__init__()
        self.layer4 = stage4
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_channels, num_labels)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.layer4(features)), 1))


class AttentionNet(nn.Module):
    """f_att: conv 1x1, conv 3x3, conv 1x1 -> Z (one map per label), then a spatial softmax -> A."""

    def __init__(self, in_channels: int, num_labels: int, width: int = 512) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, kernel_size=1)
        self.conv2 = nn.Conv2d(width, width, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(width, num_labels, kernel_size=1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Attention A: (B, C, g, g), each label's map sums to 1 over the g*g positions."""
        z = self.conv3(self.relu(self.conv2(self.relu(self.conv1(features)))))
        return torch.softmax(z.flatten(2), dim=-1).view_as(z)


class SpatialRegularizationNet(nn.Module):
    """f_sr: conv2, conv3 (1x1, semantic), conv4 (grouped g x g single-channel filters, spatial), fc.

    Its pieces are methods, so that training and every analysis that edits U run the same arithmetic:
    `channel_maps` (U -> conv3's K channel maps), `filter_preactivations` (channel maps -> conv4 before its
    ReLU), `cell_terms` (the same split over grid cells), `readout` (conv4 ReLU and fc -> y_sr);
    `forward` chains them. With K channels and F filters per channel, filter f reads channel f // F only.
    """

    def __init__(self, num_labels: int, grid: int, channels: int = 512, filters_per_channel: int = 4) -> None:
        super().__init__()
        self.conv2 = nn.Conv2d(num_labels, channels, kernel_size=1)
        self.conv3 = nn.Conv2d(channels, channels, kernel_size=1)
        self.conv4 = nn.Conv2d(channels, channels * filters_per_channel, kernel_size=grid, groups=channels)
        self.fc = nn.Linear(channels * filters_per_channel, num_labels)

    @property
    def filters_per_channel(self) -> int:
        """F, the number of conv4 filters that read each channel."""
        return self.conv4.out_channels // self.conv4.in_channels

    def channel_maps(self, weighted_attention: torch.Tensor) -> torch.Tensor:
        """conv2, ReLU, conv3, ReLU: U (B, C, g, g) -> K channel maps (B, K, g, g), the semantic part.

        Both convolutions are 1x1, so every grid cell is computed from that cell of U alone.
        """
        return torch.relu(self.conv3(torch.relu(self.conv2(weighted_attention))))

    def filter_preactivations(self, channel_maps: torch.Tensor) -> torch.Tensor:
        """conv4 before its ReLU: channel maps (B, K, g, g) -> (B, K * F), one value per spatial filter."""
        return self.conv4(channel_maps).flatten(1)

    def cell_terms(self, channel_maps: torch.Tensor) -> torch.Tensor:
        """conv4 split over grid cells: (B, K * F, g * g), cell p's share of each filter's pre-activation.

        Summed over cells plus conv4's bias this is `filter_preactivations` (conv4 is linear before its
        ReLU), so a change of the channel maps at one cell changes the pre-activations by that cell's term.
        """
        spread = channel_maps.flatten(2).repeat_interleave(self.filters_per_channel, dim=1)
        return self.conv4.weight.flatten(1) * spread

    def readout(self, filter_preactivations: torch.Tensor) -> torch.Tensor:
        """conv4's ReLU and fc: pre-activations (B, K * F) -> y_sr (B, C)."""
        return self.fc(torch.relu(filter_preactivations))

    def forward(self, weighted_attention: torch.Tensor) -> torch.Tensor:
        """y_sr (B, C) from the weighted attention maps U (B, C, g, g)."""
        return self.readout(self.filter_preactivations(self.channel_maps(weighted_attention)))


def set_padding_mode(module: nn.Module, mode: str) -> None:
    """Pad every padded convolution of `module` with `mode` ("zeros" is PyTorch's default).

    Zero padding marks the image border, which a CNN uses to tell where a cell lies. "reflect" and
    "replicate" leave no such mark, so the border can only be inferred from the content. The shipped
    demo model's attention no longer peaks on the border row with reflect padding, but its main net
    still reads position (weights/README.md).
    """
    for conv in module.modules():
        if isinstance(conv, nn.Conv2d) and any(conv.padding):
            conv.padding_mode = mode


class SRN(nn.Module):
    """Spatial Regularization Network: main net f_cnn + f_cls, f_att, conv1 and f_sr, fused by alpha."""

    def __init__(
        self,
        num_labels: int,
        backbone: str = "resnet101",
        alpha: float = 0.5,
        input_size: int = 224,
        widths: tuple[int, ...] | None = None,
        att_channels: int = 512,
        sr_channels: int = 512,
        filters_per_channel: int = 4,
        pretrained: str | Path | bool | None = None,
        padding_mode: str = "zeros",
    ) -> None:
        super().__init__()
        if backbone not in WIDTH_BACKBONES and widths is not None:
            raise ValueError(f"widths only apply to the {', '.join(WIDTH_BACKBONES)} backbones, not {backbone}")
        parts = build_backbone(backbone, widths, pretrained)
        self.config = SRNConfig(
            num_labels,
            backbone,
            parts.widths if backbone in WIDTH_BACKBONES else None,
            alpha,
            input_size,
            att_channels,
            sr_channels,
            filters_per_channel,
            padding_mode,
        )
        grid = self.config.grid
        self.f_cnn = parts.stem_to_stage3
        self.f_cls = MainNetHead(parts.stage4, parts.final_channels, num_labels)
        self.f_att = AttentionNet(parts.feature_channels, num_labels, att_channels)
        self.conv1 = nn.Conv2d(parts.feature_channels, num_labels, kernel_size=1)
        self.f_sr = SpatialRegularizationNet(num_labels, grid, sr_channels, filters_per_channel)
        set_padding_mode(self, padding_mode)

    @classmethod
    def from_config(cls, config: SRNConfig) -> SRN:
        """A freshly initialised SRN with the layers `config` describes."""
        return cls(
            config.num_labels,
            config.backbone,
            config.alpha,
            config.input_size,
            config.widths,
            config.att_channels,
            config.sr_channels,
            config.filters_per_channel,
            padding_mode=config.padding_mode,
        )

    @property
    def num_labels(self) -> int:
        return self.config.num_labels

    def check_input(self, images: torch.Tensor) -> None:
        """Raise ValueError unless `images` is (B, 3, S, S) with S the model's input size."""
        size = self.config.input_size
        if images.dim() != 4 or images.shape[1] != 3 or tuple(images.shape[-2:]) != (size, size):
            raise ValueError(
                f"expected images of shape (B, 3, {size}, {size}) so that the feature grid is "
                f"{self.config.grid}x{self.config.grid}, got {tuple(images.shape)}; resize images to "
                f"{size}x{size} first (srn_core.preprocess.Preprocessor does)"
            )

    def fuse(self, cls_logits: torch.Tensor, sr_logits: torch.Tensor) -> torch.Tensor:
        """y = alpha * y_cls + (1 - alpha) * y_sr."""
        alpha = self.config.alpha
        return alpha * cls_logits + (1.0 - alpha) * sr_logits

    def forward(self, images: torch.Tensor) -> SRNOutput:
        self.check_input(images)
        features = self.f_cnn(images)
        cls_logits = self.f_cls(features)
        attention = self.f_att(features)
        confidence_logits = self.conv1(features)
        maps = weighted_attention(attention, confidence_logits)
        sr_logits = self.f_sr(maps)
        return SRNOutput(
            self.fuse(cls_logits, sr_logits),
            cls_logits,
            sr_logits,
            attention_logits(attention, confidence_logits),
            attention,
            confidence_logits,
            maps,
        )


__all__ = [
    "SRN",
    "SRNConfig",
    "SRNOutput",
    "AttentionNet",
    "MainNetHead",
    "SpatialRegularizationNet",
    "attention_logits",
    "weighted_attention",
]
