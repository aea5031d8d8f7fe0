"""Centroid offsets: where label `other`'s attention centroid sits around label `anchor`'s (at the +)
over the images holding both, for each pair: the offsets, their mean (a star at the end of an arrow)
and a one-standard-deviation ellipse; y grows downwards as in images."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import plotly.graph_objects as go
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse
from plotly.colors import qualitative

from srn_core.text_safety import LABEL_CHARS, mpl_text, plotly_text

from ...measures.spatial import OffsetStats
from ...session import LabelRef, resolve_labels
from ..catalogue import FigureEntry, register
from ..plotly_parts import MODEBAR, wrapped_title

PALETTE = qualitative.Plotly
Pairs = Iterable[tuple[LabelRef, LabelRef]]


def _pairs(stats: OffsetStats, pairs: Pairs) -> list[tuple[int, int]]:
    return [tuple(resolve_labels(stats.label_names, [anchor, other])) for anchor, other in pairs]


def offsets_figure_mpl(stats: OffsetStats, pairs: Pairs) -> Figure:
    """Scatter of centroid offsets (dx, dy) of `other` around `anchor` (at the origin) for each pair,
    with the mean offset (arrow and star) and a one-standard-deviation ellipse."""
    fig = Figure(figsize=(5.5, 5.0), layout="constrained")
    ax = fig.subplots()
    for n, (i, j) in enumerate(_pairs(stats, pairs)):
        points = stats.pair(i, j)
        colour = f"C{n % 10}"
        label = (
            f"{mpl_text(stats.label_names[j], LABEL_CHARS)} around {mpl_text(stats.label_names[i], LABEL_CHARS)} "
            f"(n={len(points)}, consistency {stats.consistency[i, j]:.2f})"
        )
        ax.scatter(points[:, 0], points[:, 1], s=12, alpha=0.6, color=colour, label=label)
        if len(points):
            mean, std = stats.mean[i, j], stats.std[i, j]
            ax.annotate("", xy=tuple(mean), xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": colour, "lw": 2})
            ax.plot(*mean, marker="*", color=colour, markersize=12)
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


def offsets_figure_plotly(stats: OffsetStats, pairs: Pairs) -> go.Figure:
    """The same offsets, interactive: hover shows each offset; the mean's star its consistency."""
    fig = go.Figure()
    shapes = []
    for n, (i, j) in enumerate(_pairs(stats, pairs)):
        points = stats.pair(i, j)
        colour = PALETTE[n % len(PALETTE)]
        name = (
            f"{plotly_text(stats.label_names[j], LABEL_CHARS)} around {plotly_text(stats.label_names[i], LABEL_CHARS)}"
        )
        fig.add_trace(
            go.Scatter(
                x=points[:, 0],
                y=points[:, 1],
                mode="markers",
                name=f"{name} (n={len(points)})",
                marker={"size": 6, "opacity": 0.6, "color": colour},
            )
        )
        if len(points):
            (mx, my), (sx, sy) = stats.mean[i, j], stats.std[i, j]
            fig.add_trace(
                go.Scatter(
                    x=[0, mx],
                    y=[0, my],
                    mode="lines",
                    showlegend=False,
                    hoverinfo="skip",
                    line={"color": colour, "width": 2},
                )
            )
            mean = f"mean, consistency {stats.consistency[i, j]:.2f}"
            fig.add_trace(
                go.Scatter(
                    x=[mx], y=[my], mode="markers", name=mean, marker={"symbol": "star", "size": 14, "color": colour}
                )
            )
            shapes.append(
                {
                    "type": "circle",
                    "x0": mx - sx,
                    "x1": mx + sx,
                    "y0": my - sy,
                    "y1": my + sy,
                    "line": {"color": colour, "dash": "dash"},
                }
            )
    fig.add_trace(
        go.Scatter(
            x=[0], y=[0], mode="markers", name="anchor", marker={"symbol": "cross", "size": 12, "color": "black"}
        )
    )
    fig.update_layout(
        title=wrapped_title(f"centroid offsets of {stats.kind} maps"),
        shapes=shapes,
        xaxis={"title": f"dx ({stats.units})"},
        yaxis={"title": f"dy ({stats.units}, down)", "autorange": "reversed", "scaleanchor": "x"},
        height=520,
        modebar=MODEBAR,
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def offset_rows(stats: OffsetStats, pairs: Pairs) -> list[dict[str, Any]]:
    """Every offset drawn: (anchor, other, dx, dy) rows."""
    names = stats.label_names
    return [
        {"anchor": names[i], "other": names[j], "dx": float(dx), "dy": float(dy), "units": stats.units}
        for i, j in _pairs(stats, pairs)
        for dx, dy in stats.pair(i, j)
    ]


ENTRY = register(
    FigureEntry(
        "offsets",
        "centroid offsets of co-present labels",
        "images",
        ("stats", "pairs"),
        mpl=offsets_figure_mpl,
        plotly=offsets_figure_plotly,
        rows=offset_rows,
        data=lambda stats, pairs: stats,
        marks=frozenset({"points", "mean", "ellipse", "centre"}),
    )
)
