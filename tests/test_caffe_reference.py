"""An independent reference for Caffe's layers (numpy, float64, written from Caffe's documented semantics),
and tests that pin the reference itself to hand-computed values.

The executor (srn_core.caffe.layers) is checked against `reference_forward`; the two share nothing
but the parsed prototxt.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from srn_core.caffe.reader import CaffeNet

INPUT_TYPES = {"Input", "Data", "ImageData", "MemoryData", "DummyData"}


def _hw(p, single: str, h: str, w: str, default: int) -> tuple[int, int]:
    if p.HasField(h):
        return getattr(p, h), getattr(p, w)
    value = getattr(p, single)
    if not isinstance(value, int):
        value = value[0] if len(value) else default
    elif not p.HasField(single):
        value = default
    return value, value


def ref_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride, pad, dilation, group: int) -> np.ndarray:
    n, c, height, width = x.shape
    out_ch, cin, kh, kw = w.shape
    xp = np.zeros((n, c, height + 2 * pad[0], width + 2 * pad[1]))
    xp[:, :, pad[0] : pad[0] + height, pad[1] : pad[1] + width] = x
    oh = (height + 2 * pad[0] - (dilation[0] * (kh - 1) + 1)) // stride[0] + 1
    ow = (width + 2 * pad[1] - (dilation[1] * (kw - 1) + 1)) // stride[1] + 1
    out = np.zeros((n, out_ch, oh, ow))
    per_group = out_ch // group
    for g in range(group):
        for i in range(kh):
            for j in range(kw):
                r0, c0 = i * dilation[0], j * dilation[1]
                patch = xp[
                    :,
                    g * cin : (g + 1) * cin,
                    r0 : r0 + stride[0] * (oh - 1) + 1 : stride[0],
                    c0 : c0 + stride[1] * (ow - 1) + 1 : stride[1],
                ]
                out[:, g * per_group : (g + 1) * per_group] += np.einsum(
                    "ncyx,oc->noyx", patch, w[g * per_group : (g + 1) * per_group, :, i, j]
                )
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def ref_pool(x: np.ndarray, method: int, kernel, stride, pad) -> np.ndarray:
    """Caffe's PoolingLayer::Forward_cpu, loop for loop."""
    n, c, height, width = x.shape
    oh = int(math.ceil((height + 2 * pad[0] - kernel[0]) / stride[0])) + 1
    ow = int(math.ceil((width + 2 * pad[1] - kernel[1]) / stride[1])) + 1
    if pad[0] or pad[1]:
        if (oh - 1) * stride[0] >= height + pad[0]:
            oh -= 1
        if (ow - 1) * stride[1] >= width + pad[1]:
            ow -= 1
    out = np.zeros((n, c, oh, ow))
    for ph in range(oh):
        for pw in range(ow):
            hs, ws = ph * stride[0] - pad[0], pw * stride[1] - pad[1]
            if method == 0:
                he, we = min(hs + kernel[0], height), min(ws + kernel[1], width)
                hs, ws = max(hs, 0), max(ws, 0)
                out[:, :, ph, pw] = x[:, :, hs:he, ws:we].max(axis=(2, 3))
            else:
                he, we = min(hs + kernel[0], height + pad[0]), min(ws + kernel[1], width + pad[1])
                size = (he - hs) * (we - ws)
                hs, ws, he, we = max(hs, 0), max(ws, 0), min(he, height), min(we, width)
                out[:, :, ph, pw] = x[:, :, hs:he, ws:we].sum(axis=(2, 3)) / size
    return out


def _chan(v: np.ndarray, ndim: int) -> np.ndarray:
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def ref_layer(layer, bottoms: list[np.ndarray], blobs: list[np.ndarray]) -> list[np.ndarray]:
    kind, param = layer.type, layer.param
    x = bottoms[0] if bottoms else None
    if kind == "Convolution":
        p = param.convolution_param
        dil = (p.dilation[0], p.dilation[0]) if len(p.dilation) else (1, 1)
        w = blobs[0].reshape(p.num_output, -1, *_hw(p, "kernel_size", "kernel_h", "kernel_w", 0))
        b = blobs[1].reshape(-1) if p.bias_term else None
        return [
            ref_conv(
                x, w, b, _hw(p, "stride", "stride_h", "stride_w", 1), _hw(p, "pad", "pad_h", "pad_w", 0), dil, p.group
            )
        ]
    if kind == "BN":
        s, t, m, v = (_chan(b.reshape(-1), x.ndim) for b in blobs)
        return [s * (x - m) / np.sqrt(v + param.bn_param.eps) + t]
    if kind == "BatchNorm":
        f = blobs[2].reshape(-1)[0]
        f = 0.0 if f == 0 else 1.0 / f
        m, v = _chan(blobs[0].reshape(-1) * f, x.ndim), _chan(blobs[1].reshape(-1) * f, x.ndim)
        return [(x - m) / np.sqrt(v + param.batch_norm_param.eps)]
    if kind == "Scale":
        y = x * _chan(blobs[0].reshape(-1), x.ndim)
        return [y + _chan(blobs[1].reshape(-1), x.ndim) if param.scale_param.bias_term else y]
    if kind == "ReLU":
        return [np.where(x > 0, x, x * param.relu_param.negative_slope)]
    if kind == "Sigmoid":
        return [1.0 / (1.0 + np.exp(-x))]
    if kind == "TanH":
        return [np.tanh(x)]
    if kind in ("Dropout", "Split"):
        return [x.copy() for _ in layer.tops]
    if kind == "Pooling":
        p = param.pooling_param
        if p.global_pooling:
            return [ref_pool(x, p.pool, x.shape[2:], (1, 1), (0, 0))]
        return [
            ref_pool(
                x,
                p.pool,
                _hw(p, "kernel_size", "kernel_h", "kernel_w", 0),
                _hw(p, "stride", "stride_h", "stride_w", 1),
                _hw(p, "pad", "pad_h", "pad_w", 0),
            )
        ]
    if kind == "Eltwise":
        p = param.eltwise_param
        if p.operation == 0:
            return [np.prod(np.stack(bottoms), axis=0)]
        if p.operation == 2:
            return [np.max(np.stack(bottoms), axis=0)]
        coeff = list(p.coeff) or [1.0] * len(bottoms)
        return [sum(c * b for c, b in zip(coeff, bottoms))]
    if kind == "InnerProduct":
        p = param.inner_product_param
        lead = x.shape[: p.axis]
        y = x.reshape(int(np.prod(lead)), -1) @ blobs[0].reshape(p.num_output, -1).T
        if p.bias_term:
            y = y + blobs[1].reshape(-1)
        return [y.reshape(*lead, p.num_output)]
    if kind == "Softmax":
        axis = param.softmax_param.axis
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return [e / e.sum(axis=axis, keepdims=True)]
    if kind == "Reshape":
        p = param.reshape_param
        dims = [x.shape[p.axis + i] if d == 0 else d for i, d in enumerate(p.shape.dim)]
        return [x.reshape(tuple(x.shape[: p.axis]) + tuple(dims))]
    if kind == "Flatten":
        p = param.flatten_param
        end = p.end_axis % x.ndim
        return [x.reshape(x.shape[: p.axis] + (-1,) + x.shape[end + 1 :])]
    if kind == "Concat":
        return [np.concatenate(bottoms, axis=param.concat_param.axis)]
    if kind == "Slice":
        return np.split(x, list(param.slice_param.slice_point), axis=param.slice_param.axis)
    if kind == "Tile":
        reps = [1] * x.ndim
        reps[param.tile_param.axis] = param.tile_param.tiles
        return [np.tile(x, reps)]
    if kind == "BatchReduction":
        r = param.batch_reduction_param.reduction_param
        levels = list(param.batch_reduction_param.level) or [1]
        moved = np.moveaxis(x, r.axis, 0)
        if r.operation == 5:
            top = -np.sort(-moved, axis=0)[: r.k]
            return [top.mean(axis=0)]
        chunks, start = [], 0
        for level in levels:
            tick = moved.shape[0] if levels == [1] else level * level
            part = moved[start : start + tick].sum(axis=0)
            chunks.append(part / tick if r.operation == 4 else part)
            start += tick
        return [chunks[0] if levels == [1] else np.moveaxis(np.stack(chunks), 0, r.axis)]
    if kind == "Reduction":
        r = param.reduction_param
        flat = x.reshape(x.shape[: r.axis] + (-1,))
        value = {1: flat.sum(-1), 2: np.abs(flat).sum(-1), 3: (flat**2).sum(-1), 4: flat.mean(-1)}[r.operation]
        return [value * r.coeff]
    if kind == "Power":
        p = param.power_param
        return [(p.shift + p.scale * x) ** p.power]
    raise NotImplementedError(kind)


def reference_forward(net: CaffeNet, image: np.ndarray) -> dict[str, np.ndarray]:
    """Every named blob after one forward (in-place blobs hold their last value), float64."""
    blobs = {next(iter(net.inputs)): image.astype(np.float64)}
    for layer in net.layers:
        if layer.type in INPUT_TYPES:
            continue
        tops = ref_layer(layer, [blobs[b] for b in layer.bottoms], [b.astype(np.float64) for b in layer.blobs])
        blobs.update(zip(layer.tops, tops))
    return blobs


def test_reference_conv_matches_a_hand_computed_grouped_strided_case():
    x = np.arange(2 * 4 * 4, dtype=float).reshape(1, 2, 4, 4)
    w = np.zeros((2, 1, 2, 2))
    w[0, 0, 0, 0] = 1.0
    w[1, 0, 1, 1] = 2.0
    out = ref_conv(x, w, np.array([0.5, -1.0]), (2, 2), (0, 0), (1, 1), 2)
    assert out[0, 0].tolist() == [[0.5, 2.5], [8.5, 10.5]]
    assert out[0, 1].tolist() == [[2 * 21 - 1, 2 * 23 - 1], [2 * 29 - 1, 2 * 31 - 1]]


def test_reference_pooling_rounds_up_and_divides_by_the_padded_window():
    x = np.arange(25, dtype=float).reshape(1, 1, 5, 5)
    assert ref_pool(x, 0, (2, 2), (2, 2), (0, 0)).shape == (1, 1, 3, 3)
    assert ref_pool(x, 0, (2, 2), (2, 2), (0, 0))[0, 0, 2, 2] == 24.0
    ave = ref_pool(x, 1, (3, 3), (2, 2), (1, 1))
    assert ave.shape == (1, 1, 3, 3)
    assert ave[0, 0, 0, 0] == pytest.approx((0 + 1 + 5 + 6) / 9)
