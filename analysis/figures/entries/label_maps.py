"""One label's maps: the image with the label's boxes, then A, sigmoid(S) and U (and optionally the main
net's Grad-CAM) over it, each with its peak (x), its centroid (o, not for Grad-CAM) and its colour bar."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from srn_core.text_safety import mpl_text, plotly_text, slug

from ...session import MAP_KINDS, ImageAnalysis, LabelRef
from ..catalogue import FigureEntry, register
from ..image_inputs import ImageInputs
from ..mpl_parts import PANEL, draw_boxes, hide_axes
from ..overlay import fit_image, kind_range, overlay_image
from ..parts import GRADCAM_TITLE, KIND_TITLES, kind_rows, label_boxes, map_points, score_text
from ..plotly_parts import PANEL_PX, Panel, map_panel, panel_figure


def _panels(analysis: ImageAnalysis, i: int, gradcam: np.ndarray | None, mode: str) -> list[tuple]:
    """(title, values, upsampling, colour range) of each map panel."""
    panels = [(KIND_TITLES[k], analysis.maps(k)[i], mode, kind_range(k)) for k in MAP_KINDS]
    if gradcam is not None:
        panels.append((GRADCAM_TITLE, np.asarray(gradcam, np.float32), "bilinear", "map"))
    return panels


def label_maps_figure_mpl(
    analysis: ImageAnalysis,
    label: LabelRef,
    gradcam: np.ndarray | None = None,
    mode: str = "nearest",
    cmap: str = "jet",
    opacity: float = 0.5,
    max_side: int = 400,
    fade: bool = False,
    cols: int = 3,
) -> Figure:
    """One label: the image with its boxes, A, sigmoid(S), U (peak x, centroid o) and optionally Grad-CAM,
    in rows of `cols` panels.

    `gradcam` is the label's (S, S) Grad-CAM map from `analysis.measures.gradcam.gradcam_maps`.
    """
    i = analysis.indices([label])[0]
    name = analysis.label_names[i]
    base = fit_image(analysis.image, max_side)
    scale = base.shape[1] / analysis.image.shape[1]
    boxes = label_boxes(analysis, name, scale)
    panels = _panels(analysis, i, gradcam, mode)
    aspect = base.shape[0] / base.shape[1]
    cols = max(1, min(cols, len(panels) + 1))
    rows = -(-(len(panels) + 1) // cols)
    fig = Figure(figsize=(PANEL * 1.2 * cols, (PANEL * 1.2 * aspect + 0.9) * rows + 0.4), layout="constrained")
    grid = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in grid[len(panels) + 1 :]:
        ax.set_visible(False)
    axes = grid[: len(panels) + 1]
    axes[0].imshow(base, interpolation="none")
    draw_boxes(axes[0], boxes)
    axes[0].set_title("image", fontsize=9)
    for ax, (title, values, how, norm) in zip(axes[1:], panels, strict=True):
        blended, _ = overlay_image(base, values[None], how, cmap, opacity, norm, fade=fade)
        ax.imshow(blended[0], interpolation="none")
        draw_boxes(ax, boxes)
        peak, centroid = map_points(analysis, values, scale)
        ax.plot(*peak, marker="x", color="white", markersize=9, markeredgewidth=2)
        if title != GRADCAM_TITLE:
            ax.plot(*centroid, marker="o", markerfacecolor="none", color="white", markersize=9)
        ax.set_title(title, fontsize=9)
        low, high = (0.0, 1.0) if norm != "map" else (float(values.min()), float(values.max()))
        fig.colorbar(ScalarMappable(Normalize(low, high), cmap), ax=ax, shrink=0.7, location="bottom")
    for ax in axes:
        hide_axes(ax)
    fig.suptitle(f"{mpl_text(name)}: {score_text(analysis, i)}", fontsize=10)
    return fig


def label_maps_figure_plotly(
    analysis: ImageAnalysis,
    label: LabelRef,
    gradcam: np.ndarray | None = None,
    mode: str = "nearest",
    cmap: str = "jet",
    opacity: float = 0.5,
    max_side: int = 400,
    fade: bool = False,
    cols: int = 3,
) -> go.Figure:
    """The same panels, interactive: hovering a map shows its values."""
    i = analysis.indices([label])[0]
    name = analysis.label_names[i]
    base = fit_image(analysis.image, max_side)
    scale = base.shape[1] / analysis.image.shape[1]
    boxes = label_boxes(analysis, name, scale)
    panels = [Panel(base, "image", boxes=boxes)]
    for title, values, how, norm in _panels(analysis, i, gradcam, mode):
        panel = map_panel(base, values, title, how, cmap, opacity, norm, fade)
        peak, centroid = map_points(analysis, values, scale)
        panel.markers.append((float(peak[0]), float(peak[1]), "x"))
        if title != GRADCAM_TITLE:
            panel.markers.append((float(centroid[0]), float(centroid[1]), "circle-open"))
        panel.boxes = boxes
        panels.append(panel)
    return panel_figure(panels, cols, f"{plotly_text(name)}: {score_text(analysis, i)}", panel_px=PANEL_PX + 60)


def _figure(image: ImageInputs, figure):
    return figure(image.analysis, image.label, image.view.gradcam, **image.style)


ENTRY = register(
    FigureEntry(
        "label",
        lambda image: f"maps of {image.label_name}",
        "image",
        ("image",),
        mpl=lambda image: _figure(image, label_maps_figure_mpl),
        plotly=lambda image: _figure(image, label_maps_figure_plotly),
        rows=lambda image: kind_rows(image.analysis, [image.label], MAP_KINDS),
        stem=lambda image: f"maps_{slug(image.label_name)}",
        marks=frozenset({"image", "colorbar", "peak", "centroid", "boxes"}),
        per_label=True,
        order=30,
    )
)
