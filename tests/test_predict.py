"""Predictor and the `predict` command line, end to end on a tiny checkpoint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from srn_core import Predictor

from .helpers import TINY_LABELS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for i, size in enumerate([(80, 50), (64, 64), (30, 90)]):
        path = tmp_path / f"img{i}.png"
        Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), np.uint8)).save(path)
        paths.append(path)
    return paths


def test_predictor_returns_probabilities_and_maps(tiny_checkpoint, images):
    predictor = Predictor.from_checkpoint(tiny_checkpoint, device="auto")
    results = predictor.predict([str(p) for p in images] + [Image.open(images[0])], batch_size=2)
    assert len(results) == 4
    for result in results:
        assert result.label_names == TINY_LABELS
        for values in result.probabilities().values():
            assert values.shape == (5,) and values.dtype == np.float32
            assert np.all((values >= 0) & (values <= 1))
        for field in ("attention", "confidence", "weighted_attention"):
            assert getattr(result, field).shape == (5, 4, 4) and getattr(result, field).dtype == np.float32
        np.testing.assert_allclose(result.attention.sum(axis=(1, 2)), 1, rtol=1e-5)
        np.testing.assert_allclose(result.weighted_attention, result.confidence * result.attention, rtol=1e-5)
    assert results[0].image_size == (80, 50)
    np.testing.assert_allclose(results[0].probabilities()["fused"], results[3].probabilities()["fused"], rtol=1e-6)


def test_batching_does_not_change_results(tiny_checkpoint, images):
    predictor = Predictor.from_checkpoint(tiny_checkpoint, device="cpu")
    one = predictor.predict(images, batch_size=1)
    many = predictor.predict(images, batch_size=8)
    for a, b in zip(one, many):
        np.testing.assert_allclose(a.probabilities()["fused"], b.probabilities()["fused"], rtol=1e-5, atol=1e-6)


def test_predictor_matches_a_direct_forward(tiny_checkpoint, images):
    predictor = Predictor.from_checkpoint(tiny_checkpoint, device="cpu")
    [result] = predictor.predict(images[:1])
    batch = predictor.preprocess.batch([Image.open(images[0]).convert("RGB")])
    with torch.no_grad():
        out = predictor.model(batch)
    np.testing.assert_allclose(result.probabilities()["fused"], torch.sigmoid(out.logits)[0].numpy(), rtol=1e-5)


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "srn_core", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_cli_predict_prints_labels_and_writes_json(tiny_checkpoint, images, tmp_path):
    out = tmp_path / "scores.json"
    proc = _cli("predict", "--weights", tiny_checkpoint, "--threshold", "0.0", "--top-k", "2", "--json", out, *images)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("top 2:") == 3 and str(images[1]) in proc.stdout
    report = json.loads(out.read_text())
    assert report["labels"] == TINY_LABELS
    assert set(report["images"]) == {str(p) for p in images}
    scores = report["images"][str(images[0])]["scores"]["dog"]
    assert set(scores) == {"fused", "main", "srn", "attention"}
    assert report["errors"] == {}


def test_cli_reports_a_bad_image_and_runs_the_others(tiny_checkpoint, images, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not really a jpeg")
    out = tmp_path / "scores.json"
    proc = _cli("predict", "--weights", tiny_checkpoint, "--json", out, images[0], broken, images[1])
    assert proc.returncode == 1
    assert f"{broken}: not an image file" in proc.stderr and "1 of 3 images failed" in proc.stderr
    report = json.loads(out.read_text())
    assert len(report["images"]) == 2 and str(broken) in report["errors"]


def test_cli_refuses_a_bad_checkpoint(tmp_path, images):
    fake = tmp_path / "fake.pth"
    fake.write_bytes(b"\x80\x04\x95 pickle bytes")
    proc = _cli("predict", "--weights", fake, images[0])
    assert proc.returncode == 2 and "cannot load weights" in proc.stderr and "not an SRN checkpoint" in proc.stderr


def test_cli_help_lists_options():
    proc = _cli("predict", "--help")
    for option in ("--weights", "--threshold", "--top-k", "--json", "--batch-size", "--device"):
        assert option in proc.stdout
