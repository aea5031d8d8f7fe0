"""Hostile checkpoints (issue 15: findings 4, 7, 9-11, 13, 16, 22, 23) through the library and every CLI
that loads weights: each is a CheckpointError naming the file and the field, refused before anything
large is allocated; the CLIs exit with 2 and one message, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from analysis import Analyzer
from analysis.cli import main as analysis_main
from srn_core import Predictor, load_checkpoint, read_metadata, save_checkpoint
from srn_core.checkpoint import CheckpointError
from srn_core.cli import main as srn_main

from .helpers import TINY_LABELS, report_args, tiny_model
from .hostile_corpus import BAD_CHECKPOINTS, bad_checkpoint, current_rss_bytes, peak_rss_bytes, reset_peak_rss, run_cli

pytestmark = pytest.mark.timeout(180)  # a hostile input must never hang a run

REFUSAL_BYTES = 200 * 2**20
METADATA_CASES = [
    n for n in BAD_CHECKPOINTS if n not in ("huge_model_small_file", "weights_nan", "tensor_float64", "tensor_int64")
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile_checkpoints")
    good = save_checkpoint(folder / "good.safetensors", tiny_model(), TINY_LABELS)
    return {name: bad_checkpoint(name, good, folder) for name in BAD_CHECKPOINTS} | {"good": good}


def _words(name: str) -> tuple[str, ...]:
    return BAD_CHECKPOINTS[name][2]


@pytest.mark.parametrize("name", BAD_CHECKPOINTS)
def test_library_refuses_naming_file_and_field_before_allocating(corpus, name: str) -> None:
    path = corpus[name]
    base = current_rss_bytes()
    reset_peak_rss()
    for load in (load_checkpoint, Predictor.from_checkpoint, Analyzer.from_checkpoint):
        with pytest.raises(CheckpointError) as info:
            load(path)
        message = str(info.value)
        assert message.startswith(str(path)), message
        assert all(word in message for word in _words(name)), (name, message)
        assert len(message) < 1000
    assert peak_rss_bytes() - base < REFUSAL_BYTES


@pytest.mark.parametrize("name", METADATA_CASES)
def test_metadata_problems_are_found_without_reading_tensors(corpus, name: str) -> None:
    with pytest.raises(CheckpointError, match=_words(name)[0].replace("[", r"\[").replace("]", r"\]")):
        read_metadata(corpus[name])


@pytest.mark.parametrize("name", BAD_CHECKPOINTS)
@pytest.mark.parametrize("command", ["predict", "evaluate", "report"])
def test_every_cli_exits_2_with_one_message(corpus, name: str, command: str, tmp_path: Path, capsys) -> None:
    path = str(corpus[name])
    image = tmp_path / "x.png"
    image.write_bytes(b"")
    argv = {
        "predict": (srn_main, ["predict", "--weights", path, str(image)]),
        "evaluate": (srn_main, ["evaluate", "--weights", path, "--data", str(tmp_path / "m.json")]),
        "report": (
            analysis_main,
            [*report_args(path, tmp_path, tmp_path / "out"), "--no-progress"],
        ),
    }[command]
    code, output = run_cli(*argv, capsys)
    assert code == 2
    assert "Traceback" not in output and path in output and _words(name)[0] in output


def test_a_good_checkpoint_loads_and_is_saved_with_normal_permissions(corpus) -> None:
    model, meta = load_checkpoint(corpus["good"])
    assert meta.label_names == TINY_LABELS and model.num_labels == len(TINY_LABELS)
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(corpus["good"]).st_mode & 0o777 == 0o666 & ~mask


def test_save_checkpoint_refuses_names_that_could_not_be_loaded(tmp_path: Path) -> None:
    for names, words in (
        (["cat", "cat", "car", "tree", "sun"], "duplicate"),
        (["", "dog", "car", "tree", "sun"], "1 to 200"),
        (["c" * 201, "dog", "car", "tree", "sun"], "201 characters"),
    ):
        with pytest.raises(CheckpointError, match=words):
            save_checkpoint(tmp_path / "x.safetensors", tiny_model(), names)
    assert not list(tmp_path.iterdir())


def test_backbones_are_checked_against_the_registry(corpus, monkeypatch) -> None:
    from srn_core import backbones

    monkeypatch.setattr(backbones, "BACKBONE_NAMES", (*backbones.BACKBONE_NAMES, "resnet9000"))
    with pytest.raises(CheckpointError, match="does not describe a buildable SRN|model"):
        load_checkpoint(corpus["backbone_unknown"])
