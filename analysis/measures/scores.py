"""One image's scores as the table a person reads: every label, highest fused probability first, with
the main net's and SRN's probabilities beside it, whether it is predicted, and its ground truth; and
score rows ordered by how much an edit moved them."""

from __future__ import annotations

from typing import Any

from ..session import ImageAnalysis


def score_table(analysis: ImageAnalysis, threshold: float = 0.5) -> list[dict[str, Any]]:
    """One row per label, sorted by fused probability (ties keep the label order): label, fused, main net,
    SRN, predicted (fused > `threshold`) and, when the image has ground truth, truth (target == 1)."""
    probs = analysis.probabilities()
    rows = []
    for i in analysis.top_labels(analysis.num_labels):
        row = {
            "label": analysis.label_names[i],
            "fused": float(probs["fused"][i]),
            "main net": float(probs["main"][i]),
            "SRN": float(probs["srn"][i]),
            "predicted": bool(probs["fused"][i] > threshold),
        }
        if analysis.targets is not None:
            row["truth"] = bool(analysis.targets[i] == 1)
        rows.append(row)
    return rows


def true_labels(analysis: ImageAnalysis) -> list[str] | None:
    """The labels the ground truth marks present (1), in label order; None when the image has no ground truth."""
    if analysis.targets is None:
        return None
    return [analysis.label_names[i] for i in analysis.present_labels()]


def largest_change_first(
    rows: list[dict[str, Any]], before: str = "srn_prob_before", after: str = "srn_prob_after"
) -> list[dict[str, Any]]:
    """`rows` (e.g. a what-if's) sorted by how far `after` moved from `before`, largest change first; ties keep
    their order."""
    return sorted(rows, key=lambda row: -abs(row[after] - row[before]))
