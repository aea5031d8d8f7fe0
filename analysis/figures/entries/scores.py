"""Score bars: the main net's, SRN's and the fused probability of each label, with the 0.5 line."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import plotly.graph_objects as go
from matplotlib.figure import Figure

from srn_core.text_safety import LABEL_CHARS, mpl_text, plotly_text

from ...session import ImageAnalysis, LabelRef
from ..catalogue import FigureEntry, register
from ..parts import default_labels
from ..plotly_parts import MODEBAR

HEADS = (("main", "tab:blue"), ("srn", "tab:orange"), ("fused", "tab:green"))


def score_bars_figure_mpl(analysis: ImageAnalysis, labels: Iterable[LabelRef] | None = None, top_k: int = 10) -> Figure:
    """Main-net, SRN and fused probabilities of each label, as grouped horizontal bars."""
    index = default_labels(analysis, labels, top_k)
    probs = analysis.probabilities()
    fig = Figure(figsize=(6.0, 0.45 * len(index) + 1.2), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(index))
    for n, (key, colour) in enumerate(HEADS):
        ax.barh(y + (n - 1) * 0.27, probs[key][index], height=0.27, color=colour, label=key)
    ax.set_yticks(y, [mpl_text(analysis.label_names[i], LABEL_CHARS) for i in index])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.axvline(0.5, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xlabel("probability")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(mpl_text(analysis.source), fontsize=9)
    return fig


def score_bars_figure_plotly(
    analysis: ImageAnalysis, labels: Iterable[LabelRef] | None = None, top_k: int = 10
) -> go.Figure:
    """The same bars, interactive."""
    index = default_labels(analysis, labels, top_k)
    probs = analysis.probabilities()
    names = [plotly_text(analysis.label_names[i]) for i in index]  # categories: full names stay distinct
    data = [go.Bar(y=names, x=probs[key][index], orientation="h", name=key) for key, _ in HEADS]
    return go.Figure(
        data,
        {
            "barmode": "group",
            "title": {"text": plotly_text(analysis.source), "x": 0.0, "xanchor": "left"},
            "xaxis": {"range": [0, 1], "title": {"text": "probability"}},
            "yaxis": {"autorange": "reversed", "automargin": True},
            "height": 40 * len(index) + 150,
            "modebar": MODEBAR,
            "margin": {"l": 10, "r": 40, "t": 60},
            "legend": {"orientation": "h", "y": -0.15},
            "shapes": [
                {
                    "type": "line",
                    "x0": 0.5,
                    "x1": 0.5,
                    "y0": 0,
                    "y1": 1,
                    "yref": "paper",
                    "line": {"dash": "dash", "color": "grey"},
                }
            ],
        },
    )


ENTRY = register(
    FigureEntry(
        "scores",
        "scores of the top labels",
        "image",
        ("image",),
        mpl=lambda image: score_bars_figure_mpl(image.analysis, image.top),
        plotly=lambda image: score_bars_figure_plotly(image.analysis, image.top),
        rows=lambda image: image.analysis.score_rows(),
        marks=frozenset({"bars", "threshold"}),
        order=10,
    )
)
