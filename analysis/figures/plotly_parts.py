"""Pieces of the plotly figures: titles that wrap, colour scales, and image panels laid out in one piece.

Each map panel shows the same blended overlay as the matplotlib figure ('nearest' cells as blocks, as
in the paper, or a smooth upsampling) with an invisible heat map on top, so that hovering a cell shows
its raw value, and a colour bar of that value under the panel. `panel_figure` writes the layout in one
piece (plotly's make_subplots / update_* calls cost tenths of a second per figure) and sends each
overlay as one JPEG data URI instead of a pixel array.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

from .overlay import colour_table, data_uri, overlay_image

PANEL_PX = 260
HOVER_MAX_CELLS = 64
TITLE_PX = 26
BAR_PX = 46
GAP = 0.02
MODEBAR = {"orientation": "v"}


def wrapped_title(text: str, width: int = 70) -> dict:
    """A figure title that wraps at `width` characters (plotly never wraps: a long title is cut off),
    left-aligned and with room made for it, so the toolbar (on the right, vertical) never covers it."""
    lines = [line for part in text.split("<br>") for line in textwrap.wrap(part, width, break_long_words=False)]
    return {
        "text": "<br>".join(lines),
        "x": 0.0,
        "xanchor": "left",
        "y": 1.0,
        "yref": "container",
        "yanchor": "top",
        "pad": {"t": 12},
        "font": {"size": 14},
    }


def title_margin(title: dict) -> int:
    """The top margin (px) a `wrapped_title` needs above the plot."""
    return 30 + 20 * (title["text"].count("<br>") + 1) if title["text"] else 20


def colorscale(cmap: str = "jet", steps: int = 11) -> list[list]:
    """A matplotlib colour map as a plotly colour scale."""
    table = colour_table(cmap)[np.linspace(0, 255, steps).astype(int)]
    return [[float(p), f"rgb({r},{g},{b})"] for p, (r, g, b) in zip(np.linspace(0, 1, steps), table, strict=True)]


@dataclass
class Panel:
    """One image panel: the picture, and optionally the raw map behind it (hover values and a colour
    bar of `cmap` over `limits`), markers (x, y, symbol) and rectangles (x0, y0, x1, y1) in pixels."""

    image: np.ndarray
    title: str
    values: np.ndarray | None = None
    cmap: str = "viridis"
    limits: tuple[float, float] | None = None
    markers: list[tuple[float, float, str]] = field(default_factory=list)
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)


def hover_trace(values: np.ndarray, base_shape: tuple[int, int], name: str) -> dict:
    """An invisible heat map (a plotly trace dict) of a (h, w) map over an image of `base_shape` (H, W):
    hover shows the values. Maps finer than HOVER_MAX_CELLS (e.g. Grad-CAM at input resolution) are
    subsampled for hovering. Traces stay dicts until the figure is made: plotly then checks them once."""
    step = max(1, int(np.ceil(max(values.shape) / HOVER_MAX_CELLS)))
    values = np.asarray(values)[step // 2 :: step, step // 2 :: step]
    h, w = values.shape
    height, width = base_shape
    return {
        "type": "heatmap",
        "z": values,
        "x0": width / w / 2,
        "dx": width / w,
        "y0": height / h / 2,
        "dy": height / h,
        "opacity": 0.0,
        "showscale": False,
        "name": name,
        "hovertemplate": "x %{x:.0f}, y %{y:.0f}<br>value %{z:.4g}<extra>" + name + "</extra>",
    }


def _axis(n: int) -> str:
    return "" if n == 1 else str(n)


def panel_axes(
    layout: dict, n: int, box: tuple[float, float, float, float], shape: tuple[int, int], title: str
) -> tuple[str, str]:
    """Axes x{n} / y{n} of panel n (from 1) in the paper box (x0, x1, y0, y1), showing an (h, w) array with
    its aspect kept and row 0 on top, and the panel's title above it; returns the axis names."""
    x0, x1, y0, y1 = box
    h, w = shape
    xa, ya = f"x{_axis(n)}", f"y{_axis(n)}"
    layout[f"xaxis{_axis(n)}"] = {
        "domain": [x0, x1],
        "anchor": ya,
        "visible": False,
        "range": [-0.5, w - 0.5],
        "constrain": "domain",
    }
    layout[f"yaxis{_axis(n)}"] = {
        "domain": [max(0.0, y0), y1],
        "anchor": xa,
        "visible": False,
        "range": [h - 0.5, -0.5],
        "scaleanchor": xa,
        "constrain": "domain",
    }
    layout["annotations"].append(
        {
            "text": title,
            "x": (x0 + x1) / 2,
            "y": y1,
            "xref": "paper",
            "yref": "paper",
            "xanchor": "center",
            "yanchor": "bottom",
            "showarrow": False,
            "font": {"size": 12},
        }
    )
    return xa, ya


def panel_figure(panels: Sequence[Panel], cols: int, title: str, panel_px: int = PANEL_PX) -> go.Figure:
    """Panels in rows of `cols`, every panel the same size with its aspect kept, its title above and
    (when it has values) its colour bar below. Panel n uses axes x{n}/y{n} (the first: x/y)."""
    cols = max(1, min(cols, len(panels)))
    rows = max(1, math.ceil(len(panels) / cols))
    height_px, width_px = panels[0].image.shape[:2]
    bars = any(p.values is not None for p in panels)
    row_px = panel_px * height_px / width_px + TITLE_PX + (BAR_PX if bars else 8)
    heading = wrapped_title(title)
    top = title_margin(heading)
    plot_px = rows * row_px
    width = (1.0 - GAP * (cols - 1)) / cols
    layout: dict = {
        "height": int(plot_px + top + 10),
        "margin": {"l": 10, "r": 40, "t": top, "b": 10},
        "showlegend": False,
        "annotations": [],
        "shapes": [],
        "modebar": MODEBAR,
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hovermode": "closest",
    }
    if title:
        layout["title"] = heading
    data: list = []
    for n, panel in enumerate(panels, start=1):
        r, c = divmod(n - 1, cols)
        x0 = c * (width + GAP)
        row_top = 1.0 - r * row_px / plot_px
        y1 = row_top - TITLE_PX / plot_px
        y0 = row_top - (row_px - (BAR_PX if bars else 8)) / plot_px
        h, w = panel.image.shape[:2]
        xa, ya = panel_axes(layout, n, (x0, x0 + width, y0, y1), (h, w), panel.title)
        data.append(
            {"type": "image", "source": data_uri(panel.image, "JPEG"), "hoverinfo": "skip", "xaxis": xa, "yaxis": ya}
        )
        if panel.values is not None:
            low, high = panel.limits or (float(np.min(panel.values)), float(np.max(panel.values)))
            trace = hover_trace(panel.values, (h, w), panel.title)
            trace.update(
                xaxis=xa,
                yaxis=ya,
                colorscale=colorscale(panel.cmap),
                zmin=low,
                zmax=high if high > low else low + 1e-9,
                showscale=True,
                colorbar={
                    "orientation": "h",
                    "x": x0 + width / 2,
                    "xanchor": "center",
                    "y": max(0.0, y0) - 6 / plot_px,
                    "yanchor": "top",
                    "len": 0.9 * width,
                    "lenmode": "fraction",
                    "thickness": 10,
                    "tickfont": {"size": 10},
                    "nticks": 4,
                    "tickformat": ".2g",
                },
            )
            data.append(trace)
        for mx, my, symbol in panel.markers:
            data.append(
                {
                    "type": "scatter",
                    "x": [mx],
                    "y": [my],
                    "mode": "markers",
                    "xaxis": xa,
                    "yaxis": ya,
                    "hoverinfo": "skip",
                    "marker": {"symbol": symbol, "color": "white", "size": 12, "line": {"color": "black", "width": 1}},
                }
            )
        layout["shapes"] += [
            {
                "type": "rect",
                "x0": bx0,
                "y0": by0,
                "x1": bx1,
                "y1": by1,
                "xref": xa,
                "yref": ya,
                "line": {"color": "white", "width": 2},
            }
            for bx0, by0, bx1, by1 in panel.boxes
        ]
    return go.Figure(data=data, layout=layout)


def map_panel(
    base: np.ndarray,
    values: np.ndarray,
    title: str,
    mode: str = "nearest",
    cmap: str = "jet",
    opacity: float = 0.5,
    normalize: str | tuple[float, float] = "map",
    fade: bool = False,
) -> Panel:
    """The overlay of one (g, g) map on `base` as a panel with hover values and a colour bar."""
    values = np.asarray(values, dtype=np.float32)
    blended, _ = overlay_image(base, values[None], mode, cmap, opacity, normalize, fade=fade)
    limits = normalize if isinstance(normalize, tuple) else (float(values.min()), float(values.max()))
    return Panel(blended[0], title, values, cmap, limits)
