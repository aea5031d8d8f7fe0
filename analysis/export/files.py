"""Figures and their numbers as bytes and files: matplotlib to PNG / SVG / PDF, plotly to standalone HTML,
data to JSON / CSV. `FigureSpec` is one figure of the catalogue ready to become files, built only when
asked. Every write goes through `srn_core.fileio` (a temporary file in the same folder, then a rename),
so a crash or a re-run never leaves a half-written file."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from srn_core.fileio import atomic_write_bytes, atomic_write_text
from srn_core.jsonsafe import json_safe, json_text
from srn_core.text_safety import csv_cell

FIGURE_FORMATS = ("png", "svg", "pdf")
DATA_FORMATS = ("json", "csv")
FILE_FORMATS = FIGURE_FORMATS + ("html", "csv")
DOWNLOAD_DPI = 150
MIME_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "html": "text/html",
    "csv": "text/csv",
    "json": "application/json",
    "zip": "application/zip",
}
NO_DATES = {"png": {}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}  # re-renders stay byte-identical


def figure_bytes(fig: Figure, fmt: str, dpi: int = DOWNLOAD_DPI) -> bytes:
    """A matplotlib figure rendered to PNG, SVG or PDF bytes (no dates, so re-renders are identical).
    `dpi` sets the PNG resolution (and that of images embedded in SVG / PDF)."""
    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"unknown figure format {fmt!r}; choose from {FIGURE_FORMATS}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi, metadata=NO_DATES[fmt])
    return buffer.getvalue()


def html_bytes(fig: Any, plotlyjs: bool | str = True) -> bytes:
    """A plotly figure as an HTML page. `True` embeds plotly.js (no server, no network needed); a
    relative '<name>.js' links that script instead, for pages that share one copy."""
    return fig.to_html(full_html=True, include_plotlyjs=plotlyjs, config={"displaylogo": False}).encode("utf-8")


def csv_text(rows: Sequence[dict[str, Any]]) -> str:
    """Dict rows as CSV text; the columns are the union of keys, in first-seen order.

    Every cell and header (label names, file names) goes through `csv_cell`, so no cell can start a
    spreadsheet formula.
    """
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_cell(str(c)) for c in columns])
    for row in rows:
        values = json_safe(row)
        writer.writerow([csv_cell("" if values.get(c) is None else values[c]) for c in columns])
    return buffer.getvalue()


def csv_bytes(rows: Sequence[dict[str, Any]]) -> bytes:
    """Dict rows as CSV bytes (see `csv_text`)."""
    return csv_text(rows).encode("utf-8")


def json_bytes(data: Any) -> bytes:
    """Any analysis result (numpy, objects with to_dict) as JSON bytes; NaN becomes null."""
    return json_text(data.to_dict() if hasattr(data, "to_dict") else data).encode("utf-8")


@dataclass(frozen=True)
class FigureSpec:
    """One figure, built lazily: `mpl` and `plotly` build the two renderings, `rows` its CSV data and
    `data` what its JSON holds (default: the rows). Made by `analysis.figures.catalogue`."""

    name: str
    title: str
    mpl: Callable[[], Figure]
    plotly: Callable[[], Any] | None = None
    rows: Callable[[], list[dict[str, Any]]] | None = None
    data: Callable[[], Any] | None = None

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

    def files(
        self, formats: Sequence[str] | None = None, dpi: int = DOWNLOAD_DPI, plotlyjs: bool | str = True
    ) -> dict[str, bytes]:
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
                out[f"{self.name}_data.csv"] = csv_bytes(self.rows())
        return out


def write_text(path: str | Path, text: str) -> Path:
    """Write `text` (UTF-8) to `path` atomically."""
    return atomic_write_text(path, text)


def _stem(path: str | Path, known: Iterable[str]) -> Path:
    path = Path(path)
    return path.with_suffix("") if path.suffix.lstrip(".").lower() in known else path


def save_figure(fig: Figure, path: str | Path, formats: Sequence[str] = FIGURE_FORMATS, dpi: int = 150) -> list[Path]:
    """Save a matplotlib figure as each of `formats` ('png', 'svg', 'pdf') beside `path` (suffix replaced).

    `dpi` sets the PNG resolution (and that of images embedded in SVG / PDF).
    """
    bad = [f for f in formats if f not in FIGURE_FORMATS]
    if bad:
        raise ValueError(f"unknown figure formats {bad}; choose from {FIGURE_FORMATS}")
    stem = _stem(path, FIGURE_FORMATS)
    return [atomic_write_bytes(stem.with_name(f"{stem.name}.{fmt}"), figure_bytes(fig, fmt, dpi)) for fmt in formats]


def save_html(fig: Any, path: str | Path, include_plotlyjs: bool | str = True) -> Path:
    """Save a plotly figure as an HTML page. `True` embeds plotly.js, so the file needs no server or
    network; a string ending in '.js' links that (relative) script instead, for many pages sharing one."""
    return atomic_write_bytes(Path(path).with_suffix(".html"), html_bytes(fig, include_plotlyjs))


def write_plotly_js(path: str | Path) -> Path:
    """Write the plotly.js bundle that pages saved with include_plotlyjs='<name>.js' load."""
    from plotly.offline import get_plotlyjs

    return write_text(path, get_plotlyjs())


def save_json(path: str | Path, data: Any) -> Path:
    """Write `data` (numpy arrays, dataclasses with to_dict, ... allowed) as JSON; NaN becomes null."""
    return atomic_write_bytes(path, json_bytes(data))


def save_csv(path: str | Path, rows: Sequence[dict[str, Any]]) -> Path:
    """Write dict rows as CSV (see `csv_text`)."""
    return write_text(path, csv_text(rows))


def save_data(obj: Any, path: str | Path, formats: Sequence[str] = DATA_FORMATS) -> list[Path]:
    """Save an analysis result: JSON from `to_dict()` (or the object), CSV from `rows()` when it has them."""
    stem = _stem(path, DATA_FORMATS)
    written = []
    for fmt in formats:
        target = stem.with_name(f"{stem.name}.{fmt}")
        if fmt == "json":
            written.append(save_json(target, obj))
        elif fmt == "csv":
            rows = obj.rows() if hasattr(obj, "rows") else obj
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise ValueError(f"{target}: CSV needs a list of dict rows, got {type(rows).__name__}")
            written.append(save_csv(target, rows))
        else:
            raise ValueError(f"unknown data format {fmt!r}; choose from {DATA_FORMATS}")
    return written


def save_spec(
    spec: FigureSpec,
    stem: str | Path,
    formats: Sequence[str] = FIGURE_FORMATS,
    dpi: int = 150,
    plotlyjs: bool | str | None = None,
) -> list[Path]:
    """Write a catalogue figure beside `stem`: the matplotlib figure in `formats`, its plotly page when
    `plotlyjs` is given (see `save_html`), its data as `<stem>_data.json` (and `.csv` when it has rows)."""
    stem = Path(stem)
    written = save_figure(spec.mpl(), stem, formats, dpi) if formats else []
    if plotlyjs is not None and spec.plotly:
        written.append(save_html(spec.plotly(), stem.with_name(f"{stem.name}.html"), plotlyjs))
    rows = spec.rows() if spec.rows else None
    if spec.data or rows is not None:
        written.append(save_json(stem.with_name(f"{stem.name}_data.json"), spec.data() if spec.data else rows))
    if rows is not None:
        written.append(save_csv(stem.with_name(f"{stem.name}_data.csv"), rows))
    return written
