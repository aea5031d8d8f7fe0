"""A relation matrix (any `LabelMatrix`) as a heat map with its row and column names and a colour bar;
signed data on a centred blue-red scale, the diagonal kept off the scale."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from matplotlib.figure import Figure

from srn_core.text_safety import LABEL_CHARS, mpl_text, plotly_text

from ...tables import LabelMatrix
from ..catalogue import FigureEntry, register
from ..plotly_parts import MODEBAR, colorscale, title_margin, wrapped_title


def matrix_range(matrix: LabelMatrix) -> tuple[float, float, bool, str]:
    """(low, high, signed, note) of the colour scale of a relation matrix. For a label x label matrix the
    range comes from the off-diagonal cells: the diagonal (a label with itself: its image count, P(i|i) = 1,
    similarity 1) would otherwise take the whole scale. Signed data is centred on zero. `note` says when
    the diagonal lies outside the range."""
    values = np.asarray(matrix.values, dtype=np.float64)
    signed = bool(np.nanmin(values, initial=0.0) < 0)
    square = matrix.row_names == matrix.col_names and len(matrix.row_names) > 1
    body = values[~np.eye(len(values), dtype=bool)] if square else values.ravel()
    body = body[np.isfinite(body)]
    if signed:
        limit = float(np.abs(body).max(initial=0.0)) or 1.0
        low, high = -limit, limit
    else:
        low, high = 0.0, float(body.max(initial=0.0)) or 1.0
    diagonal = np.diag(values) if square else np.zeros(0)
    outside = np.isfinite(diagonal) & ((diagonal > high) | (diagonal < low))
    note = f"diagonal (up to {np.nanmax(np.abs(diagonal)):.3g}) off the colour scale" if outside.any() else ""
    return low, high, signed, note


def matrix_figure_mpl(
    matrix: LabelMatrix,
    cmap: str | None = None,
    annotate: bool | None = None,
    max_labels: int = 60,
    counts: np.ndarray | None = None,
) -> Figure:
    """A relation matrix as a heat map with row and column names; signed data gets a centred blue-red map.
    The colour range comes from `matrix_range`; `counts` (the number of images behind each cell, for
    means) are written under the values."""
    values = np.asarray(matrix.values, dtype=np.float64)[:max_labels, :max_labels]
    rows = [mpl_text(n, LABEL_CHARS) for n in matrix.row_names[:max_labels]]
    cols = [mpl_text(n, LABEL_CHARS) for n in matrix.col_names[:max_labels]]
    low, high, signed, note = matrix_range(matrix)
    cmap = cmap or ("RdBu_r" if signed else "viridis")
    side = 0.32 * max(len(rows), len(cols)) + 2.5
    fig = Figure(figsize=(side + 1.0, side + 0.3), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(values, cmap=cmap, vmin=low, vmax=high)
    ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    if annotate if annotate is not None else len(rows) * len(cols) <= 400:
        for (r, c), v in np.ndenumerate(values):
            if np.isfinite(v):
                text = f"{v:.2g}" + (f"\nn={int(counts[r, c])}" if counts is not None else "")
                ax.text(c, r, text, ha="center", va="center", fontsize=5, color="black")
    fig.colorbar(image, ax=ax, shrink=0.8, extend="max" if note else "neither")
    ax.set_title(mpl_text(matrix.title) + (f"\n({note})" if note else ""), fontsize=10)
    return fig


def matrix_figure_plotly(matrix: LabelMatrix, cmap: str | None = None, counts: np.ndarray | None = None) -> go.Figure:
    """The same heat map, interactive; hover shows each cell's value and its `counts`."""
    values = np.asarray(matrix.values, dtype=np.float64)
    low, high, signed, note = matrix_range(matrix)
    scale = colorscale(cmap or ("RdBu_r" if signed else "viridis"))
    extra = {} if counts is None else {"customdata": np.asarray(counts).tolist()}
    hover = "row %{y}<br>column %{x}<br>%{z:.4g}" + ("<br>n=%{customdata}" if counts is not None else "")
    fig = go.Figure(
        go.Heatmap(
            z=np.where(np.isfinite(values), values, None),
            x=[plotly_text(n) for n in matrix.col_names],
            y=[plotly_text(n) for n in matrix.row_names],
            colorscale=scale,
            zmin=low,
            zmax=high,
            hovertemplate=hover + "<extra></extra>",
            **extra,
        )
    )
    side = max(400, 16 * max(len(matrix.row_names), len(matrix.col_names)) + 220)
    heading = wrapped_title(plotly_text(matrix.title) + (f"<br>({note})" if note else ""))
    fig.update_layout(
        title=heading,
        yaxis={"autorange": "reversed", "automargin": True},
        xaxis={"automargin": True},
        height=side,
        modebar=MODEBAR,
        margin={"t": title_margin(heading)},
    )
    return fig


ENTRY = register(
    FigureEntry(
        "matrix",
        lambda matrix, counts=None: matrix.title,
        "matrix",
        ("matrix",),
        mpl=lambda matrix, counts=None: matrix_figure_mpl(matrix, counts=counts),
        plotly=lambda matrix, counts=None: matrix_figure_plotly(matrix, counts=counts),
        rows=lambda matrix, counts=None: matrix.rows(),
        data=lambda matrix, counts=None: matrix,
        optional=("counts",),
        marks=frozenset({"heatmap", "colorbar"}),
    )
)
