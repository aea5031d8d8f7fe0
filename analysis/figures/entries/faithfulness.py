"""Faithfulness figures of a `FaithfulnessSummary` (drawn by `analysis.faithfulness.figures`): mean
deletion / insertion curves, one measure per label with intervals, and the randomisation cascade."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ..catalogue import FigureEntry, register


def _figures() -> ModuleType:
    """`analysis.faithfulness.figures`, imported on first use: the faithfulness package loads scipy, which
    the other figures (and the dashboard at launch) do not need."""
    from ...faithfulness import figures

    return figures


def _drawn(function: str) -> Any:
    return lambda summary, **options: getattr(_figures(), function)(summary, **options)


CURVES = register(
    FigureEntry(
        "faithfulness_curves",
        "deletion and insertion curves",
        "faithfulness",
        ("summary",),
        mpl=_drawn("curves_figure"),
        plotly=_drawn("curves_plotly"),
        optional=("head",),
        marks=frozenset({"lines"}),
    )
)
BARS = register(
    FigureEntry(
        "faithfulness_bars",
        lambda summary, measure="deletion_fused": f"per label: {measure}",
        "faithfulness",
        ("summary",),
        mpl=_drawn("label_bars_figure"),
        plotly=_drawn("label_bars_plotly"),
        rows=lambda summary, measure=None: summary.rows(),
        optional=("measure",),
        marks=frozenset({"bars", "error_bars"}),
    )
)
RANDOMISATION = register(
    FigureEntry(
        "faithfulness_randomisation",
        "randomisation cascade",
        "faithfulness",
        ("summary",),
        mpl=_drawn("randomisation_figure"),
        plotly=_drawn("randomisation_plotly"),
        optional=("kind",),
        marks=frozenset({"lines"}),
    )
)
