"""analysis: semantic relations, influence, centroid offsets, relation fields and what-if edits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from analysis import (
    Edit,
    ImageAnalysis,
    apply_edits,
    centroid_offsets,
    conditional_probability,
    cooccurrence,
    fsr_similarity,
    gradient_x_input,
    influence_maps,
    influence_matrix,
    label_matrix_of,
    placement_logits,
    point_attention,
    probe_sr,
    relation_field,
    relation_fields,
    shift_map,
    sr_forward,
    what_if,
    what_if_each,
)

from .helpers import TINY_LABELS, blank_f_sr, tiny_model

TARGET_CELL = (0, 3)


def synthetic(points: dict[int, tuple[int, int]], targets=None, size=(80, 40), cls=None, mass=1.0) -> ImageAnalysis:
    """An analysis whose A and U put label i's whole mass on cell points[i] (others uniform)."""
    attention = np.full((5, 4, 4), 1 / 16, np.float32)
    for label, (r, c) in points.items():
        attention[label] = 0.0
        attention[label, r, c] = 1.0
    zeros = np.zeros(5, np.float32)
    cls_logits = np.asarray(cls if cls is not None else np.linspace(-1, 1, 5), np.float32)
    return ImageAnalysis(
        "synthetic",
        size,
        TINY_LABELS,
        zeros,
        cls_logits,
        zeros,
        zeros,
        attention,
        np.zeros((5, 4, 4), np.float32),
        attention * mass,
        alpha=0.5,
        image=np.zeros((size[1], size[0], 3), np.uint8),
        targets=None if targets is None else np.asarray(targets, np.int8),
    )


@pytest.fixture
def layout_model():
    """f_sr wired by hand so that cat's SRN logit is the dog mass on cell TARGET_CELL (and nothing else)."""
    model = blank_f_sr(tiny_model())
    sr = model.f_sr
    with torch.no_grad():
        sr.conv2.weight[0, 0] = 1.0
        sr.conv2.weight[1, 1] = 1.0
        sr.conv4.weight[4, 0, TARGET_CELL[0], TARGET_CELL[1]] = 1.0
        sr.fc.weight[0, 4] = 1.0
    return model


def test_cooccurrence_and_conditional_probability_with_unknowns():
    targets = np.array([[1, 1, 0], [1, -1, 1], [0, 1, 1]])
    names = ["a", "b", "c"]
    co = cooccurrence(targets, names).values
    np.testing.assert_array_equal(co, [[2, 1, 1], [1, 2, 1], [1, 1, 2]])
    cond = conditional_probability(targets, names).values
    assert cond[0, 1] == 1.0 and cond[0, 2] == 0.5 and cond[2, 0] == 0.5 and cond[0, 0] == 1.0
    assert np.isnan(conditional_probability(np.array([[0, 1, 1]]), names).values[0, 1])
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        cooccurrence(np.zeros((2, 4)), names)


def test_label_matrix_from_truth_or_predictions():
    a = synthetic({}, targets=[1, 0, 0, 1, 0])
    a.logits = np.array([3.0, -3.0, 0.1, -0.1, 2.0], np.float32)
    np.testing.assert_array_equal(label_matrix_of([a], "truth"), [[1, 0, 0, 1, 0]])
    np.testing.assert_array_equal(label_matrix_of([a], "prediction"), [[1, 0, 1, 0, 1]])
    with pytest.raises(ValueError, match="no ground truth"):
        label_matrix_of([synthetic({})], "truth")


def test_fsr_similarity_of_equal_and_orthogonal_labels():
    model = tiny_model()
    with torch.no_grad():
        model.f_sr.conv2.weight.zero_()
        model.f_sr.conv2.weight[0:4, 0] = 1.0
        model.f_sr.conv2.weight[0:4, 3] = 2.0
        model.f_sr.conv2.weight[8:12, 1] = 1.0
    sim = fsr_similarity(model, TINY_LABELS).values
    assert sim[0, 3] == pytest.approx(1.0) and sim[0, 1] == pytest.approx(0.0) and sim[2, 2] == 0.0
    measured = fsr_similarity(model, TINY_LABELS, probe_sr(model, TINY_LABELS))
    assert measured.values.shape == (5, 5) and measured.values[1, 1] == pytest.approx(1.0)


def test_influence_equals_finite_differences():
    model = tiny_model(seed=2).double()
    rng = np.random.default_rng(0)
    u = rng.random((2, 5, 4, 4)) * 0.2
    grads = gradient_x_input(model, torch.as_tensor(u)).numpy()
    assert grads.shape == (2, 5, 5, 4, 4)
    eps = 1e-6
    for i in range(5):
        step = np.zeros_like(u)
        step[:, i] = u[:, i] * eps
        exact = (sr_forward(model, u + step) - sr_forward(model, u - step)) / (2 * eps)
        np.testing.assert_allclose(grads[:, i].sum(axis=(2, 3)), exact, rtol=1e-5, atol=1e-9)
    for b, i, r, c in [(0, 2, 1, 3), (1, 4, 0, 0)]:
        step = np.zeros_like(u)
        step[b, i, r, c] = eps
        exact = (sr_forward(model, u + step)[b] - sr_forward(model, u - step)[b]) / (2 * eps) * u[b, i, r, c]
        np.testing.assert_allclose(grads[b, i, :, r, c], exact, rtol=1e-5, atol=1e-9)


def test_influence_of_a_hand_wired_model(layout_model):
    a = synthetic({1: TARGET_CELL}, mass=0.7)
    maps = influence_maps(layout_model, a)
    assert maps.shape == (5, 5, 4, 4)
    assert maps[1, 0, 0, 3] == pytest.approx(0.7)
    maps[1, 0, 0, 3] = 0.0
    assert np.abs(maps).max() == 0.0


def test_influence_matrix_averages_images_and_can_keep_present_sources():
    model = tiny_model(seed=4)
    analyses = [synthetic({0: (0, 0)}, targets=[1, 0, 0, 0, 0]), synthetic({1: (3, 3)}, targets=[1, 1, 0, 0, 0])]
    each = [influence_maps(model, a).sum(axis=(2, 3)) for a in analyses]
    matrix = influence_matrix(model, iter(analyses), batch_size=1)
    np.testing.assert_allclose(matrix.values, (each[0] + each[1]) / 2, rtol=1e-5, atol=1e-8)
    present = influence_matrix(model, analyses, present_only=True).values
    np.testing.assert_allclose(present[1], each[1][1], rtol=1e-5, atol=1e-8)
    assert np.isnan(present[2]).all()
    assert "raises" in matrix.description


def test_centroid_offsets_of_known_layouts():
    analyses = [
        synthetic({0: (1, 1), 1: (1, 3)}, targets=[1, 1, 0, 0, 0]),
        synthetic({0: (2, 0), 1: (2, 2)}, targets=[1, 1, 0, 0, 0]),
        synthetic({0: (0, 0), 2: (3, 0)}, targets=[1, 0, 1, 0, 0]),
    ]
    cells = centroid_offsets(analyses)
    np.testing.assert_allclose(cells.pair("cat", "dog"), [[2, 0], [2, 0]])
    np.testing.assert_allclose(cells.mean[0, 1], [2, 0])
    np.testing.assert_allclose(cells.std[0, 1], [0, 0])
    assert cells.consistency[0, 1] == pytest.approx(1.0) and cells.count[0, 1] == 2 and cells.count[1, 0] == 2
    np.testing.assert_allclose(cells.mean[1, 0], [-2, 0])
    np.testing.assert_allclose(cells.mean[0, 2], [0, 3])
    assert cells.count[1, 2] == 0 and np.isnan(cells.mean[1, 2]).all()
    np.testing.assert_allclose(centroid_offsets(analyses, units="pixels").mean[0, 1], [40, 0])
    np.testing.assert_allclose(centroid_offsets(analyses, units="fraction").mean[0, 2], [0, 0.75])
    mixed = centroid_offsets(analyses + [synthetic({0: (1, 1), 1: (1, 0)}, targets=[1, 1, 0, 0, 0])])
    assert mixed.consistency[0, 1] == pytest.approx(1 / 3)
    assert {r["anchor"] for r in cells.rows()} == {"cat", "dog", "car"}


def test_placement_logits_equal_brute_force_f_sr():
    model = tiny_model(seed=5)
    u = np.random.default_rng(1).random((5, 4, 4)).astype(np.float32) * 0.1
    placed, removed = placement_logits(model, u, [1, 4], [0.6, 0.2], chunk=1)
    assert placed.shape == (2, 4, 4, 5) and removed.shape == (2, 5)
    for n, (k, mass) in enumerate([(1, 0.6), (4, 0.2)]):
        batch = np.repeat(u[None], 16, axis=0)
        batch[:, k] = 0.0
        batch[np.arange(16), k, np.arange(16) // 4, np.arange(16) % 4] = mass
        np.testing.assert_allclose(placed[n].reshape(16, 5), sr_forward(model, batch), rtol=1e-5, atol=1e-6)
        cleared = u.copy()
        cleared[k] = 0.0
        np.testing.assert_allclose(removed[n], sr_forward(model, cleared), rtol=1e-5, atol=1e-6)


def test_relation_field_peaks_at_the_preferred_layout(layout_model):
    anchor_cell = (2, 1)
    base = point_attention(5, 4, {0: (*anchor_cell, 1.0)})
    field = relation_field(layout_model, base, TINY_LABELS, moved="dog", anchor="cat", mass=0.5)
    assert field.read == "cat" and field.anchor_cell == anchor_cell and field.logits.shape == (7, 7)
    expected = (TARGET_CELL[1] - anchor_cell[1], TARGET_CELL[0] - anchor_cell[0])
    assert field.preferred_offset() == expected == (2, -2)
    assert field.logits[expected[1] + 3, expected[0] + 3] == pytest.approx(0.5)
    assert np.isfinite(field.logits).sum() == 16 and np.isnan(field.logits[6, 6])
    assert field.removed == 0.0 and field.original == 0.0
    assert len(field.rows()) == 16
    all_fields = relation_fields(layout_model, base, TINY_LABELS, anchor="cat", mass=0.5)
    assert [f.moved for f in all_fields] == ["dog", "car", "tree", "sun"]
    assert all(np.nanmax(np.abs(f.logits)) == 0.0 for f in all_fields[1:])
    own = relation_field(
        layout_model,
        point_attention(5, 4, {0: (2, 1, 1.0), 1: (3, 3, 0.25)}),
        TINY_LABELS,
        "dog",
        "cat",
        anchor_cell=(0, 0),
    )
    assert own.mass == pytest.approx(0.25) and own.preferred_offset() == (3, 0) and own.original == 0.0


def test_shift_and_edits():
    grid = np.arange(16, dtype=np.float32).reshape(4, 4)
    moved = shift_map(grid, dx=1, dy=-1)
    np.testing.assert_array_equal(moved[:3, 1:], grid[1:, :3])
    assert moved[3].sum() == 0 and moved[:, 0].sum() == 0
    assert shift_map(grid, 4, 0).sum() == 0
    u = np.ones((5, 4, 4), np.float32)
    edited = apply_edits(u, TINY_LABELS, [Edit("dog", "remove"), Edit(2, "scale", factor=3.0)])
    assert edited[1].sum() == 0 and edited[2].sum() == 48 and edited[0].sum() == 16 and u[1].sum() == 16
    with pytest.raises(ValueError, match="unknown edit"):
        Edit("dog", "rotate")


def test_what_if_changes_only_what_the_model_reads(layout_model):
    a = synthetic({1: (0, 2)}, mass=0.5, cls=[1.0, 2.0, 0.0, -1.0, 3.0])
    results = what_if_each(
        layout_model,
        a,
        [
            [Edit("cat", "remove")],
            [Edit("dog", "move", shift=(1, 0))],
            [Edit("dog", "move", shift=(1, 0)), Edit("dog", "scale", factor=2.0)],
        ],
    )
    removed, moved, scaled = results
    np.testing.assert_allclose(removed.sr_after, removed.sr_before)
    assert moved.sr_before[0] == 0.0 and moved.sr_after[0] == pytest.approx(0.5)
    np.testing.assert_allclose(moved.sr_after[1:], moved.sr_before[1:])
    assert scaled.sr_after[0] == pytest.approx(1.0)
    np.testing.assert_allclose(scaled.fused_after, 0.5 * a.cls_logits + 0.5 * scaled.sr_after)
    assert moved.description == "move dog by dx=1, dy=0 cells"
    row = moved.rows()[0]
    assert row["label"] == "cat" and row["srn_prob_after"] == pytest.approx(1 / (1 + np.exp(-0.5)))
    single = what_if(layout_model, a, Edit("dog", "remove"))
    np.testing.assert_allclose(single.sr_before, sr_forward(layout_model, a.weighted_attention))
