"""Relation field: label `read`'s SRN score with label `moved`'s mass at each (dx, dy) cell offset from
`anchor` (the +), its best offset (o) and a colour bar."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from matplotlib.figure import Figure

from srn_core.text_safety import LABEL_CHARS, mpl_text, plotly_text

from ...measures.spatial import RelationField
from ...session import sigmoid
from ..catalogue import FigureEntry, register
from ..plotly_parts import MODEBAR, colorscale, wrapped_title


def relation_field_figure_mpl(field: RelationField, probability: bool = True) -> Figure:
    """The field as a heat map over the offsets, + at the anchor, o at the best offset."""
    values = field.probabilities if probability else field.logits
    extent = (field.offsets[0] - 0.5, field.offsets[-1] + 0.5, field.offsets[-1] + 0.5, field.offsets[0] - 0.5)
    fig = Figure(figsize=(5.2, 4.4), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(values, cmap="jet", extent=extent, interpolation="nearest")
    ax.plot(0, 0, marker="+", color="white", markersize=14, markeredgewidth=2)
    best = field.preferred_offset()
    ax.plot(*best, marker="o", markerfacecolor="none", color="white", markersize=10)
    moved, anchor = mpl_text(field.moved, LABEL_CHARS), mpl_text(field.anchor, LABEL_CHARS)
    ax.set_xlabel(f"dx of {moved} from {anchor} (cells)")
    ax.set_ylabel("dy (cells, down)")
    score = "probability" if probability else "logit"
    fig.colorbar(image, ax=ax, label=f"{mpl_text(field.read, LABEL_CHARS)} SRN {score}")
    ax.set_title(
        f"relation field: {moved} around {anchor}\nbest offset {best}, without {moved}: p={sigmoid(field.removed):.2f}",
        fontsize=9,
    )
    return fig


def relation_field_figure_plotly(field: RelationField, probability: bool = True) -> go.Figure:
    """The same field, interactive: hover shows each offset's score."""
    values = field.probabilities if probability else field.logits
    fig = go.Figure(
        go.Heatmap(
            z=np.where(np.isfinite(values), values, None),
            x=field.offsets,
            y=field.offsets,
            colorscale=colorscale("jet"),
            colorbar={"title": f"{plotly_text(field.read, LABEL_CHARS)} SRN"},
            hovertemplate="dx %{x}, dy %{y}<br>score %{z:.4g}<extra></extra>",
        )
    )
    best = field.preferred_offset()
    fig.add_trace(
        go.Scatter(
            x=[0, best[0]],
            y=[0, best[1]],
            mode="markers",
            showlegend=False,
            marker={"symbol": ["cross", "circle-open"], "size": 14, "color": "white"},
        )
    )
    moved, anchor = plotly_text(field.moved, LABEL_CHARS), plotly_text(field.anchor, LABEL_CHARS)
    fig.update_layout(
        title=wrapped_title(
            f"relation field: {moved} around {anchor} (best {best}, without {moved} p={sigmoid(field.removed):.2f})"
        ),
        modebar=MODEBAR,
        xaxis={"title": f"dx of {moved} (cells)"},
        yaxis={"title": "dy (cells, down)", "autorange": "reversed", "scaleanchor": "x"},
        height=520,
    )
    return fig


ENTRY = register(
    FigureEntry(
        "relation_field",
        lambda field: f"relation field: {field.moved} around {field.anchor}",
        "pair",
        ("field",),
        mpl=relation_field_figure_mpl,
        plotly=relation_field_figure_plotly,
        rows=lambda field: field.rows(),
        data=lambda field: field,
        marks=frozenset({"heatmap", "colorbar", "centre", "centroid"}),
    )
)
