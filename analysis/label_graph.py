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

from .browse import is_symmetric, strongest_pairs
from .tables import LabelMatrix


def circle_layout(count: int) -> np.ndarray:
    """(count, 2) positions on the unit circle, the first at the top, clockwise."""
    angle = np.pi / 2 - 2 * np.pi * np.arange(count) / max(count, 1)
    return np.stack([np.cos(angle), np.sin(angle)], axis=1)


def graph_rows(matrix: LabelMatrix, top: int = 20) -> list[dict[str, Any]]:
    """The graph's edges: the `top` strongest pairs of `matrix` as (source, target, value) rows."""
    return [{"source": matrix.row_names[r], "target": matrix.col_names[c], "value": v}
            for r, c, v in strongest_pairs(matrix, top)]


def _edges(matrix: LabelMatrix, top: int) -> tuple[np.ndarray, list[tuple[int, int, float]], float]:
    if matrix.row_names != matrix.col_names:
        raise ValueError(f"{matrix.title}: a label graph needs the same labels on rows and columns")
    edges = strongest_pairs(matrix, top)
    limit = max((abs(v) for _, _, v in edges), default=1.0) or 1.0
    return circle_layout(len(matrix.row_names)), edges, limit


def label_graph_figure_mpl(matrix: LabelMatrix, top: int = 20) -> Figure:
    """The label graph of `matrix` (its `top` strongest pairs) as a matplotlib figure."""
    points, edges, limit = _edges(matrix, top)
    fig = Figure(figsize=(6.0, 6.0), layout="constrained")
    ax = fig.subplots()
    for r, c, v in edges:
        (x0, y0), (x1, y1) = points[r], points[c]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops={
            "arrowstyle": "-|>" if not is_symmetric(matrix) else "-", "lw": 0.5 + 4.5 * abs(v) / limit,
            "color": "tab:red" if v >= 0 else "tab:blue", "alpha": 0.7, "shrinkA": 8, "shrinkB": 8})
    ax.scatter(points[:, 0], points[:, 1], s=60, color="black", zorder=3)
    for (x, y), name in zip(points, [mpl_text(n, LABEL_CHARS) for n in matrix.row_names]):
        ax.text(x * 1.12, y * 1.12, name, ha="center", va="center", fontsize=8)
    ax.set_xlim(-1.35, 1.35)
    ax.set_ylim(-1.35, 1.35)
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
        fig.add_trace(go.Scatter(x=[x0, x1], y=[y0, y1], mode="lines", hoverinfo="skip", showlegend=False,
                                 line={"width": 0.5 + 6 * abs(v) / limit, "color": colour}))
        fig.add_trace(go.Scatter(x=[x0 + where * (x1 - x0)], y=[y0 + where * (y1 - y0)], mode="markers",
                                 showlegend=False, marker={"size": 7, "color": colour},
                                 text=[f"{plotly_text(matrix.row_names[r])} -> {plotly_text(matrix.col_names[c])}: "
                                       f"{v:.4g}"], hovertemplate="%{text}<extra></extra>"))
    fig.add_trace(go.Scatter(x=points[:, 0], y=points[:, 1], mode="markers+text",
                             text=[plotly_text(n, LABEL_CHARS) for n in matrix.row_names],
                             textposition="top center", showlegend=False, marker={"size": 12, "color": "black"},
                             hovertemplate="%{text}<extra></extra>"))
    fig.update_xaxes(visible=False, range=[-1.3, 1.3])
    fig.update_yaxes(visible=False, range=[-1.3, 1.3], scaleanchor="x")
    fig.update_layout(title=plotly_text(f"{matrix.title}: {len(edges)} strongest pairs (red +, blue -)"), height=560,
                      width=600)
    return fig
