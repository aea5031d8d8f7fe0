"""Publication figures (matplotlib) of the model and the data set: conv4 filters, relation matrices,
centroid offsets, relation fields, the pointing-game comparison and what-if edits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

from srn_core.text_safety import LABEL_CHARS, mpl_text

from ..measures.filters import Conv4Filters
from ..measures.gradcam import PointingComparison
from ..measures.spatial import OffsetStats, RelationField
from ..measures.whatif import WhatIf
from ..session import LabelRef, resolve_labels, sigmoid
from ..tables import LabelMatrix


def conv4_filters_figure(filters: Conv4Filters, channels: Sequence[int]) -> Figure:
    """The F spatial filters of each chosen conv4 channel (rows), one symmetric blue-red range per row."""
    channels = [int(c) for c in channels]
    per_channel, size = filters.weights.shape[1], filters.weights.shape[-1]
    fig = Figure(figsize=(2.1 * per_channel + 0.8, 2.2 * max(1, len(channels)) + 0.4), layout="constrained")
    axes = fig.subplots(max(1, len(channels)), per_channel, squeeze=False)
    for row, c in enumerate(channels):
        limit = float(np.abs(filters.weights[c]).max()) or 1.0
        for f in range(per_channel):
            ax = axes[row, f]
            image = ax.imshow(filters.weights[c, f], cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
            sign = "+" if filters.sign[c, f] > 0 else "-" if filters.sign[c, f] < 0 else "0"
            ax.set_title(f"ch{c} f{f}  |w|={filters.norm[c, f]:.2g} ({sign})", fontsize=8)
            ax.plot((size - 1) / 2, (size - 1) / 2, marker="+", color="black", markersize=10, markeredgewidth=1.5)
            ax.set_xticks([])
            ax.set_yticks([])
        fig.colorbar(image, ax=list(axes[row]), shrink=0.8)
    fig.suptitle("conv4 single-channel filters (+: centre of the grid)", fontsize=10)
    return fig


def matrix_range(matrix: LabelMatrix) -> tuple[float, float, bool, str]:
    """(low, high, signed, note) of the colour scale of a relation matrix. For a label x label matrix the
    range comes from the off-diagonal cells: the diagonal (a label with itself: its image count, P(i|i) = 1,
    similarity 1) would otherwise take the whole scale. Signed data is centred on zero. `note` says when
    the diagonal lies outside the range."""
    values = np.asarray(matrix.values, dtype=np.float64)
    signed = bool(np.nanmin(values, initial=0.0) < 0)
    square = matrix.row_names == matrix.col_names and len(matrix.row_names) > 1
    body = values[~np.eye(len(values), dtype=bool)] if square else values.ravel()
    body = body[np.isfinite(body)]
    if signed:
        limit = float(np.abs(body).max(initial=0.0)) or 1.0
        low, high = -limit, limit
    else:
        low, high = 0.0, float(body.max(initial=0.0)) or 1.0
    diagonal = np.diag(values) if square else np.zeros(0)
    outside = np.isfinite(diagonal) & ((diagonal > high) | (diagonal < low))
    note = f"diagonal (up to {np.nanmax(np.abs(diagonal)):.3g}) off the colour scale" if outside.any() else ""
    return low, high, signed, note


def matrix_figure(matrix: LabelMatrix, cmap: str | None = None, annotate: bool | None = None,
                  max_labels: int = 60, counts: np.ndarray | None = None) -> Figure:
    """A relation matrix as a heat map with row and column names; signed data gets a centred blue-red map.
    The colour range comes from `matrix_range`; `counts` (the number of images behind each cell, for
    means) are written under the values."""
    values = np.asarray(matrix.values, dtype=np.float64)[:max_labels, :max_labels]
    rows = [mpl_text(n, LABEL_CHARS) for n in matrix.row_names[:max_labels]]
    cols = [mpl_text(n, LABEL_CHARS) for n in matrix.col_names[:max_labels]]
    low, high, signed, note = matrix_range(matrix)
    cmap = cmap or ("RdBu_r" if signed else "viridis")
    side = 0.32 * max(len(rows), len(cols)) + 2.5
    fig = Figure(figsize=(side + 1.0, side + 0.3), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(values, cmap=cmap, vmin=low, vmax=high)
    ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    if annotate if annotate is not None else len(rows) * len(cols) <= 400:
        for (r, c), v in np.ndenumerate(values):
            if np.isfinite(v):
                text = f"{v:.2g}" + (f"\nn={int(counts[r, c])}" if counts is not None else "")
                ax.text(c, r, text, ha="center", va="center", fontsize=5, color="black")
    fig.colorbar(image, ax=ax, shrink=0.8, extend="max" if note else "neither")
    ax.set_title(mpl_text(matrix.title) + (f"\n({note})" if note else ""), fontsize=10)
    return fig


def offsets_figure(stats: OffsetStats, pairs: Iterable[tuple[LabelRef, LabelRef]]) -> Figure:
    """Scatter of centroid offsets (dx, dy) of `other` around `anchor` (at the origin) for each pair,
    with the mean offset (arrow) and a one-standard-deviation ellipse; y grows downwards as in images."""
    fig = Figure(figsize=(5.5, 5.0), layout="constrained")
    ax = fig.subplots()
    for n, (anchor, other) in enumerate(pairs):
        i, j = resolve_labels(stats.label_names, [anchor, other])
        points = stats.pair(i, j)
        colour = f"C{n % 10}"
        label = f"{mpl_text(stats.label_names[j], LABEL_CHARS)} around {mpl_text(stats.label_names[i], LABEL_CHARS)} " \
                f"(n={len(points)}, " \
                f"consistency {stats.consistency[i, j]:.2f})"
        ax.scatter(points[:, 0], points[:, 1], s=12, alpha=0.6, color=colour, label=label)
        if len(points):
            mean, std = stats.mean[i, j], stats.std[i, j]
            ax.annotate("", xy=tuple(mean), xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": colour, "lw": 2})
            ax.add_patch(Ellipse(tuple(mean), 2 * std[0], 2 * std[1], fill=False, color=colour, linestyle="--"))
    ax.plot(0, 0, marker="+", color="black", markersize=12)
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.axvline(0, color="grey", linewidth=0.5)
    ax.set_aspect("equal", adjustable="datalim")
    ax.invert_yaxis()
    ax.set_xlabel(f"dx ({stats.units})")
    ax.set_ylabel(f"dy ({stats.units}, down)")
    ax.legend(fontsize=7, loc="best")
    ax.set_title(f"centroid offsets of {stats.kind} maps", fontsize=10)
    return fig


def relation_field_figure(field: RelationField, probability: bool = True) -> Figure:
    """Label `read`'s SRN score with `moved`'s mass at each (dx, dy) cell offset from `anchor` (the +)."""
    values = field.probabilities if probability else field.logits
    extent = (field.offsets[0] - 0.5, field.offsets[-1] + 0.5, field.offsets[-1] + 0.5, field.offsets[0] - 0.5)
    fig = Figure(figsize=(5.2, 4.4), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(values, cmap="jet", extent=extent, interpolation="nearest")
    ax.plot(0, 0, marker="+", color="white", markersize=14, markeredgewidth=2)
    best = field.preferred_offset()
    ax.plot(*best, marker="o", markerfacecolor="none", color="white", markersize=10)
    moved, anchor = mpl_text(field.moved, LABEL_CHARS), mpl_text(field.anchor, LABEL_CHARS)
    ax.set_xlabel(f"dx of {moved} from {anchor} (cells)")
    ax.set_ylabel("dy (cells, down)")
    fig.colorbar(image, ax=ax, label=f"{mpl_text(field.read, LABEL_CHARS)} SRN {'probability' if probability else 'logit'}")
    ax.set_title(f"relation field: {moved} around {anchor}\nbest offset {best}, "
                 f"without {moved}: p={sigmoid(field.removed):.2f}", fontsize=9)
    return fig


def pointing_figure(comparison: PointingComparison, min_trials: int = 1) -> Figure:
    """Pointing-game hit rate per label of SRN's attention and of Grad-CAM, overall rates in the title."""
    keep = [k for k in range(len(comparison.labels)) if comparison.trials[k] >= min_trials]
    fig = Figure(figsize=(max(5.0, 0.45 * len(keep) + 1.5), 4.0), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(keep))
    ax.bar(x - 0.2, comparison.srn_rate[keep], width=0.4, label=f"SRN {comparison.kind}")
    ax.bar(x + 0.2, comparison.gradcam_rate[keep], width=0.4, label=f"Grad-CAM ({comparison.layer})")
    ax.set_xticks(x, [f"{mpl_text(comparison.labels[k], LABEL_CHARS)}\n(n={comparison.trials[k]})" for k in keep], rotation=90, fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_ylabel("pointing-game hit rate")
    ax.legend(fontsize=8)
    overall = comparison.overall()
    ax.set_title(f"pointing game (tolerance {comparison.tolerance:g} px, {overall['pairs']} pairs): "
                 f"SRN {overall['srn']:.2f}, Grad-CAM {overall['gradcam']:.2f}", fontsize=9)
    return fig


def what_if_figure(result: WhatIf, labels: Iterable[LabelRef] | None = None, top_k: int = 10) -> Figure:
    """SRN and fused probabilities before (light) and after (dark) an edit; default: the most changed labels."""
    change = np.abs(result.sr_after - result.sr_before)
    index = resolve_labels(result.label_names, labels) if labels is not None else \
        [int(i) for i in np.argsort(-change, kind="stable")[:top_k]]
    fig = Figure(figsize=(6.0, 0.5 * len(index) + 1.3), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(index))
    series = (("SRN before", sigmoid(result.sr_before), "#f5b971"), ("SRN after", sigmoid(result.sr_after), "#d46a00"),
              ("fused before", sigmoid(result.fused_before), "#9fd49f"), ("fused after", sigmoid(result.fused_after), "#1e7b1e"))
    for n, (name, values, colour) in enumerate(series):
        ax.barh(y + (n - 1.5) * 0.2, values[index], height=0.2, color=colour, label=name)
    ax.set_yticks(y, [mpl_text(result.label_names[i], LABEL_CHARS) for i in index])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(mpl_text(f"what if: {result.description}"), fontsize=9)
    return fig
