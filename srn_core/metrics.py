"""Multi-label evaluation as the official SRN evaluation does it (see SRN_SPEC.md, "Evaluation").

Conventions, shared by every function here:
- `scores` (N, C) are probabilities in [0, 1] (sigmoid already applied); logits are refused.
- `targets` (N, C) hold 1 positive, 0 negative, -1 unknown; an unknown (image, label) pair counts
  nowhere: not in AP, not as a prediction, not as a positive.
- A label is predicted where score > threshold (strictly); in the top-k variant, each image's k
  highest scores are its predictions (ties broken by the lower label index; k > C means all labels).
- Any 0/0 (no predictions, no positives, P + R = 0) is defined as 0.
- AP is VOC2012-style: precision made monotone (max precision at recall >= r), summed over the
  recall steps. Equal scores form one threshold, so AP does not depend on the order of the images.
  A class with no positive has AP NaN and is left out of mAP.
- CF1 is the mean of the per-class F1 (not the harmonic mean of CP and CR); OF1 is the harmonic
  mean of OP and OR, which pool every (image, label) pair.
- `evaluate_scores` and `per_class_metrics` report percent (0..100), like the paper's tables;
  `voc_average_precision` returns a fraction (0..1), like scikit-learn.
"""

from __future__ import annotations

import numpy as np


def voc_average_precision(scores_c: np.ndarray, targets_c: np.ndarray) -> float:
    """VOC2012 AP in [0, 1] of one class; entries with target -1 are ignored; NaN if no positive."""
    scores_c = np.asarray(scores_c, dtype=np.float64).ravel()
    targets_c = np.asarray(targets_c).ravel()
    if scores_c.shape != targets_c.shape:
        raise ValueError(f"scores and targets differ in length: {scores_c.shape} vs {targets_c.shape}")
    known = targets_c != -1
    scores_c, positive = scores_c[known], targets_c[known] == 1
    num_positive = int(positive.sum())
    if num_positive == 0:
        return float("nan")
    order = np.argsort(-scores_c, kind="stable")
    scores_c, positive = scores_c[order], positive[order]
    group_end = np.flatnonzero(np.r_[scores_c[1:] != scores_c[:-1], True])
    true_pos = np.cumsum(positive)[group_end]
    precision = true_pos / (group_end + 1)
    recall = true_pos / num_positive
    monotone = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum(np.diff(recall, prepend=0.0) * monotone))


def per_class_metrics(scores: np.ndarray, targets: np.ndarray, threshold: float = 0.5,
                      top_k: int | None = None) -> dict[str, np.ndarray]:
    """Per-class arrays of shape (C,): "AP", "P", "R", "F1" in percent, and "positives" (counts).

    Predictions are score > threshold, or each image's `top_k` highest scores when top_k is given.
    AP is NaN for a class without positives.
    """
    scores, targets = _validated(scores, targets)
    true_pos, predicted, positives = _counts(_predictions(scores, threshold, top_k), targets)
    precision, recall = _ratio(true_pos, predicted), _ratio(true_pos, positives)
    ap = np.array([voc_average_precision(scores[:, c], targets[:, c]) for c in range(scores.shape[1])])
    return {"AP": 100.0 * ap, "P": 100.0 * precision, "R": 100.0 * recall,
            "F1": 100.0 * _f1(precision, recall), "positives": positives}


def evaluate_scores(scores: np.ndarray, targets: np.ndarray, threshold: float = 0.5,
                    top_k: int = 3) -> dict[str, float]:
    """The paper's table, in percent: mAP, CP, CR, CF1, OP, OR, OF1 and their top-k variants.

    The top-k keys carry the suffix f"-{top_k}" (CP-3 ... OF1-3 for the default). mAP averages the
    classes that have a positive; it is NaN if none has.
    """
    scores, targets = _validated(scores, targets)
    ap = np.array([voc_average_precision(scores[:, c], targets[:, c]) for c in range(scores.shape[1])])
    has_positive = ~np.isnan(ap)
    result = {"mAP": float(100.0 * ap[has_positive].mean()) if has_positive.any() else float("nan")}
    for suffix, k in (("", None), (f"-{top_k}", top_k)):
        true_pos, predicted, positives = _counts(_predictions(scores, threshold, k), targets)
        precision, recall = _ratio(true_pos, predicted), _ratio(true_pos, positives)
        overall_p = _ratio(true_pos.sum(), predicted.sum())
        overall_r = _ratio(true_pos.sum(), positives.sum())
        values = {"CP": precision.mean(), "CR": recall.mean(), "CF1": _f1(precision, recall).mean(),
                  "OP": overall_p, "OR": overall_r, "OF1": _f1(overall_p, overall_r)}
        result.update({name + suffix: float(100.0 * v) for name, v in values.items()})
    return result


def _validated(scores: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64)
    targets = np.asarray(targets)
    if scores.ndim != 2 or scores.shape != targets.shape:
        raise ValueError(f"scores and targets must both be (N, C); got {scores.shape} and {targets.shape}")
    if scores.shape[1] == 0:
        raise ValueError("scores and targets need at least one label column")
    if not np.isin(targets, (-1, 0, 1)).all():
        raise ValueError("targets must hold only 1 (positive), 0 (negative) and -1 (unknown)")
    if scores.size and (not np.isfinite(scores).all() or scores.min() < 0.0 or scores.max() > 1.0):
        raise ValueError("scores must be probabilities in [0, 1]; apply sigmoid to logits first")
    return scores, targets.astype(np.int8)


def _predictions(scores: np.ndarray, threshold: float, top_k: int | None) -> np.ndarray:
    """Boolean (N, C): score > threshold, or each row's top_k highest scores."""
    if top_k is None:
        return scores > threshold
    if top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    k = min(top_k, scores.shape[1])
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    predicted = np.zeros(scores.shape, dtype=bool)
    np.put_along_axis(predicted, top, True, axis=1)
    return predicted


def _counts(predicted: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per class: true positives, predictions on known pairs, positives."""
    positive = targets == 1
    predicted = predicted & (targets != -1)
    return (predicted & positive).sum(axis=0), predicted.sum(axis=0), positive.sum(axis=0)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator with 0/0 (and x/0) defined as 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


def _f1(precision: np.ndarray, recall: np.ndarray) -> np.ndarray:
    return _ratio(2.0 * precision * recall, precision + recall)
