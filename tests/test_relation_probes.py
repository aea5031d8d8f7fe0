"""Relation probes and relation fields on real maps, on f_sr wired by hand so the right answer is known:
a layout model (cat's SRN logit reads dog's mass on one cell), a presence model (it reads dog's total mass)
and a blank model (no relation)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from analysis import ImageAnalysis
from analysis.measures.relation_probes import bootstrap_ci, mirror_map, relation_probe
from analysis.measures.spatial import map_relation_field

from .helpers import TINY_LABELS, blank_f_sr, tiny_model

TARGET_CELL = (0, 3)
WEIGHT = 5.0


def analysis_with(points: dict[int, tuple[int, int]], present: list[int]) -> ImageAnalysis:
    """U puts label i's whole mass (1) on cell points[i]; targets: `present`."""
    u = np.zeros((5, 4, 4), np.float32)
    for label, (r, c) in points.items():
        u[label, r, c] = 1.0
    targets = np.array([int(i in present) for i in range(5)], np.int8)
    zeros = np.zeros(5, np.float32)
    return ImageAnalysis(
        "synthetic",
        (64, 64),
        TINY_LABELS,
        zeros,
        zeros,
        zeros,
        zeros,
        u.copy(),
        np.zeros_like(u),
        u,
        image=np.zeros((64, 64, 3), np.uint8),
        alpha=0.5,
        targets=targets,
    )


def wired(spatial: bool):
    """cat's SRN logit = WEIGHT x dog's mass on TARGET_CELL (spatial) or on the whole grid (presence)."""
    model = blank_f_sr(tiny_model())
    sr = model.f_sr
    with torch.no_grad():
        sr.conv2.weight[1, 1] = 1.0
        if spatial:
            sr.conv4.weight[4, 0, TARGET_CELL[0], TARGET_CELL[1]] = 1.0
        else:
            sr.conv4.weight[4, 0] = 1.0
        sr.fc.weight[0, 4] = WEIGHT
    return model


@pytest.fixture
def images() -> list[ImageAnalysis]:
    """Six images with dog on TARGET_CELL beside cat, two without dog."""
    with_dog = [analysis_with({0: (1, 1 + n % 2), 1: TARGET_CELL}, [0, 1]) for n in range(6)]
    return with_dog + [analysis_with({0: (1, 1)}, [0]), analysis_with({0: (1, 2)}, [0])]


def test_mirror_map_reflects_through_a_pivot():
    values = np.zeros((2, 4, 4))
    values[0, 0, 3] = 1.0
    values[1, 1, 0] = 2.0
    np.testing.assert_array_equal(np.argwhere(mirror_map(values, (1.5, 1.5))), [[0, 3, 0], [1, 2, 3]])
    np.testing.assert_array_equal(np.argwhere(mirror_map(values, (1.5, 1.5), "y")), [[0, 3, 3], [1, 2, 0]])
    np.testing.assert_array_equal(np.argwhere(mirror_map(values, (0, 3), "x")), [[0, 0, 3]])
    assert mirror_map(values, (0, 0)).sum() == 0.0, "what leaves the grid is lost"


def test_bootstrap_interval_of_the_mean():
    assert bootstrap_ci(np.full(10, 2.0)) == (2.0, 2.0)
    low, high = bootstrap_ci(np.arange(100.0))
    assert low < 49.5 < high and high - low < 25
    assert all(np.isnan(bootstrap_ci(np.array([1.0]))))


def test_a_layout_model_is_found_to_use_the_layout(images):
    probe = relation_probe(wired(True), images, "cat", "dog", anchor="cat", shift=(0, 1), add_offset=(2, -1))
    assert probe.verdict == "layout", probe.to_dict()
    mirror, remove, add = (probe.effects[op] for op in ("mirror", "remove", "add"))
    assert remove.images == 6 and (mirror.images, mirror.left_out) == (3, 3), "dog mirrored through (1, 1) leaves"
    assert mirror.srn_change == pytest.approx(-WEIGHT) and mirror.srn_abs_change_ci[0] == pytest.approx(WEIGHT)
    assert remove.srn_change == pytest.approx(-WEIGHT)
    assert mirror.fused_change == pytest.approx(-WEIGHT / 2) and mirror.main_change == 0.0
    assert add.images == 1 and add.srn_change == pytest.approx(WEIGHT), "from cat at (1,2) the point leaves the grid"
    assert "layout" in probe.explanation() and len(probe.rows()) == 4


def test_a_presence_model_is_found_to_use_presence_only(images):
    probe = relation_probe(wired(False), images, "cat", "dog", anchor=None, shift=(0, 1))
    assert probe.verdict == "presence", probe.to_dict()
    assert probe.effects["remove"].srn_abs_change == pytest.approx(WEIGHT)
    assert probe.effects["mirror"].srn_abs_change == pytest.approx(0.0, abs=1e-6)
    assert probe.effects["move"].srn_abs_change == pytest.approx(0.0, abs=1e-6)


def test_mirror_and_move_leave_out_images_where_the_partner_leaves_the_grid(images):
    """Mirroring dog (0, 3) through cat's peak at (1, 1) puts it off the grid: that measures removal, not
    layout, so those three images are left out; through (1, 2) it lands on (2, 1) and stays."""
    probe = relation_probe(wired(False), images, "cat", "dog", anchor="cat", shift=(0, -1))
    mirror, move = probe.effects["mirror"], probe.effects["move"]
    assert (mirror.images, mirror.left_out) == (3, 3)
    assert mirror.srn_abs_change == pytest.approx(0.0, abs=1e-6)
    assert (move.images, move.left_out) == (0, 6), "moving dog up from row 0 leaves the grid"
    assert probe.verdict == "presence"
    counted = relation_probe(wired(False), images, "cat", "dog", anchor="cat", shift=(0, -1), min_kept=0.0)
    assert (counted.effects["mirror"].images, counted.effects["mirror"].left_out) == (6, 0)
    assert counted.effects["mirror"].srn_abs_change == pytest.approx(WEIGHT / 2)
    assert counted.verdict == "layout", "counting removals as mirrors would call presence layout"


def test_no_relation_and_bad_input(images):
    assert relation_probe(blank_f_sr(tiny_model()), images, "cat", ["dog", "sun"]).verdict == "none"
    with pytest.raises(ValueError, match="unknown probe"):
        relation_probe(wired(True), images, "cat", "dog", ops=("flip",))
    with pytest.raises(ValueError, match="unknown label"):
        relation_probe(wired(True), images, "cat", "horse")
    with pytest.raises(ValueError, match="min_kept"):
        relation_probe(wired(True), images, "cat", "dog", min_kept=1.5)
    with pytest.raises(ValueError, match="at least one"):
        relation_probe(wired(True), [], "cat", "dog")


def test_relation_field_on_real_maps_peaks_where_f_sr_wants_the_partner(images):
    field = map_relation_field(wired(True), images, moved="dog", anchor="cat", read="cat")
    assert field.mode == "map" and field.images == 6
    assert field.warning is None and field.contrast == pytest.approx(WEIGHT)
    dx, dy = field.preferred_offset()
    assert (dx, dy) in {(TARGET_CELL[1] - 1, TARGET_CELL[0] - 1), (TARGET_CELL[1] - 2, TARGET_CELL[0] - 1)}
    assert field.removed == pytest.approx(0.0) and field.original == pytest.approx(WEIGHT)
    flat = map_relation_field(blank_f_sr(tiny_model()), images, moved="dog", anchor="cat")
    assert flat.warning and "no contrast" in flat.warning
    with pytest.raises(ValueError, match="no image holds both"):
        map_relation_field(wired(True), images, moved="car", anchor="cat")
