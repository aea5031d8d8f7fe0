"""The model card's faithfulness section, written between two markers so that the rest of the card
(made by the scene proof) is never touched, and re-running replaces only this section."""

from __future__ import annotations

from collections.abc import Sequence

from .measures import describe, sort_key
from .methods import METHOD_NAMES
from .results import FaithfulnessSummary

START = "<!-- faithfulness:start -->"
END = "<!-- faithfulness:end -->"


def _cell(row: dict | None, percent: bool) -> str:
    if row is None:
        return "–"
    scale = 100.0 if percent else 1.0
    fmt = "{:.1f}" if percent else "{:.3f}"
    return f"{fmt.format(scale * row['mean'])} [{fmt.format(scale * row['low'])}, {fmt.format(scale * row['high'])}]"


def render_section(summary: FaithfulnessSummary, command: str, described: str) -> str:
    """Markdown section: settings, one table (measures x methods, mean and 95 % bootstrap interval over
    images), and the comparisons that say whether the attention beats the baselines."""
    o = summary.options
    methods = list(o.methods)
    fill = "the image's per-channel mean" if o.fill == "mean" else f"the image blurred (Gaussian, sigma {o.sigma:g} px)"
    lines = [
        START,
        "## Can these maps be trusted? Faithfulness and sanity checks",
        "",
        f"On {described} ({len(summary.images)} images, every present label; {summary.perturbed_images} perturbed "
        f"images evaluated in {summary.seconds / 60:.1f} min), made by",
        "",
        "```bash",
        command,
        "```",
        "",
        f"Deletion / insertion: the {len(summary.fractions) - 1} steps remove (insert) grid cells in the map's order; "
        f"a removed cell shows {fill}; scores are probabilities; AUC over the fraction of cells. ROAD: "
        f"pytorch-grad-cam's noisy linear imputation removing {', '.join(f'{100 * v:g} %' for v in o.road_levels)} "
        f"of the pixels, on the first {o.road_images} images (mean probability over the levels). Pointing game: "
        f"TorchRay's convention (maximum within {o.tolerance:g} px of a box of the label, per-label rate, then "
        "the mean). Randomisation cascade: " + " -> ".join(o.stages) + " re-initialised on a copy of the model.",
        "",
        "Every value is the mean over labels of each label's mean over images, with a 95 % bootstrap interval "
        "over images. Percent for probabilities and rates.",
        "",
        "| measure | better | " + " | ".join(METHOD_NAMES[m] for m in methods) + " |",
        "|---|---|" + "---|" * len(methods),
    ]
    for row in overall_rows(summary):
        lines.append("| " + " | ".join(row.values()) + " |")
    lines += [
        "",
        *verdicts(summary),
        "",
        "Per-label values, mean curves and label-pair similarities: `faithfulness.json` beside this card.",
        END,
    ]
    return "\n".join(lines) + "\n"


def overall_rows(summary: FaithfulnessSummary) -> list[dict[str, str]]:
    """One row per measure: its title, the better direction and 'mean [low, high]' of every method (all
    labels; percent for probabilities and rates)."""
    rows = []
    for measure in sorted(summary.measures(), key=sort_key):
        title, better = describe(measure)
        percent = not measure.startswith(("label_", "randomised_"))
        row = {"measure": title, "better": better}
        row.update({METHOD_NAMES[m]: _cell(summary.overall(measure, m), percent) for m in summary.options.methods})
        rows.append(row)
    return rows


def verdicts(summary: FaithfulnessSummary, methods: Sequence[str] = ("attention", "weighted", "gradcam")) -> list[str]:
    """One sentence per method: does it beat the centre baseline on pointing and deletion (fused)?"""
    out = []
    for method in methods:
        parts = []
        for measure in ("pointing", "deletion_fused", "insertion_fused"):
            own, centre = summary.overall(measure, method), summary.overall(measure, "centre")
            if own is None or centre is None:
                continue
            better = describe(measure)[1]
            wins = own["mean"] > centre["mean"] if better == "higher" else own["mean"] < centre["mean"]
            parts.append(
                f"{describe(measure)[0]} {100 * own['mean']:.1f} vs {100 * centre['mean']:.1f} "
                f"({'better' if wins else 'NOT better'})"
            )
        if parts:
            out.append(f"- {METHOD_NAMES[method]} against the centre baseline: " + "; ".join(parts) + ".")
    return out


def replace_section(card: str, section: str) -> str:
    """`card` with the text between the markers replaced by `section` (appended when absent)."""
    if START in card and END in card and card.index(START) < card.index(END):
        head, rest = card.split(START, 1)
        return head + section.rstrip("\n") + rest.split(END, 1)[1]
    return card.rstrip("\n") + "\n\n" + section
