"""Evaluation: every head's scores and metrics, the files it writes, and the `evaluate` command line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from srn_core import CheckpointMeta, Predictor, save_checkpoint
from srn_core.cli import build_parser, main
from srn_core.datasets import MultiLabelDataset, load_dataset
from srn_core.evaluation import EvaluationResult, ImageTensors, evaluate, predict_logits
from srn_core.heads import HEADS
from srn_core.metrics import evaluate_logits, evaluate_scores
from srn_core.sources import InMemoryImages, as_source

from .colour_squares import COLOURS, make_squares
from .helpers import tiny_model


@pytest.fixture(scope="module")
def squares(tmp_path_factory) -> Path:
    return make_squares(tmp_path_factory.mktemp("squares"), 12, seed=3, unknown_every=4)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    return save_checkpoint(path, tiny_model(len(COLOURS), seed=2), list(COLOURS))


def test_every_head_is_scored_and_measured_like_the_predictor(checkpoint, squares):
    dataset = load_dataset(squares)
    result = evaluate(checkpoint, dataset, batch_size=5, device="cpu")
    predictions = Predictor.from_checkpoint(checkpoint, "cpu").predict([s.path for s in dataset.samples])
    targets = dataset.target_matrix()
    assert (targets == -1).sum() == 3 and np.array_equal(result.targets, targets)
    assert result.names == [str(s.path) for s in dataset.samples]
    for head in HEADS:
        expected = np.stack([p.probabilities()[head] for p in predictions])
        np.testing.assert_allclose(result.scores[head], expected, rtol=1e-5, atol=1e-6)
        assert result.metrics[head] == pytest.approx(evaluate_scores(result.scores[head], targets))
    table = result.table()
    assert all(head in table for head in HEADS) and "CF1-3" in table and "OF1" in table
    assert set(result.per_class["fused"]) == set(COLOURS)


def test_labels_are_matched_by_name(checkpoint, squares):
    dataset = load_dataset(squares)
    reference = evaluate(checkpoint, dataset, device="cpu")
    order = [2, 0, 1]
    shuffled = MultiLabelDataset(
        [dataset.label_names[i] for i in order], [type(s)(s.path, s.targets[order]) for s in dataset.samples]
    )
    result = evaluate(checkpoint, shuffled, device="cpu")
    assert result.label_names == list(COLOURS)
    assert result.metrics == reference.metrics
    wrong = MultiLabelDataset(["red", "green", "violet"], dataset.samples)
    with pytest.raises(ValueError, match="violet"):
        evaluate(checkpoint, wrong, device="cpu")


def test_a_bare_model_and_a_subset_of_indices(squares):
    model = tiny_model(len(COLOURS), seed=2)
    dataset = load_dataset(squares)
    result = evaluate(model, dataset, device="cpu")
    assert result.scores["fused"].shape == (12, 3)
    tensors = ImageTensors(as_source(dataset), Predictor(model, CheckpointMeta(model.config, list(COLOURS))).preprocess)
    logits, targets = predict_logits(model, tensors, indices=[5, 1])
    np.testing.assert_allclose(logits["srn"], result.logits["srn"][[5, 1]], rtol=1e-5, atol=1e-6)
    assert np.array_equal(targets, result.targets[[5, 1]])
    items = [(np.zeros((20, 30, 3), np.uint8), [1, 0, -1])]
    assert evaluate(model, InMemoryImages(list(COLOURS), items), device="cpu").scores["main"].shape == (1, 3)


def test_written_files_are_readable_by_other_tools(checkpoint, squares, tmp_path):
    result = evaluate(checkpoint, load_dataset(squares), device="cpu")
    result.write(tmp_path, "both", extra={"weights": "w"})
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["weights"] == "w" and metrics["num_images"] == 12
    assert metrics["heads"]["srn"]["mAP"] == pytest.approx(result.metrics["srn"]["mAP"])
    with open(tmp_path / "scores.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 12 * 3 and list(rows[0]) == [
        "path",
        "label",
        "fused",
        "main",
        "srn",
        "attention",
        "target",
        "fused_logit",
        "main_logit",
        "srn_logit",
        "attention_logit",
    ]
    row = rows[3 * 4 + 2]
    assert row["label"] == "blue" and row["target"] == "-1"
    assert float(row["main"]) == result.scores["main"][4, 2]  # full precision: the same float64
    assert np.float32(row["main_logit"]) == result.logits["main"][4, 2]
    arrays = np.load(tmp_path / "scores.npz", allow_pickle=False)
    assert list(arrays["label_names"]) == list(COLOURS)
    np.testing.assert_array_equal(arrays["fused"], result.scores["fused"])
    np.testing.assert_array_equal(arrays["fused_logits"], result.logits["fused"])


def test_evaluate_cli_end_to_end(checkpoint, squares, tmp_path, capsys):
    code = main(
        [
            "evaluate",
            "--weights",
            str(checkpoint),
            "--data",
            str(squares),
            "--out",
            str(tmp_path),
            "--batch-size",
            "4",
            "--device",
            "cpu",
            "--quiet",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "12 images, 3 labels" in printed and all(head in printed for head in HEADS)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert set(metrics["heads"]) == set(HEADS) and metrics["data"]["source"] == str(squares)
    assert (tmp_path / "scores.csv").is_file() and not (tmp_path / "scores.npz").exists()
    assert main(["evaluate", "--weights", str(checkpoint), "--data", str(tmp_path / "nope.csv")]) == 2
    assert "nope.csv" in capsys.readouterr().err
    assert main(["evaluate", "--weights", str(squares), "--data", str(squares)]) == 2


def test_evaluate_cli_help_lists_every_option():
    text = build_parser()._subparsers._group_actions[0].choices["evaluate"].format_help()
    for flag in (
        "--weights",
        "--data",
        "--out",
        "--scores",
        "--threshold",
        "--top-k",
        "--batch-size",
        "--workers",
        "--device",
        "--format",
        "--label-matrix",
        "--image-dir",
        "--image-set",
        "--skip-missing",
    ):
        assert flag in text


def test_evaluation_leaves_no_gradients(checkpoint, squares):
    predictor = Predictor.from_checkpoint(checkpoint, "cpu")
    evaluate(predictor, load_dataset(squares))
    assert all(p.grad is None for p in predictor.model.parameters())
    assert not predictor.model.training and torch.is_grad_enabled()


def test_official_convention_from_the_command_line(checkpoint, squares, tmp_path, capsys):
    code = main(
        [
            "evaluate",
            "--weights",
            str(checkpoint),
            "--data",
            str(squares),
            "--out",
            str(tmp_path),
            "--device",
            "cpu",
            "--quiet",
            "--convention",
            "official",
        ]
    )
    assert code == 0 and "official convention" in capsys.readouterr().out
    written = json.loads((tmp_path / "metrics.json").read_text())
    result = evaluate(checkpoint, load_dataset(squares), device="cpu", convention="official")
    assert written["convention"] == "official"
    assert written["heads"]["fused"] == pytest.approx(
        evaluate_logits(result.logits["fused"], result.targets, convention="official")
    )


def test_labels_without_positives_are_reported_in_each_convention():
    logits = {head: np.array([[2.0, -1.0], [-3.0, -2.0]], np.float32) for head in HEADS}
    targets = np.array([[1, 0], [0, 0]], np.int8)
    ours = EvaluationResult.from_logits(["cat", "dog"], ["a", "b"], targets, logits)
    official = EvaluationResult.from_logits(["cat", "dog"], ["a", "b"], targets, logits, convention="official")
    assert ours.metrics["fused"]["mAP"] == pytest.approx(100.0) and "left out of mAP" in ours.notes()[0]
    assert np.isnan(official.metrics["fused"]["mAP"]) and "mAP is NaN" in official.notes()[0]
    assert "dog" in official.notes()[0] and official.to_dict()["heads"]["fused"]["mAP"] is None
