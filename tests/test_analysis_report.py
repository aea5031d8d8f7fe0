"""`python -m analysis report` end to end: a folder with a broken image, a manifest with boxes, re-runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from analysis.cli import main
from srn_core.datasets import Box, MultiLabelDataset, Sample, write_manifest

from .helpers import TINY_LABELS, report_args

ROOT = Path(__file__).resolve().parents[1]
SMALL_REPORT = ["--formats", "png", "svg", "--dpi", "40", "--top-k", "1", "--pairs", "1"]  # quick to build


def make_images(folder: Path, count: int = 2) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5)
    paths = []
    for i in range(count):
        path = folder / f"photo {i}.png"
        Image.fromarray(rng.integers(0, 255, (40 + 8 * i, 64, 3), np.uint8)).save(path)
        paths.append(path)
    return paths


def linked_files(out: Path) -> list[str]:
    html = (out / "index.html").read_text(encoding="utf-8")
    return sorted(set(re.findall(r'href="([^"]+)"', html)))


def check_outputs(out: Path) -> None:
    links = linked_files(out)
    assert links and "report.json" in links
    for link in links:
        assert (out / link).is_file(), f"index.html links a missing file {link}"
    for png in out.rglob("*.png"):
        with Image.open(png) as image:
            image.verify()
    for data in out.rglob("*.json"):
        json.loads(data.read_text(encoding="utf-8"))
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")], "temporary files left behind"


def test_report_cli_on_a_folder_with_a_broken_image(tiny_checkpoint: Path, tmp_path: Path):
    images = tmp_path / "images"
    make_images(images)
    (images / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG")
    (images / "notes.txt").write_text("not an image, not analysed")
    out = tmp_path / "report"
    command = [
        sys.executable,
        "-m",
        "analysis",
        *report_args(tiny_checkpoint, images, out),
        *SMALL_REPORT,
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "broken.jpg" in done.stderr and "2 of 3 images analysed" in done.stdout
    assert "images:" in done.stderr  # the progress bar
    report = json.loads((out / "report.json").read_text())
    assert report["analysed"] == 2 and list(report["failures"]) == [str(images / "broken.jpg")]
    assert "corrupt or truncated" in report["failures"][str(images / "broken.jpg")]
    index = (out / "index.html").read_text()
    assert "Failed images (1)" in index and "broken.jpg" in index
    check_outputs(out)
    folders = sorted(p.name for p in (out / "images").iterdir())
    assert folders == ["0001_photo_0", "0002_photo_1"]
    for name in (
        "attention_grid.png",
        "attention_grid.svg",
        "scores_data.csv",
        "influence_data.json",
        "what_if_remove_data.csv",
        "attention_stats_data.csv",
    ):
        assert (out / "images" / "0001_photo_0" / name).is_file(), name
    for name in (
        "dataset/influence.png",
        "dataset/cooccurrence_predicted_data.csv",
        "dataset/centroid_offsets_data.json",
        "model/conv4_filters.svg",
        "model/paths_data.csv",
        "model/filter_readout_data.csv",
    ):
        assert (out / name).is_file(), name
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    assert (
        main(
            [
                *report_args(tiny_checkpoint, images, out),
                *SMALL_REPORT,
                "--no-progress",
            ]
        )
        == 1
    )
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before
    check_outputs(out)


def test_report_on_a_manifest_with_boxes_gradcam_and_html(tiny_checkpoint: Path, tmp_path: Path):
    paths = make_images(tmp_path / "data", 2)
    samples = [
        Sample(paths[0], np.array([1, 1, 0, 0, 0], np.int8), [Box("cat", 0, 0, 64, 40), Box("dog", 0, 0, 9, 9)]),
        Sample(paths[1], np.array([1, 0, 0, 0, -1], np.int8), [Box("cat", 30, 20, 64, 48)]),
        Sample(tmp_path / "data" / "gone.png", np.array([0, 0, 1, 0, 0], np.int8)),
    ]
    manifest = write_manifest(tmp_path / "data" / "manifest.json", MultiLabelDataset(TINY_LABELS, samples))
    out = tmp_path / "report"
    code = main(
        [
            *report_args(tiny_checkpoint, manifest, out),
            "--formats",
            "pdf",
            "--top-k",
            "1",
            "--pairs",
            "1",
            "--gradcam",
            "--tolerance",
            "0",
            "--html",
            "--channels",
            "2",
            "7",
            "--upsampling",
            "bilinear",
            "--cmap",
            "viridis",
            "--no-progress",
        ]
    )
    assert code == 0
    check_outputs(out)
    notes = json.loads((out / "report.json").read_text())["notes"]
    assert notes == [f"1 images listed in {manifest} do not exist and were skipped"]
    pointing = json.loads((out / "dataset" / "pointing_game_data.json").read_text())
    assert pointing["overall"]["pairs"] == 3 and pointing["per_label"][0]["trials"] == 2
    assert pointing["tolerance"] == 0.0 and pointing["records"][0]["srn_hit"] is True
    truth = json.loads((out / "dataset" / "cooccurrence_truth_data.json").read_text())
    assert truth["values"][0][:2] == [2, 1]
    assert (out / "model" / "conv4_filters.pdf").read_bytes().startswith(b"%PDF")
    html = (out / "images" / "0000_photo_0" / "attention_grid.html").read_text()
    assert 'src="../../plotly.min.js"' in html and (out / "plotly.min.js").stat().st_size > 1_000_000
    assert "Grad-CAM" in (out / "images" / "0000_photo_0" / "label_cat.html").read_text()


@pytest.mark.parametrize("problem", ["weights", "empty"])
def test_report_refuses_bad_inputs(tiny_checkpoint: Path, tmp_path: Path, problem: str, capsys):
    images = tmp_path / "images"
    images.mkdir()
    weights = tiny_checkpoint
    if problem == "weights":
        make_images(images, 1)
        weights = tmp_path / "model.pth"
        weights.write_bytes(b"\x80\x02pickle")
    code = main(report_args(weights, images, tmp_path / "out"))
    assert code == 2
    message = capsys.readouterr().err
    assert ("cannot load weights" in message) if problem == "weights" else ("holds no image files" in message)
    assert not (tmp_path / "out").exists()
