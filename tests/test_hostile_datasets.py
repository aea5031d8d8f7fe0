"""Hostile data sets (issue 15: findings 8, 16, 17, 25) through the readers and every CLI that reads data:
linear-time readers, deep JSON refused with a DatasetError, counts in ASCII digits only, and COCO
annotations given their image folder in a report."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from analysis.cli import main as analysis_main
from srn_core.cli import main as srn_main
from srn_core.datasets import DatasetError, load_dataset, read_manifest, read_srn_split
from srn_core.sources import align_dataset, aligned, as_source

from .helpers import TINY_LABELS, report_args
from .hostile_corpus import run_cli

pytestmark = pytest.mark.timeout(180)  # a hostile input must never hang a run

DEEP = "[" * 200_000 + "]" * 200_000


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile_data")
    (folder / "images").mkdir()
    Image.fromarray(np.full((40, 40, 3), 90, np.uint8)).save(folder / "images" / "a.png")
    files = {"deep_manifest": folder / "deep.json", "deep_coco": folder / "instances_deep.json"}
    files["deep_manifest"].write_text('{"format": "srn-manifest", "version": 1, "labels": ' + DEEP + "}")
    files["deep_coco"].write_text('{"images": [], "categories": [], "annotations": ' + DEEP + "}")
    labels = [f"label {n}" for n in range(60_000)]
    files["wide_manifest"] = folder / "wide.json"
    files["wide_manifest"].write_text(
        json.dumps(
            {
                "format": "srn-manifest",
                "version": 1,
                "labels": labels,
                "images": [{"path": "images/a.png", "labels": labels[:3]}],
            }
        )
    )
    files["wide_names"] = folder / "names.txt"
    files["wide_names"].write_text("\n".join(labels))
    files["wide_list"] = folder / "wide_list.txt"
    files["wide_list"].write_text("images/a.png 1\n")
    files["wide_matrix"] = folder / "wide_matrix.txt"
    files["wide_matrix"].write_text(" ".join(["1"] + ["0"] * 59_999) + "\n")
    files["superscript_list"] = folder / "list.txt"
    files["superscript_list"].write_text("images/a.png \u00b2\n")
    files["matrix"] = folder / "matrix.txt"
    files["matrix"].write_text("1 1 0 0 0\n")
    coco = {
        "images": [{"id": 1, "file_name": "a.png"}],
        "annotations": [{"image_id": 1, "category_id": 3, "bbox": [1, 1, 5, 5]}],
        "categories": [{"id": n + 1, "name": name} for n, name in enumerate(TINY_LABELS)],
    }
    files["coco"] = folder / "annotations.json"
    files["coco"].write_text(json.dumps(coco))
    return files | {"images": folder / "images"}


@pytest.mark.parametrize("name", ["deep_manifest", "deep_coco"])
def test_deep_json_is_a_dataset_error_in_every_reader(data, name: str) -> None:
    for read in (
        lambda p: load_dataset(p),
        lambda p: load_dataset(p, "coco", image_dir=data["images"]),
        lambda p: read_manifest(p),
    ):
        with pytest.raises(DatasetError, match="nested too deeply") as info:
            read(data[name])
        assert str(data[name]) in str(info.value)


@pytest.mark.parametrize("name", ["deep_manifest", "deep_coco"])
@pytest.mark.parametrize("command", ["evaluate", "report", "train"])
def test_deep_json_ends_every_cli_with_one_message(
    data, name: str, command: str, tiny_checkpoint, tmp_path, capsys
) -> None:
    source = str(data[name])
    argv = {
        "evaluate": (srn_main, ["evaluate", "--weights", str(tiny_checkpoint), "--data", source]),
        "report": (
            analysis_main,
            [
                *report_args(tiny_checkpoint, source, tmp_path / "r"),
                "--no-progress",
            ],
        ),
        "train": (
            srn_main,
            ["train", "--data", source, "--out", str(tmp_path / "run"), "--backbone", "compact", "--quiet"],
        ),
    }[command]
    code, output = run_cli(*argv, capsys)
    assert code == 2 and "Traceback" not in output and "nested too deeply" in output


def test_readers_of_60000_labels_are_linear(data) -> None:
    start = time.perf_counter()
    manifest = read_manifest(data["wide_manifest"])
    split = read_srn_split(data["wide_list"], data["wide_matrix"], data["images"].parent, data["wide_names"])
    assert manifest.num_labels == split.num_labels == 60_000
    reversed_names = manifest.label_names[::-1]
    assert align_dataset(manifest, reversed_names).label_names == reversed_names
    assert aligned(as_source(manifest), reversed_names).targets(0)[-1] == 1
    assert time.perf_counter() - start < 10


def test_a_count_in_superscript_digits_names_file_and_line(data, tiny_checkpoint, capsys) -> None:
    with pytest.raises(DatasetError, match=r"list\.txt, line 1: malformed line"):
        read_srn_split(data["superscript_list"], data["matrix"], data["images"].parent)
    code, output = run_cli(
        srn_main,
        [
            "evaluate",
            "--weights",
            str(tiny_checkpoint),
            "--data",
            str(data["superscript_list"]),
            "--label-matrix",
            str(data["matrix"]),
            "--image-root",
            str(data["images"].parent),
        ],
        capsys,
    )
    assert code == 2 and "Traceback" not in output and "line 1" in output


def test_report_on_coco_annotations_takes_their_image_folder(data, tiny_checkpoint, tmp_path, capsys) -> None:
    code, output = run_cli(
        analysis_main,
        [
            *report_args(tiny_checkpoint, data["coco"], tmp_path / "none"),
            "--no-progress",
        ],
        capsys,
    )
    assert code == 2 and "--image-dir" in output and "Traceback" not in output
    code, output = run_cli(
        analysis_main,
        [
            "report",
            "--weights",
            str(tiny_checkpoint),
            "--images",
            str(data["coco"]),
            "--image-dir",
            str(data["images"]),
            "--out",
            str(tmp_path / "r"),
            "--formats",
            "png",
            "--no-progress",
            "--top-k",
            "1",
        ],
        capsys,
    )
    assert code == 0, output
    assert "1 of 1 images analysed" in output
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["analysed"] == 1
