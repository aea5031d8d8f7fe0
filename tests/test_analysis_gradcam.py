"""analysis.measures.gradcam: Grad-CAM of the main net beside SRN's attention, and the pointing-game comparison."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from analysis import Analyzer, attention_stats, compare_pointing, gradcam_maps, map_stats, merge_pointing, pointing_game
from srn_core.datasets import Box

from .helpers import tiny_meta, tiny_model


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(model := tiny_model(seed=1), tiny_meta(model), "cpu")


@pytest.fixture(scope="module")
def analyses(analyzer):
    rng = np.random.default_rng(2)
    images = [rng.integers(0, 255, (40, 72, 3), np.uint8) for _ in range(2)]
    boxes = [
        [Box("cat", 0, 0, 72, 40), Box("dog", 0, 0, 5, 5), Box("unlisted", 0, 0, 9, 9)],
        [Box("cat", 60, 30, 72, 40)],
    ]
    return analyzer.analyse(images, names=["one", "two"], boxes=boxes)


def manual_gradcam(analyzer: Analyzer, image: np.ndarray, label: int) -> np.ndarray:
    """Grad-CAM written out by hand on f_cls.layer4 and y_cls, to check what the package computes."""
    model = analyzer.model
    x = analyzer.preprocess(Image.fromarray(image))[None]
    with torch.enable_grad():
        act = model.f_cls.layer4(model.f_cnn(x))
        y = model.f_cls.fc(torch.flatten(model.f_cls.pool(act), 1))
        (grad,) = torch.autograd.grad(y[0, label], act)
    cam = torch.relu((grad.mean(dim=(2, 3))[:, :, None, None] * act).sum(dim=1))[0].detach().numpy()
    cam = cam - cam.min()
    cam = cam / (1e-7 + cam.max())
    return cv2.resize(cam.astype(np.float32), (64, 64))


def test_gradcam_maps_explain_the_main_net_logit(analyzer, analyses):
    a = analyses[0]
    cams = gradcam_maps(analyzer, a, ["cat", "sun", "dog"], batch_size=2)
    assert cams.shape == (3, 64, 64) and cams.dtype == np.float32
    assert cams.min() >= 0.0 and cams.max() <= 1.0 + 1e-6
    for k, label in enumerate([0, 4, 1]):
        np.testing.assert_allclose(cams[k], manual_gradcam(analyzer, a.image, label), atol=1e-4)
    assert all(p.grad is None for p in analyzer.model.parameters())
    assert not analyzer.model.training
    assert gradcam_maps(analyzer, a, ["cat"], layer="layer3").shape == (1, 64, 64)
    with pytest.raises(ValueError, match="Grad-CAM layer"):
        gradcam_maps(analyzer, a, ["cat"], layer="layer9")
    with pytest.raises(ValueError, match="without pixels"):
        gradcam_maps(analyzer, a.without_pixels(), ["cat"])


def test_pointing_comparison_counts_every_boxed_label(analyzer, analyses):
    result = compare_pointing(analyzer, analyses, kind="attention", tolerance=0.0)
    assert result.trials.tolist() == [2, 1, 0, 0, 0]
    assert [r["label"] for r in result.records] == ["cat", "dog", "cat"]
    first = result.records[0]
    assert first["srn_hit"] and first["gradcam_hit"]
    for record, analysis in zip([result.records[1], result.records[2]], analyses):
        label = record["label"]
        peak = attention_stats(analysis, [label]).peak_xy
        assert record["srn_hit"] == bool(pointing_game(peak, [label], analysis.boxes, 0.0)[0])
        cam_peak = map_stats(gradcam_maps(analyzer, analysis, [label]), analysis.image_size).peak_xy[0]
        np.testing.assert_allclose([record["gradcam_x"], record["gradcam_y"]], cam_peak)
    assert result.srn_hits[0] >= 1 and result.gradcam_hits[0] >= 1
    overall = result.overall()
    assert overall["pairs"] == 3 and 0 <= overall["srn"] <= 1
    assert np.isnan(result.srn_rate[2]) and len(result.rows()) == 5


def test_merged_comparisons_pool_their_counts(analyzer, analyses):
    parts = [compare_pointing(analyzer, [a]) for a in analyses]
    merged = merge_pointing(parts)
    whole = compare_pointing(analyzer, analyses)
    np.testing.assert_array_equal(merged.trials, whole.trials)
    np.testing.assert_array_equal(merged.gradcam_hits, whole.gradcam_hits)
    assert len(merged.records) == 3
    with pytest.raises(ValueError, match="different"):
        merge_pointing([parts[0], compare_pointing(analyzer, [analyses[1]], tolerance=3.0)])
