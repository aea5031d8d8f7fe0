"""The map grid: the chosen labels' maps laid over the image, one row per label and one column per map
kind (A, sigmoid(S), U), or with one kind the overlays alone in rows, as the dashboard shows them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import plotly.graph_objects as go
from matplotlib.figure import Figure

from srn_core.text_safety import LABEL_CHARS, mpl_text, plotly_text

from ...session import MAP_KINDS, ImageAnalysis, LabelRef
from ..catalogue import FigureEntry, register
from ..image_inputs import ImageInputs
from ..mpl_parts import PANEL, hide_axes, kind_colorbar
from ..overlay import fit_image, kind_range, overlay_image
from ..parts import KIND_TITLES, default_labels, kind_rows, score_text
from ..plotly_parts import Panel, map_panel, panel_figure

GRID_PANEL = 1.7
GRID_COLUMNS = 4


def attention_grid_figure_mpl(
    analysis: ImageAnalysis,
    labels: Iterable[LabelRef] | None = None,
    kinds: Sequence[str] = MAP_KINDS,
    mode: str = "nearest",
    cmap: str = "jet",
    opacity: float = 0.5,
    top_k: int = 5,
    max_side: int = 400,
    fade: bool = False,
) -> Figure:
    """Rows: labels (default the top-k fused scores), columns: the image then A, sigmoid(S), U overlays,
    each column with its colour bar. With one kind, the overlays alone in rows of GRID_COLUMNS."""
    index = default_labels(analysis, labels, top_k)
    base = fit_image(analysis.image, max_side)
    overlays = {
        kind: overlay_image(base, analysis.maps(kind)[index], mode, cmap, opacity, kind_range(kind), fade=fade)[0]
        for kind in kinds
    }
    aspect = base.shape[0] / base.shape[1]
    if len(kinds) == 1:
        return _overlay_grid(analysis, index, overlays[kinds[0]], kinds[0], cmap, aspect)
    fig = Figure(figsize=(PANEL * (len(kinds) + 1), PANEL * aspect * max(1, len(index)) + 1.4), layout="constrained")
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
        hide_axes(ax)
    for col, kind in enumerate(kinds, start=1):
        kind_colorbar(fig, axes[:, col], kind, cmap, shrink=0.9)
    fig.suptitle(mpl_text(analysis.source), fontsize=10)
    return fig


def _overlay_grid(
    analysis: ImageAnalysis, index: list[int], overlays: np.ndarray, kind: str, cmap: str, aspect: float
) -> Figure:
    cols = max(1, min(GRID_COLUMNS, len(index)))
    rows = max(1, -(-len(index) // cols))
    fig = Figure(figsize=(GRID_PANEL * cols, (GRID_PANEL * aspect + 0.3) * rows + 0.9), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[len(index) :]:
        ax.set_visible(False)
    for ax, i, image in zip(axes, index, overlays, strict=False):
        ax.imshow(image, interpolation="none")
        ax.set_title(
            f"{mpl_text(analysis.label_names[i], LABEL_CHARS)}: {analysis.probabilities()['fused'][i]:.2f}", fontsize=8
        )
        hide_axes(ax)
    kind_colorbar(fig, axes[: len(index)], kind, cmap)
    fig.suptitle(mpl_text(analysis.source), fontsize=10)
    return fig


def attention_grid_figure_plotly(
    analysis: ImageAnalysis,
    labels: Iterable[LabelRef] | None = None,
    kinds: Sequence[str] = MAP_KINDS,
    mode: str = "nearest",
    cmap: str = "jet",
    opacity: float = 0.5,
    top_k: int = 5,
    max_side: int = 400,
    fade: bool = False,
) -> go.Figure:
    """The same grid, interactive: each map panel shows its values on hover and its colour bar."""
    index = default_labels(analysis, labels, top_k)
    base = fit_image(analysis.image, max_side)
    panels = []
    for i in index:
        name = plotly_text(analysis.label_names[i], LABEL_CHARS)
        if len(kinds) > 1:
            panels.append(Panel(base, f"{name}: {score_text(analysis, i)}"))
        panels += [
            map_panel(
                base,
                analysis.maps(kind)[i],
                f"{name}: {KIND_TITLES[kind]}",
                mode,
                cmap,
                opacity,
                kind_range(kind),
                fade,
            )
            for kind in kinds
        ]
    return panel_figure(panels, len(kinds) + 1 if len(kinds) > 1 else GRID_COLUMNS, plotly_text(analysis.source))


def _figure(image: ImageInputs, figure):
    return figure(image.analysis, image.shown, image.kinds, top_k=image.view.top_k, **image.style)


def _title(image: ImageInputs) -> str:
    if image.kinds == MAP_KINDS:
        return "attention grid (A, sigmoid S, U)"
    return f"{', '.join(image.kinds)} maps of the shown labels"


ENTRY = register(
    FigureEntry(
        "grid",
        _title,
        "image",
        ("image",),
        mpl=lambda image: _figure(image, attention_grid_figure_mpl),
        plotly=lambda image: _figure(image, attention_grid_figure_plotly),
        rows=lambda image: kind_rows(image.analysis, image.shown, image.kinds),
        data=lambda image: {
            "scores": image.analysis.score_rows(),
            "maps": image.analysis.to_dict()["maps"],
            "shown": image.shown,
        },
        stem=lambda image: "attention_grid" if len(image.kinds) > 1 else f"grid_{image.kinds[0]}",
        marks=frozenset({"image", "colorbar"}),
        order=20,
    )
)
