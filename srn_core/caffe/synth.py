"""Write Caffe nets ourselves: a prototxt and a caffemodel with random weights, V1 or V2 format.

The authors' files cannot be downloaded here, so the tests and the benchmark build nets of the same
shape through our own message definitions: `NetBuilder` for any layer list, `srn_caffe_net` for an
SRN as the release lays it out (Caffe-style ResNet, f_att with a reshaped spatial softmax, confidence
conv, f_sr with the grouped g x g conv4, two classifiers fused by a weighted Eltwise SUM).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from google.protobuf import text_format

from .proto import NetParameter

V1_TYPES = {
    "Convolution": "CONVOLUTION",
    "ReLU": "RELU",
    "Pooling": "POOLING",
    "Eltwise": "ELTWISE",
    "InnerProduct": "INNER_PRODUCT",
    "Softmax": "SOFTMAX",
    "Concat": "CONCAT",
    "Slice": "SLICE",
    "Split": "SPLIT",
    "Power": "POWER",
    "Dropout": "DROPOUT",
    "Sigmoid": "SIGMOID",
    "TanH": "TANH",
    "Flatten": "FLATTEN",
    "Data": "DATA",
    "LRN": "LRN",
}


def _fill(message, values: dict) -> None:
    for key, value in values.items():
        target = getattr(message, key)
        if isinstance(value, dict):
            _fill(target, value)
        elif isinstance(value, (list, tuple)):
            if value and isinstance(value[0], dict):
                for item in value:
                    _fill(target.add(), item)
            else:
                target.extend(value)
        else:
            setattr(message, key, value)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _blob_bytes(array: np.ndarray) -> bytes:
    """A BlobProto on the wire: shape (field 7, packed int64 dims) and data (field 5, packed floats)."""
    dims = b"".join(_varint(int(d)) for d in array.shape)
    shape = b"\x0a" + _varint(len(dims)) + dims
    data = np.ascontiguousarray(array, dtype="<f4").tobytes()
    return b"\x3a" + _varint(len(shape)) + shape + b"\x2a" + _varint(len(data)) + data


@dataclass
class NetBuilder:
    """Collects layers; writes the prototxt (no blobs) and the caffemodel (layers with blobs)."""

    name: str
    input_shape: tuple[int, ...]
    v1: bool = False
    input_name: str = "data"
    layers: list[tuple[str, str, list[str], list[str], dict, list[np.ndarray]]] = field(default_factory=list)

    def add(
        self,
        name: str,
        kind: str,
        bottoms: list[str],
        tops: list[str] | None = None,
        blobs: list[np.ndarray] | None = None,
        **params,
    ) -> str:
        """Append a layer; returns its first top (its name unless `tops` says otherwise)."""
        tops = [name] if tops is None else tops
        self.layers.append((name, kind, list(bottoms), list(tops), params, list(blobs or [])))
        return tops[0] if tops else ""

    def _net(self, with_blobs: bool):
        net = NetParameter(name=self.name)
        net.input.append(self.input_name)
        net.input_dim.extend(self.input_shape)
        for name, kind, bottoms, tops, params, blobs in self.layers:
            layer = net.layers.add() if self.v1 else net.layer.add()
            layer.name = name
            if self.v1:
                layer.type = type(layer).LayerType.Value(V1_TYPES[kind])
            else:
                layer.type = kind
            layer.bottom.extend(bottoms)
            layer.top.extend(tops)
            _fill(layer, params)
            if with_blobs:
                for array in blobs:
                    layer.blobs.add().MergeFromString(_blob_bytes(array))
        return net

    def prototxt(self) -> str:
        return text_format.MessageToString(self._net(False))

    def caffemodel(self) -> bytes:
        return self._net(True).SerializeToString()

    def write(self, folder: str | Path, stem: str) -> tuple[Path, Path]:
        """Write `stem.prototxt` and `stem.caffemodel` into `folder`."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        proto, model = folder / f"{stem}.prototxt", folder / f"{stem}.caffemodel"
        proto.write_text(self.prototxt(), encoding="utf-8")
        model.write_bytes(self.caffemodel())
        return proto, model


PIXEL_GAIN = 1 / 64
"""Stem weights are scaled by this so mean-subtracted 0-255 pixels give activations of order 1,
as in a trained net (random BN statistics do not normalise)."""


@dataclass
class _Weights:
    rng: np.random.Generator

    def conv(self, out_ch: int, in_ch: int, k: int) -> np.ndarray:
        return (self.rng.standard_normal((out_ch, in_ch, k, k)) / np.sqrt(in_ch * k * k)).astype(np.float32)

    def vector(self, n: int, low: float = -0.2, high: float = 0.2) -> np.ndarray:
        return self.rng.uniform(low, high, n).astype(np.float32)

    def linear(self, out_f: int, in_f: int) -> np.ndarray:
        return (self.rng.standard_normal((out_f, in_f)) / np.sqrt(in_f)).astype(np.float32)


class _SRNWriter:
    """Lays out an SRN in Caffe layers; `norm` is "BN" (the fork) or "BatchNorm" (upstream + Scale)."""

    def __init__(self, builder: NetBuilder, weights: _Weights, norm: str, opaque: bool) -> None:
        self.b, self.w, self.norm, self.opaque, self.count = builder, weights, norm, opaque, 0

    def name(self, readable: str) -> str:
        self.count += 1
        return f"n{self.count:03d}" if self.opaque else readable

    def conv_norm(
        self,
        name: str,
        bottom: str,
        in_ch: int,
        out_ch: int,
        k: int,
        stride: int = 1,
        pad: int = 0,
        relu: bool = True,
        gain: float = 1.0,
    ) -> str:
        top = self.b.add(
            self.name(name),
            "Convolution",
            [bottom],
            blobs=[self.w.conv(out_ch, in_ch, k) * gain],
            convolution_param=dict(num_output=out_ch, kernel_size=[k], stride=[stride], pad=[pad], bias_term=False),
        )
        mean, var = self.w.vector(out_ch, -0.1, 0.1), self.w.vector(out_ch, 0.5, 1.5)
        gamma, beta = self.w.vector(out_ch, 0.8, 1.2), self.w.vector(out_ch)
        if self.norm == "BN":
            self.b.add(
                self.name("bn_" + name),
                "BN",
                [top],
                [top],
                [gamma[None], beta[None], mean[None], var[None]],
                bn_param=dict(eps=1e-3, frozen=True),
            )
        else:
            factor = np.float32(0.5)
            self.b.add(
                self.name("bn_" + name),
                "BatchNorm",
                [top],
                [top],
                [mean * factor, var * factor, np.array([factor], np.float32)],
                batch_norm_param=dict(use_global_stats=True, eps=2e-5),
            )
            self.b.add(
                self.name("scale_" + name), "Scale", [top], [top], [gamma, beta], scale_param=dict(bias_term=True)
            )
        if relu:
            self.b.add(self.name(name + "_relu"), "ReLU", [top], [top])
        return top

    def bottleneck(self, prefix: str, bottom: str, in_ch: int, width: int, stride: int) -> str:
        out_ch = width * 4
        shortcut = bottom
        if stride != 1 or in_ch != out_ch:
            shortcut = self.conv_norm(f"res{prefix}_branch1", bottom, in_ch, out_ch, 1, stride, relu=False)
        x = self.conv_norm(f"res{prefix}_branch2a", bottom, in_ch, width, 1, stride)
        x = self.conv_norm(f"res{prefix}_branch2b", x, width, width, 3, 1, 1)
        x = self.conv_norm(f"res{prefix}_branch2c", x, width, out_ch, 1, relu=False)
        top = self.b.add(self.name(f"res{prefix}"), "Eltwise", [shortcut, x], eltwise_param=dict(operation=1))
        self.b.add(self.name(f"res{prefix}_relu"), "ReLU", [top], [top])
        return top

    def resnet(self, bottom: str, blocks: tuple[int, ...], widths: tuple[int, ...]) -> tuple[str, str, int, int]:
        x = self.conv_norm("conv1", bottom, 3, widths[0], 7, 2, 3, gain=PIXEL_GAIN)
        x = self.b.add(self.name("pool1"), "Pooling", [x], pooling_param=dict(pool=0, kernel_size=3, stride=2))
        in_ch, res4 = widths[0], ""
        for stage, (count, width) in enumerate(zip(blocks, widths)):
            for index in range(count):
                stride = 2 if stage > 0 and index == 0 else 1
                x = self.bottleneck(f"{stage + 2}{chr(97 + index) if count < 27 else index}", x, in_ch, width, stride)
                in_ch = width * 4
            if stage == 2:
                res4 = x
        return res4, x, widths[2] * 4, in_ch


def srn_caffe_net(
    num_labels: int = 5,
    blocks: tuple[int, int, int, int] = (3, 4, 6, 3),
    widths: tuple[int, int, int, int] = (4, 4, 8, 8),
    input_size: int = 64,
    att_channels: int = 8,
    sr_channels: int = 8,
    filters_per_channel: int = 4,
    norm: str = "BN",
    fusion: tuple[float, float] = (0.5, 0.5),
    seed: int = 0,
    opaque_names: bool = False,
) -> NetBuilder:
    """An SRN laid out as the released deploy nets (see module docstring), with random weights."""
    rng = _Weights(np.random.default_rng(seed))
    builder = NetBuilder("srn_synthetic", (1, 3, input_size, input_size))
    w = _SRNWriter(builder, rng, norm, opaque_names)
    grid, c = input_size // 16, num_labels
    res4, res5, feat_ch, final_ch = w.resnet("data", blocks, widths)

    def conv(name: str, bottom: str, in_ch: int, out_ch: int, k: int, pad: int = 0, group: int = 1) -> str:
        return builder.add(
            w.name(name),
            "Convolution",
            [bottom],
            blobs=[rng.conv(out_ch, in_ch // group, k) * np.sqrt(group), rng.vector(out_ch)],
            convolution_param=dict(num_output=out_ch, kernel_size=[k], pad=[pad], group=group),
        )

    def relu(top: str) -> None:
        builder.add(w.name(top + "_relu"), "ReLU", [top], [top])

    pool = builder.add(w.name("pool5"), "Pooling", [res5], pooling_param=dict(pool=1, global_pooling=True))
    y_cls = builder.add(
        w.name("fc_cls"),
        "InnerProduct",
        [pool],
        blobs=[rng.linear(c, final_ch), rng.vector(c)],
        inner_product_param=dict(num_output=c),
    )
    a = conv("att.conv1", res4, feat_ch, att_channels, 1)
    relu(a)
    a = conv("att.conv2", a, att_channels, att_channels, 3, pad=1)
    relu(a)
    z = conv("att.conv3", a, att_channels, c, 1)
    flat = builder.add(w.name("att.att_Reshape_4"), "Reshape", [z], reshape_param=dict(shape=dict(dim=[0, 0, -1])))
    soft = builder.add(w.name("att.att_Softmax_5"), "Softmax", [flat], softmax_param=dict(axis=2))
    att = builder.add(
        w.name("att.att_Reshape_6"), "Reshape", [soft], reshape_param=dict(shape=dict(dim=[0, 0, grid, grid]))
    )
    s = conv("att.conf", res4, feat_ch, c, 1)
    sig = builder.add(w.name("att.conf_sigmoid"), "Sigmoid", [s])
    u = builder.add(w.name("sr.input"), "Eltwise", [sig, att], eltwise_param=dict(operation=0))
    x = conv("sr.conv2", u, c, sr_channels, 1)
    relu(x)
    x = conv("sr.conv3", x, sr_channels, sr_channels, 1)
    relu(x)
    x = conv("sr.conv4", x, sr_channels, sr_channels * filters_per_channel, grid, group=sr_channels)
    relu(x)
    y_sr = builder.add(
        w.name("sr.fc"),
        "InnerProduct",
        [x],
        blobs=[rng.linear(c, sr_channels * filters_per_channel), rng.vector(c)],
        inner_product_param=dict(num_output=c),
    )
    builder.add(w.name("fused"), "Eltwise", [y_cls, y_sr], eltwise_param=dict(operation=1, coeff=list(fusion)))
    product = builder.add(w.name("att.weighted"), "Eltwise", [att, s], eltwise_param=dict(operation=0))
    spatial = builder.add(
        w.name("att.weighted_flat"), "Reshape", [product], reshape_param=dict(shape=dict(dim=[0, 0, -1]))
    )
    builder.add(w.name("y_att"), "BatchReduction", [spatial], batch_reduction_param=dict(reduction_param=dict(axis=2)))
    return builder
