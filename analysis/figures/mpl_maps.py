"""Publication figures (matplotlib) of one image: attention grid, one label's maps, scores, influence maps.

Every function returns a `matplotlib.figure.Figure` built without pyplot (no global state, safe in a
server); save it with `analysis.export.save_figure`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from srn_core.text_safety import LABEL_CHARS, mpl_text

from ..measures.attention_stats import map_stats
from ..session import MAP_KINDS, ImageAnalysis, LabelRef, sigmoid
from .overlay import fit_image, kind_range, overlay_image

KIND_TITLES = {"attention": "attention A", "confidence": "confidence sigmoid(S)", "weighted": "weighted U"}
PANEL = 2.4
GRID_PANEL = 1.7
GRID_COLUMNS = 4


def score_text(analysis: ImageAnalysis, i: int) -> str:
    probs = analysis.probabilities()
    return f"fused {probs['fused'][i]:.2f} | main {probs['main'][i]:.2f} | SRN {probs['srn'][i]:.2f}"


def default_labels(analysis: ImageAnalysis, labels: Iterable[LabelRef] | None, top_k: int) -> list[int]:
    """The given labels, or the `top_k` highest fused scores."""
    return analysis.indices(labels) if labels is not None else analysis.top_labels(top_k)


def _draw_boxes(ax, analysis: ImageAnalysis, name: str, scale: float) -> None:
    for box in analysis.boxes:
        if box.label == name:
            ax.add_patch(Rectangle((box.x0 * scale, box.y0 * scale), (box.x1 - box.x0) * scale,
                                   (box.y1 - box.y0) * scale, fill=False, edgecolor="white", linewidth=1.5))


def _hide_axes(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def attention_grid_figure(analysis: ImageAnalysis, labels: Iterable[LabelRef] | None = None,
                          kinds: Sequence[str] = MAP_KINDS, mode: str = "nearest", cmap: str = "jet",
                          opacity: float = 0.5, top_k: int = 5, max_side: int = 400, fade: bool = False) -> Figure:
    """Rows: labels (default the top-k fused scores), columns: the image then A, sigmoid(S), U overlays.
    With one kind, the overlays alone in rows of GRID_COLUMNS, as the dashboard shows them."""
    index = default_labels(analysis, labels, top_k)
    base = fit_image(analysis.image, max_side)
    overlays = {kind: overlay_image(base, analysis.maps(kind)[index], mode, cmap, opacity, kind_range(kind),
                                    fade=fade)[0] for kind in kinds}
    aspect = base.shape[0] / base.shape[1]
    if len(kinds) == 1:
        return _overlay_grid(analysis, index, overlays[kinds[0]], kinds[0], cmap, aspect)
    fig = Figure(figsize=(PANEL * (len(kinds) + 1), PANEL * aspect * max(1, len(index)) + 0.6), layout="constrained")
    axes = np.atleast_2d(fig.subplots(max(1, len(index)), len(kinds) + 1, squeeze=False))
    for row, i in enumerate(index):
        axes[row, 0].imshow(base, interpolation="none")
        axes[row, 0].set_ylabel(mpl_text(analysis.label_names[i], LABEL_CHARS), fontsize=10)
        axes[row, 0].set_title(score_text(analysis, i), fontsize=7)
        for col, kind in enumerate(kinds, start=1):
            axes[row, col].imshow(overlays[kind][row], interpolation="none")
            if row == 0:
                axes[row, col].set_title(KIND_TITLES[kind], fontsize=9)
    for ax in axes.flat:
        _hide_axes(ax)
    fig.suptitle(mpl_text(analysis.source), fontsize=10)
    return fig


def _overlay_grid(analysis: ImageAnalysis, index: list[int], overlays: np.ndarray, kind: str, cmap: str,
                  aspect: float) -> Figure:
    cols = max(1, min(GRID_COLUMNS, len(index)))
    rows = max(1, -(-len(index) // cols))
    fig = Figure(figsize=(GRID_PANEL * cols, (GRID_PANEL * aspect + 0.3) * rows + 0.9), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[len(index):]:
        ax.set_visible(False)
    for ax, i, image in zip(axes, index, overlays):
        ax.imshow(image, interpolation="none")
        ax.set_title(f"{mpl_text(analysis.label_names[i], LABEL_CHARS)}: "
                     f"{analysis.probabilities()['fused'][i]:.2f}", fontsize=8)
        _hide_axes(ax)
    low, high = kind_range(kind) if kind == "confidence" else ("min", "max")
    bar = fig.colorbar(ScalarMappable(Normalize(0, 1), cmap), ax=list(axes[:len(index)]), shrink=0.6,
                       location="bottom", aspect=40)
    bar.set_ticks([0, 1], labels=[str(low), str(high)])
    bar.set_label(f"{KIND_TITLES[kind]}" + (" (each map from its own min to max)" if kind != "confidence" else ""),
                  fontsize=8)
    fig.suptitle(mpl_text(analysis.source), fontsize=10)
    return fig


def label_maps_figure(analysis: ImageAnalysis, label: LabelRef, gradcam: np.ndarray | None = None,
                      mode: str = "nearest", cmap: str = "jet", opacity: float = 0.5, max_side: int = 400,
                      fade: bool = False, cols: int = 3) -> Figure:
    """One label: the image with its boxes, A, sigmoid(S), U (peak x, centroid o) and optionally Grad-CAM,
    in rows of `cols` panels.

    `gradcam` is the label's (S, S) Grad-CAM map from `analysis.gradcam.gradcam_maps`.
    """
    i = analysis.indices([label])[0]
    name = analysis.label_names[i]
    base = fit_image(analysis.image, max_side)
    scale = base.shape[1] / analysis.image.shape[1]
    panels = [(KIND_TITLES[k], analysis.maps(k)[i], mode, kind_range(k)) for k in MAP_KINDS]
    if gradcam is not None:
        panels.append(("Grad-CAM (main net)", np.asarray(gradcam, np.float32), "bilinear", "map"))
    aspect = base.shape[0] / base.shape[1]
    cols = max(1, min(cols, len(panels) + 1))
    rows = -(-(len(panels) + 1) // cols)
    fig = Figure(figsize=(PANEL * 1.2 * cols, (PANEL * 1.2 * aspect + 0.9) * rows + 0.4), layout="constrained")
    grid = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in grid[len(panels) + 1:]:
        ax.set_visible(False)
    axes = grid[:len(panels) + 1]
    axes[0].imshow(base, interpolation="none")
    _draw_boxes(axes[0], analysis, name, scale)
    axes[0].set_title("image", fontsize=9)
    for ax, (title, values, how, norm) in zip(axes[1:], panels):
        blended, _ = overlay_image(base, values[None], how, cmap, opacity, norm, fade=fade)
        ax.imshow(blended[0], interpolation="none")
        _draw_boxes(ax, analysis, name, scale)
        stats = map_stats(values[None], analysis.image_size)
        ax.plot(*(stats.peak_xy[0] * scale), marker="x", color="white", markersize=9, markeredgewidth=2)
        if title != "Grad-CAM (main net)":
            ax.plot(*(stats.centroid_xy[0] * scale), marker="o", markerfacecolor="none", color="white", markersize=9)
        ax.set_title(title, fontsize=9)
        low, high = (0.0, 1.0) if norm != "map" else (float(values.min()), float(values.max()))
        fig.colorbar(ScalarMappable(Normalize(low, high), cmap), ax=ax, shrink=0.7, location="bottom")
    for ax in axes:
        _hide_axes(ax)
    fig.suptitle(f"{mpl_text(name)}: {score_text(analysis, i)}", fontsize=10)
    return fig


def score_bars_figure(analysis: ImageAnalysis, labels: Iterable[LabelRef] | None = None, top_k: int = 10) -> Figure:
    """Main-net, SRN and fused probabilities of each label, as grouped horizontal bars."""
    index = default_labels(analysis, labels, top_k)
    probs = analysis.probabilities()
    fig = Figure(figsize=(6.0, 0.45 * len(index) + 1.2), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(index))
    for n, (key, colour) in enumerate((("main", "tab:blue"), ("srn", "tab:orange"), ("fused", "tab:green"))):
        ax.barh(y + (n - 1) * 0.27, probs[key][index], height=0.27, color=colour, label=key)
    ax.set_yticks(y, [mpl_text(analysis.label_names[i], LABEL_CHARS) for i in index])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.axvline(0.5, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xlabel("probability")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(mpl_text(analysis.source), fontsize=9)
    return fig


def influence_maps_figure(analysis: ImageAnalysis, maps: np.ndarray, source: LabelRef,
                          targets: Iterable[LabelRef] | None = None, top_k: int = 4, mode: str = "nearest",
                          opacity: float = 0.6, max_side: int = 300) -> Figure:
    """Where label `source`'s weighted attention moves each target's SRN logit (gradient x input, signed).

    `maps` is `analysis.semantic.influence_maps(model, analysis)` (C, C, g, g). Red raises, blue lowers;
    one symmetric colour range for all panels. Default targets: the `top_k` most moved labels.
    """
    i = analysis.indices([source])[0]
    totals = maps[i].sum(axis=(1, 2))
    index = analysis.indices(targets) if targets is not None else [int(j) for j in np.argsort(-np.abs(totals))[:top_k]]
    chosen = maps[i, index]
    limit = float(np.abs(chosen).max()) or 1.0
    base = fit_image(analysis.image, max_side)
    blended, _ = overlay_image(base, chosen, mode, "RdBu_r", opacity, (-limit, limit))
    aspect = base.shape[0] / base.shape[1]
    fig = Figure(figsize=(PANEL * len(index) + 0.8, PANEL * aspect + 0.9), layout="constrained")
    axes = fig.subplots(1, max(1, len(index)), squeeze=False)[0]
    for ax, j, image in zip(axes, index, blended):
        ax.imshow(image, interpolation="none")
        ax.set_title(f"-> {mpl_text(analysis.label_names[j], LABEL_CHARS)}: {totals[j]:+.3g}\n(SRN p={sigmoid(analysis.sr_logits[j]):.2f})",
                     fontsize=8)
        _hide_axes(ax)
    fig.colorbar(ScalarMappable(Normalize(-limit, limit), "RdBu_r"), ax=list(axes), shrink=0.8,
                 label="U dy/dU per cell")
    fig.suptitle(f"influence of {mpl_text(analysis.label_names[i])}'s attention on SRN logits", fontsize=10)
    return fig
