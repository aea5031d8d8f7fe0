"""The SRN mapping: the converted model computes what the Caffe graph computes, opens everywhere,
and a structure it cannot express is named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from srn_core.backbones import build_backbone
from srn_core.caffe.errors import MappingError
from srn_core.caffe.executor import CaffeExecutor
from srn_core.caffe.mapping import OFFICIAL_MEAN_BGR, convert
from srn_core.caffe.reader import read_net
from srn_core.caffe.synth import srn_caffe_net
from srn_core.checkpoint import load_checkpoint
from srn_core.predictor import Predictor

from .test_caffe_reader import main

TOLERANCE = 1e-5


def _official_input(rgb: np.ndarray) -> torch.Tensor:
    """tools/model_test.py's preprocessing of an RGB uint8 image already at the input size."""
    bgr = rgb[:, :, ::-1].astype(np.float32) - np.array(OFFICIAL_MEAN_BGR, np.float32)
    return torch.from_numpy(np.ascontiguousarray(bgr.transpose(2, 0, 1)))[None]


@pytest.fixture(scope="module")
def caffe_files(tmp_path_factory) -> tuple[Path, Path]:
    return srn_caffe_net(num_labels=5, opaque_names=True, seed=7).write(tmp_path_factory.mktemp("caffe"), "srn")


@pytest.mark.parametrize("norm", ["BN", "BatchNorm"])
def test_mapping_equals_the_executor(tmp_path, norm):
    proto, model = srn_caffe_net(norm=norm, opaque_names=True, seed=3).write(tmp_path, "srn")
    executor = CaffeExecutor(read_net(proto, model))
    conversion = convert(executor)
    assert max(conversion.max_abs_diff.values()) < 1e-3
    image = torch.randn(2, 3, 64, 64) * 40
    values = executor.run_values(image)
    s = conversion.structure
    with torch.no_grad():
        ours = conversion.model(image.flip(1))
    scale = max(1.0, float(values[s.fusion.outputs[0]].abs().max()))
    assert float((ours.logits - values[s.fusion.outputs[0]]).abs().max()) < TOLERANCE * scale
    assert float((ours.attention - values[s.attention]).abs().max()) < TOLERANCE
    conv4 = torch.from_numpy(s.sr[2].conv.layer.blobs[0])
    assert torch.equal(conversion.model.f_sr.conv4.weight.detach(), conv4)
    assert conversion.model.config.backbone == "caffe_resnet50" and conversion.model.config.grid == 4
    assert conversion.parts["f_sr"] == [u.conv.layer.name for u in s.sr]


def test_cli_writes_a_checkpoint_that_predicts_like_the_caffe_graph(tmp_path, capsys, caffe_files):
    proto, model = caffe_files
    out = tmp_path / "weights" / "srn_wider.safetensors"
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(f"attr {i}" for i in range(5)))
    code = main(
        [
            "import-caffe",
            "--prototxt",
            str(proto),
            "--caffemodel",
            str(model),
            "--labels",
            str(labels),
            "--out",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0 and "verified against the Caffe graph" in text and "caffe_resnet50" in text
    srn, meta = load_checkpoint(out)
    source = meta.training["source"]
    assert source["original_preprocessing"]["mean_pixel_bgr"] == [104.0, 117.0, 123.0]
    assert meta.label_names == [f"attr {i}" for i in range(5)]
    rgb = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    path = tmp_path / "photo.png"
    Image.fromarray(rgb).save(path)
    [prediction] = Predictor(srn, meta, "cpu").predict([path])
    executor = CaffeExecutor(read_net(proto, model))
    values = executor.run_values(_official_input(rgb))
    s = convert(executor).structure
    expected = torch.sigmoid(values[s.fusion.outputs[0]])[0].numpy()
    assert np.abs(prediction.probabilities()["fused"] - expected).max() < 1e-4
    assert np.abs(prediction.attention - values[s.attention][0].numpy()).max() < 1e-4


def test_converted_file_is_listed_by_the_dashboard(tmp_path, capsys, caffe_files, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from dashboard import settings

    proto, model = caffe_files
    weights = tmp_path / "weights"
    assert (
        main(
            [
                "import-caffe",
                "--prototxt",
                str(proto),
                "--caffemodel",
                str(model),
                "--labels",
                str(_five_labels(tmp_path)),
                "--out",
                str(weights / "srn_caffe.safetensors"),
            ]
        )
        == 0
    )
    monkeypatch.setenv("SRN_WEIGHTS_DIR", str(weights))
    at = AppTest.from_file(str(Path(settings.REPO) / "dashboard" / "app.py"), default_timeout=300)
    at.run()
    assert not at.exception, at.exception
    picker = at.selectbox(key="model_choice")
    assert "srn_caffe.safetensors" in picker.options and picker.value == "srn_caffe.safetensors"
    assert not [e.value for e in at.error]


def _five_labels(folder: Path) -> Path:
    path = folder / "five.txt"
    path.write_text("a\nb\nc\nd\ne\n")
    return path


def _edit(builder, name: str, **params) -> None:
    index = next(i for i, layer in enumerate(builder.layers) if layer[0] == name)
    builder.layers[index][4].update(params)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda b: _edit(b, "fused", eltwise_param=dict(operation=0)), "no Eltwise SUM fuses"),
        (
            lambda b: (
                _edit(
                    b,
                    "res3a_branch2a",
                    convolution_param=dict(num_output=4, kernel_size=[1], stride=[1], pad=[0], bias_term=False),
                ),
                _edit(
                    b,
                    "res3a_branch2b",
                    convolution_param=dict(num_output=4, kernel_size=[3], stride=[2], pad=[1], bias_term=False),
                ),
            ),
            r"torchvision-style stride here is not Caffe-style\): stride 2 \(expected 1\)",
        ),
        (lambda b: _edit(b, "pool1", pooling_param=dict(pool=1, kernel_size=3, stride=2)), "needs a 3x3 max-pool"),
    ],
)
def test_structure_the_mapping_cannot_express_is_named(tmp_path, change, message):
    builder = srn_caffe_net()
    change(builder)
    proto, model = builder.write(tmp_path, "odd")
    executor = CaffeExecutor(read_net(proto, model))
    with pytest.raises(MappingError, match=message):
        convert(executor)
    assert executor.run(torch.zeros(1, 3, 64, 64))["fused"].shape == (1, 5)


def test_caffe_style_backbone_strides_on_the_first_1x1_and_rounds_the_pool_up():
    parts = build_backbone("caffe_resnet101")
    block = parts.stem_to_stage3[5][0]
    assert block.conv1.stride == (2, 2) and block.conv2.stride == (1, 1)
    x = torch.empty(1, 3, 224, 224, device="meta")
    shapes = []
    for layer in parts.stem_to_stage3.to("meta"):
        x = layer(x)
        shapes.append(tuple(x.shape))
    assert shapes[3] == (1, 64, 56, 56) and shapes[-1] == (1, 1024, 14, 14)
    assert len(parts.stem_to_stage3[6]) == 23
    torchvision_block = build_backbone("resnet101").stem_to_stage3[5][0]
    assert torchvision_block.conv1.stride == (1, 1) and torchvision_block.conv2.stride == (2, 2)


def test_release_variants_map_too(tmp_path):
    """A non-global 2x2 average pool, an in-place Dropout before the classifier, a backbone conv with
    a bias, and a plain (1, 1) fusion: the mapping still reproduces the graph and says what it rescaled."""
    builder = srn_caffe_net(fusion=(1.0, 1.0), seed=11)
    _edit(builder, "pool5", pooling_param=dict(pool=1, kernel_size=2, stride=1))
    index = next(i for i, layer in enumerate(builder.layers) if layer[0] == "pool5")
    builder.layers.insert(index + 1, ("drop5", "Dropout", ["pool5"], ["pool5"], {}, []))
    name, kind, bottoms, tops, params, blobs = builder.layers[0]
    params["convolution_param"]["bias_term"] = True
    builder.layers[0] = (name, kind, bottoms, tops, params, blobs + [np.linspace(-1, 1, 4).astype(np.float32)])
    proto, model = builder.write(tmp_path, "variant")
    conversion = convert(CaffeExecutor(read_net(proto, model)))
    assert max(conversion.max_abs_diff.values()) < 1e-3
    assert conversion.model.config.alpha == 0.5 and "scaled by 2" in conversion.notes[0]
