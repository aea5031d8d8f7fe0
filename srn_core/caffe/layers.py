"""PyTorch forward functions for the Caffe layer types the SRN models use, in Caffe's TEST-phase semantics.

Each function takes the layer, its bottom tensors and its blobs (as tensors) and returns its tops.
Blob counts and shapes are checked against what the layer's parameters and inputs imply, so a
caffemodel that does not belong to the prototxt is named layer by layer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from .errors import CaffeImportError
from .reader import Layer

Tensors = list[torch.Tensor]
LayerFn = Callable[[Layer, Tensors, Tensors], Tensors]


def _strip(shape: Sequence[int]) -> tuple[int, ...]:
    shape = tuple(int(d) for d in shape)
    while shape and shape[0] == 1:
        shape = shape[1:]
    return shape


def check_blobs(layer: Layer, blobs: Tensors, expected: Sequence[Sequence[int]]) -> Tensors:
    """Blobs reshaped to `expected`, or an error naming the layer (legacy 4-D shapes with leading 1s pass)."""
    if len(blobs) != len(expected):
        have = "no blobs in the caffemodel" if not blobs else f"{len(blobs)} blobs"
        raise CaffeImportError(f"{layer.describe()}: has {have}, its parameters need {len(expected)}")
    out = []
    for index, (blob, shape) in enumerate(zip(blobs, expected)):
        if _strip(blob.shape) != _strip(shape):
            raise CaffeImportError(
                f"{layer.describe()}: blob {index} has shape {tuple(blob.shape)}, "
                f"its parameters and input imply {tuple(shape)}"
            )
        out.append(blob.reshape(tuple(shape)))
    return out


def _axis(layer: Layer, axis: int, ndim: int) -> int:
    canonical = axis + ndim if axis < 0 else axis
    if not 0 <= canonical < ndim:
        raise CaffeImportError(f"{layer.describe()}: axis {axis} is out of range for a {ndim}-D input")
    return canonical


def hw_pair(param, single: str, h: str, w: str, default: int) -> tuple[int, int]:
    """(height, width) of a Caffe size parameter given as `single` (scalar or list) or as `h`/`w`."""
    if param.HasField(h) or param.HasField(w):
        return int(getattr(param, h)), int(getattr(param, w))
    value = getattr(param, single)
    if isinstance(value, int):
        return (int(value), int(value)) if param.HasField(single) else (default, default)
    values = [int(v) for v in value] or [default]
    return (values[0], values[-1])


def _channel_view(t: torch.Tensor, ndim: int) -> torch.Tensor:
    return t.reshape((1, -1) + (1,) * (ndim - 2))


def convolution(layer: Layer, bottoms: Tensors, blobs: Tensors) -> Tensors:
    p = layer.param.convolution_param
    x = bottoms[0]
    kernel = hw_pair(p, "kernel_size", "kernel_h", "kernel_w", 0)
    stride = hw_pair(p, "stride", "stride_h", "stride_w", 1)
    pad = hw_pair(p, "pad", "pad_h", "pad_w", 0)
    dilation = (int(p.dilation[0]), int(p.dilation[-1])) if len(p.dilation) else (1, 1)
    group, out_ch, in_ch = int(p.group), int(p.num_output), int(x.shape[1])
    if min(kernel) <= 0 or out_ch <= 0 or group <= 0 or in_ch % group or out_ch % group:
        raise CaffeImportError(
            f"{layer.describe()}: invalid kernel {kernel}, num_output {out_ch} or group {group} "
            f"for {in_ch} input channels"
        )
    shapes = [(out_ch, in_ch // group, *kernel)] + ([(out_ch,)] if p.bias_term else [])
    params = check_blobs(layer, blobs, shapes)
    bias = params[1] if p.bias_term else None
    return [F.conv2d(x, params[0], bias, stride, pad, dilation, group)]


def bn(layer: Layer, bottoms: Tensors, blobs: Tensors) -> Tensors:
    """The fork's BN layer at test time: scale * (x - mean) / sqrt(var + eps) + shift (one fused pass)."""
    x = bottoms[0]
    channels = int(x.shape[1])
    scale, shift, mean, var = check_blobs(layer, blobs, [(channels,)] * 4)
    factor = scale / torch.sqrt(var + layer.param.bn_param.eps)
    return [torch.addcmul(_channel_view(shift - mean * factor, x.dim()), x, _channel_view(factor, x.dim()))]


def batch_norm(layer: Layer, bottoms: Tensors, blobs: Tensors) -> Tensors:
    """Upstream BatchNorm with global statistics: (x - mean/s) / sqrt(var/s + eps), s the stored factor."""
    x = bottoms[0]
    channels = int(x.shape[1])
    mean, var, factor = check_blobs(layer, blobs, [(channels,), (channels,), (1,)])
    inv = torch.where(factor == 0, torch.zeros_like(factor), 1.0 / factor)
    eps = layer.param.batch_norm_param.eps
    return [(x - _channel_view(mean * inv, x.dim())) / torch.sqrt(_channel_view(var * inv, x.dim()) + eps)]


def _broadcast(t: torch.Tensor, axis: int, ndim: int) -> torch.Tensor:
    return t.reshape((1,) * axis + tuple(t.shape) + (1,) * (ndim - axis - t.dim()))


def scale(layer: Layer, bottoms: Tensors, blobs: Tensors) -> Tensors:
    p = layer.param.scale_param
    x = bottoms[0]
    axis = _axis(layer, p.axis, x.dim())
    if len(bottoms) > 1:
        factor = bottoms[1]
        params = check_blobs(layer, blobs, [tuple(factor.shape)] if p.bias_term else [])
    else:
        end = x.dim() if p.num_axes == -1 else axis + p.num_axes
        shape = tuple(x.shape[axis:end])
        params = check_blobs(layer, blobs, [shape, shape] if p.bias_term else [shape])
        factor = params[0]
    axis = 0 if factor.dim() == 0 else axis
    out = x * _broadcast(factor, axis, x.dim())
    if p.bias_term:
        out = out + _broadcast(params[-1], axis, x.dim())
    return [out]


def relu(layer: Layer, bottoms: Tensors, blobs: Tensors) -> Tensors:
    check_blobs(layer, blobs, [])
    slope = layer.param.relu_param.negative_slope
    return [F.leaky_relu(bottoms[0], slope) if slope else F.relu(bottoms[0])]


def _elementwise(fn: Callable[[torch.Tensor], torch.Tensor]) -> LayerFn:
    def forward(layer: Layer, bottoms: Tensors, blobs: Tensors) -> Tensors:
        check_blobs(layer, blobs, [])
        return [fn(bottoms[0])]

    return forward


def _pool_size(size: int, out: int, kernel: int, stride: int, pad: int, like: torch.Tensor) -> torch.Tensor:
    start = torch.arange(out, device=like.device, dtype=like.dtype) * stride - pad
    end = torch.clamp(start + kernel, max=size + pad)
    return end - start


def pooling(layer: Layer, bottoms: Tensors, blobs: Tensors) -> Tensors:
    """Caffe pooling: output sizes rounded up (ceil), the last window starting inside the image."""
    check_blobs(layer, blobs, [])
    if len(layer.tops) != 1:
        raise CaffeImportError(f"{layer.describe()}: pooling with a mask top is not supported")
    p = layer.param.pooling_param
    x = bottoms[0]
    if x.dim() != 4:
        raise CaffeImportError(f"{layer.describe()}: needs a 4-D input, got shape {tuple(x.shape)}")
    height, width = int(x.shape[2]), int(x.shape[3])
    if p.global_pooling:
        (kh, kw), (sh, sw), (ph, pw) = (height, width), (1, 1), (0, 0)
    else:
        kh, kw = hw_pair(p, "kernel_size", "kernel_h", "kernel_w", 0)
        sh, sw = hw_pair(p, "stride", "stride_h", "stride_w", 1)
        ph, pw = hw_pair(p, "pad", "pad_h", "pad_w", 0)
    if min(kh, kw, sh, sw) <= 0 or ph >= kh or pw >= kw:
        raise CaffeImportError(
            f"{layer.describe()}: invalid kernel ({kh}, {kw}), stride ({sh}, {sw}) or pad ({ph}, {pw})"
        )
    out_h = math.ceil((height + 2 * ph - kh) / sh) + 1
    out_w = math.ceil((width + 2 * pw - kw) / sw) + 1
    if ph or pw:
        out_h -= int((out_h - 1) * sh >= height + ph)
        out_w -= int((out_w - 1) * sw >= width + pw)
    if out_h <= 0 or out_w <= 0:
        raise CaffeImportError(f"{layer.describe()}: kernel ({kh}, {kw}) is larger than the {height}x{width} input")
    extra_h = max(0, (out_h - 1) * sh + kh - height - ph)
    extra_w = max(0, (out_w - 1) * sw + kw - width - pw)
    if p.pool == 0:
        padded = F.pad(x, (pw, extra_w, ph, extra_h), value=-math.inf)
        return [F.max_pool2d(padded, (kh, kw), (sh, sw))[..., :out_h, :out_w]]
    if p.pool == 1:
        padded = F.pad(x, (pw, extra_w, ph, extra_h))
        sums = F.avg_pool2d(padded, (kh, kw), (sh, sw), divisor_override=1)[..., :out_h, :out_w]
        area = torch.outer(_pool_size(height, out_h, kh, sh, ph, x), _pool_size(width, out_w, kw, sw, pw, x))
        return [sums / area]
    raise CaffeImportError(f"{layer.describe()}: pooling method {p.pool} (stochastic) is not supported at test time")


def eltwise(layer: Layer, bottoms: Tensors, blobs: Tensors) -> Tensors:
    check_blobs(layer, blobs, [])
    p = layer.param.eltwise_param
    shape = tuple(bottoms[0].shape)
    if any(tuple(b.shape) != shape for b in bottoms):
        raise CaffeImportError(f"{layer.describe()}: inputs differ in shape: {[tuple(b.shape) for b in bottoms]}")
    coeffs = list(p.coeff)
    if coeffs and (len(coeffs) != len(bottoms) or p.operation != 1):
        raise CaffeImportError(f"{layer.describe()}: coefficients must be one per input and only for SUM")
    if p.operation == 0:
        out = bottoms[0]
        for b in bottoms[1:]:
            out = out * b
        return [out]
    if p.operation == 1:
        coeffs = coeffs or [1.0] * len(bottoms)
        out = bottoms[0] if coeffs[0] == 1 else coeffs[0] * bottoms[0]
        for c, b in zip(coeffs[1:], bottoms[1:]):
            out = torch.add(out, b, alpha=c)
        return [out]
    return [torch.stack(bottoms).amax(dim=0)]


def inner_product(layer: Layer, bottoms: Tensors, blobs: Tensors) -> Tensors:
    p = layer.param.inner_product_param
    x = bottoms[0]
    axis = _axis(layer, p.axis, x.dim())
    flat = x.reshape(tuple(x.shape[:axis]) + (-1,))
    shapes = [(int(p.num_output), int(flat.shape[-1]))] + ([(int(p.num_output),)] if p.bias_term else [])
    params = check_blobs(layer, blobs, shapes)
    return [F.linear(flat, params[0], params[1] if p.bias_term else None)]


def softmax(layer: Layer, bottoms: Tensors, blobs: Tensors) -> Tensors:
    check_blobs(layer, blobs, [])
    x = bottoms[0]
    return [torch.softmax(x, dim=_axis(layer, layer.param.softmax_param.axis, x.dim()))]


def reshape(layer: Layer, bottoms: Tensors, blobs: Tensors) -> Tensors:
    """Caffe Reshape: 0 copies the input dimension, one -1 is inferred; `axis`/`num_axes` pick the span."""
    check_blobs(layer, blobs, [])
    p = layer.param.reshape_param
    x = bottoms[0]
    ndim = x.dim()
    start = p.axis if p.axis >= 0 else ndim + p.axis + 1
    end = ndim if p.num_axes == -1 else start + p.num_axes
    if not 0 <= start <= end <= ndim:
        raise CaffeImportError(
            f"{layer.describe()}: axis {p.axis} / num_axes {p.num_axes} out of range for {ndim}-D input"
        )
    dims = [int(d) for d in p.shape.dim]
    new = [int(x.shape[start + i]) if d == 0 else d for i, d in enumerate(dims)]
    shape = list(x.shape[:start]) + new + list(x.shape[end:])
    if dims.count(-1) > 1 or any(d < -1 for d in dims):
        raise CaffeImportError(f"{layer.describe()}: invalid shape {dims}")
    if -1 in new:
        known = math.prod(d for d in shape if d != -1)
        if known == 0 or x.numel() % known:
            raise CaffeImportError(f"{layer.describe()}: cannot infer -1 in {dims} for input {tuple(x.shape)}")
        shape[shape.index(-1)] = x.numel() // known
    if math.prod(shape) != x.numel():
        raise CaffeImportError(
            f"{layer.describe()}: shape {tuple(shape)} does not hold the {x.numel()} values of input {tuple(x.shape)}"
        )
    return [x.reshape(shape)]


def flatten(layer: Layer, bottoms: Tensors, blobs: Tensors) -> Tensors:
    check_blobs(layer, blobs, [])
    p = layer.param.flatten_param
    x = bottoms[0]
    return [torch.flatten(x, _axis(layer, p.axis, x.dim()), _axis(layer, p.end_axis, x.dim()))]


def concat(layer: Layer, bottoms: Tensors, blobs: Tensors) -> Tensors:
    check_blobs(layer, blobs, [])
    p = layer.param.concat_param
    axis = p.concat_dim if p.HasField("concat_dim") else p.axis
    return [torch.cat(bottoms, dim=_axis(layer, axis, bottoms[0].dim()))]


def slice_layer(layer: Layer, bottoms: Tensors, blobs: Tensors) -> Tensors:
    check_blobs(layer, blobs, [])
    p = layer.param.slice_param
    x = bottoms[0]
    axis = _axis(layer, p.slice_dim if p.HasField("slice_dim") else p.axis, x.dim())
    size, count = int(x.shape[axis]), len(layer.tops)
    points = [int(v) for v in p.slice_point]
    if not points:
        if size % count:
            raise CaffeImportError(f"{layer.describe()}: {size} entries do not split evenly into {count} tops")
        points = [size // count * i for i in range(1, count)]
    bounds = [0, *points, size]
    if len(points) != count - 1 or any(a >= b for a, b in zip(bounds, bounds[1:])):
        raise CaffeImportError(f"{layer.describe()}: slice points {points} do not cut {size} entries into {count} tops")
    return [x.narrow(axis, a, b - a) for a, b in zip(bounds, bounds[1:])]


def split(layer: Layer, bottoms: Tensors, blobs: Tensors) -> Tensors:
    check_blobs(layer, blobs, [])
    return [bottoms[0] for _ in layer.tops]


def tile(layer: Layer, bottoms: Tensors, blobs: Tensors) -> Tensors:
    check_blobs(layer, blobs, [])
    p = layer.param.tile_param
    x = bottoms[0]
    if p.tiles <= 0:
        raise CaffeImportError(f"{layer.describe()}: tiles must be positive, got {p.tiles}")
    reps = [1] * x.dim()
    reps[_axis(layer, p.axis, x.dim())] = int(p.tiles)
    return [x.repeat(*reps)]


def batch_reduction(layer: Layer, bottoms: Tensors, blobs: Tensors) -> Tensors:
    """The fork's BatchReduction: SUM/MEAN over square-sized chunks (`level`s) of an axis, or top-k mean."""
    check_blobs(layer, blobs, [])
    r = layer.param.batch_reduction_param.reduction_param
    x = bottoms[0]
    axis = _axis(layer, r.axis, x.dim())
    levels = [int(v) for v in layer.param.batch_reduction_param.level] or [1]
    if r.operation == 5:
        if len(levels) != 1:
            raise CaffeImportError(f"{layer.describe()}: top-k reduction works with one level only")
        return [x.topk(int(r.k), dim=axis).values.mean(dim=axis)]
    if r.operation not in (1, 4):
        raise CaffeImportError(f"{layer.describe()}: BatchReduction supports SUM, MEAN and TOPK only")
    if levels == [1]:
        out = x.sum(dim=axis)
        return [out / x.shape[axis] if r.operation == 4 else out]
    ticks = [level * level for level in levels]
    if sum(ticks) != x.shape[axis]:
        raise CaffeImportError(
            f"{layer.describe()}: levels {levels} cover {sum(ticks)} entries, axis has {x.shape[axis]}"
        )
    parts = [
        chunk.sum(dim=axis) / (tick if r.operation == 4 else 1) for chunk, tick in zip(x.split(ticks, dim=axis), ticks)
    ]
    return [torch.stack(parts, dim=axis)]


def reduction(layer: Layer, bottoms: Tensors, blobs: Tensors) -> Tensors:
    check_blobs(layer, blobs, [])
    r = layer.param.reduction_param
    x = bottoms[0]
    axis = _axis(layer, r.axis, x.dim())
    flat = x.reshape(tuple(x.shape[:axis]) + (-1,))
    ops = {1: lambda t: t.sum(-1), 2: lambda t: t.abs().sum(-1), 3: lambda t: (t * t).sum(-1), 4: lambda t: t.mean(-1)}
    if r.operation not in ops:
        raise CaffeImportError(f"{layer.describe()}: reduction operation {r.operation} is not supported")
    return [ops[r.operation](flat) * r.coeff]


def power(layer: Layer, bottoms: Tensors, blobs: Tensors) -> Tensors:
    check_blobs(layer, blobs, [])
    p = layer.param.power_param
    return [torch.pow(p.shift + p.scale * bottoms[0], p.power)]


def silence(layer: Layer, bottoms: Tensors, blobs: Tensors) -> Tensors:
    return []


LAYERS: dict[str, LayerFn] = {
    "Convolution": convolution,
    "BN": bn,
    "BatchNorm": batch_norm,
    "Scale": scale,
    "ReLU": relu,
    "Sigmoid": _elementwise(torch.sigmoid),
    "TanH": _elementwise(torch.tanh),
    "Pooling": pooling,
    "Eltwise": eltwise,
    "InnerProduct": inner_product,
    "Softmax": softmax,
    "Reshape": reshape,
    "Flatten": flatten,
    "Concat": concat,
    "Slice": slice_layer,
    "Split": split,
    "Tile": tile,
    "BatchReduction": batch_reduction,
    "Reduction": reduction,
    "Power": power,
    "Dropout": _elementwise(lambda x: x),
    "Silence": silence,
}
"""Layer types computed by the executor (inputs and data layers are handled by the executor itself)."""
