"""Checkpoints: safetensors + metadata round trip, refusal of pickles, mismatch messages, atomic saves."""

from __future__ import annotations

import json
import os
import pickle
import struct

import pytest
import torch
from safetensors.torch import save_file

from srn_core import CheckpointError, load_checkpoint, read_metadata, save_checkpoint
from srn_core.checkpoint import METADATA_KEY

from .helpers import TINY_LABELS, tiny_model


def test_round_trip_gives_identical_outputs_and_metadata(tiny_checkpoint):
    original = tiny_model()
    loaded, meta = load_checkpoint(tiny_checkpoint)
    x = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        a, b = original(x), loaded(x)
    for name in vars(a):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    assert meta.label_names == TINY_LABELS
    assert meta.config == original.config
    assert meta.training == {"note": "test fixture"}
    assert not loaded.training


def test_metadata_records_everything_needed(tiny_checkpoint):
    meta = read_metadata(tiny_checkpoint)
    assert meta.config.backbone == "compact" and meta.config.widths == (8, 16, 32, 64)
    assert meta.config.input_size == 64 and meta.config.alpha == 0.5
    assert meta.preprocessor().input_size == 64
    assert len(meta.mean) == 3 and len(meta.std) == 3


class _RunsCode:
    def __reduce__(self):
        return (os.system, (f"touch {_RunsCode.marker}",))


@pytest.mark.parametrize("writer", ["pickle", "torch_save"])
def test_crafted_pickle_is_refused_and_never_run(tmp_path, writer):
    marker = tmp_path / "pwned"
    _RunsCode.marker = marker
    path = tmp_path / "evil.pth"
    if writer == "pickle":
        path.write_bytes(pickle.dumps({"state": _RunsCode()}))
    else:
        torch.save({"state": _RunsCode()}, path)
    with pytest.raises(CheckpointError, match="not an SRN checkpoint"):
        load_checkpoint(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    "content,reason",
    [
        (b"", "too short"),
        (b"hello world, not a model", "not a safetensors"),
        (struct.pack("<Q", 10) + b"{not json}", "not valid JSON"),
    ],
)
def test_non_checkpoint_files_are_refused(tmp_path, content, reason):
    path = tmp_path / "x.safetensors"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=reason):
        load_checkpoint(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "absent.safetensors")


def test_safetensors_without_our_metadata_is_refused(tmp_path):
    path = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(CheckpointError, match="without SRN metadata"):
        load_checkpoint(path)


def _rewrite(path, out, tensors=None, meta_edit=None):
    from safetensors import safe_open

    with safe_open(str(path), "pt") as handle:
        meta = json.loads(handle.metadata()[METADATA_KEY])
        data = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118 (safetensors handles are not dicts)
    if meta_edit:
        meta_edit(meta)
    if tensors:
        tensors(data)
    save_file(data, str(out), metadata={METADATA_KEY: json.dumps(meta)})
    return out


def test_wrong_label_count_is_named(tiny_checkpoint, tmp_path):
    def six_labels(meta):
        meta["label_names"].append("extra")
        meta["model"]["num_labels"] = 6

    bad = _rewrite(tiny_checkpoint, tmp_path / "bad.safetensors", meta_edit=six_labels)
    with pytest.raises(CheckpointError, match=r"6 labels.*f_cls\.fc\.weight has shape \(5, 64\)"):
        load_checkpoint(bad)


def test_label_names_disagreeing_with_num_labels_is_named(tiny_checkpoint, tmp_path):
    bad = _rewrite(tiny_checkpoint, tmp_path / "bad.safetensors", meta_edit=lambda m: m["label_names"].pop())
    with pytest.raises(CheckpointError, match="4 label names but num_labels is 5"):
        load_checkpoint(bad)


def test_wrong_backbone_is_named(tiny_checkpoint, tmp_path):
    def resnet18(meta):
        meta["model"]["backbone"] = "resnet18"
        meta["model"]["widths"] = None

    bad = _rewrite(tiny_checkpoint, tmp_path / "bad.safetensors", meta_edit=resnet18)
    with pytest.raises(CheckpointError, match=r"backbone resnet18.*shape"):
        load_checkpoint(bad)


def test_missing_and_extra_tensors_are_named(tiny_checkpoint, tmp_path):
    def edit(data):
        del data["f_sr.conv4.weight"]
        data["surprise"] = torch.zeros(1)

    bad = _rewrite(tiny_checkpoint, tmp_path / "bad.safetensors", tensors=edit)
    with pytest.raises(CheckpointError, match=r"missing tensors f_sr\.conv4\.weight.*unexpected tensors surprise"):
        load_checkpoint(bad)


def test_interrupted_save_keeps_the_old_checkpoint(tiny_checkpoint, monkeypatch):
    before = tiny_checkpoint.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr("srn_core.checkpoint.save_file", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tiny_checkpoint, tiny_model(seed=5), TINY_LABELS)
    assert tiny_checkpoint.read_bytes() == before
    assert [p.name for p in tiny_checkpoint.parent.iterdir()] == [tiny_checkpoint.name]


def test_label_names_must_match_the_model(tmp_path):
    with pytest.raises(ValueError, match="3 label names given for a model with 5 labels"):
        save_checkpoint(tmp_path / "x.safetensors", tiny_model(), ["a", "b", "c"])
