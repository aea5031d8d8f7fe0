"""The model card's spatial-proof sections (relation benchmark v2) and its figure of position filters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from srn_core import SRN

from ..export.files import save_figure

FAITHFULNESS_START, FAITHFULNESS_END = "<!-- faithfulness:start -->", "<!-- faithfulness:end -->"


def _ci(values: Any) -> str:
    if not values or any(v is None or not np.isfinite(v) for v in values):
        return "n/a"
    return f"[{values[0]:.2f}, {values[1]:.2f}]"


def _num(value: Any, digits: int = 2) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_num(v, digits)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_num(v, digits) for v in value)
    if isinstance(value, (int, float, np.floating)):
        return f"{value:.{digits}f}" if np.isfinite(value) else "n/a"
    return str(value)


def relation_sections(
    relation: dict[str, Any], targets: list[dict[str, Any]], figure: str | None, notes: str = ""
) -> list[str]:
    """Markdown lines: targets, AP per family, relation probes, position filters, relation fields."""
    lines = [
        "## Spatial proof (relation benchmark v2)",
        "",
        "Every interval is a 95 % bootstrap interval over the test images.",
        "",
        "### Targets",
        "",
        "| target | measured | 95 % interval | met |",
        "|---|---|---|---|",
    ]
    for t in targets:
        lines.append(f"| {t['target']} | {_num(t['value'])} | {_ci(t.get('ci'))} | {'yes' if t['met'] else 'NO'} |")
    if notes.strip():
        lines += ["", notes.strip()]
    lines += [
        "",
        "### AP per family (percent)",
        "",
        "| family | labels | main | SRN | fused | fused - main | 95 % interval | SRN - main |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for family, row in relation["families"].items():
        lines.append(
            f"| {family} | {', '.join(row['labels']) if family != 'all' else 'all'} | {row['ap_main']:.1f} | "
            f"{row['ap_srn']:.1f} | {row['ap_fused']:.1f} | {row['fused_minus_main']:+.2f} | "
            f"{_ci(row['fused_minus_main_ci'])} | {row['srn_minus_main']:+.2f} |"
        )
    lines += [
        "",
        "### Relation probes: presence or layout?",
        "",
        "Only the partner's weighted attention map is edited and f_sr rerun; the table gives the mean "
        "absolute change of the read label's SRN logit (the main net does not read the maps; the fused "
        "logit changes by half as much). Mirror: the partner's map reflected through the read label's peak "
        "(through the grid centre for position labels); move: shifted by 3 cells; remove: taken out. "
        "Mirror and move must keep the partner present: images where they push more than 10 % of its map "
        "off the grid are left out of that column (its image count is given next to it).",
        "",
        "| family | rule | read | partner | images | mirror (images) | move (images) | remove | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in relation["probes"]:
        lines.append(
            f"| {p['family']} | {p['rule']} | {p['read']} | {'+'.join(p['partners'])} | {p['images']} | "
            f"{p['mirror_abs_change']:.2f} {_ci(p['mirror_abs_change_ci'])} ({p['mirror_images']}) | "
            f"{p['move_abs_change']:.2f} {_ci(p['move_abs_change_ci'])} ({p['move_images']}) | "
            f"{p['remove_abs_change']:.2f} {_ci(p['remove_abs_change_ci'])} | {p['verdict']} |"
        )
    lines += [
        "",
        "### conv4 filters of the position labels",
        "",
        "The 3 filters carrying most of each position label's fc weight (|fc weight| x mean activation on "
        "the test images), and the correlation of each filter, in the sign of its fc weight, with the "
        "label's region on the 14 x 14 grid.",
        "",
        "| label | region | filters (channel/filter: fc weight, correlation) | best correlation |",
        "|---|---|---|---|",
    ]
    for r in relation["position_filters"]:
        parts = "; ".join(
            f"ch{f['channel']}/f{f['index']}: {f['fc_weight']:+.2f}, {f['region_correlation']:.2f}"
            for f in r["filters"]
        )
        lines.append(f"| {r['label']} | {_num(r['region'])} | {parts} | {r['best_correlation']:.2f} |")
    if figure:
        lines += ["", f"![conv4 filters of the position labels]({figure})"]
    lines += [
        "",
        "### Relation fields on real maps against the planted offsets",
        "",
        "The moved label's own map is shifted over the grid around its anchor's peak in up to 60 test "
        "images holding both, and the rule's label's SRN logit is averaged; the peak should lie within one "
        "cell of the planted offset (cells of 16 px, y down).",
        "",
        "| kind | rule | moved around anchor (read) | planted (cells) | peak | direction error (deg) | images | "
        "contrast | hit |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for f in relation["fields"]:
        peak = f"({f['peak_cells'][0]}, {f['peak_cells'][1]})" if f.get("peak_cells") else (f.get("warning") or "-")
        lines.append(
            f"| {f['kind']} | {f['rule']} | {f.get('moved', '-')} around {f.get('anchor', '-')} "
            f"({f.get('read', '-')}) | ({f['planted_cells'][0]:.2f}, {f['planted_cells'][1]:.2f}) | {peak} | "
            f"{_num(f.get('direction_error_deg', float('nan')), 0)} | {f['images']} | "
            f"{_num(f.get('contrast', float('nan')))} | {'yes' if f['hit'] else 'NO'} |"
        )
    return lines + [""]


def position_filters_figure(model: SRN, relation: dict[str, Any]) -> Figure:
    """Each position label's top filters, in the sign of their fc weight, with the label's region outlined."""
    rows = relation["position_filters"]
    weights = model.f_sr.conv4.weight.detach().float().cpu().numpy()[:, 0]
    grid = weights.shape[-1]
    columns = max((len(r["filters"]) for r in rows), default=1)
    fig = Figure(figsize=(2.2 * columns, 2.3 * max(1, len(rows))), layout="constrained")
    axes = np.atleast_2d(fig.subplots(max(1, len(rows)), columns, squeeze=False))
    for i, r in enumerate(rows):
        x0, y0, x1, y1 = (v * grid - 0.5 for v in r["region"])
        for j, f in enumerate(r["filters"]):
            ax = axes[i, j]
            signed = np.sign(f["fc_weight"]) * weights[f["filter"]]
            limit = float(np.abs(signed).max()) or 1.0
            ax.imshow(signed, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="black", linewidth=1.5))
            ax.set_title(
                f"{r['label']}: ch{f['channel']}/f{f['index']}\ncorr {f['region_correlation']:.2f}", fontsize=8
            )
            ax.set_xticks([])
            ax.set_yticks([])
    return fig


def save_position_filters(model: SRN, relation: dict[str, Any], path: Path) -> Path:
    """Write the position-filter figure (PNG) and return its path."""
    save_figure(position_filters_figure(model, relation), path, formats=("png",))
    return path


def keep_faithfulness(new_text: str, old_path: Path) -> str:
    """`new_text` with the faithfulness section of the card at `old_path` (between its markers) kept, at the end."""
    if not old_path.is_file():
        return new_text
    old = old_path.read_text(encoding="utf-8")
    start, end = old.find(FAITHFULNESS_START), old.find(FAITHFULNESS_END)
    if start < 0 or end < start:
        return new_text
    section = old[start : end + len(FAITHFULNESS_END)]
    return new_text.rstrip("\n") + "\n\n" + section + "\n"
