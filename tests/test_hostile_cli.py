"""Awkward options and signals (issue 15: findings 15, 18, 19, 24) through every CLI, and the library's
length checks: a clear message and exit code 2, never a traceback; SIGTERM and SIGINT end a report with
one line and no temporary file left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from analysis import Analyzer
from analysis.cli import main as analysis_main
from srn_core import Predictor, save_checkpoint
from srn_core.cli import main as srn_main
from srn_core.evaluation import METRIC_ORDER
from srn_core.heads import HEADS
from srn_core.jsonsafe import json_safe

from .helpers import TINY_LABELS, report_args, tiny_model
from .hostile_corpus import run_cli

pytestmark = pytest.mark.timeout(180)  # a hostile input must never hang a run

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile_cli")
    (root / "images").mkdir()
    rng = np.random.default_rng(2)
    for n in range(12):
        Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(root / "images" / f"{n:02d}.png")
    (root / "a_file.txt").write_text("not a folder")
    save_checkpoint(root / "tiny.safetensors", tiny_model(), TINY_LABELS)
    return root


def _options(folder: Path) -> dict[str, tuple]:
    weights, image, afile = (
        str(folder / "tiny.safetensors"),
        str(folder / "images" / "00.png"),
        str(folder / "a_file.txt"),
    )
    predict = ["predict", "--weights", weights, image]
    evaluate = ["evaluate", "--weights", weights, "--data", str(folder / "m.json")]
    report = ["report", "--weights", weights, "--images", str(folder / "images"), "--no-progress"]
    out = ["--out", str(folder / "out")]
    train = ["train", "--data", str(folder / "m.json"), "--out", str(folder / "run"), "--backbone", "compact"]
    return {
        "predict_batch_size_-1": (srn_main, predict + ["--batch-size", "-1"], "--batch-size"),
        "predict_batch_size_0": (srn_main, predict + ["--batch-size", "0"], "--batch-size"),
        "predict_device_bogus": (srn_main, predict + ["--device", "bogus"], "--device"),
        "predict_device_cuda_missing": (srn_main, predict + ["--device", "cuda:99"], "--device"),
        "predict_json_is_a_folder": (srn_main, predict + ["--json", str(folder)], "--json"),
        "predict_json_under_a_file": (srn_main, predict + ["--json", afile + "/x.json"], "--json"),
        "predict_threshold_nan": (srn_main, predict + ["--threshold", "nan"], "--threshold"),
        "predict_top_k_-1": (srn_main, predict + ["--top-k", "-1"], "--top-k"),
        "evaluate_batch_size_0": (srn_main, evaluate + ["--batch-size", "0"], "--batch-size"),
        "evaluate_workers_-1": (srn_main, evaluate + ["--workers", "-1"], "--workers"),
        "evaluate_out_is_a_file": (srn_main, evaluate + ["--out", afile], "--out"),
        "report_out_is_a_file": (analysis_main, report + ["--out", afile], "--out"),
        "report_dpi_0": (analysis_main, report + out + ["--dpi", "0"], "--dpi"),
        "report_dpi_3000": (analysis_main, report + out + ["--dpi", "3000"], "--dpi"),
        "report_cmap_bogus": (analysis_main, report + out + ["--cmap", "bogus"], "--cmap"),
        "report_opacity_2": (analysis_main, report + out + ["--opacity", "2"], "--opacity"),
        "report_device_bogus": (analysis_main, report + out + ["--device", "bogus"], "--device"),
        "train_batch_size_0": (srn_main, train + ["--batch-size", "0"], "--batch-size"),
        "train_device_bogus": (srn_main, train + ["--device", "bogus"], "--device"),
    }


OPTION_CASES = list(_options(Path("/nonexistent")))


@pytest.mark.parametrize("case", OPTION_CASES)
def test_bad_options_exit_2_naming_the_option(folder, case: str, capsys) -> None:
    if case == "predict_device_cuda_missing" and torch.cuda.device_count() > 99:
        pytest.fail("a machine with 100 GPUs")
    main, argv, option = _options(folder)[case]
    code, output = run_cli(main, argv, capsys)
    assert code == 2 and "Traceback" not in output
    assert f"argument {option}" in output, output
    assert not (folder / "out").exists()


def test_predictor_and_analyzer_refuse_a_names_list_of_the_wrong_length(folder) -> None:
    images = sorted((folder / "images").iterdir())[:3]
    predictor = Predictor.from_checkpoint(folder / "tiny.safetensors", "cpu")
    analyzer = Analyzer.from_checkpoint(folder / "tiny.safetensors", "cpu")
    for run in (predictor.predict, analyzer.analyse):
        with pytest.raises(ValueError, match="1 names given for 3 images"):
            run(images, names=["one"])
        with pytest.raises(ValueError, match="batch_size"):
            run(images, batch_size=0)
    assert len(predictor.predict(images, names=["a", "b", "c"])) == 3


def test_training_prints_its_table_when_a_metric_is_undefined(folder, monkeypatch, capsys) -> None:
    """The final table of `train` when the validation data has a label without positives (mAP undefined)."""
    from srn_core.training import cli as train_cli

    columns = [*METRIC_ORDER, *(f"{m}-3" for m in METRIC_ORDER[1:])]
    heads = {head: {c: (float("nan") if c == "mAP" else 0.5) for c in columns} for head in HEADS}
    summary = json_safe(
        {"final_metrics": {"on": "validation", "heads": heads}, "wall_time_s": 1.0, "images_per_s": {"1": 2.0}}
    )

    def fake_train(config):
        final = Path(config.out) / "final.safetensors"
        save_checkpoint(final, tiny_model(), TINY_LABELS, training={"summary": summary})
        return final

    monkeypatch.setattr(train_cli, "train", fake_train)
    (folder / "m.json").write_text('{"format": "srn-manifest", "version": 1, "labels": ["a"], "images": []}')
    code, output = run_cli(
        srn_main,
        ["train", "--data", str(folder / "m.json"), "--out", str(folder / "run"), "--backbone", "compact"],
        capsys,
    )
    assert code == 0 and "Traceback" not in output
    assert "nan" in output and "0.50" in output


def test_sigterm_ends_a_report_cleanly(folder, tmp_path) -> None:
    """A real SIGTERM from outside, as a job scheduler sends it."""
    out = tmp_path / "report"
    command = [
        sys.executable,
        "-m",
        "analysis",
        *report_args(folder / "tiny.safetensors", folder / "images", out),
        "--formats",
        "png",
        "--no-progress",
    ]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(out.glob("images/*/*")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err and "interrupted by SIGTERM" in err
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_in_the_middle_of_a_write_leaves_no_temporary_file(
    folder, tmp_path, monkeypatch, capsys, signum: int
) -> None:
    """Figures are rendered to bytes, then written through srn_core.fileio: the signal lands while the third
    PNG's bytes sit in its temporary file, before the rename."""
    real = Path.write_bytes
    calls = []

    def interrupted_write(self, data):
        written = real(self, data)
        if ".png." in self.name:
            calls.append(self)
            if len(calls) == 3:
                os.kill(os.getpid(), signum)
                time.sleep(5)
        return written

    monkeypatch.setattr(Path, "write_bytes", interrupted_write)
    out = tmp_path / "report"
    code, output = run_cli(
        analysis_main,
        [
            *report_args(folder / "tiny.safetensors", folder / "images", out),
            "--formats",
            "png",
            "--no-progress",
        ],
        capsys,
    )
    assert code == 128 + signum and "Traceback" not in output
    assert f"interrupted by {signal.Signals(signum).name}" in output
    assert Path(calls[2]).name.endswith(".tmp") and not Path(calls[2]).exists()
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert len(list(out.rglob("*.png"))) == 2
