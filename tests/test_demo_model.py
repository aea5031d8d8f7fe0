"""Proof, on the shipped demo model and scenes from a seed it never saw, that the analysis is true.

The relations are planted by the scene spec, so each check compares the analysis with the truth.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis import Analyzer
from analysis.scene_proof import Tolerances, run_scene_proof
from srn_core import read_metadata
from srn_core.scenes import default_spec, generate_dataset

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "weights" / "demo_scenes.safetensors"
CARD = ROOT / "weights" / "proof.json"
UNSEEN_SEED = 4242
MAP_MARGIN = 3.0


@pytest.fixture(scope="module")
def proof(tmp_path_factory):
    analyzer = Analyzer.from_checkpoint(WEIGHTS, "cpu")
    dataset = generate_dataset(tmp_path_factory.mktemp("scenes"), 500, UNSEEN_SEED, progress=False)
    analyses, failures = analyzer.analyse_samples(dataset.samples, batch_size=16)
    assert not failures
    return run_scene_proof(analyzer, analyses, default_spec(), Tolerances())


def test_shipped_model_is_the_one_the_card_describes():
    meta = read_metadata(WEIGHTS)
    assert meta.config.backbone == "compact" and meta.config.grid == 14
    assert meta.label_names == [c.name for c in default_spec().classes]
    assert WEIGHTS.stat().st_size < 20 * 1024 * 1024
    assert (ROOT / "weights" / "README.md").read_text().count("fused") > 0


def test_fused_map_matches_the_model_card(proof):
    card = json.loads(CARD.read_text())
    assert abs(proof.metrics["fused"]["mAP"] - card["metrics"]["fused"]["mAP"]) <= MAP_MARGIN


def test_attention_peaks_point_at_the_right_objects(proof):
    assert proof.pointing_rate >= 0.7
    assert proof.pointing_rate_tolerant >= 0.9
    assert len(proof.pointing) == 18 and all(row["trials"] >= 30 for row in proof.pointing.values())


def test_planted_layouts_are_recovered_where_the_attention_is_on_the_objects(proof):
    layouts = {rule.id for rule in default_spec().layout}
    localised = [row for row in proof.offsets if row["rule"] in layouts and row["localised"]]
    assert len(localised) >= 4
    for row in localised:
        assert row["count"] >= 15, row
        assert row["recovered"], row


def test_no_control_pair_is_reported_as_related(proof):
    assert proof.controls, "no control pair was seen often enough to be tested"
    assert not [row for row in proof.controls if row["related"]]


def test_planted_cooccurrences_rank_above_unrelated_pairs(proof):
    assert len(proof.cooccurrence) == 4
    for measure, rows in proof.cooccurrence.items():
        for row in rows:
            assert row["unrelated_below"] == 1.0, (measure, row)
