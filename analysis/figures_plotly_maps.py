"""Interactive (plotly) figures of one image, the same set as `figures_mpl_maps`, for the dashboard.

Each map panel shows the same blended overlay as the matplotlib figure ('nearest' cells as blocks, as
in the paper, or a smooth upsampling) with an invisible heat map on top, so that hovering a cell shows
its raw value. Save with `analysis.export.save_html`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .attention_stats import map_stats
from .figures_mpl_maps import KIND_TITLES, default_labels, score_text
from .overlay import colour_table, fit_image, overlay_image
from .session import MAP_KINDS, ImageAnalysis, LabelRef

PANEL_PX = 260
HOVER_MAX_CELLS = 64


def colorscale(cmap: str = "jet", steps: int = 11) -> list[list]:
    """A matplotlib colour map as a plotly colour scale."""
    table = colour_table(cmap)[np.linspace(0, 255, steps).astype(int)]
    return [[float(p), f"rgb({r},{g},{b})"] for p, (r, g, b) in zip(np.linspace(0, 1, steps), table)]


def hover_trace(values: np.ndarray, base_shape: tuple[int, int], name: str) -> go.Heatmap:
    """An invisible heat map of a (h, w) map over an image of `base_shape` (H, W): hover shows the values.

    Maps finer than HOVER_MAX_CELLS (e.g. Grad-CAM at input resolution) are subsampled for hovering.
    """
    step = max(1, int(np.ceil(max(values.shape) / HOVER_MAX_CELLS)))
    values = np.asarray(values)[step // 2::step, step // 2::step]
    h, w = values.shape
    height, width = base_shape
    return go.Heatmap(z=values, x0=width / w / 2, dx=width / w, y0=height / h / 2, dy=height / h, opacity=0.0,
                      showscale=False, name=name,
                      hovertemplate="x %{x:.0f}, y %{y:.0f}<br>value %{z:.4g}<extra>" + name + "</extra>")


def add_map_panel(fig: go.Figure, base: np.ndarray, values: np.ndarray, row: int, col: int, name: str,
                  mode: str = "nearest", cmap: str = "jet", opacity: float = 0.5,
                  normalize: str | tuple[float, float] = "map") -> None:
    """The overlay of one map on `base` and its hover layer, in subplot (row, col)."""
    blended, _ = overlay_image(base, values[None], mode, cmap, opacity, normalize)
    fig.add_trace(go.Image(z=blended[0], hoverinfo="skip"), row=row, col=col)
    fig.add_trace(hover_trace(values, base.shape[:2], name), row=row, col=col)


def _image_axes(fig: go.Figure, rows: int, cols: int, base_shape: tuple[int, ...]) -> None:
    """Image panels: no ticks, y down, aspect kept, range fixed to the image (markers must not pad it)."""
    height, width = base_shape[:2]
    for r in range(1, rows + 1):
        for c in range(1, cols + 1):
            n = (r - 1) * cols + c
            fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, range=[-0.5, width - 0.5],
                             row=r, col=c)
            fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, range=[height - 0.5, -0.5],
                             scaleanchor=f"x{'' if n == 1 else n}", row=r, col=c)


def _box_shapes(fig: go.Figure, analysis: ImageAnalysis, name: str, scale: float, row: int, col: int) -> None:
    for box in analysis.boxes:
        if box.label == name:
            fig.add_shape(type="rect", x0=box.x0 * scale, y0=box.y0 * scale, x1=box.x1 * scale, y1=box.y1 * scale,
                          line={"color": "white", "width": 2}, row=row, col=col)


def _panel_height(base: np.ndarray) -> int:
    return int(PANEL_PX * base.shape[0] / base.shape[1]) + 40


def attention_grid_figure(analysis: ImageAnalysis, labels: Iterable[LabelRef] | None = None,
                          kinds: Sequence[str] = MAP_KINDS, mode: str = "nearest", cmap: str = "jet",
                          opacity: float = 0.5, top_k: int = 5, max_side: int = 400) -> go.Figure:
    """Rows: labels (default the top-k fused scores), columns: the image then A, sigmoid(S), U."""
    index = default_labels(analysis, labels, top_k)
    base = fit_image(analysis.image, max_side)
    rows, cols = max(1, len(index)), len(kinds) + 1
    titles = [t for i in index for t in [f"{analysis.label_names[i]}: {score_text(analysis, i)}"]
              + [KIND_TITLES[k] for k in kinds]]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.01, vertical_spacing=0.04)
    for row, i in enumerate(index, start=1):
        fig.add_trace(go.Image(z=base, hoverinfo="skip"), row=row, col=1)
        for col, kind in enumerate(kinds, start=2):
            add_map_panel(fig, base, analysis.maps(kind)[i], row, col, f"{analysis.label_names[i]} {kind}", mode, cmap,
                          opacity, (0.0, 1.0) if kind == "confidence" else "map")
    _image_axes(fig, rows, cols, base.shape)
    fig.update_annotations(font_size=10)
    fig.update_layout(title=analysis.source, height=_panel_height(base) * rows + 80, width=PANEL_PX * cols,
                      margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return fig


def label_maps_figure(analysis: ImageAnalysis, label: LabelRef, gradcam: np.ndarray | None = None,
                      mode: str = "nearest", cmap: str = "jet", opacity: float = 0.5, max_side: int = 400) -> go.Figure:
    """One label: the image with its boxes, A, sigmoid(S), U (peak marked) and optionally Grad-CAM."""
    i = analysis.indices([label])[0]
    name = analysis.label_names[i]
    base = fit_image(analysis.image, max_side)
    scale = base.shape[1] / analysis.image.shape[1]
    panels = [(KIND_TITLES[k], analysis.maps(k)[i], mode, (0.0, 1.0) if k == "confidence" else "map")
              for k in MAP_KINDS]
    if gradcam is not None:
        panels.append(("Grad-CAM (main net)", np.asarray(gradcam, np.float32), "bilinear", "map"))
    fig = make_subplots(rows=1, cols=len(panels) + 1, subplot_titles=["image"] + [p[0] for p in panels],
                        horizontal_spacing=0.01)
    fig.add_trace(go.Image(z=base, hoverinfo="skip"), row=1, col=1)
    _box_shapes(fig, analysis, name, scale, 1, 1)
    for col, (title, values, how, norm) in enumerate(panels, start=2):
        add_map_panel(fig, base, values, 1, col, title, how, cmap, opacity, norm)
        peak = map_stats(values[None], analysis.image_size).peak_xy[0] * scale
        fig.add_trace(go.Scatter(x=[peak[0]], y=[peak[1]], mode="markers", showlegend=False, name="peak",
                                 marker={"symbol": "x", "color": "white", "size": 11}), row=1, col=col)
        _box_shapes(fig, analysis, name, scale, 1, col)
    _image_axes(fig, 1, len(panels) + 1, base.shape)
    fig.update_layout(title=f"{name}: {score_text(analysis, i)}", height=_panel_height(base) + 100,
                      width=PANEL_PX * (len(panels) + 1), margin={"l": 10, "r": 10, "t": 70, "b": 10})
    return fig


def score_bars_figure(analysis: ImageAnalysis, labels: Iterable[LabelRef] | None = None, top_k: int = 10) -> go.Figure:
    """Main-net, SRN and fused probabilities of each label, as grouped horizontal bars."""
    index = default_labels(analysis, labels, top_k)
    probs = analysis.probabilities()
    names = [analysis.label_names[i] for i in index]
    fig = go.Figure([go.Bar(y=names, x=probs[key][index], orientation="h", name=key) for key in ("main", "srn", "fused")])
    fig.add_vline(x=0.5, line_dash="dash", line_color="grey")
    fig.update_layout(barmode="group", title=analysis.source, xaxis={"range": [0, 1], "title": "probability"},
                      yaxis={"autorange": "reversed"}, height=40 * len(index) + 150)
    return fig


def influence_maps_figure(analysis: ImageAnalysis, maps: np.ndarray, source: LabelRef,
                          targets: Iterable[LabelRef] | None = None, top_k: int = 4, mode: str = "nearest",
                          opacity: float = 0.6, max_side: int = 300) -> go.Figure:
    """Signed gradient x input of label `source`'s U on each target's SRN logit, over the image."""
    i = analysis.indices([source])[0]
    totals = maps[i].sum(axis=(1, 2))
    index = analysis.indices(targets) if targets is not None else [int(j) for j in np.argsort(-np.abs(totals))[:top_k]]
    limit = float(np.abs(maps[i, index]).max()) or 1.0
    base = fit_image(analysis.image, max_side)
    fig = make_subplots(rows=1, cols=max(1, len(index)), horizontal_spacing=0.01,
                        subplot_titles=[f"-> {analysis.label_names[j]}: {totals[j]:+.3g}" for j in index])
    for col, j in enumerate(index, start=1):
        add_map_panel(fig, base, maps[i, j], 1, col, f"{analysis.label_names[i]}->{analysis.label_names[j]}", mode,
                      "RdBu_r", opacity, (-limit, limit))
    _image_axes(fig, 1, max(1, len(index)), base.shape)
    fig.update_layout(title=f"influence of {analysis.label_names[i]}'s attention on SRN logits (red raises, "
                            f"blue lowers; range +-{limit:.3g})", height=_panel_height(base) + 100,
                      width=PANEL_PX * max(1, len(index)) + 80)
    return fig
