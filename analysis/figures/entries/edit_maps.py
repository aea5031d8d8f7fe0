"""Edit maps: the edited label's weighted attention U before (its peak marked) and after a what-if edit,
side by side at the same size and on one colour range, so that the two line up cell for cell."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from srn_core.text_safety import LABEL_CHARS, mpl_text, plotly_text

from ...measures.whatif import apply_edits
from ...session import ImageAnalysis, LabelRef
from ..catalogue import FigureEntry, register
from ..image_inputs import ImageInputs
from ..mpl_parts import PANEL, hide_axes
from ..overlay import fit_image, overlay_image
from ..parts import map_points
from ..plotly_parts import map_panel, panel_figure


def _before(analysis: ImageAnalysis, label: LabelRef) -> tuple[int, np.ndarray, tuple[float, float]]:
    """(label index, its U before the edit, the colour range of both panels)."""
    i = analysis.indices([label])[0]
    before = analysis.weighted_attention[i]
    return i, before, (0.0, float(before.max()) or 1.0)


def edit_maps_figure_mpl(
    analysis: ImageAnalysis,
    label: LabelRef,
    after: np.ndarray,
    description: str,
    mode: str = "nearest",
    cmap: str = "jet",
    opacity: float = 0.5,
    fade: bool = False,
    max_side: int = 320,
) -> Figure:
    """One label's U before (peak x) and after an edit (`after`, (g, g)), one colour bar for both."""
    i, before, limits = _before(analysis, label)
    base = fit_image(analysis.image, max_side)
    scale = base.shape[1] / analysis.image.shape[1]
    blended, _ = overlay_image(base, np.stack([before, after]), mode, cmap, opacity, limits, fade=fade)
    aspect = base.shape[0] / base.shape[1]
    fig = Figure(figsize=(2 * PANEL + 0.8, PANEL * aspect + 1.2), layout="constrained")
    axes = fig.subplots(1, 2)
    titles = (f"before: U of {mpl_text(analysis.label_names[i], LABEL_CHARS)}", f"after: {mpl_text(description)}")
    for ax, image, title in zip(axes, blended, titles, strict=True):
        ax.imshow(image, interpolation="none")
        ax.set_title(title, fontsize=9)
        hide_axes(ax)
    peak, _ = map_points(analysis, before, scale)
    axes[0].plot(*peak, marker="x", color="white", markersize=9, markeredgewidth=2)
    fig.colorbar(ScalarMappable(Normalize(*limits), cmap), ax=list(axes), shrink=0.8, location="bottom", label="U")
    return fig


def edit_maps_figure_plotly(
    analysis: ImageAnalysis,
    label: LabelRef,
    after: np.ndarray,
    description: str,
    mode: str = "nearest",
    cmap: str = "jet",
    opacity: float = 0.5,
    fade: bool = False,
    max_side: int = 320,
) -> go.Figure:
    """The same panels, interactive: hovering a cell shows U (the what-if view clicks the left one)."""
    i, before, limits = _before(analysis, label)
    base = fit_image(analysis.image, max_side)
    scale = base.shape[1] / analysis.image.shape[1]
    name = plotly_text(analysis.label_names[i], LABEL_CHARS)
    panels = [
        map_panel(base, before, f"before: U of {name}", mode, cmap, opacity, limits, fade),
        map_panel(base, after, f"after: {plotly_text(description)}", mode, cmap, opacity, limits, fade),
    ]
    peak, _ = map_points(analysis, before, scale)
    panels[0].markers.append((float(peak[0]), float(peak[1]), "x"))
    return panel_figure(panels, 2, "")


def edited_maps(image: ImageInputs) -> tuple[LabelRef, np.ndarray, str]:
    """(the edited label, its U after the view's edit, the edit in words)."""
    analysis, edit = image.analysis, image.edit
    i = analysis.indices([edit.label])[0]
    after = apply_edits(analysis.weighted_attention, analysis.label_names, [edit])[i]
    return i, after, edit.describe(analysis.label_names)


def _figure(image: ImageInputs, figure):
    style = image.style
    return figure(image.analysis, *edited_maps(image), style["mode"], style["cmap"], style["opacity"], style["fade"])


ENTRY = register(
    FigureEntry(
        "edit_maps",
        lambda image: f"U before and after: {image.edit.describe(image.analysis.label_names)}",
        "edit",
        ("image",),
        mpl=lambda image: _figure(image, edit_maps_figure_mpl),
        plotly=lambda image: _figure(image, edit_maps_figure_plotly),
        marks=frozenset({"image", "colorbar", "peak"}),
        order=55,
    )
)
