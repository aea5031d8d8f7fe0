"""Figures of a faithfulness summary, in matplotlib (publication) and plotly (interactive), with the
same functions and arguments: deletion / insertion curves, per-label bars with bootstrap intervals,
and the randomisation cascade. Label names are escaped for plotly (markup) and matplotlib (mathtext)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from matplotlib.figure import Figure
from plotly.subplots import make_subplots

from srn_core.text_safety import mpl_text, plotly_text

from .measures import HEAD_NAMES, describe
from .methods import METHOD_NAMES, MODEL_METHODS
from .results import FaithfulnessSummary
from .summary import ALL_LABELS

COLOURS = {
    "attention": "#d62728",
    "weighted": "#ff7f0e",
    "gradcam": "#1f77b4",
    "centre": "#7f7f7f",
    "random": "#bcbd22",
}


def _auc(summary: FaithfulnessSummary, kind: str, method: str, head: str) -> str:
    row = summary.overall(f"{kind}_{head}", method)
    return f"{row['mean']:.3f}" if row else "–"


def _bars(summary: FaithfulnessSummary, measure: str) -> tuple[list[str], dict[str, np.ndarray]]:
    """Labels (all-labels row last) and {method: (n, 3) mean, low, high}."""
    rows = [r for r in summary.table if r["measure"] == measure]
    labels = [n for n in summary.label_names if any(r["label"] == n for r in rows)] + [ALL_LABELS]
    values = {}
    for method in summary.options.methods:
        found = {r["label"]: (r["mean"], r["low"], r["high"]) for r in rows if r["method"] == method}
        if found:
            values[method] = np.array([found.get(n, (np.nan,) * 3) for n in labels])
    return labels, values


def _cascade(summary: FaithfulnessSummary, kind: str) -> tuple[list[str], dict[str, np.ndarray]]:
    stages = ["original", *summary.options.stages]
    values = {}
    for method in (m for m in summary.options.methods if m in MODEL_METHODS):
        rows = [summary.overall(f"randomised_{kind}:{s}", method) for s in summary.options.stages]
        if all(rows):
            values[method] = np.array([(1.0, 1.0, 1.0)] + [(r["mean"], r["low"], r["high"]) for r in rows])
    return stages, values


def curves_figure(summary: FaithfulnessSummary, head: str = "fused") -> Figure:
    """Mean deletion and insertion curves of every method (AUC in the legend)."""
    fig = Figure(figsize=(9.0, 3.6), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, kind in zip(axes, ("deletion", "insertion")):
        for method, heads in summary.curves.get(kind, {}).items():
            ax.plot(
                summary.fractions,
                heads[head],
                color=COLOURS[method],
                label=f"{METHOD_NAMES[method]} (AUC {_auc(summary, kind, method, head)})",
            )
        ax.set_xlabel(f"fraction of cells {'removed' if kind == 'deletion' else 'revealed'}")
        ax.set_title(f"{kind} ({'lower' if kind == 'deletion' else 'higher'} is better)", fontsize=9)
        ax.set_ylim(0, 1)
        ax.legend(fontsize=7)
    axes[0].set_ylabel(f"probability, {HEAD_NAMES.get(head, head)}")
    return fig


def label_bars_figure(summary: FaithfulnessSummary, measure: str = "deletion_fused") -> Figure:
    """One group of bars per label (and all labels), one bar per method, 95 % intervals as error bars."""
    labels, values = _bars(summary, measure)
    fig = Figure(figsize=(max(6.0, 0.55 * len(labels) * max(len(values), 1) / 3 + 2), 4.0), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / max(len(values), 1)
    x = np.arange(len(labels))
    for n, (method, v) in enumerate(values.items()):
        ax.bar(
            x + (n - (len(values) - 1) / 2) * width,
            v[:, 0],
            width,
            color=COLOURS[method],
            label=METHOD_NAMES[method],
            yerr=np.abs(np.stack([v[:, 0] - v[:, 1], v[:, 2] - v[:, 0]])),
            capsize=2,
            error_kw={"linewidth": 0.8},
        )
    ax.set_xticks(x, [mpl_text(n) for n in labels], rotation=90, fontsize=7)
    title, better = describe(measure)
    ax.set_title(f"{title} ({better} is better)", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def randomisation_figure(summary: FaithfulnessSummary, kind: str = "spearman") -> Figure:
    """Similarity of each model method's map with its map after each cascade stage (1 = unchanged)."""
    stages, values = _cascade(summary, kind)
    fig = Figure(figsize=(6.5, 3.6), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(stages))
    for method, v in values.items():
        ax.plot(x, v[:, 0], marker="o", color=COLOURS[method], label=METHOD_NAMES[method])
        ax.fill_between(x, v[:, 1], v[:, 2], color=COLOURS[method], alpha=0.2)
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.set_xticks(x, stages, rotation=30, fontsize=8)
    ax.set_ylabel("Spearman" if kind == "spearman" else "SSIM")
    ax.set_title("model randomisation cascade (a faithful map falls towards 0)", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def curves_plotly(summary: FaithfulnessSummary, head: str = "fused") -> go.Figure:
    fig = make_subplots(
        1, 2, shared_yaxes=True, subplot_titles=("deletion (lower is better)", "insertion (higher is better)")
    )
    for col, kind in enumerate(("deletion", "insertion"), start=1):
        for method, heads in summary.curves.get(kind, {}).items():
            fig.add_trace(
                go.Scatter(
                    x=summary.fractions,
                    y=heads[head],
                    mode="lines",
                    legendgroup=method,
                    showlegend=col == 1,
                    line={"color": COLOURS[method]},
                    name=f"{METHOD_NAMES[method]} (deletion AUC "
                    f"{_auc(summary, 'deletion', method, head)}, insertion AUC "
                    f"{_auc(summary, 'insertion', method, head)})",
                ),
                1,
                col,
            )
    fig.update_yaxes(range=[0, 1], title_text=f"probability, {HEAD_NAMES.get(head, head)}", col=1)
    fig.update_xaxes(title_text="fraction of cells")
    return fig


def label_bars_plotly(summary: FaithfulnessSummary, measure: str = "deletion_fused") -> go.Figure:
    labels, values = _bars(summary, measure)
    names = [plotly_text(n) for n in labels]
    fig = go.Figure(
        [
            go.Bar(
                x=names,
                y=v[:, 0],
                name=METHOD_NAMES[m],
                marker_color=COLOURS[m],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": v[:, 2] - v[:, 0],
                    "arrayminus": v[:, 0] - v[:, 1],
                },
            )
            for m, v in values.items()
        ]
    )
    title, better = describe(measure)
    fig.update_layout(barmode="group", title=f"{title} ({better} is better)")
    return fig


def randomisation_plotly(summary: FaithfulnessSummary, kind: str = "spearman") -> go.Figure:
    stages, values = _cascade(summary, kind)
    fig = go.Figure()
    for method, v in values.items():
        fig.add_trace(
            go.Scatter(
                x=stages,
                y=v[:, 0],
                mode="lines+markers",
                name=METHOD_NAMES[method],
                line={"color": COLOURS[method]},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": v[:, 2] - v[:, 0],
                    "arrayminus": v[:, 0] - v[:, 1],
                },
            )
        )
    fig.update_layout(
        title="model randomisation cascade (a faithful map falls towards 0)",
        yaxis={"title": "Spearman" if kind == "spearman" else "SSIM"},
    )
    return fig
