"""Pieces of the matplotlib figures: panel sizes, hidden axes, boxes and the colour bar of overlays.

Every figure is a `matplotlib.figure.Figure` built without pyplot (no global state, safe in a server).
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .parts import KIND_TITLES

PANEL = 2.4


def hide_axes(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def draw_boxes(ax: Axes, boxes: Sequence[tuple[float, float, float, float]]) -> None:
    for x0, y0, x1, y1 in boxes:
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="white", linewidth=1.5))


def kind_colorbar(fig: Figure, axes: Sequence[Axes], kind: str, cmap: str, shrink: float = 0.6) -> None:
    """The colour bar of overlays of `kind` under `axes`: sigmoid(S) on 0 .. 1, A and U each from its own
    min to its own max."""
    bar = fig.colorbar(
        ScalarMappable(Normalize(0, 1), cmap), ax=list(axes), shrink=shrink, location="bottom", aspect=40
    )
    fixed = kind == "confidence"
    bar.set_ticks([0, 1], labels=["0.0", "1.0"] if fixed else ["min", "max"])
    bar.set_label(KIND_TITLES[kind] + ("" if fixed else " (each map from its own min to max)"), fontsize=8)
