"""The two metric conventions: hand-worked cases of every difference, and the official convention
against a line-by-line re-statement of the authors' Matlab code (evaluate.m, AP_VOC.m,
get_mAP_eccv16.m, precision_recall_f1.m) written here with plain Python loops."""

from __future__ import annotations

import math

import numpy as np
import pytest

from srn_core.metrics import evaluate_logits, evaluate_scores, per_class_logits, per_class_metrics

EPS = 2.220446049250313e-16  # Matlab's eps


def matlab_ap(probs: list[float], wider_labels: list[int]) -> float:
    """get_mAP_eccv16.m: labels 1 / -1 / 0 (positive / negative / unknown); sort(..., 'descend') is stable."""
    order = sorted(range(len(probs)), key=lambda i: -probs[i])
    num_truths = sum(1 for v in wider_labels if v == 1)
    tp = fp = 0
    rec, prec = [], []
    for i in order:
        tp += wider_labels[i] == 1
        fp += wider_labels[i] == -1
        rec.append(tp / num_truths if num_truths else math.nan)
        prec.append(tp / (fp + tp) if fp + tp else math.nan)
    mrec, mpre = [0.0, *rec, 1.0], [0.0, *prec, 0.0]
    for i in range(len(mpre) - 2, -1, -1):
        a, b = mpre[i], mpre[i + 1]
        mpre[i] = b if math.isnan(a) else a if math.isnan(b) else max(a, b)  # Matlab's max skips NaN
    ap = 0.0
    for i in range(1, len(mrec)):
        if mrec[i] != mrec[i - 1]:  # NaN != NaN, as in Matlab
            ap += (mrec[i] - mrec[i - 1]) * mpre[i]
    return ap


def matlab_prf(labels: list[bool], predicted: list[bool]) -> tuple[float, float, float]:
    """precision_recall_f1.m for one column."""
    num_tp = sum(1 for g, p in zip(labels, predicted) if g and p) + EPS
    num_pred = sum(predicted) + EPS
    num_p = sum(labels) + EPS
    precision = num_tp / num_pred
    recall = num_tp / num_p + EPS
    return precision, recall, 2 * precision * recall / (precision + recall)


def matlab_evaluate(probs: np.ndarray, targets: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """evaluate.m's 'wider_att' branch (which equals the coco/nus_wide one when no label is unknown),
    with P-C, R-C, P-O, R-O reported as the coco branch does; our targets 1/0/-1 -> WIDER's 1/-1/0."""
    n, c = probs.shape
    wider = {1: 1, 0: -1, -1: 0}
    aps, ps, rs, fs = [], [], [], []
    for j in range(c):
        column = [wider[int(t)] for t in targets[:, j]]
        aps.append(matlab_ap([float(p) for p in probs[:, j]], column))
        p, r, f = matlab_prf([v == 1 for v in column], [float(x) > threshold for x in probs[:, j]])
        ps.append(p), rs.append(r), fs.append(f)
    flat_labels = [int(t) == 1 for t in targets.T.ravel()]
    flat_pred = [float(x) > threshold for x in probs.T.ravel()]
    op, orr, of1 = matlab_prf(flat_labels, flat_pred)
    mean = lambda values: sum(values) / len(values)  # noqa: E731 - Matlab's mean propagates NaN like this
    return {
        "mAP": 100 * mean(aps),
        "CP": 100 * mean(ps),
        "CR": 100 * mean(rs),
        "CF1": 100 * mean(fs),
        "OP": 100 * op,
        "OR": 100 * orr,
        "OF1": 100 * of1,
    }


def both(scores, targets, **kw) -> tuple[dict[str, float], dict[str, float]]:
    scores, targets = np.asarray(scores, dtype=float), np.asarray(targets)
    return (
        evaluate_scores(scores, targets, convention="voc2012", **kw),
        evaluate_scores(scores, targets, convention="official", **kw),
    )


def test_1_tied_scores_keep_list_order_only_in_the_official_convention():
    ours, official = both([[0.7], [0.7]], [[1], [0]], top_k=1)
    assert ours["mAP"] == pytest.approx(50.0)  # one threshold: P 1/2 at R 1
    assert official["mAP"] == pytest.approx(100.0)  # stable sort: the positive comes first
    ours, official = both([[0.7], [0.7]], [[0], [1]], top_k=1)
    assert ours["mAP"] == pytest.approx(50.0) and official["mAP"] == pytest.approx(50.0)


def test_2_unknown_pairs_are_false_positives_in_official_precision_and_f1():
    scores, targets = [[0.9], [0.8], [0.2]], [[1], [-1], [0]]
    ours, official = both(scores, targets, top_k=1)
    assert (ours["CP"], ours["CR"], ours["CF1"]) == pytest.approx((100.0, 100.0, 100.0))
    assert official["CP"] == pytest.approx(50.0) and official["CR"] == pytest.approx(100.0)
    assert official["CF1"] == pytest.approx(100 * 2 / 3)
    assert ours["mAP"] == official["mAP"] == pytest.approx(100.0)  # AP and recall agree


def test_3_a_label_without_predictions_has_official_precision_one():
    ours, official = both([[0.1, 0.2], [0.3, 0.4]], [[1, 0], [0, 1]], top_k=1)
    assert ours["CP"] == 0.0 and ours["OP"] == 0.0
    assert official["CP"] == pytest.approx(100.0) and official["OP"] == pytest.approx(100.0)
    assert official["CR"] == pytest.approx(0.0, abs=1e-12) and official["CF1"] == pytest.approx(0.0, abs=1e-12)


def test_4_a_label_without_positives_makes_the_official_map_nan():
    scores, targets = [[0.9, 0.1], [0.2, 0.3]], [[1, 0], [0, 0]]
    ours, official = both(scores, targets, top_k=1)
    assert ours["mAP"] == pytest.approx(100.0)  # label 1 left out
    assert math.isnan(official["mAP"])
    ours_class = per_class_metrics(np.array(scores), np.array(targets))
    official_class = per_class_metrics(np.array(scores), np.array(targets), convention="official")
    assert ours_class["R"][1] == 0.0 and ours_class["F1"][1] == 0.0
    assert official_class["R"][1] == pytest.approx(100.0) and official_class["F1"][1] == pytest.approx(100.0)
    assert math.isnan(ours_class["AP"][1]) and math.isnan(official_class["AP"][1])


def test_5_logits_rank_without_float32_ties_in_both_conventions():
    logits = np.array([[20.0], [19.0], [3.0]], dtype=np.float32)
    targets = np.array([[1], [0], [1]])
    float32_probs = 1 / (1 + np.exp(-logits))  # 20 and 19 both round to 1.0 in float32
    assert float32_probs[0, 0] == float32_probs[1, 0] == 1.0
    assert evaluate_scores(float32_probs, targets, top_k=1)["mAP"] == pytest.approx(100 * 2 / 3)
    for convention in ("voc2012", "official"):
        assert evaluate_logits(logits, targets, top_k=1, convention=convention)["mAP"] == pytest.approx(100 * 5 / 6)
        assert per_class_logits(logits, targets, convention=convention)["AP"][0] == pytest.approx(100 * 5 / 6)


def test_logits_beyond_float64_saturation_still_rank_in_our_convention():
    logits, targets = np.array([[39.0], [40.0], [3.0]]), np.array([[1], [0], [1]])
    # float64 sigmoid ties 39 and 40 (both 1.0): the official code keeps list order, + - +: P 1, 1/2, 2/3;
    # ours ranks the logits, - + +: P 0, 1/2, 2/3, made monotone 2/3 at both recall steps
    assert evaluate_logits(logits, targets, top_k=1)["mAP"] == pytest.approx(100 * 2 / 3)
    assert evaluate_logits(logits, targets, top_k=1, convention="official")["mAP"] == pytest.approx(100 * 5 / 6)


def test_default_convention_is_unchanged():
    scores, targets = np.array([[0.9, 0.2], [0.6, 0.7], [0.3, 0.4]]), np.array([[1, 0], [0, 1], [1, 1]])
    assert evaluate_scores(scores, targets) == evaluate_scores(scores, targets, convention="voc2012")
    with pytest.raises(ValueError, match="convention"):
        evaluate_scores(scores, targets, convention="matlab")
    with pytest.raises(ValueError, match="finite"):
        evaluate_logits(np.array([[np.nan]]), np.array([[1]]))


def random_case(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n, c = int(rng.integers(1, 30)), int(rng.integers(1, 6))
    probs = np.round(rng.random((n, c)), int(rng.integers(1, 3)))  # one or two decimals: many ties
    targets = (rng.random((n, c)) < 0.35).astype(int)
    targets[rng.random((n, c)) < 0.15] = -1  # unknowns
    targets[:, rng.random(c) < 0.2] = 0  # labels without positives
    return probs, targets


def test_official_convention_matches_the_matlab_restatement_on_random_cases():
    rng = np.random.default_rng(14)
    worst = 0.0
    for _ in range(300):
        probs, targets = random_case(rng)
        expected = matlab_evaluate(probs, targets)
        got = evaluate_scores(probs, targets, convention="official")
        for key, value in expected.items():
            if math.isnan(value):
                assert math.isnan(got[key]), key
            else:
                worst = max(worst, abs(got[key] - value))
    assert worst < 1e-9


def test_official_convention_from_logits_uses_float64_sigmoid():
    rng = np.random.default_rng(15)
    for _ in range(50):
        _, targets = random_case(rng)
        logits = np.round(rng.normal(0, 25, targets.shape), 0).astype(np.float32)  # large and tied logits
        expected = matlab_evaluate(1 / (1 + np.exp(-logits.astype(np.float64))), targets)
        got = evaluate_logits(logits, targets, convention="official")
        for key, value in expected.items():
            assert (math.isnan(got[key]) and math.isnan(value)) or got[key] == pytest.approx(value, abs=1e-9)
