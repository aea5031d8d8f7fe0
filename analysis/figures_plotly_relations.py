"""Interactive (plotly) figures of the model and the data set, the same set as `figures_mpl_relations`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from srn_core.text_safety import LABEL_CHARS, plotly_text

from .figures_plotly_maps import colorscale
from .filters import Conv4Filters
from .gradcam import PointingComparison
from .session import LabelRef, resolve_labels, sigmoid
from .spatial import OffsetStats, RelationField
from .tables import LabelMatrix
from .whatif import WhatIf

PALETTE = qualitative.Plotly


def conv4_filters_figure(filters: Conv4Filters, channels: Sequence[int]) -> go.Figure:
    """The F spatial filters of each chosen conv4 channel (rows), blue-red centred on zero."""
    channels = [int(c) for c in channels]
    per_channel = filters.weights.shape[1]
    titles = [f"ch{c} f{f} |w|={filters.norm[c, f]:.2g}" for c in channels for f in range(per_channel)]
    fig = make_subplots(rows=max(1, len(channels)), cols=per_channel, subplot_titles=titles,
                        horizontal_spacing=0.02, vertical_spacing=0.06)
    for row, c in enumerate(channels, start=1):
        limit = float(np.abs(filters.weights[c]).max()) or 1.0
        for f in range(per_channel):
            fig.add_trace(go.Heatmap(z=filters.weights[c, f], colorscale=colorscale("RdBu_r"), zmin=-limit, zmax=limit,
                                     showscale=row == 1 and f == 0, name=f"ch{c} f{f}",
                                     hovertemplate="row %{y}, col %{x}<br>w %{z:.4g}<extra></extra>"), row=row, col=f + 1)
    fig.update_yaxes(autorange="reversed", showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    fig.update_annotations(font_size=9)
    fig.update_layout(title="conv4 single-channel filters", height=200 * max(1, len(channels)) + 80,
                      width=190 * per_channel + 100)
    return fig


def matrix_figure(matrix: LabelMatrix, cmap: str | None = None) -> go.Figure:
    """A relation matrix as a heat map with names on both axes; signed data is centred on zero."""
    values = np.asarray(matrix.values, dtype=np.float64)
    signed = np.nanmin(values, initial=0.0) < 0
    scale = colorscale(cmap or ("RdBu_r" if signed else "viridis"))
    fig = go.Figure(go.Heatmap(z=np.where(np.isfinite(values), values, None), x=[plotly_text(n) for n in matrix.col_names],
                               y=[plotly_text(n) for n in matrix.row_names],
                               colorscale=scale, zmid=0 if signed else None,
                               hovertemplate="row %{y}<br>column %{x}<br>%{z:.4g}<extra></extra>"))
    side = max(400, 14 * max(len(matrix.row_names), len(matrix.col_names)) + 200)
    fig.update_layout(title=plotly_text(matrix.title), yaxis={"autorange": "reversed"}, height=side, width=side + 80)
    return fig


def offsets_figure(stats: OffsetStats, pairs: Iterable[tuple[LabelRef, LabelRef]]) -> go.Figure:
    """Centroid offsets (dx, dy) of `other` around `anchor` (origin) for each pair, mean offsets as stars."""
    fig = go.Figure()
    for n, (anchor, other) in enumerate(pairs):
        i, j = resolve_labels(stats.label_names, [anchor, other])
        points = stats.pair(i, j)
        colour = PALETTE[n % len(PALETTE)]
        name = f"{plotly_text(stats.label_names[j], LABEL_CHARS)} around {plotly_text(stats.label_names[i], LABEL_CHARS)}"
        fig.add_trace(go.Scatter(x=points[:, 0], y=points[:, 1], mode="markers", name=f"{name} (n={len(points)})",
                                 marker={"size": 6, "opacity": 0.6, "color": colour}))
        if len(points):
            fig.add_trace(go.Scatter(x=[0, stats.mean[i, j, 0]], y=[0, stats.mean[i, j, 1]], mode="lines+markers",
                                     name=f"mean, consistency {stats.consistency[i, j]:.2f}", line={"color": colour},
                                     marker={"symbol": ["circle", "star"], "size": [4, 14], "color": colour}))
    fig.add_trace(go.Scatter(x=[0], y=[0], mode="markers", name="anchor", marker={"symbol": "cross", "size": 12,
                                                                               "color": "black"}))
    fig.update_layout(title=f"centroid offsets of {stats.kind} maps", xaxis={"title": f"dx ({stats.units})"},
                      yaxis={"title": f"dy ({stats.units}, down)", "autorange": "reversed", "scaleanchor": "x"},
                      height=550, width=650)
    return fig


def relation_field_figure(field: RelationField, probability: bool = True) -> go.Figure:
    """Label `read`'s SRN score with `moved`'s mass at each (dx, dy) cell offset from `anchor` (the +)."""
    values = field.probabilities if probability else field.logits
    fig = go.Figure(go.Heatmap(z=np.where(np.isfinite(values), values, None), x=field.offsets, y=field.offsets,
                               colorscale=colorscale("jet"), colorbar={"title": f"{plotly_text(field.read, LABEL_CHARS)} SRN"},
                               hovertemplate="dx %{x}, dy %{y}<br>score %{z:.4g}<extra></extra>"))
    best = field.preferred_offset()
    fig.add_trace(go.Scatter(x=[0, best[0]], y=[0, best[1]], mode="markers", showlegend=False,
                             marker={"symbol": ["cross", "circle-open"], "size": 14, "color": "white"}))
    moved, anchor = plotly_text(field.moved, LABEL_CHARS), plotly_text(field.anchor, LABEL_CHARS)
    fig.update_layout(title=f"relation field: {moved} around {anchor} (best {best}, "
                            f"without {moved} p={sigmoid(field.removed):.2f})",
                      xaxis={"title": f"dx of {moved} (cells)"},
                      yaxis={"title": "dy (cells, down)", "autorange": "reversed", "scaleanchor": "x"},
                      height=550, width=620)
    return fig


def pointing_figure(comparison: PointingComparison, min_trials: int = 1) -> go.Figure:
    """Pointing-game hit rate per label of SRN's attention and of Grad-CAM."""
    keep = [k for k in range(len(comparison.labels)) if comparison.trials[k] >= min_trials]
    names = [plotly_text(comparison.labels[k]) for k in keep]
    overall = comparison.overall()
    fig = go.Figure([go.Bar(x=names, y=comparison.srn_rate[keep], name=f"SRN {comparison.kind}"),
                     go.Bar(x=names, y=comparison.gradcam_rate[keep], name=f"Grad-CAM ({comparison.layer})")])
    fig.update_layout(barmode="group", yaxis={"range": [0, 1], "title": "hit rate"},
                      title=f"pointing game ({overall['pairs']} pairs): SRN {overall['srn']:.2f}, "
                            f"Grad-CAM {overall['gradcam']:.2f}")
    return fig


def what_if_figure(result: WhatIf, labels: Iterable[LabelRef] | None = None, top_k: int = 10) -> go.Figure:
    """SRN and fused probabilities before and after an edit; default: the most changed labels."""
    change = np.abs(result.sr_after - result.sr_before)
    index = resolve_labels(result.label_names, labels) if labels is not None else \
        [int(i) for i in np.argsort(-change, kind="stable")[:top_k]]
    names = [plotly_text(result.label_names[i]) for i in index]
    series = (("SRN before", result.sr_before), ("SRN after", result.sr_after),
              ("fused before", result.fused_before), ("fused after", result.fused_after))
    fig = go.Figure([go.Bar(y=names, x=sigmoid(v)[index], orientation="h", name=n) for n, v in series])
    fig.update_layout(barmode="group", title=plotly_text(f"what if: {result.description}"),
                      xaxis={"range": [0, 1], "title": "probability"}, yaxis={"autorange": "reversed"},
                      height=45 * len(index) + 160)
    return fig
