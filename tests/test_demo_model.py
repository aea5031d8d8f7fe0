"""Proof, on the shipped demo model and scenes from a seed it never saw, that f_sr learned the planted spatial
relations and that the analysis finds them (relation benchmark v2).

The relations are planted by the scene spec, so each check compares the analysis with the truth. The
targets are those of the model card (weights/README.md); each number there carries its interval.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis import Analyzer
from analysis.proof.card_relations import relation_sections
from analysis.proof.relation_proof import SPATIAL_FAMILIES
from analysis.proof.scene_proof import Tolerances, run_scene_proof
from srn_core import SRN, load_checkpoint, read_metadata
from srn_core.scenes import default_spec, generate_dataset
from srn_core.training.sr_stage import scale_conv4_init

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "weights" / "demo_scenes.safetensors"
CARD = ROOT / "weights" / "proof.json"
UNSEEN_SEED = 4242
SCENES = 500
MAP_MARGIN = 3.0
# Targets of the issue the shipped model misses (each explained in weights/README.md). strict: the day a
# retrained model meets one, its test fails until the marker is removed.
MISSED = pytest.mark.xfail(strict=True, reason="target missed by the shipped model; see weights/README.md")


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer.from_checkpoint(WEIGHTS, "cpu")


@pytest.fixture(scope="module")
def proof(analyzer, tmp_path_factory):
    dataset = generate_dataset(tmp_path_factory.mktemp("scenes"), SCENES, UNSEEN_SEED, progress=False)
    analyses, failures = analyzer.analyse_samples(dataset.samples, batch_size=16)
    assert not failures
    return run_scene_proof(analyzer, analyses, default_spec(), Tolerances())


def _target(proof, start: str) -> dict:
    [found] = [t for t in proof.targets if t["target"].startswith(start)]
    return found


def test_shipped_model_is_the_one_the_card_describes():
    meta = read_metadata(WEIGHTS)
    assert meta.config.backbone == "compact" and meta.config.grid == 14
    assert meta.config.sr_channels <= 128, "the demo's narrow f_sr"
    assert meta.label_names == [c.name for c in default_spec().classes]
    assert WEIGHTS.stat().st_size < 20 * 1024 * 1024
    card = (ROOT / "weights" / "README.md").read_text()
    assert "Spatial proof" in card and "position_filters.png" in card
    assert (ROOT / "weights" / "position_filters.png").is_file()
    stages = meta.training["summary"]["stages"]
    assert stages["3"]["cached_maps"] and set(stages) == {"1", "2", "3", "4"}


def test_conv4_moved_away_from_its_initialisation():
    """Stage 3 starts conv4 at 0.1 x PyTorch's initialisation (seed 0 of the recipe): most filters must have
    moved by at least half their starting norm, and the filters the labels read most must have grown."""
    model, meta = load_checkpoint(WEIGHTS)
    start = SRN.from_config(meta.config)
    scale_conv4_init(start, meta.training["summary"]["stages"]["3"]["conv4_init_scale"], 0)
    trained = model.f_sr.conv4.weight.detach().flatten(1)
    initial = start.f_sr.conv4.weight.detach().flatten(1)
    moved = (trained - initial).norm(dim=1) / initial.norm(dim=1)
    assert moved.median() >= 0.5, moved.median()
    used = model.f_sr.fc.weight.detach().abs().max(dim=0).values.argsort(descending=True)[:32]
    assert (trained[used].norm(dim=1) >= 2 * initial[used].norm(dim=1)).float().mean() >= 0.9


def test_the_cards_relation_tables_are_those_of_its_proof_json():
    """The card's probe, filter and field tables render from proof.json as they stand in the card."""
    saved = json.loads(CARD.read_text())
    notes = (ROOT / "weights" / "proof_notes.md").read_text()
    lines = relation_sections(saved["relation"], saved["targets"], "position_filters.png", notes)
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| family")]
    card = (ROOT / "weights" / "README.md").read_text()
    assert len(rows) > 20 and [row for row in rows if row not in card] == []
    probes = [line for line in rows if line.endswith(("| layout |", "| presence |", "| none |"))]
    assert probes and all(line.count("(") >= 2 for line in probes), "mirror and move carry their image counts"


def test_fused_map_matches_the_model_card(proof):
    card = json.loads(CARD.read_text())
    assert abs(proof.metrics["fused"]["mAP"] - card["metrics"]["fused"]["mAP"]) <= MAP_MARGIN
    assert card["targets"] and card["relation"]["families"]


def test_fused_beats_the_main_net_on_the_spatial_families(proof):
    spatial = proof.relation["families"]["spatial"]
    assert set(spatial["labels"]) == {n for f in SPATIAL_FAMILIES for n in proof.relation["families"][f]["labels"]}
    assert spatial["fused_minus_main"] >= 3.0, spatial
    assert proof.relation["families"]["all"]["fused_minus_main"] >= -0.5, proof.relation["families"]["all"]


def test_moving_or_mirroring_the_partner_moves_the_spatial_labels(proof):
    probes = proof.relation["probes"]
    for family in SPATIAL_FAMILIES:
        changes = [max(p["mirror_abs_change"], p["move_abs_change"]) for p in probes if p["family"] == family]
        assert changes and np.mean(changes) >= 3.0, (family, changes)
        assert all(p["verdict"] == "layout" for p in probes if p["family"] == family)


def test_mirroring_a_cooccurrence_only_partner_barely_moves_the_label(proof):
    cooc = [p for p in proof.relation["probes"] if p["family"] == "co-occurrence"]
    assert cooc and all(p["mirror_abs_change"] < 1.0 and p["mirror_images"] >= 20 for p in cooc), cooc
    assert all(p["verdict"] == "presence" for p in cooc), cooc


def test_position_labels_have_conv4_filters_shaped_like_their_region(proof):
    rows = proof.relation["position_filters"]
    assert len(rows) == len(default_spec().position_labels)
    for row in rows:
        assert row["best_correlation"] >= 0.5, row


def test_relation_fields_peak_at_the_planted_arrangement_offsets(proof):
    fields = [f for f in proof.relation["fields"] if f["kind"] == "arrangement"]
    assert len(fields) == len(default_spec().arrangement)
    assert all(f["hit"] and f["warning"] is None for f in fields), fields


@pytest.mark.xfail(
    strict=True,
    reason="borderline: the layout's field peaks at (0, -2) on this seed and at (0, -3) on the card's, against "
    "(0, -3.75); see weights/README.md",
)
def test_relation_fields_peak_at_the_planted_offsets_for_most_layout_and_arrangement_rules(proof):
    fields = [f for f in proof.relation["fields"] if f["kind"] in ("layout", "arrangement")]
    assert fields and sum(f["hit"] for f in fields) >= 0.8 * len(fields), fields


@MISSED
def test_attention_points_at_each_object(proof):
    context = {r.label for r in default_spec().context if r.decoy_p == 0}
    assert len(proof.pointing_tolerant) == len(default_spec().classes)
    for name, row in proof.pointing_tolerant.items():
        assert row["trials"] >= 30, name
        if name not in context:
            assert row["rate"] >= 0.9, (name, row)


def test_no_control_pair_is_reported_as_related(proof):
    assert proof.controls, "no control pair was seen often enough to be tested"
    assert not [row for row in proof.controls if row["related"]]
    assert not {row["anchor"] for row in proof.controls} & set(default_spec().position_labels)
    control_probes = [p for p in proof.relation["probes"] if p["family"] == "control"]
    assert control_probes and all(p["verdict"] == "none" for p in control_probes)


def test_planted_cooccurrences_rank_above_unrelated_pairs(proof):
    assert len(proof.cooccurrence) == 4
    for measure, rows in proof.cooccurrence.items():
        for row in rows:
            assert row["unrelated_below"] == 1.0, (measure, row)


def test_probe_command_finds_the_arrangement_layout(tmp_path):
    out = tmp_path / "probe.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis",
            "probe",
            "--weights",
            str(WEIGHTS),
            "--generate",
            "60",
            "--seed",
            str(UNSEEN_SEED + 1),
            "--read",
            "T_over_arrow",
            "--partner",
            "letter_T",
            "--anchor",
            "arrow",
            "--ops",
            "remove,mirror",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "verdict: layout" in result.stdout
    data = json.loads(out.read_text())
    assert data["verdict"] == "layout" and [e["op"] for e in data["effects"]] == ["remove", "mirror"]
