"""Influence maps: where one label's weighted attention moves each other label's SRN logit (gradient x
input, signed; red raises, blue lowers), over the image, on one symmetric colour range."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import plotly.graph_objects as go
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from srn_core.text_safety import LABEL_CHARS, mpl_text, plotly_text, slug

from ...session import ImageAnalysis, LabelRef, sigmoid
from ..catalogue import FigureEntry, register
from ..image_inputs import ImageInputs
from ..mpl_parts import PANEL, hide_axes
from ..overlay import fit_image, overlay_image
from ..plotly_parts import map_panel, panel_figure


def _targets(
    analysis: ImageAnalysis, maps: np.ndarray, i: int, targets: Iterable[LabelRef] | None, top_k: int
) -> tuple[np.ndarray, list[int], float]:
    """(totals of each target, the targets shown, the colour limit)."""
    totals = maps[i].sum(axis=(1, 2))
    index = analysis.indices(targets) if targets is not None else [int(j) for j in np.argsort(-np.abs(totals))[:top_k]]
    return totals, index, float(np.abs(maps[i, index]).max()) or 1.0


def influence_maps_figure_mpl(
    analysis: ImageAnalysis,
    maps: np.ndarray,
    source: LabelRef,
    targets: Iterable[LabelRef] | None = None,
    top_k: int = 4,
    mode: str = "nearest",
    opacity: float = 0.6,
    max_side: int = 300,
) -> Figure:
    """Where label `source`'s weighted attention moves each target's SRN logit (gradient x input, signed).

    `maps` is `analysis.measures.semantic.influence_maps(model, analysis)` (C, C, g, g). Red raises, blue
    lowers; one symmetric colour range for all panels. Default targets: the `top_k` most moved labels.
    """
    i = analysis.indices([source])[0]
    totals, index, limit = _targets(analysis, maps, i, targets, top_k)
    base = fit_image(analysis.image, max_side)
    blended, _ = overlay_image(base, maps[i, index], mode, "RdBu_r", opacity, (-limit, limit))
    aspect = base.shape[0] / base.shape[1]
    fig = Figure(figsize=(PANEL * len(index) + 0.8, PANEL * aspect + 0.9), layout="constrained")
    axes = fig.subplots(1, max(1, len(index)), squeeze=False)[0]
    for ax, j, image in zip(axes, index, blended, strict=False):
        ax.imshow(image, interpolation="none")
        ax.set_title(
            f"-> {mpl_text(analysis.label_names[j], LABEL_CHARS)}: {totals[j]:+.3g}\n"
            f"(SRN p={sigmoid(analysis.sr_logits[j]):.2f})",
            fontsize=8,
        )
        hide_axes(ax)
    fig.colorbar(
        ScalarMappable(Normalize(-limit, limit), "RdBu_r"), ax=list(axes), shrink=0.8, label="U dy/dU per cell"
    )
    fig.suptitle(f"influence of {mpl_text(analysis.label_names[i])}'s attention on SRN logits", fontsize=10)
    return fig


def influence_maps_figure_plotly(
    analysis: ImageAnalysis,
    maps: np.ndarray,
    source: LabelRef,
    targets: Iterable[LabelRef] | None = None,
    top_k: int = 4,
    mode: str = "nearest",
    opacity: float = 0.6,
    max_side: int = 300,
) -> go.Figure:
    """The same panels, interactive: hovering a cell shows its gradient x input."""
    i = analysis.indices([source])[0]
    totals, index, limit = _targets(analysis, maps, i, targets, top_k)
    base = fit_image(analysis.image, max_side)
    panels = [
        map_panel(
            base,
            maps[i, j],
            f"-> {plotly_text(analysis.label_names[j], LABEL_CHARS)}: {totals[j]:+.3g}",
            mode,
            "RdBu_r",
            opacity,
            (-limit, limit),
        )
        for j in index
    ]
    return panel_figure(
        panels,
        4,
        f"influence of {plotly_text(analysis.label_names[i])}'s attention on SRN logits<br>"
        f"(red raises, blue lowers; range +-{limit:.3g})",
    )


def _rows(image: ImageInputs) -> list[dict]:
    totals = image.influence()[image.label].sum(axis=(1, 2))
    return [
        {"source": image.label_name, "target": name, "influence": float(totals[j])}
        for j, name in enumerate(image.analysis.label_names)
    ]


def _data(image: ImageInputs) -> dict:
    maps = image.influence()[image.label]
    return {
        "source": image.label_name,
        "labels": image.analysis.label_names,
        "maps": maps,
        "totals": maps.sum(axis=(1, 2)),
    }


ENTRY = register(
    FigureEntry(
        "influence",
        lambda image: f"influence of {image.label_name}'s attention",
        "image",
        ("image",),
        mpl=lambda image: influence_maps_figure_mpl(image.analysis, image.influence(), image.label),
        plotly=lambda image: influence_maps_figure_plotly(image.analysis, image.influence(), image.label),
        rows=_rows,
        data=_data,
        stem=lambda image: f"influence_{slug(image.label_name)}",
        marks=frozenset({"image", "colorbar"}),
        order=40,
    )
)
