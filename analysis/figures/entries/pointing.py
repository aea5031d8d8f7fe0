"""The pointing game: per label, how often SRN's attention and the main net's Grad-CAM peak inside the
label's boxes; the overall rates in the title."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from matplotlib.figure import Figure

from srn_core.text_safety import LABEL_CHARS, mpl_text, plotly_text

from ...measures.gradcam import PointingComparison
from ..catalogue import FigureEntry, register


def _kept(comparison: PointingComparison, min_trials: int) -> list[int]:
    return [k for k in range(len(comparison.labels)) if comparison.trials[k] >= min_trials]


def pointing_figure_mpl(comparison: PointingComparison, min_trials: int = 1) -> Figure:
    """Pointing-game hit rate per label of SRN's attention and of Grad-CAM, overall rates in the title."""
    keep = _kept(comparison, min_trials)
    fig = Figure(figsize=(max(5.0, 0.45 * len(keep) + 1.5), 4.0), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(keep))
    ax.bar(x - 0.2, comparison.srn_rate[keep], width=0.4, label=f"SRN {comparison.kind}")
    ax.bar(x + 0.2, comparison.gradcam_rate[keep], width=0.4, label=f"Grad-CAM ({comparison.layer})")
    ax.set_xticks(
        x,
        [f"{mpl_text(comparison.labels[k], LABEL_CHARS)}\n(n={comparison.trials[k]})" for k in keep],
        rotation=90,
        fontsize=7,
    )
    ax.set_ylim(0, 1)
    ax.set_ylabel("pointing-game hit rate")
    ax.legend(fontsize=8)
    overall = comparison.overall()
    ax.set_title(
        f"pointing game (tolerance {comparison.tolerance:g} px, {overall['pairs']} pairs): "
        f"SRN {overall['srn']:.2f}, Grad-CAM {overall['gradcam']:.2f}",
        fontsize=9,
    )
    return fig


def pointing_figure_plotly(comparison: PointingComparison, min_trials: int = 1) -> go.Figure:
    """The same bars, interactive."""
    keep = _kept(comparison, min_trials)
    names = [plotly_text(comparison.labels[k]) for k in keep]
    overall = comparison.overall()
    fig = go.Figure(
        [
            go.Bar(x=names, y=comparison.srn_rate[keep], name=f"SRN {comparison.kind}"),
            go.Bar(x=names, y=comparison.gradcam_rate[keep], name=f"Grad-CAM ({comparison.layer})"),
        ]
    )
    fig.update_layout(
        barmode="group",
        yaxis={"range": [0, 1], "title": "hit rate"},
        title=f"pointing game (tolerance {comparison.tolerance:g} px, {overall['pairs']} pairs): "
        f"SRN {overall['srn']:.2f}, Grad-CAM {overall['gradcam']:.2f}",
    )
    return fig


ENTRY = register(
    FigureEntry(
        "pointing_game",
        "pointing game: SRN attention vs Grad-CAM",
        "images",
        ("comparison",),
        mpl=pointing_figure_mpl,
        plotly=pointing_figure_plotly,
        rows=lambda comparison: comparison.rows(),
        data=lambda comparison: comparison,
        marks=frozenset({"bars"}),
    )
)
