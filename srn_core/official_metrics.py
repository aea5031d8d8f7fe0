"""The authors' evaluation formulas, line for line, for reproducing the paper's tables exactly.

The released Matlab code (evaluate.m, tools/AP_VOC.m, tools/get_mAP_eccv16.m,
tools/precision_recall_f1.m) differs from our default convention (`srn_core.metrics`, "voc2012") in
five ways, all reproduced here on purpose:
- AP sorts with a stable descending sort, so tied images keep their list order and each image is
  its own threshold;
- precision and recall add Matlab's `eps` to every count: P = (tp + eps) / (pred + eps),
  R = (tp + eps) / (pos + eps) + eps; so a label without any prediction has precision 1 and a label
  without positives and predictions has F1 1;
- a label with no positive image has AP NaN, and the mean over labels (mAP) is then NaN;
- precision and F1 count an unknown (image, label) pair (our -1) as a negative: the official code
  compares WIDER-Attribute's labels with `== 1`. AP leaves unknowns out (get_mAP_eccv16.m counts
  only +1 and -1), as does recall;
- scores are probabilities `1 / (1 + exp(-logit))` computed in float64 (`sigmoid64`).
Targets use our encoding: 1 positive, 0 negative, -1 unknown.
"""

from __future__ import annotations

import numpy as np

EPS = float(np.finfo(np.float64).eps)


def sigmoid64(logits: np.ndarray) -> np.ndarray:
    """Probabilities as evaluate.m computes them: 1 ./ (1 + exp(-logits)) in float64."""
    logits = np.asarray(logits, dtype=np.float64)
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-logits))


def official_average_precision(probs_c: np.ndarray, targets_c: np.ndarray) -> float:
    """AP in [0, 1] of one class as get_mAP_eccv16.m (= AP_VOC.m without unknowns); NaN without positives."""
    probs_c = np.asarray(probs_c, dtype=np.float64).ravel()
    targets_c = np.asarray(targets_c).ravel()
    order = np.argsort(-probs_c, kind="stable")
    ranked = targets_c[order]
    true_pos = np.cumsum(ranked == 1).astype(np.float64)
    false_pos = np.cumsum(ranked == 0).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = true_pos / float((targets_c == 1).sum())
        precision = true_pos / (false_pos + true_pos)
    mrec = np.r_[0.0, recall, 1.0]
    mpre = np.r_[0.0, precision, 0.0]
    mpre = np.fmax.accumulate(mpre[::-1])[::-1]  # Matlab's max ignores NaN, as fmax does
    steps = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    return float(np.sum((mrec[steps] - mrec[steps - 1]) * mpre[steps]))


def official_precision_recall_f1(
    predicted: np.ndarray, targets: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """precision_recall_f1.m over the columns of (N, C) inputs (or pooled, for 1-D inputs); fractions."""
    positive = np.asarray(targets) == 1
    predicted = np.asarray(predicted, dtype=bool)
    true_pos = (positive & predicted).sum(axis=0) + EPS
    num_pred = predicted.sum(axis=0) + EPS
    num_pos = positive.sum(axis=0) + EPS
    precision = true_pos / num_pred
    recall = true_pos / num_pos + EPS
    return precision, recall, 2.0 * precision * recall / (precision + recall)


__all__ = ["EPS", "official_average_precision", "official_precision_recall_f1", "sigmoid64"]
