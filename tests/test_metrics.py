"""The evaluation metrics against hand-worked cases and scikit-learn as an independent check."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score

from srn_core.metrics import evaluate_scores, per_class_metrics, voc_average_precision

# Three images, two classes. Predictions at > 0.5: [[1, 0], [1, 1], [0, 0]].
SCORES = np.array([[0.9, 0.2], [0.6, 0.7], [0.3, 0.4]])
TARGETS = np.array([[1, 0], [0, 1], [1, 1]])


def reference_voc_ap(scores: np.ndarray, positive: np.ndarray) -> float:
    """A line-by-line port of the VOC devkit's VOCap, for continuous (tie-free) scores."""
    order = np.argsort(-scores)
    tp = np.cumsum(positive[order])
    fp = np.cumsum(~positive[order])
    rec, prec = tp / positive.sum(), tp / (tp + fp)
    mrec, mpre = np.r_[0, rec, 1], np.r_[0, prec, 0]
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    idx = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    return float(np.sum((mrec[idx] - mrec[idx - 1]) * mpre[idx]))


def test_hand_worked_case() -> None:
    m = evaluate_scores(SCORES, TARGETS)
    # class 0: TP 1 (image 0), predicted 2, positives 2 -> P 1/2, R 1/2, F1 1/2
    # class 1: TP 1 (image 1), predicted 1, positives 2 -> P 1, R 1/2, F1 2/3
    assert m["CP"] == pytest.approx(75.0)
    assert m["CR"] == pytest.approx(50.0)
    assert m["CF1"] == pytest.approx(100 * (1 / 2 + 2 / 3) / 2)  # 58.33
    # pooled: TP 2, predicted 3, positives 4 -> OP 2/3, OR 1/2, OF1 = 2 (2/3)(1/2) / (7/6) = 4/7
    assert m["OP"] == pytest.approx(100 * 2 / 3)
    assert m["OR"] == pytest.approx(50.0)
    assert m["OF1"] == pytest.approx(100 * 4 / 7)
    # AP class 0: ranks .9(+) .6(-) .3(+): P 1, 1/2, 2/3 at R 1/2, 1/2, 1 -> 1/2 * 1 + 1/2 * 2/3 = 5/6
    # AP class 1: ranks .7(+) .4(+) .2(-): 1
    assert m["mAP"] == pytest.approx(100 * (5 / 6 + 1) / 2)


def test_cf1_is_mean_of_class_f1_not_harmonic_mean_of_cp_cr() -> None:
    m = evaluate_scores(SCORES, TARGETS)
    harmonic = 2 * m["CP"] * m["CR"] / (m["CP"] + m["CR"])  # 2 * 75 * 50 / 125 = 60
    assert harmonic == pytest.approx(60.0)
    assert m["CF1"] == pytest.approx(58.333333)
    assert abs(m["CF1"] - harmonic) > 1.0


def test_top_k_predictions() -> None:
    scores = np.array([[0.9, 0.8, 0.1, 0.7], [0.2, 0.6, 0.5, 0.4]])
    targets = np.array([[1, 0, 0, 0], [0, 1, 1, 0]])
    m = evaluate_scores(scores, targets)
    # top-3: image 0 -> {0, 1, 3}, image 1 -> {1, 2, 3}
    # class 0: TP1/pred1/pos1 -> P1 R1 F1=1; class 1: TP1/pred2/pos1 -> P.5 R1 F2/3
    # class 2: TP1/pred1/pos1 -> 1 1 1;      class 3: TP0/pred2/pos0 -> P0 R(0/0)=0 F0
    assert m["CP-3"] == pytest.approx(62.5)
    assert m["CR-3"] == pytest.approx(75.0)
    assert m["CF1-3"] == pytest.approx(100 * (1 + 2 / 3 + 1 + 0) / 4)
    assert m["OP-3"] == pytest.approx(50.0)  # TP 3 of 6 predictions
    assert m["OR-3"] == pytest.approx(100.0)  # 3 of 3 positives
    assert m["OF1-3"] == pytest.approx(100 * 2 / 3)
    # threshold 0.5 is strict: 0.5 for class 2 of image 1 is not a prediction -> class 2: P 0/0 = 0, R 0
    assert m["CR"] == pytest.approx(100 * (1 + 1 + 0 + 0) / 4)
    # class 3 has no positive: AP NaN, left out of mAP (AP 1, 1/2, 1 for classes 0..2)
    assert m["mAP"] == pytest.approx(100 * 2.5 / 3)
    assert np.isnan(per_class_metrics(scores, targets)["AP"][3])
    top1 = evaluate_scores(scores, targets, top_k=1)  # image 0 -> class 0 (+), image 1 -> class 1 (+)
    assert (top1["OP-1"], top1["OR-1"]) == pytest.approx((100.0, 100 * 2 / 3))


def test_top_k_larger_than_labels_predicts_everything() -> None:
    m = evaluate_scores(SCORES, TARGETS, top_k=5)
    assert m["OP-5"] == pytest.approx(100 * 4 / 6)
    assert m["OR-5"] == pytest.approx(100.0)


def test_unknown_entries_are_ignored() -> None:
    targets = TARGETS.copy()
    targets[1, 0] = -1  # the false positive of class 0 (score .6) becomes unknown
    m = evaluate_scores(SCORES, targets)
    # class 0: TP 1, predicted 1, positives 2 -> P 1, R 1/2; class 1 unchanged (P 1, R 1/2)
    assert m["CP"] == pytest.approx(100.0)
    assert m["OP"] == pytest.approx(100.0)  # TP 2 of 2 predictions on known pairs
    assert m["OR"] == pytest.approx(50.0)
    assert m["mAP"] == pytest.approx(100.0)  # class 0 ranks .9(+) .3(+) once the .6 is dropped
    per_class = per_class_metrics(SCORES, targets)
    kept = per_class_metrics(SCORES[[0, 2]], TARGETS[[0, 2]])
    for key in ("AP", "P", "R", "F1", "positives"):
        assert per_class[key][0] == pytest.approx(kept[key][0])
    moved = SCORES.copy()
    moved[1, 0] = 0.99  # the score of an unknown pair changes nothing
    assert evaluate_scores(moved, targets) == pytest.approx(m)


def test_voc_ap_equals_sklearn_when_precision_is_monotone() -> None:
    # perfect ranking
    assert voc_average_precision([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0]) == pytest.approx(1.0)
    assert average_precision_score([1, 1, 0, 0], [0.9, 0.8, 0.3, 0.1]) == pytest.approx(1.0)
    # ranks + + - +: P 1, 1, 3/4 at the recall steps, already non-increasing -> 1/3 + 1/3 + 1/3 * 3/4
    scores, targets = [0.9, 0.8, 0.7, 0.6], [1, 1, 0, 1]
    assert voc_average_precision(scores, targets) == pytest.approx(11 / 12)
    assert average_precision_score(targets, scores) == pytest.approx(11 / 12)


def test_voc_ap_differs_from_sklearn_when_precision_is_not_monotone() -> None:
    # ranks - + +: P 1/2 at R 1/2, 2/3 at R 1. sklearn: 1/2 * 1/2 + 1/2 * 2/3 = 7/12.
    # VOC lifts the first step to max(1/2, 2/3): 2/3 * 1 = 2/3.
    scores, targets = [0.9, 0.8, 0.7], [0, 1, 1]
    assert voc_average_precision(scores, targets) == pytest.approx(2 / 3)
    assert average_precision_score(targets, scores) == pytest.approx(7 / 12)


def test_voc_ap_matches_devkit_port_on_random_scores() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        positive = rng.random(50) < 0.3
        positive[0] = True
        scores = rng.random(50)
        assert voc_average_precision(scores, positive.astype(int)) == pytest.approx(reference_voc_ap(scores, positive))


def test_voc_ap_with_ties_does_not_depend_on_order() -> None:
    scores = np.array([0.8, 0.8, 0.8, 0.5, 0.5, 0.2])
    targets = np.array([0, 1, 0, 1, 1, 0])
    # thresholds .8 -> P 1/3 R 1/3; .5 -> P 3/5 R 1; monotone: 3/5 for both steps -> 3/5
    assert voc_average_precision(scores, targets) == pytest.approx(0.6)
    rng = np.random.default_rng(1)
    for _ in range(5):
        order = rng.permutation(len(scores))
        assert voc_average_precision(scores[order], targets[order]) == pytest.approx(0.6)


def test_voc_ap_without_positives_is_nan() -> None:
    assert np.isnan(voc_average_precision([0.4, 0.6], [0, -1]))


def test_threshold_metrics_agree_with_sklearn() -> None:
    rng = np.random.default_rng(2)
    scores = rng.random((40, 6))
    targets = (rng.random((40, 6)) < 0.4).astype(int)
    predicted = (scores > 0.5).astype(int)
    m = evaluate_scores(scores, targets)
    per_class = per_class_metrics(scores, targets)
    kw = {"zero_division": 0}
    assert per_class["P"] == pytest.approx(100 * precision_score(targets, predicted, average=None, **kw))
    assert per_class["R"] == pytest.approx(100 * recall_score(targets, predicted, average=None, **kw))
    assert m["CF1"] == pytest.approx(100 * f1_score(targets, predicted, average="macro", **kw))
    assert m["OP"] == pytest.approx(100 * precision_score(targets, predicted, average="micro", **kw))
    assert m["OR"] == pytest.approx(100 * recall_score(targets, predicted, average="micro", **kw))
    assert m["OF1"] == pytest.approx(100 * f1_score(targets, predicted, average="micro", **kw))


def test_keys_and_percent_range() -> None:
    m = evaluate_scores(SCORES, TARGETS)
    names = ["mAP"] + [f"{n}{s}" for s in ("", "-3") for n in ("CP", "CR", "CF1", "OP", "OR", "OF1")]
    assert sorted(m) == sorted(names)
    assert all(0.0 <= v <= 100.0 for v in m.values())


@pytest.mark.parametrize(
    "scores, targets, match",
    [
        (SCORES * 10, TARGETS, "sigmoid"),
        (SCORES, TARGETS[:2], r"\(N, C\)"),
        (SCORES, TARGETS * 2, "unknown"),
    ],
)
def test_bad_input_is_refused(scores: np.ndarray, targets: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        evaluate_scores(scores, targets)
