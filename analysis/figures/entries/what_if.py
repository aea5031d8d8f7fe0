"""What-if: every label's SRN and fused probability before and after an edit of one label's weighted
attention U."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import plotly.graph_objects as go
from matplotlib.figure import Figure

from srn_core.text_safety import LABEL_CHARS, mpl_text, plotly_text

from ...measures.whatif import WhatIf
from ...session import LabelRef, resolve_labels, sigmoid
from ..catalogue import FigureEntry, register
from ..plotly_parts import MODEBAR, wrapped_title

COLOURS = ("#f5b971", "#d46a00", "#9fd49f", "#1e7b1e")


def _series(result: WhatIf, labels: Iterable[LabelRef] | None, top_k: int) -> tuple[list[int], list[tuple]]:
    """(the labels shown: given, or the most changed; (name, probabilities) of each bar series)."""
    change = np.abs(result.sr_after - result.sr_before)
    index = (
        resolve_labels(result.label_names, labels)
        if labels is not None
        else [int(i) for i in np.argsort(-change, kind="stable")[:top_k]]
    )
    return index, [
        ("SRN before", sigmoid(result.sr_before)),
        ("SRN after", sigmoid(result.sr_after)),
        ("fused before", sigmoid(result.fused_before)),
        ("fused after", sigmoid(result.fused_after)),
    ]


def what_if_figure_mpl(result: WhatIf, labels: Iterable[LabelRef] | None = None, top_k: int = 10) -> Figure:
    """SRN and fused probabilities before (light) and after (dark) an edit; default: the most changed labels."""
    index, series = _series(result, labels, top_k)
    fig = Figure(figsize=(6.0, 0.5 * len(index) + 1.3), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(index))
    for n, ((name, values), colour) in enumerate(zip(series, COLOURS, strict=True)):
        ax.barh(y + (n - 1.5) * 0.2, values[index], height=0.2, color=colour, label=name)
    ax.set_yticks(y, [mpl_text(result.label_names[i], LABEL_CHARS) for i in index])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(mpl_text(f"what if: {result.description}"), fontsize=9)
    return fig


def what_if_figure_plotly(result: WhatIf, labels: Iterable[LabelRef] | None = None, top_k: int = 10) -> go.Figure:
    """The same bars, interactive."""
    index, series = _series(result, labels, top_k)
    names = [plotly_text(result.label_names[i]) for i in index]
    fig = go.Figure(
        [
            go.Bar(y=names, x=values[index], orientation="h", name=name, marker={"color": colour})
            for (name, values), colour in zip(series, COLOURS, strict=True)
        ]
    )
    fig.update_layout(
        barmode="group",
        title=wrapped_title(plotly_text(f"what if: {result.description}")),
        xaxis={"range": [0, 1], "title": "probability"},
        yaxis={"autorange": "reversed"},
        height=45 * len(index) + 160,
        modebar=MODEBAR,
    )
    return fig


ENTRY = register(
    FigureEntry(
        "what_if",
        lambda image: f"what if: {image.edit.describe(image.analysis.label_names)}",
        "image",
        ("image",),
        mpl=lambda image: what_if_figure_mpl(image.what_if(), top_k=image.analysis.num_labels),
        plotly=lambda image: what_if_figure_plotly(image.what_if(), top_k=image.analysis.num_labels),
        rows=lambda image: image.what_if().rows(),
        data=lambda image: image.what_if(),
        marks=frozenset({"bars"}),
        order=50,
    )
)
