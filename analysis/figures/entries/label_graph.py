"""A relation matrix as a label graph: labels on a circle, the strongest entries as edges.

Edge width grows with |value|; red edges are positive, blue negative. For an asymmetric matrix
(P(j | i), influence) an edge runs from the row label to the column label and its hover marker sits
two thirds of the way to the column label. Both renderings (matplotlib, plotly) draw the same edges.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from matplotlib.figure import Figure

from srn_core.text_safety import LABEL_CHARS, mpl_text, plotly_text

from ...measures.browse import is_symmetric, strongest_pairs
from ...tables import LabelMatrix
from ..catalogue import FigureEntry, register
from ..plotly_parts import MODEBAR, wrapped_title


def circle_layout(count: int, order: list[int] | None = None) -> np.ndarray:
    """(count, 2) positions on the unit circle, clockwise from the top; label `order[k]` takes place k."""
    angle = np.pi / 2 - 2 * np.pi * np.arange(count) / max(count, 1)
    places = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    if order is None:
        return places
    points = np.empty_like(places)
    points[np.asarray(order, dtype=int)] = places
    return points


def spread_order(count: int, edges: list[tuple[int, int, float]], passes: int = 4) -> list[int]:
    """An order of the labels around the circle in which the strongest pairs do not sit side by side.

    Each edge scores |value| times its chord, capped at the chord of 120 degrees (an edge that long reads
    well; pushing it further only crowds the centre). Starting from the labels' own order, swaps of two
    places are kept while they raise the score: deterministic, and a few milliseconds for 80 labels.
    """
    if count < 4 or not edges:
        return list(range(count))
    cap = 2 * np.sin(np.pi / 3)
    chord = np.minimum(2 * np.sin(np.pi * np.abs(np.subtract.outer(np.arange(count), np.arange(count))) / count), cap)
    rows = np.array([e[0] for e in edges])
    cols = np.array([e[1] for e in edges])
    weight = np.abs(np.array([e[2] for e in edges]))
    place = np.arange(count)

    def score(where: np.ndarray) -> float:
        return float((weight * chord[where[rows], where[cols]]).sum())

    best = score(place)
    for _ in range(passes):
        improved = False
        for a in range(count):
            for b in range(a + 1, count):
                place[[a, b]] = place[[b, a]]
                trial = score(place)
                if trial > best + 1e-12:
                    best, improved = trial, True
                else:
                    place[[a, b]] = place[[b, a]]
        if not improved:
            break
    return [int(k) for k in np.argsort(place)]


def _text_side(x: float, y: float) -> tuple[str, str]:
    """Where a name goes next to its point so that it points away from the circle: (plotly textposition,
    matplotlib horizontal alignment)."""
    if x > 0.3:
        return "middle right", "left"
    if x < -0.3:
        return "middle left", "right"
    return ("top center" if y > 0 else "bottom center"), "center"


def graph_rows(matrix: LabelMatrix, top: int = 20) -> list[dict[str, Any]]:
    """The graph's edges: the `top` strongest pairs of `matrix` as (source, target, value) rows."""
    return [
        {"source": matrix.row_names[r], "target": matrix.col_names[c], "value": v}
        for r, c, v in strongest_pairs(matrix, top)
    ]


def _edges(matrix: LabelMatrix, top: int) -> tuple[np.ndarray, list[tuple[int, int, float]], float]:
    if matrix.row_names != matrix.col_names:
        raise ValueError(f"{matrix.title}: a label graph needs the same labels on rows and columns")
    edges = strongest_pairs(matrix, top)
    limit = max((abs(v) for _, _, v in edges), default=1.0) or 1.0
    count = len(matrix.row_names)
    return circle_layout(count, spread_order(count, edges)), edges, limit


def label_graph_figure_mpl(matrix: LabelMatrix, top: int = 20) -> Figure:
    """The label graph of `matrix` (its `top` strongest pairs) as a matplotlib figure."""
    points, edges, limit = _edges(matrix, top)
    fig = Figure(figsize=(6.0, 6.0), layout="constrained")
    ax = fig.subplots()
    for r, c, v in edges:
        (x0, y0), (x1, y1) = points[r], points[c]
        ax.annotate(
            "",
            xy=(x1, y1),
            xytext=(x0, y0),
            arrowprops={
                "arrowstyle": "-|>" if not is_symmetric(matrix) else "-",
                "lw": 0.5 + 4.5 * abs(v) / limit,
                "color": "tab:red" if v >= 0 else "tab:blue",
                "alpha": 0.7,
                "shrinkA": 8,
                "shrinkB": 8,
            },
        )
    ax.scatter(points[:, 0], points[:, 1], s=60, color="black", zorder=3)
    for (x, y), name in zip(points, [mpl_text(n, LABEL_CHARS) for n in matrix.row_names], strict=True):
        ax.text(x * 1.08, y * 1.08, name, ha=_text_side(x, y)[1], va="center", fontsize=8)
    ax.set_xlim(-1.7, 1.7)
    ax.set_ylim(-1.3, 1.3)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(mpl_text(f"{matrix.title}: {len(edges)} strongest pairs (red +, blue -)"), fontsize=10)
    return fig


def label_graph_figure_plotly(matrix: LabelMatrix, top: int = 20) -> go.Figure:
    """The label graph of `matrix` as an interactive figure; hovering an edge's marker shows its value."""
    points, edges, limit = _edges(matrix, top)
    fig = go.Figure()
    where = 0.5 if is_symmetric(matrix) else 2 / 3
    for r, c, v in edges:
        (x0, y0), (x1, y1) = points[r], points[c]
        colour = "rgba(214,39,40,0.7)" if v >= 0 else "rgba(31,119,180,0.7)"
        fig.add_trace(
            go.Scatter(
                x=[x0, x1],
                y=[y0, y1],
                mode="lines",
                hoverinfo="skip",
                showlegend=False,
                line={"width": 0.5 + 6 * abs(v) / limit, "color": colour},
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[x0 + where * (x1 - x0)],
                y=[y0 + where * (y1 - y0)],
                mode="markers",
                showlegend=False,
                marker={"size": 7, "color": colour},
                text=[f"{plotly_text(matrix.row_names[r])} -> {plotly_text(matrix.col_names[c])}: {v:.4g}"],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=points[:, 0],
            y=points[:, 1],
            mode="markers+text",
            text=[plotly_text(n, LABEL_CHARS) for n in matrix.row_names],
            textposition=[_text_side(x, y)[0] for x, y in points],
            textfont={"size": 11},
            showlegend=False,
            marker={"size": 10, "color": "black"},
            hovertemplate="%{text}<extra></extra>",
        )
    )
    fig.update_layout(
        title=wrapped_title(plotly_text(f"{matrix.title}: {len(edges)} strongest pairs (red +, blue -)"), 50),
        height=380,
        modebar=MODEBAR,
        margin={"l": 10, "r": 40, "t": 70, "b": 10},
        xaxis={"visible": False, "range": [-1.65, 1.65]},
        yaxis={"visible": False, "range": [-1.15, 1.15], "scaleanchor": "x", "constrain": "domain"},
    )
    return fig


ENTRY = register(
    FigureEntry(
        "label_graph",
        "the label graph",
        "matrix",
        ("matrix",),
        mpl=label_graph_figure_mpl,
        plotly=label_graph_figure_plotly,
        rows=graph_rows,
        optional=("top",),
        marks=frozenset({"lines", "points"}),
    )
)
