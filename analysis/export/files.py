"""Write figures and their numbers: matplotlib to PNG / SVG / PDF, plotly to standalone HTML, data to
JSON / CSV. Every write is atomic (a temporary file in the same folder, then a rename), so a crash or a
re-run never leaves a half-written file."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from srn_core.fileio import atomic_path
from srn_core.jsonsafe import json_safe, json_text
from srn_core.text_safety import csv_cell

FIGURE_FORMATS = ("png", "svg", "pdf")
DATA_FORMATS = ("json", "csv")


def write_text(path: str | Path, text: str) -> Path:
    """Write `text` (UTF-8) to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


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
    written = []
    for fmt in formats:
        target = stem.with_name(f"{stem.name}.{fmt}")
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=_metadata(fmt))
        written.append(target)
    return written


def _metadata(fmt: str) -> dict[str, Any]:
    """Drop creation dates so that re-running gives byte-identical SVG / PDF files."""
    if fmt == "svg":
        return {"Date": None}
    if fmt == "pdf":
        return {"CreationDate": None}
    return {}


def save_html(fig: Any, path: str | Path, include_plotlyjs: bool | str = True) -> Path:
    """Save a plotly figure as an HTML page. `True` embeds plotly.js, so the file needs no server or
    network; a string ending in '.js' links that (relative) script instead, for many pages sharing one."""
    path = Path(path)
    html = fig.to_html(full_html=True, include_plotlyjs=include_plotlyjs, config={"displaylogo": False})
    return write_text(path.with_suffix(".html"), html)


def write_plotly_js(path: str | Path) -> Path:
    """Write the plotly.js bundle that pages saved with include_plotlyjs='<name>.js' load."""
    from plotly.offline import get_plotlyjs

    return write_text(path, get_plotlyjs())


def save_json(path: str | Path, data: Any) -> Path:
    """Write `data` (numpy arrays, dataclasses with to_dict, ... allowed) as JSON; NaN becomes null."""
    return write_text(path, json_text(data))


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
            written.append(save_json(target, obj.to_dict() if hasattr(obj, "to_dict") else obj))
        elif fmt == "csv":
            rows = obj.rows() if hasattr(obj, "rows") else obj
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise ValueError(f"{target}: CSV needs a list of dict rows, got {type(rows).__name__}")
            written.append(save_csv(target, rows))
        else:
            raise ValueError(f"unknown data format {fmt!r}; choose from {DATA_FORMATS}")
    return written
