"""Interactive (plotly) figures of the model and the data set, the same set as `mpl_relations`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from srn_core.text_safety import LABEL_CHARS, plotly_text

from ..measures.filters import Conv4Filters
from ..measures.gradcam import PointingComparison
from ..measures.spatial import OffsetStats, RelationField
from ..measures.whatif import WhatIf
from ..session import LabelRef, resolve_labels, sigmoid
from ..tables import LabelMatrix
from .mpl_relations import matrix_range
from .plotly_maps import MODEBAR, colorscale, title_margin, wrapped_title

PALETTE = qualitative.Plotly


def conv4_filters_figure(filters: Conv4Filters, channels: Sequence[int]) -> go.Figure:
    """The F spatial filters of each chosen conv4 channel (rows) as square cells, blue-red centred on zero
    with one range and colour bar per channel; + marks the centre of the grid."""
    channels = [int(c) for c in channels]
    per_channel = filters.weights.shape[1]
    size = filters.weights.shape[-1]
    rows = max(1, len(channels))
    cell_px, title_px, top = 170, 24, 60
    plot_px = rows * (cell_px + title_px)
    width = (1.0 - 0.03 * (per_channel - 1)) / per_channel * 0.92
    layout: dict = {"title": {"text": "conv4 single-channel filters (+: centre of the grid)", "x": 0.0},
                    "height": plot_px + top + 20, "margin": {"l": 10, "r": 60, "t": top, "b": 20},
                    "annotations": [], "modebar": MODEBAR, "showlegend": False}
    data: list = []
    centre = (size - 1) / 2
    for row, c in enumerate(channels):
        limit = float(np.abs(filters.weights[c]).max()) or 1.0
        y1 = 1.0 - row * (cell_px + title_px) / plot_px - title_px / plot_px
        y0 = y1 - cell_px / plot_px
        for f in range(per_channel):
            n = row * per_channel + f + 1
            xa, ya = f"x{'' if n == 1 else n}", f"y{'' if n == 1 else n}"
            x0 = f * (width + 0.03)
            layout[f"xaxis{'' if n == 1 else n}"] = {"domain": [x0, x0 + width], "anchor": ya, "visible": False,
                                                     "range": [-0.5, size - 0.5], "constrain": "domain"}
            layout[f"yaxis{'' if n == 1 else n}"] = {"domain": [max(0.0, y0), y1], "anchor": xa, "visible": False,
                                                     "range": [size - 0.5, -0.5], "scaleanchor": xa,
                                                     "constrain": "domain"}
            layout["annotations"].append({"text": f"ch{c} f{f}  |w|={filters.norm[c, f]:.2g}", "x": x0 + width / 2,
                                          "y": y1, "xref": "paper", "yref": "paper", "xanchor": "center",
                                          "yanchor": "bottom", "showarrow": False, "font": {"size": 12}})
            data.append(go.Heatmap(z=filters.weights[c, f], colorscale=colorscale("RdBu_r"), zmin=-limit, zmax=limit,
                                   xaxis=xa, yaxis=ya, name=f"ch{c} f{f}", showscale=f == per_channel - 1,
                                   colorbar={"x": 1.0, "y": (y0 + y1) / 2, "len": 0.9 * (y1 - y0), "thickness": 10,
                                             "yanchor": "middle", "tickfont": {"size": 10}, "nticks": 5},
                                   hovertemplate="row %{y}, col %{x}<br>w %{z:.4g}<extra></extra>"))
            data.append(go.Scatter(x=[centre], y=[centre], mode="markers", xaxis=xa, yaxis=ya, hoverinfo="skip",
                                   marker={"symbol": "cross-thin", "size": 14, "line": {"width": 2, "color": "black"}}))
    return go.Figure(data=data, layout=layout)


def matrix_figure(matrix: LabelMatrix, cmap: str | None = None, counts: np.ndarray | None = None) -> go.Figure:
    """A relation matrix as a heat map with names on both axes, its colour range from `matrix_range`
    (signed data centred on zero, the diagonal off the scale); hover shows `counts` (images behind a mean)."""
    values = np.asarray(matrix.values, dtype=np.float64)
    low, high, signed, note = matrix_range(matrix)
    scale = colorscale(cmap or ("RdBu_r" if signed else "viridis"))
    extra = {} if counts is None else {"customdata": np.asarray(counts).tolist()}
    fig = go.Figure(go.Heatmap(z=np.where(np.isfinite(values), values, None), x=[plotly_text(n) for n in matrix.col_names],
                               y=[plotly_text(n) for n in matrix.row_names], colorscale=scale, zmin=low, zmax=high,
                               hovertemplate="row %{y}<br>column %{x}<br>%{z:.4g}"
                                             + ("<br>n=%{customdata}" if counts is not None else "") + "<extra></extra>",
                               **extra))
    side = max(400, 16 * max(len(matrix.row_names), len(matrix.col_names)) + 220)
    heading = wrapped_title(plotly_text(matrix.title) + (f"<br>({note})" if note else ""))
    fig.update_layout(title=heading, yaxis={"autorange": "reversed", "automargin": True}, xaxis={"automargin": True},
                      height=side, modebar=MODEBAR, margin={"t": title_margin(heading)})
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
    fig.update_layout(title=wrapped_title(f"centroid offsets of {stats.kind} maps"),
                      xaxis={"title": f"dx ({stats.units})"},
                      yaxis={"title": f"dy ({stats.units}, down)", "autorange": "reversed", "scaleanchor": "x"},
                      height=520, modebar=MODEBAR, legend={"orientation": "h", "y": -0.2})
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
    fig.update_layout(title=wrapped_title(f"relation field: {moved} around {anchor} (best {best}, "
                                  f"without {moved} p={sigmoid(field.removed):.2f})"), modebar=MODEBAR,
                      xaxis={"title": f"dx of {moved} (cells)"},
                      yaxis={"title": "dy (cells, down)", "autorange": "reversed", "scaleanchor": "x"},
                      height=520)
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
    fig.update_layout(barmode="group", title=wrapped_title(plotly_text(f"what if: {result.description}")),
                      xaxis={"range": [0, 1], "title": "probability"}, yaxis={"autorange": "reversed"},
                      height=45 * len(index) + 160, modebar=MODEBAR)
    return fig
