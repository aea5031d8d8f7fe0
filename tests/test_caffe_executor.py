"""The Caffe executor against the independent numpy reference, on our own nets in both formats."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from srn_core.caffe.executor import SUPPORTED_TYPES, CaffeExecutor
from srn_core.caffe.reader import read_net
from srn_core.caffe.synth import NetBuilder, srn_caffe_net
from tests.test_caffe_reference import reference_forward

TOLERANCE = 1e-5


def _random(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def resnet_block_stack(v1: bool, seed: int = 0) -> NetBuilder:
    """A Caffe-style ResNet block stack: stride on the first 1x1, ceil-mode max-pool, weighted sums."""
    rng = np.random.default_rng(seed)
    b = NetBuilder("resnet_stack", (2, 3, 23, 23), v1=v1)

    def conv(name, bottom, cin, cout, k, stride=1, pad=0, group=1):
        return b.add(
            name,
            "Convolution",
            [bottom],
            blobs=[_random(rng, cout, cin // group, k, k, scale=0.5), _random(rng, cout, scale=0.1)],
            convolution_param=dict(num_output=cout, kernel_size=[k], stride=[stride], pad=[pad], group=group),
        )

    x = conv("conv1", "data", 3, 8, 7, 2, 3)
    b.add("conv1_relu", "ReLU", [x], [x])
    x = b.add("pool1", "Pooling", [x], pooling_param=dict(pool=0, kernel_size=3, stride=2))
    cin = 8
    for stage, (width, stride) in enumerate([(4, 1), (8, 2)]):
        for index in range(2):
            s = stride if index == 0 else 1
            name = f"res{stage + 2}{'ab'[index]}"
            shortcut = conv(name + "_branch1", x, cin, 4 * width, 1, s) if index == 0 else x
            y = conv(name + "_branch2a", x, cin, width, 1, s)
            b.add(name + "_branch2a_relu", "ReLU", [y], [y])
            y = conv(name + "_branch2b", y, width, width, 3, 1, 1, group=2)
            b.add(name + "_branch2b_relu", "ReLU", [y], [y], relu_param=dict(negative_slope=0.1))
            y = conv(name + "_branch2c", y, width, 4 * width, 1)
            x = b.add(name, "Eltwise", [shortcut, y], eltwise_param=dict(operation=1, coeff=[1.0, 0.5]))
            b.add(name + "_relu", "ReLU", [x], [x])
            cin = 4 * width
    ave = b.add("pool_ave", "Pooling", [x], pooling_param=dict(pool=1, kernel_size=3, stride=2, pad=1))
    split = b.add("split", "Split", [ave], ["s1", "s2"])
    left = b.add("slice", "Slice", [split], ["left", "right"], slice_param=dict(axis=1, slice_point=[12]))
    b.add("sig", "Sigmoid", [left])
    b.add("tanh", "TanH", ["right"])
    cat = b.add("cat", "Concat", ["sig", "tanh", "s2"], concat_param=dict(axis=1))
    b.add("pow", "Power", [cat], power_param=dict(power=2.0, scale=0.5, shift=1.0))
    b.add("drop", "Dropout", ["pow"], ["pow"], dropout_param=dict(dropout_ratio=0.5))
    flat = b.add("flat", "Flatten", ["pow"])
    fc = b.add(
        "fc",
        "InnerProduct",
        [flat],
        blobs=[_random(rng, 6, 64 * 2 * 2, scale=0.05), _random(rng, 6)],
        inner_product_param=dict(num_output=6),
    )
    b.add("prob", "Softmax", [fc])
    return b


def layer_zoo(seed: int = 1) -> NetBuilder:
    """The remaining layer types and parameters: Tile, (Batch)Reduction, Reshape, MAX/PROD, axes, dilation."""
    rng = np.random.default_rng(seed)
    b = NetBuilder("zoo", (2, 4, 5, 5))
    x = b.add(
        "dil",
        "Convolution",
        ["data"],
        blobs=[_random(rng, 6, 4, 3, 3, scale=0.3)],
        convolution_param=dict(num_output=6, kernel_h=3, kernel_w=3, pad_h=2, pad_w=1, dilation=[2], bias_term=False),
    )
    b.add(
        "bn",
        "BN",
        [x],
        [x],
        [_random(rng, 1, 6), _random(rng, 1, 6), _random(rng, 1, 6), rng.uniform(0.5, 2, (1, 6)).astype(np.float32)],
        bn_param=dict(eps=1e-3),
    )
    b.add(
        "bnorm",
        "BatchNorm",
        [x],
        ["xn"],
        [_random(rng, 6), rng.uniform(0.5, 2, 6).astype(np.float32), np.array([2.0], np.float32)],
    )
    b.add("scale", "Scale", ["xn"], ["xn"], [_random(rng, 6), _random(rng, 6)], scale_param=dict(bias_term=True))
    flat = b.add("flat3", "Reshape", ["xn"], reshape_param=dict(shape=dict(dim=[0, 0, -1])))
    soft = b.add("soft", "Softmax", [flat], softmax_param=dict(axis=2))
    b.add("tile", "Tile", [soft], tile_param=dict(axis=1, tiles=2))
    b.add("max", "Eltwise", ["tile", "tile"], ["mx"], eltwise_param=dict(operation=2))
    b.add("prod", "Eltwise", ["mx", "tile"], eltwise_param=dict(operation=0))
    b.add("sum", "BatchReduction", [soft], batch_reduction_param=dict(reduction_param=dict(axis=2)))
    b.add(
        "topk", "BatchReduction", ["prod"], batch_reduction_param=dict(reduction_param=dict(axis=1, operation=5, k=3))
    )
    b.add("red", "Reduction", ["prod"], reduction_param=dict(axis=1, operation=4, coeff=0.5))
    b.add("red_sq", "Reduction", ["xn"], reduction_param=dict(axis=2, operation=3))
    b.add(
        "ip",
        "InnerProduct",
        ["prod"],
        blobs=[_random(rng, 3, 15, scale=0.1), _random(rng, 3)],
        inner_product_param=dict(num_output=3, axis=2),
    )
    chunks = b.add("chunks", "Reshape", ["prod"], reshape_param=dict(shape=dict(dim=[0, 0, 3, -1])))
    b.add(
        "levels",
        "BatchReduction",
        [chunks],
        batch_reduction_param=dict(level=[1, 2], reduction_param=dict(axis=3, operation=4)),
    )
    return b


def _compare(builder: NetBuilder, tmp_path, stem: str, image: np.ndarray) -> dict[str, float]:
    proto, model = builder.write(tmp_path, stem)
    net = read_net(proto, model)
    mine = CaffeExecutor(net).run(torch.from_numpy(image))
    reference = reference_forward(read_net(proto, model), image)
    assert set(mine) == set(reference)
    diffs = {}
    for name, value in reference.items():
        ours = mine[name].double().numpy()
        assert ours.shape == value.shape, name
        diffs[name] = float(np.abs(ours - value).max() / max(1.0, np.abs(value).max()))
    return diffs


@pytest.mark.parametrize("v1", [True, False], ids=["v1-layers", "v2-layer"])
def test_resnet_block_stack_matches_reference(tmp_path, v1):
    image = np.random.default_rng(3).standard_normal((2, 3, 23, 23)).astype(np.float32)
    diffs = _compare(resnet_block_stack(v1), tmp_path, "stack", image)
    assert max(diffs.values()) < TOLERANCE, diffs
    assert diffs["pool1"] >= 0 and "prob" in diffs


def test_layer_zoo_matches_reference(tmp_path):
    image = np.random.default_rng(4).standard_normal((2, 4, 5, 5)).astype(np.float32)
    diffs = _compare(layer_zoo(), tmp_path, "zoo", image)
    assert max(diffs.values()) < TOLERANCE, diffs
    assert {"levels", "topk", "tile", "red", "ip", "sum"} <= set(diffs)


@pytest.mark.parametrize("norm", ["BN", "BatchNorm"])
def test_srn_net_matches_reference(tmp_path, norm):
    image = np.random.default_rng(5).standard_normal((1, 3, 64, 64)).astype(np.float32)
    diffs = _compare(srn_caffe_net(norm=norm), tmp_path, "srn", image)
    assert max(diffs.values()) < TOLERANCE, diffs
    assert "att.att_Reshape_6" in diffs


def test_shapes_on_meta_device_match_a_real_run(tmp_path):
    proto, model = srn_caffe_net().write(tmp_path, "srn")
    executor = CaffeExecutor(read_net(proto, model))
    shapes = executor.shapes()
    values = executor.run_values(torch.zeros(1, 3, 64, 64))
    assert shapes == {v: tuple(t.shape) for v, t in values.items()}
    assert {"BN", "BatchReduction", "Tile", "Convolution"} <= set(SUPPORTED_TYPES)


def test_a_forward_that_would_exhaust_memory_is_refused_before_allocating(tmp_path):
    from srn_core.caffe.errors import CaffeImportError

    path = tmp_path / "tile.prototxt"
    path.write_text(
        'input: "data" input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8\n'
        'layer { name: "t" type: "Tile" bottom: "data" top: "t" tile_param { axis: 1 tiles: 1000000000 } }\n'
    )
    with pytest.raises(CaffeImportError, match="blob 't' would hold 192000000000 values"):
        CaffeExecutor(read_net(path)).run(torch.zeros(1, 3, 8, 8))
