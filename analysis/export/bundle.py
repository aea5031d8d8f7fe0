"""Figures as downloadable files in memory, and the ZIP of everything about one image.

A `FigureSpec` names one figure and knows how to build it with matplotlib (PNG / SVG / PDF), with
plotly (interactive display, standalone HTML) and its numbers (CSV rows). Nothing is built or
rendered until asked, so a page can offer every format of every figure without paying for them.
`image_figures` lists the figures of one analysed image under one set of view settings, and
`image_bundle` zips them all with the image's scores and maps.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from srn_core import SRN

from ..figures import mpl as fm
from ..figures import plotly as fp
from ..measures.attention_stats import attention_stats
from ..measures.semantic import influence_maps
from ..measures.whatif import Edit, what_if
from ..session import MAP_KINDS, ImageAnalysis, LabelRef
from .files import csv_text, json_text

FIGURE_FORMATS = ("png", "svg", "pdf")
DOWNLOAD_DPI = 150
FILE_FORMATS = FIGURE_FORMATS + ("html", "csv")
ZIP_FORMATS = ("png", "html", "csv")
MIME_TYPES = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf", "html": "text/html",
              "csv": "text/csv", "json": "application/json", "zip": "application/zip"}


NO_DATES = {"png": {}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}


def figure_bytes(fig: Figure, fmt: str, dpi: int = DOWNLOAD_DPI) -> bytes:
    """A matplotlib figure rendered to PNG, SVG or PDF bytes (no dates, so re-renders are identical)."""
    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"unknown figure format {fmt!r}; choose from {FIGURE_FORMATS}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi, metadata=NO_DATES[fmt])
    return buffer.getvalue()


def html_bytes(fig: Any, plotlyjs: bool | str = True) -> bytes:
    """A plotly figure as an HTML page. `True` embeds plotly.js (no server, no network needed); a
    relative '<name>.js' links that script instead, for pages that share one copy."""
    return fig.to_html(full_html=True, include_plotlyjs=plotlyjs, config={"displaylogo": False}).encode("utf-8")


def csv_bytes(rows: Sequence[dict[str, Any]]) -> bytes:
    """Dict rows as CSV bytes; the columns are the union of keys, in first-seen order."""
    return csv_text(rows).encode("utf-8")


def json_bytes(data: Any) -> bytes:
    """Any analysis result (numpy, dataclasses with to_dict) as JSON bytes; NaN becomes null."""
    return json_text(data.to_dict() if hasattr(data, "to_dict") else data).encode("utf-8")


@dataclass(frozen=True)
class FigureSpec:
    """One figure, built lazily: `mpl` and `plotly` build the two renderings, `rows` its CSV data."""

    name: str
    title: str
    mpl: Callable[[], Figure]
    plotly: Callable[[], Any] | None = None
    rows: Callable[[], list[dict[str, Any]]] | None = None

    @property
    def formats(self) -> tuple[str, ...]:
        """The file formats this figure offers."""
        return FIGURE_FORMATS + (("html",) if self.plotly else ()) + (("csv",) if self.rows else ())

    def file(self, fmt: str, dpi: int = DOWNLOAD_DPI) -> bytes:
        """The figure (or its data) as the bytes of a `fmt` file."""
        if fmt in FIGURE_FORMATS:
            return figure_bytes(self.mpl(), fmt, dpi)
        if fmt == "html" and self.plotly:
            return html_bytes(self.plotly())
        if fmt == "csv" and self.rows:
            return csv_bytes(self.rows())
        raise ValueError(f"figure {self.name!r} has no {fmt!r} file; it offers {self.formats}")

    def files(self, formats: Sequence[str] | None = None, dpi: int = DOWNLOAD_DPI,
              plotlyjs: bool | str = True) -> dict[str, bytes]:
        """{file name: bytes} for each format; the matplotlib figure is built once for all its formats.
        `plotlyjs` is passed to `html_bytes`."""
        wanted = [f for f in (formats or self.formats) if f in self.formats]
        out: dict[str, bytes] = {}
        figure = self.mpl() if any(f in FIGURE_FORMATS for f in wanted) else None
        for fmt in wanted:
            if fmt in FIGURE_FORMATS:
                out[f"{self.name}.{fmt}"] = figure_bytes(figure, fmt, dpi)
            elif fmt == "html":
                out[f"{self.name}.html"] = html_bytes(self.plotly(), plotlyjs)
            else:
                out[f"{self.name}{'_data' if fmt == 'csv' else ''}.{fmt}"] = self.file(fmt, dpi)
        return out


def shared_figure(name: str, title: str, function: str, *args: Any,
                  rows: Callable[[], list[dict[str, Any]]] | None = None, **kwargs: Any) -> FigureSpec:
    """A spec for a figure that `figures.mpl` and `figures.plotly` both draw with `function(*args, **kwargs)`."""
    mpl, interactive = getattr(fm, function), getattr(fp, function)
    return FigureSpec(name, title, lambda: mpl(*args, **kwargs), lambda: interactive(*args, **kwargs), rows)


@dataclass
class ImageView:
    """How one image is looked at: the chosen label, map kind and overlay style (`fade`: see
    `overlay_image`), top-k and threshold, the labels shown in the grid (default: the top-k), and a
    what-if edit (default: remove the label)."""

    label: LabelRef
    kind: str = "attention"
    mode: str = "nearest"
    cmap: str = "jet"
    opacity: float = 0.5
    fade: bool = False
    top_k: int = 5
    threshold: float = 0.5
    grid_labels: list[int] | None = None
    edit: Edit | None = None
    gradcam: np.ndarray | None = field(default=None, repr=False)


def _kind_rows(analysis: ImageAnalysis, labels: Sequence[LabelRef], kinds: Sequence[str]) -> list[dict[str, Any]]:
    return [{"kind": kind, **row} for kind in kinds for row in attention_stats(analysis, labels, kind).rows()]


def _influence_rows(analysis: ImageAnalysis, maps: np.ndarray, source: int) -> list[dict[str, Any]]:
    totals = maps[source].sum(axis=(1, 2))
    return [{"source": analysis.label_names[source], "target": name, "influence": float(totals[j])}
            for j, name in enumerate(analysis.label_names)]


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def image_figures(model: SRN, analysis: ImageAnalysis, view: ImageView) -> dict[str, FigureSpec]:
    """The figures of one image, keyed by role: scores, grid, label (maps of the chosen label),
    influence (of the chosen label's attention) and what_if (the edit, every label's scores)."""
    i = analysis.indices([view.label])[0]
    name = _safe(analysis.label_names[i])
    top = analysis.top_labels(view.top_k)
    shown = list(view.grid_labels) if view.grid_labels is not None else top
    edit = view.edit or Edit(i, "remove")
    style = {"mode": view.mode, "cmap": view.cmap, "opacity": view.opacity, "fade": view.fade}
    cache: dict[str, Any] = {}

    def influence() -> np.ndarray:
        if "influence" not in cache:
            cache["influence"] = influence_maps(model, analysis)
        return cache["influence"]

    def edited() -> Any:
        if "what_if" not in cache:
            cache["what_if"] = what_if(model, analysis, edit)
        return cache["what_if"]

    return {
        "scores": shared_figure("scores", "scores of the top labels", "score_bars_figure", analysis, top,
                                rows=analysis.score_rows),
        "grid": shared_figure(f"grid_{view.kind}", f"{view.kind} maps of the shown labels", "attention_grid_figure",
                              analysis, shown, (view.kind,), top_k=view.top_k, **style,
                              rows=lambda: _kind_rows(analysis, shown, (view.kind,))),
        "label": shared_figure(f"maps_{name}", f"maps of {analysis.label_names[i]}", "label_maps_figure", analysis, i,
                               view.gradcam, **style, rows=lambda: _kind_rows(analysis, [i], MAP_KINDS)),
        "influence": FigureSpec(
            f"influence_{name}", f"influence of {analysis.label_names[i]}'s attention",
            lambda: fm.influence_maps_figure(analysis, influence(), i),
            lambda: fp.influence_maps_figure(analysis, influence(), i),
            lambda: _influence_rows(analysis, influence(), i)),
        "what_if": FigureSpec(
            "what_if", f"what if: {edit.describe(analysis.label_names)}",
            lambda: fm.what_if_figure(edited(), top_k=analysis.num_labels),
            lambda: fp.what_if_figure(edited(), top_k=analysis.num_labels),
            lambda: edited().rows()),
    }


def zip_files(files: dict[str, bytes]) -> bytes:
    """{name: bytes} as a ZIP archive (deflated), in the given order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def image_bundle(model: SRN, analysis: ImageAnalysis, view: ImageView, formats: Sequence[str] = ZIP_FORMATS,
                 dpi: int = DOWNLOAD_DPI, progress: Callable[[float], None] | None = None) -> bytes:
    """Everything about one image as a ZIP: every figure of `image_figures` in `formats` (default PNG at
    the single downloads' resolution, HTML and CSV; PDF and SVG only on request, as they repeat the PNG
    and take as long again each), the scores (CSV), the analysis with all maps (JSON) and the original
    image (PNG). The HTML pages share one plotly.min.js in the archive, so they open offline."""
    from plotly.offline import get_plotlyjs

    image = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(analysis.image)).save(image, format="PNG")
    files = {"image.png": image.getvalue(), "scores.csv": csv_bytes(analysis.score_rows()),
             "analysis.json": json_bytes(analysis.to_dict(include_maps=True))}
    if "html" in formats:
        files["plotly.min.js"] = get_plotlyjs().encode("utf-8")
    specs = list(image_figures(model, analysis, view).values())
    for n, spec in enumerate(specs):
        files.update(spec.files(formats, dpi, "plotly.min.js"))
        if progress:
            progress((n + 1) / len(specs))
    return zip_files(files)
