"""Multi-label evaluation as SRN_SPEC.md defines it, in two conventions.

`convention="voc2012"` (the default, documented in docs/training.md):
- `targets` (N, C) hold 1 positive, 0 negative, -1 unknown; an unknown (image, label) pair counts
  nowhere: not in AP, not as a prediction, not as a positive.
- A label is predicted where its probability > threshold (strictly); in the top-k variant, each
  image's k highest scores are its predictions (ties broken by the lower label index; k > C means
  all labels).
- Any 0/0 (no predictions, no positives, P + R = 0) is defined as 0.
- AP is VOC2012-style: precision made monotone (max precision at recall >= r), summed over the
  recall steps. Equal scores form one threshold, so AP does not depend on the order of the images.
  A class with no positive has AP NaN and is left out of mAP.
`convention="official"` reproduces the authors' Matlab code exactly (`srn_core.official_metrics`
lists the differences: stable-sort ties, eps-adjusted precision and recall, NaN mAP, unknowns as
negatives in precision and F1).

In both, CF1 is the mean of the per-class F1 (not the harmonic mean of CP and CR) and OF1 the
harmonic mean of OP and OR, which pool every (image, label) pair. `evaluate_logits` and
`per_class_logits` take logits and rank by them (voc2012) or by float64 probabilities (official),
so float32 rounding never creates ties; `evaluate_scores` and `per_class_metrics` take
probabilities. All report percent (0..100), like the paper's tables; `voc_average_precision`
returns a fraction (0..1), like scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .official_metrics import official_average_precision, official_precision_recall_f1, sigmoid64

CONVENTIONS = ("voc2012", "official")


def voc_average_precision(scores_c: np.ndarray, targets_c: np.ndarray) -> float:
    """VOC2012 AP in [0, 1] of one class; entries with target -1 are ignored; NaN if no positive.

    `scores_c` may be probabilities or logits: only their order matters.
    """
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


def per_class_metrics(
    scores: np.ndarray,
    targets: np.ndarray,
    threshold: float = 0.5,
    top_k: int | None = None,
    convention: str = "voc2012",
) -> dict[str, np.ndarray]:
    """Per-class arrays of shape (C,) from probabilities: "AP", "P", "R", "F1" in percent, and
    "positives" (counts).

    Predictions are score > threshold, or each image's `top_k` highest scores when top_k is given.
    AP is NaN for a class without positives.
    """
    scores, targets = _validated(scores, targets)
    return _per_class(scores, scores, targets, threshold, top_k, _checked(convention))


def per_class_logits(
    logits: np.ndarray,
    targets: np.ndarray,
    threshold: float = 0.5,
    top_k: int | None = None,
    convention: str = "voc2012",
) -> dict[str, np.ndarray]:
    """`per_class_metrics` from logits, ranked without float32 ties (see the module docstring)."""
    probs, rank, targets = _from_logits(logits, targets, _checked(convention))
    return _per_class(probs, rank, targets, threshold, top_k, convention)


def evaluate_scores(
    scores: np.ndarray, targets: np.ndarray, threshold: float = 0.5, top_k: int = 3, convention: str = "voc2012"
) -> dict[str, float]:
    """The paper's table from probabilities, in percent: mAP, CP, CR, CF1, OP, OR, OF1 and their
    top-k variants.

    The top-k keys carry the suffix f"-{top_k}" (CP-3 ... OF1-3 for the default). In the voc2012
    convention mAP averages the classes that have a positive (NaN if none has); in the official
    one it is NaN as soon as one class has no positive.
    """
    scores, targets = _validated(scores, targets)
    return _evaluate(scores, scores, targets, threshold, top_k, _checked(convention))


def evaluate_logits(
    logits: np.ndarray, targets: np.ndarray, threshold: float = 0.5, top_k: int = 3, convention: str = "voc2012"
) -> dict[str, float]:
    """`evaluate_scores` from logits, ranked without float32 ties (see the module docstring)."""
    probs, rank, targets = _from_logits(logits, targets, _checked(convention))
    return _evaluate(probs, rank, targets, threshold, top_k, convention)


def labels_without_positives(targets: np.ndarray, label_names: Sequence[str]) -> list[str]:
    """The labels no image holds: their AP is undefined (left out of mAP, or NaN in the official one)."""
    return [name for name, count in zip(label_names, (np.asarray(targets) == 1).sum(axis=0)) if count == 0]


def _evaluate(
    probs: np.ndarray, rank: np.ndarray, targets: np.ndarray, threshold: float, top_k: int, convention: str
) -> dict[str, float]:
    ap = _class_ap(probs, rank, targets, convention)
    if convention == "official":
        result = {"mAP": float(100.0 * ap.mean())}
    else:
        has_positive = ~np.isnan(ap)
        result = {"mAP": float(100.0 * ap[has_positive].mean()) if has_positive.any() else float("nan")}
    for suffix, k in (("", None), (f"-{top_k}", top_k)):
        predicted = _predictions(probs, rank, threshold, k, convention)
        precision, recall, f1 = _precision_recall_f1(predicted, targets, convention)
        overall_p, overall_r, overall_f1 = _precision_recall_f1(predicted.ravel(), targets.ravel(), convention)
        values = {
            "CP": precision.mean(),
            "CR": recall.mean(),
            "CF1": f1.mean(),
            "OP": overall_p,
            "OR": overall_r,
            "OF1": overall_f1,
        }
        result.update({name + suffix: float(100.0 * v) for name, v in values.items()})
    return result


def _per_class(
    probs: np.ndarray, rank: np.ndarray, targets: np.ndarray, threshold: float, top_k: int | None, convention: str
) -> dict[str, np.ndarray]:
    predicted = _predictions(probs, rank, threshold, top_k, convention)
    precision, recall, f1 = _precision_recall_f1(predicted, targets, convention)
    ap = _class_ap(probs, rank, targets, convention)
    return {
        "AP": 100.0 * ap,
        "P": 100.0 * precision,
        "R": 100.0 * recall,
        "F1": 100.0 * f1,
        "positives": (targets == 1).sum(axis=0),
    }


def _precision_recall_f1(
    predicted: np.ndarray, targets: np.ndarray, convention: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column of (N, C) inputs, or pooled over 1-D ones: precision, recall and F1 as fractions."""
    if convention == "official":
        return official_precision_recall_f1(predicted, targets)
    true_pos, num_pred, positives = _counts(predicted, targets)
    precision, recall = _ratio(true_pos, num_pred), _ratio(true_pos, positives)
    return precision, recall, _f1(precision, recall)


def _class_ap(probs: np.ndarray, rank: np.ndarray, targets: np.ndarray, convention: str) -> np.ndarray:
    if convention == "official":
        return np.array([official_average_precision(probs[:, c], targets[:, c]) for c in range(probs.shape[1])])
    return np.array([voc_average_precision(rank[:, c], targets[:, c]) for c in range(rank.shape[1])])


def _checked(convention: str) -> str:
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    return convention


def _shapes(scores: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64)
    targets = np.asarray(targets)
    if scores.ndim != 2 or scores.shape != targets.shape:
        raise ValueError(f"scores and targets must both be (N, C); got {scores.shape} and {targets.shape}")
    if scores.shape[1] == 0:
        raise ValueError("scores and targets need at least one label column")
    if not np.isin(targets, (-1, 0, 1)).all():
        raise ValueError("targets must hold only 1 (positive), 0 (negative) and -1 (unknown)")
    return scores, targets.astype(np.int8)


def _validated(scores: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores, targets = _shapes(scores, targets)
    if scores.size and (not np.isfinite(scores).all() or scores.min() < 0.0 or scores.max() > 1.0):
        raise ValueError(
            "scores must be probabilities in [0, 1]; apply sigmoid to logits first (or use evaluate_logits)"
        )
    return scores, targets


def _from_logits(logits: np.ndarray, targets: np.ndarray, convention: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(probabilities, ranking key, targets): the float64 probabilities rank in the official convention
    (as its Matlab code does), the logits themselves in ours."""
    logits, targets = _shapes(logits, targets)
    if logits.size and not np.isfinite(logits).all():
        raise ValueError("logits must be finite (the model produced NaN or infinity)")
    probs = sigmoid64(logits)
    return probs, probs if convention == "official" else logits, targets


def _predictions(
    probs: np.ndarray, rank: np.ndarray, threshold: float, top_k: int | None, convention: str
) -> np.ndarray:
    """Boolean (N, C): probability > threshold, or each row's top_k highest scores (ties: lower label first)."""
    if top_k is None:
        return probs > threshold
    if top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    scores = probs if convention == "official" else rank
    top = np.argsort(-scores, axis=1, kind="stable")[:, : min(top_k, scores.shape[1])]
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
