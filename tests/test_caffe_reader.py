"""Reading Caffe files: both formats, and one clear error (no traceback) for each kind of bad file."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch

from srn_core.caffe import cli as caffe_cli
from srn_core.caffe.errors import CaffeImportError
from srn_core.caffe.executor import CaffeExecutor
from srn_core.caffe.proto import NetParameter
from srn_core.caffe.reader import read_caffemodel, read_net, read_prototxt
from srn_core.caffe.synth import NetBuilder, srn_caffe_net
from srn_core.cli import COMMAND_MODULES


def main(argv: list[str]) -> int:
    """The import-caffe subcommand as `python -m srn_core` runs it (parsed by its own subparser)."""
    parser = argparse.ArgumentParser(prog="python -m srn_core")
    caffe_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.run(args)


def test_import_caffe_is_a_subcommand_of_srn_core():
    assert caffe_cli in COMMAND_MODULES


def _layer_index(builder: NetBuilder, name: str) -> int:
    return next(i for i, layer in enumerate(builder.layers) if layer[0] == name)


def _replace_blobs(builder: NetBuilder, name: str, blobs: list[np.ndarray]) -> None:
    i = _layer_index(builder, name)
    builder.layers[i] = builder.layers[i][:5] + (blobs,)


def run_cli(capsys, proto, model, out) -> tuple[int, str]:
    code = main(
        [
            "import-caffe",
            "--prototxt",
            str(proto),
            "--caffemodel",
            str(model),
            "--labels",
            "wider_att",
            "--out",
            str(out),
        ]
    )
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def test_v1_caffemodel_is_read_for_a_v2_prototxt(tmp_path):
    builder = srn_caffe_net(norm="BatchNorm")
    proto, model = builder.write(tmp_path, "v2")
    v1_layers = NetParameter()
    v1_layers.ParseFromString(model.read_bytes())
    old = NetParameter(name=v1_layers.name)
    for layer in v1_layers.layer:
        v1 = old.layers.add(name=layer.name)
        v1.blobs.extend(layer.blobs)
    (tmp_path / "v1.caffemodel").write_bytes(old.SerializeToString())
    image = torch.randn(1, 3, 64, 64)
    a = CaffeExecutor(read_net(proto, model)).run(image)
    b = CaffeExecutor(read_net(proto, tmp_path / "v1.caffemodel")).run(image)
    assert torch.equal(a["fused"], b["fused"])


def test_train_only_layers_are_dropped_as_in_caffe_test_phase(tmp_path):
    text = (
        'input: "data" input_dim: 1 input_dim: 2 input_dim: 3 input_dim: 3\n'
        'layer { name: "r" type: "ReLU" bottom: "data" top: "r" }\n'
        'layer { name: "loss" type: "SigmoidCrossEntropyLoss" bottom: "r" bottom: "label" top: "loss" '
        "include { phase: TRAIN } }\n"
    )
    (tmp_path / "n.prototxt").write_text(text)
    net = read_prototxt(tmp_path / "n.prototxt")
    assert [layer.name for layer in net.layers] == ["r"] and net.inputs == {"data": (1, 2, 3, 3)}


def _bad_case(tmp_path, case: str):
    builder = srn_caffe_net(num_labels=14)
    if case == "blob count":
        conv = builder.layers[_layer_index(builder, "att.conv1")]
        _replace_blobs(builder, "att.conv1", conv[5][:1])
    elif case == "blob shape":
        _replace_blobs(builder, "sr.conv4", [np.zeros((32, 2, 4, 4), np.float32), np.zeros(32, np.float32)])
    elif case == "unknown layer":
        builder.add("norm", "LRN", ["res5c"], lrn_param=dict(local_size=5))
    elif case == "disconnected":
        builder.add("lost", "ReLU", ["nowhere"])
    proto, model = builder.write(tmp_path, "srn")
    if case == "truncated":
        model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    elif case == "wrong magic":
        model.write_bytes(b"PK\x03\x04" + bytes(200))
    elif case == "garbage":
        model.write_bytes(bytes([0xFF] * 300))
    elif case == "text for binary":
        model = proto
    elif case == "binary for text":
        proto = tmp_path / "srn.caffemodel"
    elif case == "bad syntax":
        proto.write_text(proto.read_text().replace("num_output: 8", "num_outputs: 8", 1))
    elif case == "values missing":
        net = NetParameter()
        net.ParseFromString(model.read_bytes())
        del net.layer[0].blobs[0].data[5:]
        model.write_bytes(net.SerializeToString())
    return proto, model


BAD_FILES = {
    "truncated": "truncated or corrupt",
    "wrong magic": "ZIP archive",
    "garbage": "does not start like a Caffe NetParameter",
    "text for binary": "it is text",
    "binary for text": "not a text prototxt",
    "bad syntax": "num_outputs",
    "values missing": "holds 5 values but its shape",
    "blob count": "has 1 blobs, its parameters need 2",
    "blob shape": "blob 0 has shape (32, 2, 4, 4), its parameters and input imply (32, 1, 4, 4)",
    "unknown layer": "has type 'LRN', which the importer does not support (supported: BN, BatchNorm, BatchReduction",
    "disconnected": "reads blob 'nowhere', which no input or earlier layer produces",
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_each_bad_file_gives_one_clear_error(tmp_path, capsys, case):
    proto, model = _bad_case(tmp_path, case)
    out = tmp_path / "weights" / "out.safetensors"
    code, text = run_cli(capsys, proto, model, out)
    errors = [line for line in text.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1, text
    assert BAD_FILES[case] in errors[0], errors[0]
    assert "Traceback" not in text and not out.exists()


def test_reader_errors_name_the_file(tmp_path):
    with pytest.raises(CaffeImportError, match="missing.caffemodel: caffemodel does not exist"):
        read_caffemodel(tmp_path / "missing.caffemodel")
    (tmp_path / "empty.prototxt").write_text("")
    with pytest.raises(CaffeImportError, match="empty.prototxt: prototxt is empty"):
        read_prototxt(tmp_path / "empty.prototxt")


def test_input_layer_and_input_shape_declare_the_inputs(tmp_path):
    text = (
        'layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 4 dim: 4 } } }\n'
        'layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { pool: AVE global_pooling: true } }\n'
    )
    (tmp_path / "in.prototxt").write_text(text)
    executor = CaffeExecutor(read_prototxt(tmp_path / "in.prototxt"))
    assert executor.input_shape() == (2, 3, 4, 4)
    image = torch.randn(2, 3, 4, 4)
    assert torch.allclose(executor.run(image)["p"], image.mean(dim=(2, 3), keepdim=True))
    (tmp_path / "shape.prototxt").write_text(
        'input: "x" input_shape { dim: 1 dim: 5 }\nlayer { name: "s" type: "Sigmoid" bottom: "x" top: "s" }\n'
    )
    assert read_prototxt(tmp_path / "shape.prototxt").inputs == {"x": (1, 5)}
    (tmp_path / "mixed.prototxt").write_text(text + 'layers { name: "r" type: RELU bottom: "p" top: "r" }\n')
    with pytest.raises(CaffeImportError, match="mixed.prototxt: the net mixes V1"):
        read_prototxt(tmp_path / "mixed.prototxt")


def test_a_structure_the_mapping_cannot_express_is_one_error_with_a_hint(tmp_path, capsys):
    builder = srn_caffe_net(num_labels=14)
    index = _layer_index(builder, "fused")
    builder.layers[index][4].update(eltwise_param=dict(operation=2))
    proto, model = builder.write(tmp_path, "srn")
    code, text = run_cli(capsys, proto, model, tmp_path / "out.safetensors")
    errors = [line for line in text.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and "Traceback" not in text
    assert "no Eltwise SUM fuses" in errors[0] and "CaffeExecutor returns every named blob" in errors[0]
