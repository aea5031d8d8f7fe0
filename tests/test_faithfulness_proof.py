"""On the shipped model's held-out sample scenes, SRN's attention must beat the centre baseline on the
pointing game (TorchRay's convention) and on deletion AUC of the fused score."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import Analyzer
from analysis.faithfulness import FaithfulnessOptions, evaluate_faithfulness
from srn_core.datasets import read_manifest
from srn_core.sources import align_dataset

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = ROOT / "weights" / "demo_scenes.safetensors"
SAMPLES = ROOT / "weights" / "samples" / "manifest.json"


@pytest.fixture(scope="module")
def summary():
    analyzer = Analyzer.from_checkpoint(WEIGHTS, "cpu")
    dataset = align_dataset(read_manifest(SAMPLES), analyzer.label_names)
    analyses, failures = analyzer.analyse_samples(dataset.samples)
    assert not failures and analyses
    options = FaithfulnessOptions(
        methods=("attention", "centre"), steps=7, stages=(), random_label=False, road_images=0
    )
    return evaluate_faithfulness(analyzer, analyses, options)


def test_attention_beats_the_centre_baseline_on_the_pointing_game(summary):
    attention, centre = summary.overall("pointing", "attention"), summary.overall("pointing", "centre")
    assert attention["images"] >= 5
    assert attention["mean"] > centre["mean"]


def test_attention_beats_the_centre_baseline_on_deletion_auc(summary):
    attention, centre = summary.overall("deletion_fused", "attention"), summary.overall("deletion_fused", "centre")
    assert attention["mean"] < centre["mean"]
