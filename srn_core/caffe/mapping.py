"""Turn a Caffe SRN into our `SRN` and check that both compute the same thing.

Weights are copied part by part from the structure `structure.SRNFinder` finds. Each chain of
normalisation layers after a backbone conv (the fork's BN with its own eps, or BatchNorm + Scale)
becomes one BatchNorm2d holding the exact per-channel affine map (running mean 0, running var
1 - eps), so any eps in the file is honoured. The first conv's input channels are swapped
BGR -> RGB, so the official preprocessing (BGR, 0-255, mean pixel 104/117/123) becomes our
normalisation mean (123, 117, 104)/255, std 1/255 on RGB input. A fusion y = a*y_cls + b*y_sr with
a + b != 1 is expressed with alpha = a/(a+b) and both classifiers scaled by a+b (noted).
Finally the converted model and the Caffe graph run on the same random input and every output
must agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..backbones import CAFFE_RESNETS
from ..model import SRN
from .errors import MappingError
from .executor import CaffeExecutor
from .structure import Block, ConvUnit, SRNFinder, SRNStructure

OFFICIAL_MEAN_BGR = (104.0, 117.0, 123.0)
RGB_MEAN = tuple(v / 255.0 for v in reversed(OFFICIAL_MEAN_BGR))
RGB_STD = (1.0 / 255.0,) * 3
TORCH_BN_EPS = 1e-5
RELATIVE_TOLERANCE = 1e-4


@dataclass
class Conversion:
    """The converted model, where each part came from, and how closely it reproduces the Caffe graph."""

    model: SRN
    structure: SRNStructure
    parts: dict[str, list[str]]
    max_abs_diff: dict[str, float]
    notes: list[str] = field(default_factory=list)


def _blobs(node) -> list[np.ndarray]:
    return [np.asarray(b, dtype=np.float64) for b in node.layer.blobs]


def _conv(unit: ConvUnit) -> tuple[np.ndarray, np.ndarray]:
    """The conv weight (float32, as stored) and its bias (float64, zeros without a bias term)."""
    blobs = unit.conv.layer.blobs
    out = int(unit.conv.layer.param.convolution_param.num_output)
    bias = (
        blobs[1].reshape(out).astype(np.float64) if unit.conv.layer.param.convolution_param.bias_term else np.zeros(out)
    )
    return blobs[0].reshape((out, -1) + blobs[0].shape[-2:]), bias


def _affine(unit: ConvUnit, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (scale, shift) of conv-bias + norm layers: y = scale * conv(x) + shift."""
    scale, shift = np.ones_like(bias), bias.copy()
    for node in unit.norms:
        blobs = [b.reshape(-1) for b in _blobs(node)]
        kind = node.layer.type
        if kind == "BN":
            gamma, beta, mean, var = blobs
            inv = gamma / np.sqrt(var + node.layer.param.bn_param.eps)
            scale, shift = scale * inv, (shift - mean) * inv + beta
        elif kind == "BatchNorm":
            mean, var, factor = blobs
            s = 0.0 if factor[0] == 0 else 1.0 / factor[0]
            inv = 1.0 / np.sqrt(var * s + node.layer.param.batch_norm_param.eps)
            scale, shift = scale * inv, (shift - mean * s) * inv
        else:
            p = node.layer.param.scale_param
            if p.axis != 1 or p.num_axes != 1:
                raise MappingError(f"{node.layer.describe()}: only per-channel Scale layers map onto BatchNorm")
            gamma = blobs[0]
            scale, shift = scale * gamma, shift * gamma + (blobs[1] if p.bias_term else 0.0)
    return scale, shift


def _tensor(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


def _set_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d, unit: ConvUnit, flip_input: bool = False) -> None:
    weight, bias = _conv(unit)
    if flip_input:
        weight = weight[:, ::-1]
    scale, shift = _affine(unit, bias)
    _copy(conv.weight, weight, unit)
    bn.eps = TORCH_BN_EPS
    for name, value in (
        ("weight", scale),
        ("bias", shift),
        ("running_mean", np.zeros_like(scale)),
        ("running_var", np.full_like(scale, 1.0 - TORCH_BN_EPS)),
    ):
        _copy(getattr(bn, name), value, unit)


def _copy(target: torch.Tensor, value: np.ndarray, unit: ConvUnit) -> None:
    if tuple(target.shape) != tuple(value.shape):
        raise MappingError(
            f"{unit.conv.layer.describe()}: weights of shape {tuple(value.shape)} do not fit "
            f"{tuple(target.shape)} in the converted model"
        )
    with torch.no_grad():
        target.copy_(_tensor(value))


def _set_plain(module: nn.Conv2d | nn.Linear, node, scale: float = 1.0) -> None:
    blobs = _blobs(node)
    weight = blobs[0].reshape(module.weight.shape) if blobs[0].size == module.weight.numel() else blobs[0]
    p = node.layer.param.convolution_param if node.layer.type == "Convolution" else node.layer.param.inner_product_param
    bias = blobs[1].reshape(-1) if p.bias_term else np.zeros(module.weight.shape[0])
    _copy(module.weight, weight * scale, ConvUnit(node))
    _copy(module.bias, bias * scale, ConvUnit(node))


def _set_block(target: nn.Module, block: Block) -> None:
    for index, unit in enumerate(block.units, start=1):
        _set_conv_bn(getattr(target, f"conv{index}"), getattr(target, f"bn{index}"), unit)
    if block.shortcut is not None:
        _set_conv_bn(target.downsample[0], target.downsample[1], block.shortcut)


def _fusion_weights(structure: SRNStructure, view_source) -> tuple[float, float]:
    p = structure.fusion.layer.param.eltwise_param
    coeffs = list(p.coeff) or [1.0, 1.0]
    by_value = {view_source(v): c for v, c in zip(structure.fusion.inputs, coeffs)}
    return float(by_value[structure.fc_cls.outputs[0]]), float(by_value[structure.fc_sr.outputs[0]])


def build_model(structure: SRNStructure, shapes: dict[int, tuple[int, ...]], view_source) -> tuple[SRN, list[str]]:
    """An SRN with the Caffe weights copied in (eval mode) and notes on anything rescaled."""
    blocks = tuple(len(stage) for stage in structure.stages)
    backbone = next((name for name, layout in CAFFE_RESNETS.items() if layout == blocks), None)
    if backbone is None:
        raise MappingError(
            f"the ResNet has {blocks} blocks per stage; the mapping knows "
            + ", ".join(f"{name} {layout}" for name, layout in CAFFE_RESNETS.items())
        )
    widths = tuple(int(stage[0].units[0].conv.layer.param.convolution_param.num_output) for stage in structure.stages)
    stem_ch = int(structure.stem.conv.layer.param.convolution_param.num_output)
    if stem_ch != widths[0]:
        raise MappingError(
            f"the stem has {stem_ch} channels but stage 1 is {widths[0]} wide; the Caffe-style backbone ties them"
        )
    input_size = shapes[structure.image][-1]
    a_cls, a_sr = _fusion_weights(structure, view_source)
    if a_cls <= 0 or a_sr <= 0:
        raise MappingError(
            f"{structure.fusion.layer.describe()}: fusion coefficients ({a_cls}, {a_sr}) must be positive"
        )
    total = a_cls + a_sr
    notes = (
        []
        if abs(total - 1.0) < 1e-6
        else [
            f"the file fuses y = {a_cls:g} * y_cls + {a_sr:g} * y_sr; mapped as alpha {a_cls / total:g} with both "
            f"classifiers scaled by {total:g}, so main-net and SRN-branch logits are {total:g} x the file's"
        ]
    )
    conv4 = structure.sr[2].conv.layer.param.convolution_param
    model = SRN(
        int(structure.fc_cls.layer.param.inner_product_param.num_output),
        backbone,
        a_cls / total,
        input_size,
        widths,
        int(structure.att[0].conv.layer.param.convolution_param.num_output),
        int(conv4.group),
        int(conv4.num_output) // int(conv4.group),
    )
    _set_conv_bn(model.f_cnn[0], model.f_cnn[1], structure.stem, flip_input=True)
    for stage, target in zip(structure.stages, (model.f_cnn[4], model.f_cnn[5], model.f_cnn[6], model.f_cls.layer4)):
        for block, module in zip(stage, target):
            _set_block(module, block)
    for module, unit in zip((model.f_att.conv1, model.f_att.conv2, model.f_att.conv3), structure.att):
        _set_plain(module, unit.conv)
    _set_plain(model.conv1, structure.confidence.conv)
    for module, unit in zip((model.f_sr.conv2, model.f_sr.conv3, model.f_sr.conv4), structure.sr):
        _set_plain(module, unit.conv)
    _set_plain(model.f_cls.fc, structure.fc_cls, total)
    _set_plain(model.f_sr.fc, structure.fc_sr, total)
    return model.eval(), notes


def part_names(structure: SRNStructure) -> dict[str, list[str]]:
    """Which Caffe layers went into which part of our SRN (for the summary and the provenance)."""

    def names(units: list[ConvUnit]) -> list[str]:
        return [u.conv.layer.name for u in units]

    stages = {f"stage{i + 1}": [b.units[0].conv.layer.name for b in stage] for i, stage in enumerate(structure.stages)}
    return {
        "stem": names([structure.stem]),
        **stages,
        "f_att": names(structure.att),
        "confidence": names([structure.confidence]),
        "f_sr": names(structure.sr),
        "classifiers": [structure.fc_cls.layer.name, structure.fc_sr.layer.name],
        "fusion": [structure.fusion.layer.name],
    }


def compare(
    executor: CaffeExecutor, structure: SRNStructure, model: SRN, total_scale: float, seed: int = 0
) -> dict[str, float]:
    """Max |difference| between the converted model and the Caffe graph on one random input per output."""
    size = model.config.input_size
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand((1, 3, size, size), generator=generator) * 255.0 - torch.tensor(OFFICIAL_MEAN_BGR).view(
        1, 3, 1, 1
    )
    values = executor.run_values(image)
    with torch.no_grad():
        ours = model(image.flip(1))
    pairs = {
        "logits": (ours.logits, values[structure.fusion.outputs[0]]),
        "cls_logits": (ours.cls_logits / total_scale, values[structure.fc_cls.outputs[0]]),
        "sr_logits": (ours.sr_logits / total_scale, values[structure.fc_sr.outputs[0]]),
        "attention": (ours.attention, values[structure.attention]),
        "confidence_logits": (ours.confidence_logits, values[structure.confidence.conv.outputs[0]]),
        "weighted_attention": (ours.weighted_attention, values[structure.weighted_attention]),
    }
    diffs = {}
    for name, (mine, theirs) in pairs.items():
        if mine.numel() != theirs.numel():
            raise MappingError(
                f"{name}: the converted model gives {tuple(mine.shape)}, the Caffe graph {tuple(theirs.shape)}"
            )
        diff = float((mine.reshape(-1) - theirs.reshape(-1)).abs().max())
        scale = float(theirs.abs().max()) + 1e-6
        if not diff <= RELATIVE_TOLERANCE * max(scale, 1.0):
            raise MappingError(
                f"the converted model differs from the Caffe graph in {name}: max |difference| "
                f"{diff:.3g} (values up to {scale:.3g}); the file computes this output differently "
                f"from SRN_SPEC.md"
            )
        diffs[name] = diff
    return diffs


def convert(executor: CaffeExecutor, image_shape: tuple[int, ...] | None = None) -> Conversion:
    """Find the SRN in the executor's graph, copy its weights into our SRN and verify the result."""
    shapes = executor.shapes(image_shape)
    finder = SRNFinder(executor.graph, shapes, executor.image_input)
    structure = finder.find()
    model, notes = build_model(structure, shapes, finder.view.source)
    a_cls, a_sr = _fusion_weights(structure, finder.view.source)
    diffs = compare(executor, structure, model, a_cls + a_sr)
    return Conversion(model, structure, part_names(structure), diffs, notes)
