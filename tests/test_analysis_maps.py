"""analysis: the forward-pass session, overlays and per-label attention statistics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from analysis import (
    Analyzer,
    align_dataset,
    attention_pointing,
    attention_stats,
    blend,
    cell_to_pixel,
    colorize,
    map_stats,
    normalize_maps,
    overlay_image,
    overlay_maps,
    pointing_game,
    sr_forward,
    upsample_maps,
)
from analysis.figures.overlay import colour_table
from srn_core.datasets import Box, MultiLabelDataset, Sample

from .helpers import TINY_LABELS, tiny_meta, tiny_model


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(model := tiny_model(), tiny_meta(model), "cpu")


@pytest.fixture(scope="module")
def analyses(analyzer):
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 255, (48 + 8 * i, 80, 3), np.uint8) for i in range(3)]
    return analyzer.analyse(
        images,
        names=["a", "b", "c"],
        batch_size=2,
        targets=[np.array([1, 0, 1, 0, -1])] * 3,
        boxes=[[Box("cat", 0, 0, 40, 24)]] * 3,
    )


def test_analysis_holds_every_output_consistently(analyzer, analyses):
    a = analyses[1]
    assert a.image.shape == (56, 80, 3) and a.image_size == (80, 56) and a.grid == 4
    for name in ("logits", "cls_logits", "sr_logits", "att_logits"):
        assert getattr(a, name).shape == (5,) and getattr(a, name).dtype == np.float32
    for kind in ("attention", "confidence", "weighted"):
        assert a.maps(kind).shape == (5, 4, 4)
    np.testing.assert_allclose(a.attention.sum(axis=(1, 2)), 1, rtol=1e-5)
    np.testing.assert_allclose(a.weighted_attention, a.confidence * a.attention, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(a.logits, 0.5 * a.cls_logits + 0.5 * a.sr_logits, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sr_forward(analyzer.model, a.weighted_attention), a.sr_logits, rtol=1e-5, atol=1e-6)
    assert a.present_labels() == [0, 2]
    assert [b.label for b in a.boxes_of("cat")] == ["cat"]
    light = a.without_pixels()
    assert light.image_size == a.image_size and not light.has_pixels and a.has_pixels
    with pytest.raises(ValueError, match="unknown label 'zebra'"):
        a.indices(["zebra"])
    with pytest.raises(ValueError, match="map kind"):
        a.maps("gradients")


def test_batched_analysis_equals_one_by_one(analyzer, analyses):
    again = analyzer.analyse_one(analyses[2].image, "c")
    np.testing.assert_allclose(again.logits, analyses[2].logits, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(again.weighted_attention, analyses[2].weighted_attention, rtol=1e-5, atol=1e-7)


def test_nearest_upsampling_maps_pixels_to_their_cells():
    maps = np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4)
    up = upsample_maps(maps, (6, 10), "nearest")
    assert up.shape == (2, 6, 10)
    for y in range(6):
        for x in range(10):
            assert up[1, y, x] == maps[1, int((y + 0.5) * 4 / 6), int((x + 0.5) * 4 / 10)]
    smooth = upsample_maps(maps, (40, 40), "bilinear")
    assert smooth.shape == (2, 40, 40)
    assert smooth.min() >= maps.min() - 1e-4 and smooth.max() <= maps.max() + 1e-4
    np.testing.assert_allclose(upsample_maps(np.ones((600, 4, 4)), (9, 9), "bicubic"), 1, atol=1e-5)
    with pytest.raises(ValueError, match="upsampling"):
        upsample_maps(maps, (8, 8), "lanczos")


def test_normalise_colour_and_blend():
    maps = np.array([[[0.0, 2.0], [1.0, 4.0]], [[5.0, 5.0], [5.0, 5.0]]], np.float32)
    per_map = normalize_maps(maps, "map")
    np.testing.assert_allclose(per_map[0], [[0, 0.5], [0.25, 1]])
    assert (per_map[1] == 0).all()
    np.testing.assert_allclose(normalize_maps(maps, "global")[1], 1)
    np.testing.assert_allclose(normalize_maps(maps, (0.0, 10.0))[0], maps[0] / 10)
    colours = colorize(np.array([0.0, 1.0]), "jet")
    assert tuple(colours[0]) == tuple(colour_table("jet")[0]) and colours[0, 2] > 100 and colours[1, 0] > 100
    image = np.full((2, 2, 3), 100, np.uint8)
    assert (blend(image, np.full((3, 2, 2, 3), 200, np.uint8), 0.25) == 125).all()
    with pytest.raises(ValueError, match="colour map"):
        colorize(np.zeros(2), "no-such-map")


def test_overlays_of_all_labels_in_one_pass_equal_single_ones(analyses):
    a = analyses[0]
    many = overlay_maps(a, None, "weighted", "nearest", "viridis", 0.4)
    assert many.images.shape == (5, 48, 80, 3) and many.images.dtype == np.uint8 and many.labels == TINY_LABELS
    one = overlay_maps(a, ["tree"], "weighted", "nearest", "viridis", 0.4)
    np.testing.assert_array_equal(one.images[0], many.images[3])
    small = overlay_maps(a, [0, 1], "confidence", "bilinear", max_side=40)
    assert small.images.shape == (2, 24, 40, 3)
    np.testing.assert_array_equal(overlay_maps(a, [0], opacity=0.0).images[0], a.image)
    blended, values = overlay_image(a.image, a.attention[:1], opacity=1.0)
    np.testing.assert_array_equal(blended[0], colorize(values[0], "jet"))


def test_map_stats_of_known_maps():
    maps = np.zeros((3, 4, 4))
    maps[0, 1, 2] = 1.0
    maps[1, 0, 0] = maps[1, 0, 2] = 0.5
    stats = map_stats(maps, image_size=(80, 40), labels=["p", "q", "empty"])
    np.testing.assert_array_equal(stats.peak_cell[:2], [[1, 2], [0, 0]])
    np.testing.assert_allclose(stats.peak_xy[0], [50.0, 15.0])
    np.testing.assert_allclose(stats.centroid_cell[:2], [[1, 2], [0, 1]])
    np.testing.assert_allclose(stats.centroid_xy[1], [30.0, 5.0])
    np.testing.assert_allclose(stats.spread[:2], [0.0, 1.0])
    np.testing.assert_allclose(stats.spread_xy[1], [20.0, 0.0])
    np.testing.assert_allclose(stats.mass, [1, 1, 0])
    assert np.isnan(stats.centroid_cell[2]).all()
    assert stats.rows()[1]["centroid_x"] == pytest.approx(30.0)
    np.testing.assert_allclose(cell_to_pixel(np.array([3]), np.array([0]), 4, (80, 40)), [[10.0, 35.0]])


def test_pointing_game_hits_misses_and_tolerance():
    boxes = [Box("cat", 10, 10, 20, 20), Box("dog", 50, 0, 60, 5), Box("cat", 70, 70, 80, 80)]
    points = np.array([[15, 15], [40, 2], [0, 0], [75, 69]])
    hits = pointing_game(points, ["cat", "dog", "sun", "cat"], boxes, tolerance=0.0)
    np.testing.assert_array_equal(hits[[0, 1, 3]], [1.0, 0.0, 0.0])
    assert np.isnan(hits[2])
    np.testing.assert_array_equal(pointing_game(points, ["cat", "dog", "sun", "cat"], boxes, 10.0)[[1, 3]], [1.0, 1.0])


def test_attention_pointing_uses_the_peak_of_the_analysed_map(analyses):
    a = analyses[0]
    stats = attention_stats(a, ["cat", "car"])
    hits = attention_pointing(a, ["cat", "car"], tolerance=0.0)
    inside = 0 <= stats.peak_xy[0, 0] <= 40 and 0 <= stats.peak_xy[0, 1] <= 24
    assert hits[0] == float(inside) and np.isnan(hits[1])
    full = a.__class__(**{**a.__dict__, "boxes": [Box("cat", 0, 0, 80, 48)]})
    assert attention_pointing(full, ["cat"])[0] == 1.0


def test_samples_are_analysed_with_failures_listed(analyzer, tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(np.full((30, 50, 3), 120, np.uint8)).save(good)
    (tmp_path / "bad.png").write_bytes(b"garbage")
    samples = [
        Sample(good, np.array([1, 0, 0, 0, 0], np.int8), [Box("cat", 1, 1, 9, 9)]),
        Sample(tmp_path / "bad.png", np.zeros(5, np.int8)),
        Sample(good, np.zeros(5, np.int8)),
    ]
    seen = []
    results, failures = analyzer.analyse_samples(samples, batch_size=2, progress=lambda it: seen.append(1) or it)
    assert [r.image_size for r in results] == [(50, 30), (50, 30)] and seen == [1]
    assert results[0].targets.tolist() == [1, 0, 0, 0, 0] and results[0].boxes[0].label == "cat"
    assert list(failures) == [str(tmp_path / "bad.png")] and "not an image" in failures[str(tmp_path / "bad.png")]


def test_dataset_labels_are_aligned_to_the_model():
    shuffled = ["sun", "cat", "dog", "car", "tree"]
    dataset = MultiLabelDataset(shuffled, [Sample(Path("x.png"), np.array([1, 0, 1, -1, 0], np.int8))])
    aligned = align_dataset(dataset, TINY_LABELS)
    assert aligned.label_names == TINY_LABELS and aligned.samples[0].targets.tolist() == [0, 1, -1, 0, 1]
    with pytest.raises(ValueError, match=r"missing \['tree'\]"):
        align_dataset(MultiLabelDataset(["cat", "dog", "car", "sun", "moon"], []), TINY_LABELS)


def test_map_stats_of_no_labels_is_empty_not_an_error():
    stats = map_stats(np.zeros((0, 4, 4)), (64, 64), [])
    assert stats.peak_xy.shape == (0, 2) and stats.centroid_xy.shape == (0, 2) and stats.labels == []
