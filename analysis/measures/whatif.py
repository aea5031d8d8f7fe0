"""What-if edits: remove, scale or move one label's weighted attention U in one image, rerun f_sr alone.

The main net's logits y_cls do not depend on U, so the new fused logit is
alpha * y_cls (unchanged) + (1 - alpha) * y_sr (new).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from srn_core import SRN

from ..session import ImageAnalysis, LabelRef, resolve_labels, sigmoid, sr_forward

EDIT_OPS = ("remove", "scale", "move")


@dataclass(frozen=True)
class Edit:
    """One change of one label's U: 'remove' it, 'scale' it by `factor`, or 'move' it by `shift` =
    (dx, dy) grid cells (x right, y down; what leaves the grid is lost, what enters is zero)."""

    label: LabelRef
    op: str
    factor: float = 1.0
    shift: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        if self.op not in EDIT_OPS:
            raise ValueError(f"unknown edit {self.op!r}; choose one of {EDIT_OPS}")

    def describe(self, label_names: Sequence[str]) -> str:
        name = label_names[resolve_labels(label_names, [self.label])[0]]
        if self.op == "remove":
            return f"remove {name}"
        if self.op == "scale":
            return f"scale {name} x{self.factor:g}"
        return f"move {name} by dx={self.shift[0]}, dy={self.shift[1]} cells"


def shift_map(values: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Shift the last two axes by (dx, dy) cells with zero fill (no wrap-around)."""
    out = np.zeros_like(values)
    h, w = values.shape[-2:]
    if abs(dx) >= w or abs(dy) >= h:
        return out
    src_y, dst_y = slice(max(0, -dy), h - max(0, dy)), slice(max(0, dy), h - max(0, -dy))
    src_x, dst_x = slice(max(0, -dx), w - max(0, dx)), slice(max(0, dx), w - max(0, -dx))
    out[..., dst_y, dst_x] = values[..., src_y, src_x]
    return out


def apply_edits(weighted_attention: np.ndarray, label_names: Sequence[str], edits: Sequence[Edit]) -> np.ndarray:
    """A copy of U (C, g, g) with `edits` applied in order."""
    u = np.array(weighted_attention, dtype=np.float32, copy=True)
    for edit in edits:
        i = resolve_labels(label_names, [edit.label])[0]
        if edit.op == "remove":
            u[i] = 0.0
        elif edit.op == "scale":
            u[i] *= edit.factor
        else:
            u[i] = shift_map(u[i], int(edit.shift[0]), int(edit.shift[1]))
    return u


@dataclass
class WhatIf:
    """Every label's SRN and fused logits before and after an edit of one image's U."""

    label_names: list[str]
    description: str
    alpha: float
    cls_logits: np.ndarray
    sr_before: np.ndarray
    sr_after: np.ndarray

    @property
    def fused_before(self) -> np.ndarray:
        return self.alpha * self.cls_logits + (1.0 - self.alpha) * self.sr_before

    @property
    def fused_after(self) -> np.ndarray:
        return self.alpha * self.cls_logits + (1.0 - self.alpha) * self.sr_after

    def rows(self) -> list[dict[str, Any]]:
        """One row per label: logits and probabilities before and after."""
        fb, fa = self.fused_before, self.fused_after
        return [
            {
                "label": name,
                "srn_logit_before": float(self.sr_before[i]),
                "srn_logit_after": float(self.sr_after[i]),
                "srn_prob_before": float(sigmoid(self.sr_before[i])),
                "srn_prob_after": float(sigmoid(self.sr_after[i])),
                "fused_logit_before": float(fb[i]),
                "fused_logit_after": float(fa[i]),
                "fused_prob_before": float(sigmoid(fb[i])),
                "fused_prob_after": float(sigmoid(fa[i])),
            }
            for i, name in enumerate(self.label_names)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {"edit": self.description, "alpha": self.alpha, "labels": self.rows()}


def what_if(model: SRN, analysis: ImageAnalysis, edits: Edit | Sequence[Edit]) -> WhatIf:
    """Apply `edits` (together) to the image's U and return every label's new SRN and fused logits."""
    edits = [edits] if isinstance(edits, Edit) else list(edits)
    return what_if_each(model, analysis, [edits])[0]


def what_if_each(model: SRN, analysis: ImageAnalysis, scenarios: Sequence[Sequence[Edit]]) -> list[WhatIf]:
    """Several independent scenarios (each a list of edits) for one image, in one f_sr batch."""
    names = analysis.label_names
    u = analysis.weighted_attention
    batch = np.stack([u] + [apply_edits(u, names, edits) for edits in scenarios])
    logits = sr_forward(model, batch)
    return [
        WhatIf(
            names,
            "; ".join(e.describe(names) for e in edits) or "no edit",
            analysis.alpha,
            analysis.cls_logits,
            logits[0],
            logits[n + 1],
        )
        for n, edits in enumerate(scenarios)
    ]
