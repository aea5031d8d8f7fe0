"""conv4 filters: the spatial filters of chosen f_sr channels, one row per channel on one symmetric
blue-red range with its colour bar, each panel titled with its norm and its sign (+ excites the labels
it feeds, - inhibits), + at the centre of the grid."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from matplotlib.figure import Figure

from ...measures.browse import filter_rows
from ...measures.filters import Conv4Filters
from ..catalogue import FigureEntry, register
from ..parts import filter_sign
from ..plotly_parts import MODEBAR, colorscale, panel_axes

TITLE = "conv4 single-channel filters (+: centre of the grid)"


def _panel_title(filters: Conv4Filters, c: int, f: int) -> str:
    return f"ch{c} f{f}  |w|={filters.norm[c, f]:.2g} ({filter_sign(filters.sign[c, f])})"


def conv4_filters_figure_mpl(filters: Conv4Filters, channels: Sequence[int]) -> Figure:
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
            ax.set_title(_panel_title(filters, c, f), fontsize=8)
            ax.plot((size - 1) / 2, (size - 1) / 2, marker="+", color="black", markersize=10, markeredgewidth=1.5)
            ax.set_xticks([])
            ax.set_yticks([])
        fig.colorbar(image, ax=list(axes[row]), shrink=0.8)
    fig.suptitle(TITLE, fontsize=10)
    return fig


def conv4_filters_figure_plotly(filters: Conv4Filters, channels: Sequence[int]) -> go.Figure:
    """The same filters as square cells, interactive: hovering a cell shows its weight."""
    channels = [int(c) for c in channels]
    per_channel = filters.weights.shape[1]
    size = filters.weights.shape[-1]
    rows = max(1, len(channels))
    cell_px, title_px, top = 170, 24, 60
    plot_px = rows * (cell_px + title_px)
    width = (1.0 - 0.03 * (per_channel - 1)) / per_channel * 0.92
    layout: dict = {
        "title": {"text": TITLE, "x": 0.0},
        "height": plot_px + top + 20,
        "margin": {"l": 10, "r": 60, "t": top, "b": 20},
        "annotations": [],
        "modebar": MODEBAR,
        "showlegend": False,
    }
    data: list = []
    centre = (size - 1) / 2
    for row, c in enumerate(channels):
        limit = float(np.abs(filters.weights[c]).max()) or 1.0
        y1 = 1.0 - row * (cell_px + title_px) / plot_px - title_px / plot_px
        y0 = y1 - cell_px / plot_px
        for f in range(per_channel):
            n = row * per_channel + f + 1
            x0 = f * (width + 0.03)
            xa, ya = panel_axes(layout, n, (x0, x0 + width, y0, y1), (size, size), _panel_title(filters, c, f))
            data.append(
                go.Heatmap(
                    z=filters.weights[c, f],
                    colorscale=colorscale("RdBu_r"),
                    zmin=-limit,
                    zmax=limit,
                    xaxis=xa,
                    yaxis=ya,
                    name=f"ch{c} f{f}",
                    showscale=f == per_channel - 1,
                    colorbar={
                        "x": 1.0,
                        "y": (y0 + y1) / 2,
                        "len": 0.9 * (y1 - y0),
                        "thickness": 10,
                        "yanchor": "middle",
                        "tickfont": {"size": 10},
                        "nticks": 5,
                    },
                    hovertemplate="row %{y}, col %{x}<br>w %{z:.4g}<extra></extra>",
                )
            )
            data.append(
                go.Scatter(
                    x=[centre],
                    y=[centre],
                    mode="markers",
                    xaxis=xa,
                    yaxis=ya,
                    hoverinfo="skip",
                    marker={"symbol": "cross-thin", "size": 14, "line": {"width": 2, "color": "black"}},
                )
            )
    return go.Figure(data=data, layout=layout)


ENTRY = register(
    FigureEntry(
        "conv4_filters",
        lambda filters, channels, readout: f"conv4 filters of channels {[int(c) for c in channels]}",
        "model",
        ("filters", "channels", "readout"),
        mpl=lambda filters, channels, readout: conv4_filters_figure_mpl(filters, channels),
        plotly=lambda filters, channels, readout: conv4_filters_figure_plotly(filters, channels),
        rows=lambda filters, channels, readout: filter_rows(filters, readout, channels),
        data=lambda filters, channels, readout: filters,
        marks=frozenset({"heatmap", "colorbar", "centre", "sign"}),
    )
)
