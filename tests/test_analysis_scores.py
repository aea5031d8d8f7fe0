"""analysis.measures.scores: one image's score table and its ground truth, from chosen logits."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import ImageAnalysis
from analysis.measures.scores import largest_change_first, score_table, true_labels


def logit(p: list[float]) -> np.ndarray:
    return np.log(np.array(p) / (1 - np.array(p))).astype(np.float32)


def analysis(fused: list[float], main: list[float], srn: list[float], targets: list[int] | None) -> ImageAnalysis:
    maps = np.zeros((3, 2, 2), np.float32)
    return ImageAnalysis(
        source="x",
        image_size=(8, 8),
        label_names=["cat", "dog", "sun"],
        logits=logit(fused),
        cls_logits=logit(main),
        sr_logits=logit(srn),
        att_logits=logit(fused),
        attention=maps,
        confidence_logits=maps,
        weighted_attention=maps,
        image=np.zeros((8, 8, 3), np.uint8),
        alpha=0.5,
        targets=None if targets is None else np.array(targets, np.int8),
    )


def test_rows_are_sorted_by_fused_probability_with_every_head() -> None:
    rows = score_table(analysis([0.2, 0.9, 0.6], [0.1, 0.8, 0.3], [0.3, 0.7, 0.9], [0, 1, -1]), threshold=0.5)
    assert [r["label"] for r in rows] == ["dog", "sun", "cat"]
    assert [r["fused"] for r in rows] == pytest.approx([0.9, 0.6, 0.2])
    assert [r["main net"] for r in rows] == pytest.approx([0.8, 0.3, 0.1])
    assert [r["SRN"] for r in rows] == pytest.approx([0.7, 0.9, 0.3])
    assert [r["predicted"] for r in rows] == [True, True, False]
    assert [r["truth"] for r in rows] == [True, False, False]  # -1 (unknown) is not present


def test_the_threshold_is_strict_and_images_without_truth_have_no_truth_column() -> None:
    rows = score_table(analysis([0.5, 0.75, 0.25], [0.5] * 3, [0.5] * 3, None), threshold=0.5)
    assert [r["predicted"] for r in rows] == [True, False, False]
    assert all("truth" not in r for r in rows)
    assert score_table(analysis([0.5, 0.75, 0.25], [0.5] * 3, [0.5] * 3, None), threshold=0.0)[2]["predicted"]


def test_true_labels() -> None:
    assert true_labels(analysis([0.5] * 3, [0.5] * 3, [0.5] * 3, [1, -1, 1])) == ["cat", "sun"]
    assert true_labels(analysis([0.5] * 3, [0.5] * 3, [0.5] * 3, [0, 0, 0])) == []
    assert true_labels(analysis([0.5] * 3, [0.5] * 3, [0.5] * 3, None)) is None


def test_largest_change_first_orders_by_the_size_of_the_move() -> None:
    rows = [
        {"label": "a", "srn_prob_before": 0.5, "srn_prob_after": 0.6},
        {"label": "b", "srn_prob_before": 0.5, "srn_prob_after": 0.1},
        {"label": "c", "srn_prob_before": 0.2, "srn_prob_after": 0.3},
        {"label": "d", "srn_prob_before": 0.9, "srn_prob_after": 0.9},
    ]
    assert [r["label"] for r in largest_change_first(rows)] == ["b", "a", "c", "d"]
    assert [r["label"] for r in largest_change_first(rows, "srn_prob_after", "srn_prob_before")] == ["b", "a", "c", "d"]
