"""Names, meanings and the better direction of every measure the faithfulness check records."""

from __future__ import annotations

HEAD_NAMES = {"main": "main net", "srn": "SRN branch", "fused": "fused"}
FIXED = {
    "pointing": ("pointing game (max within tolerance of the box)", "higher"),
    "relevance_mass": ("relevance mass (share of the map inside the boxes)", "higher"),
    "relevance_rank": ("relevance rank (top-area pixels inside the boxes)", "higher"),
    "label_spearman": ("Spearman with the other labels' maps (same image)", "lower"),
    "label_ssim": ("SSIM with the other labels' maps (same image)", "lower"),
}
PREFIXES = {
    "deletion": ("deletion AUC", "lower"),
    "insertion": ("insertion AUC", "higher"),
    "road_morf": ("ROAD, most relevant removed first", "lower"),
    "road_lerf": ("ROAD, least relevant removed first", "higher"),
}


def describe(measure: str) -> tuple[str, str]:
    """(title, 'higher' | 'lower' is better) of a measure name such as 'deletion_fused'."""
    if measure in FIXED:
        return FIXED[measure]
    if measure.startswith("randomised_"):
        kind, stage = measure[len("randomised_") :].split(":", 1)
        return f"{'Spearman' if kind == 'spearman' else 'SSIM'} with the map after randomising up to {stage}", "lower"
    prefix, _, head = measure.rpartition("_")
    if prefix in PREFIXES:
        title, better = PREFIXES[prefix]
        return f"{title}, {HEAD_NAMES.get(head, head)}", better
    return measure, "higher"


def sort_key(measure: str) -> int:
    """Perturbation measures first, then localisation, label specificity, randomisation."""
    order = [
        "deletion",
        "insertion",
        "road_morf",
        "road_lerf",
        "pointing",
        "relevance",
        "label",
        "randomised_spearman",
        "randomised_ssim",
    ]
    return next((n for n, p in enumerate(order) if measure.startswith(p)), len(order))
