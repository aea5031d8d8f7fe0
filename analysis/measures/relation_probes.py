"""Relation probes: did f_sr learn that a partner is *present*, or *where* it is?

For a label pair (read label r, partner p) and a set of analysed images, each probe edits only the
partner's weighted attention map U_p, reruns f_sr, and records how r's logits change:

- remove: U_p taken out (what presence is worth);
- move: U_p shifted by (dx, dy) grid cells;
- mirror: U_p reflected through a pivot (the anchor label's peak, or the grid centre), so the partner
  stays present but sits on the other side: "T above the arrow" becomes "T below the arrow";
- add: where p is absent, a point of p's typical mass put at pivot + (dx, dy) (what presence adds).

move and mirror must keep the partner present: an image whose edit pushes more than `1 - min_kept`
of U_p's mass off the grid is left out of that probe (and counted), since there the edit measures
removal, not layout.

The main net never reads U, so its logit does not change (reported as 0); the fused logit changes
by (1 - alpha) times the SRN change. Each effect is averaged over the images with a bootstrap
confidence interval. The verdict is "layout" when mirroring or moving the partner changes r's SRN
logit (its mean absolute change, lower confidence bound) by at least `threshold`; "presence"
when only removing it does; "none" otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from srn_core import SRN

from ..session import ImageAnalysis, LabelRef, resolve_labels, sr_forward
from .spatial import holds_label
from .whatif import shift_map

PROBE_OPS = ("remove", "move", "mirror", "add")
VERDICTS = ("layout", "presence", "none")


def bootstrap_ci(
    values: np.ndarray, confidence: float = 0.95, resamples: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of `values` (NaN, NaN for fewer than 2 values)."""
    values = np.asarray(values, np.float64)
    if values.size < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, (resamples, values.size))].mean(axis=1)
    tail = (1.0 - confidence) / 2 * 100
    return float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))


def mirror_map(values: np.ndarray, pivot: tuple[float, float], axes: str = "xy") -> np.ndarray:
    """Reflect the last two axes through `pivot` (row, col), along x, y or both ("xy"); zero fill.

    Reflection is on the cell lattice: the pivot is rounded to the nearest half cell.
    """
    out = np.zeros_like(values)
    h, w = values.shape[-2:]
    rows, cols = np.arange(h), np.arange(w)
    src_r = int(round(2 * pivot[0])) - rows if "y" in axes else rows
    src_c = int(round(2 * pivot[1])) - cols if "x" in axes else cols
    ok_r, ok_c = (src_r >= 0) & (src_r < h), (src_c >= 0) & (src_c < w)
    out[..., rows[ok_r][:, None], cols[ok_c][None, :]] = values[..., src_r[ok_r][:, None], src_c[ok_c][None, :]]
    return out


def peak_cell(values: np.ndarray) -> tuple[int, int]:
    """(row, col) of the largest value of a (g, g) map."""
    row, col = np.unravel_index(int(np.argmax(values)), values.shape)
    return int(row), int(col)


@dataclass
class ProbeEffect:
    """One probe over its images: mean change of the read label's logits (after - before), with intervals."""

    op: str
    description: str
    images: int
    srn_change: float
    srn_change_ci: tuple[float, float]
    srn_abs_change: float
    srn_abs_change_ci: tuple[float, float]
    fused_change: float
    fused_change_ci: tuple[float, float]
    main_change: float = 0.0
    left_out: int = 0

    def row(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("srn_change_ci", "srn_abs_change_ci", "fused_change_ci"):
            low, high = data.pop(key)
            data[f"{key}_low"], data[f"{key}_high"] = low, high
        return data


@dataclass
class RelationProbe:
    """All probes of one (read, partner) pair and what they say: layout, presence or none."""

    read: str
    partners: list[str]
    anchor: str | None
    alpha: float
    threshold: float
    confidence: float
    effects: dict[str, ProbeEffect]

    @property
    def layout_effect(self) -> ProbeEffect | None:
        """The stronger of the mirror and move probes (by the lower bound of the mean absolute change)."""
        candidates = [self.effects[op] for op in ("mirror", "move") if op in self.effects and self.effects[op].images]
        return max(candidates, key=lambda e: np.nan_to_num(e.srn_abs_change_ci[0], nan=-1.0), default=None)

    @property
    def verdict(self) -> str:
        layout, presence = self.layout_effect, self.effects.get("remove")
        if layout is not None and layout.srn_abs_change_ci[0] >= self.threshold:
            return "layout"
        if presence is not None and presence.images and presence.srn_abs_change_ci[0] >= self.threshold:
            return "presence"
        return "none"

    def explanation(self) -> str:
        """One sentence saying what the probes found, with the numbers behind it."""
        layout, presence = self.layout_effect, self.effects.get("remove")
        parts = []
        if presence is not None and presence.images:
            parts.append(
                f"removing {'/'.join(self.partners)} changes {self.read}'s SRN logit by "
                f"{presence.srn_abs_change:.2f} on average"
            )
        if layout is not None:
            parts.append(f"{layout.description} changes it by {layout.srn_abs_change:.2f}")
        found = {
            "layout": "f_sr learned the layout (where the partner is)",
            "presence": "f_sr learned presence (removing the partner matters, where it sits does not clearly matter)",
            "none": "f_sr shows no relation between these labels",
        }[self.verdict]
        return (
            f"{found}: " + "; ".join(parts) + f" (threshold {self.threshold:g} logits, lower bound of the "
            f"{100 * self.confidence:.0f} % interval)."
        )

    def rows(self) -> list[dict[str, Any]]:
        return [{"read": self.read, "partners": "+".join(self.partners), **e.row()} for e in self.effects.values()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "partners": self.partners,
            "anchor": self.anchor,
            "alpha": self.alpha,
            "threshold": self.threshold,
            "confidence": self.confidence,
            "verdict": self.verdict,
            "explanation": self.explanation(),
            "effects": [e.row() for e in self.effects.values()],
        }


def _effect(
    op: str,
    description: str,
    before: np.ndarray,
    after: np.ndarray,
    alpha: float,
    confidence: float,
    seed: int,
    left_out: int,
) -> ProbeEffect:
    change = np.asarray(after, np.float64) - np.asarray(before, np.float64)
    mean = float(change.mean()) if change.size else float("nan")
    absolute = np.abs(change)
    ci = bootstrap_ci(change, confidence, seed=seed)
    return ProbeEffect(
        op,
        description,
        int(change.size),
        mean,
        ci,
        float(absolute.mean()) if change.size else float("nan"),
        bootstrap_ci(absolute, confidence, seed=seed),
        (1 - alpha) * mean,
        ((1 - alpha) * ci[0], (1 - alpha) * ci[1]),
        left_out=left_out,
    )


def relation_probe(
    model: SRN,
    analyses: Sequence[ImageAnalysis],
    read: LabelRef,
    partner: LabelRef | Sequence[LabelRef],
    anchor: LabelRef | None = None,
    shift: tuple[int, int] = (3, 0),
    mirror_axes: str = "xy",
    add_offset: tuple[int, int] = (0, 0),
    ops: Sequence[str] = PROBE_OPS,
    threshold: float = 1.0,
    confidence: float = 0.95,
    seed: int = 0,
    min_kept: float = 0.9,
) -> RelationProbe:
    """Probe how `read`'s logits depend on `partner`'s map (one label, or several edited together).

    remove / move / mirror run on images where a partner is present (ground truth if known, else a
    positive fused logit); add runs on images where none is. `anchor`: the label whose peak is the
    pivot of mirror and add (default: the grid centre). `shift` (dx, dy) cells for move;
    `add_offset` (dx, dy) cells from the pivot for add. `min_kept`: the share of the partner's map
    that move and mirror must keep on the grid for an image to count.
    """
    if not analyses:
        raise ValueError("relation probes need at least one analysed image")
    if not 0.0 <= min_kept <= 1.0:
        raise ValueError(f"min_kept must lie in [0, 1], got {min_kept}")
    unknown = sorted(set(ops) - set(PROBE_OPS))
    if unknown:
        raise ValueError(f"unknown probe {unknown[0]!r}; choose among {PROBE_OPS}")
    names = analyses[0].label_names
    partners = [partner] if isinstance(partner, (str, int)) else list(partner)
    r = resolve_labels(names, [read])[0]
    ps = resolve_labels(names, partners)
    a = None if anchor is None else resolve_labels(names, [anchor])[0]
    grid = analyses[0].grid
    centre = ((grid - 1) / 2, (grid - 1) / 2)
    with_partner = [x for x in analyses if any(holds_label(x, p) for p in ps)]
    without = [x for x in analyses if not any(holds_label(x, p) for p in ps)]
    mass = (
        float(np.mean([x.weighted_attention[ps].sum(axis=(1, 2)).max() for x in with_partner])) if with_partner else 1.0
    )
    batches: dict[str, tuple[list[np.ndarray], list[np.ndarray], int]] = {}
    for op in ops:
        group = without if op == "add" else with_partner
        befores, afters, left_out = [], [], 0
        for x in group:
            u = x.weighted_attention
            pivot = centre if a is None else peak_cell(u[a])
            edited = np.array(u, np.float32, copy=True)
            if op == "remove":
                edited[ps] = 0.0
            elif op == "move":
                edited[ps] = shift_map(u[ps], int(shift[0]), int(shift[1]))
            elif op == "mirror":
                edited[ps] = mirror_map(u[ps], pivot, mirror_axes)
            else:
                row, col = int(round(pivot[0])) + int(add_offset[1]), int(round(pivot[1])) + int(add_offset[0])
                if not (0 <= row < grid and 0 <= col < grid):
                    continue
                edited[ps[0], row, col] += mass
            if op in ("move", "mirror") and edited[ps].sum() < min_kept * u[ps].sum():
                left_out += 1
                continue
            befores.append(u)
            afters.append(edited)
        batches[op] = (befores, afters, left_out)
    descriptions = {
        "remove": "removing the partner",
        "move": f"moving the partner by dx={shift[0]}, dy={shift[1]} cells",
        "mirror": f"mirroring the partner ({mirror_axes}) through "
        + ("the grid centre" if a is None else f"{names[a]}'s peak"),
        "add": f"adding the partner at dx={add_offset[0]}, dy={add_offset[1]} cells from "
        + ("the grid centre" if a is None else f"{names[a]}'s peak"),
    }
    effects = {}
    for n, (op, (befores, afters, left_out)) in enumerate(batches.items()):
        if befores:
            logits = sr_forward(model, np.stack(befores + afters))[:, r]
            before, after = logits[: len(befores)], logits[len(befores) :]
        else:
            before = after = np.zeros(0)
        effects[op] = _effect(op, descriptions[op], before, after, analyses[0].alpha, confidence, seed + n, left_out)
    return RelationProbe(
        names[r],
        [names[p] for p in ps],
        None if a is None else names[a],
        analyses[0].alpha,
        threshold,
        confidence,
        effects,
    )
