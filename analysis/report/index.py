"""index.html of a report: a summary, the failed images with their reasons, and links to every file."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from ..export.files import write_text

if TYPE_CHECKING:
    from .build import Entry, ReportSummary

STYLE = """body{font-family:sans-serif;margin:2em;max-width:1200px}h2{border-bottom:1px solid #ccc}
.entry{display:inline-block;vertical-align:top;width:280px;margin:6px;padding:6px;border:1px solid #ddd}
.entry img{max-width:100%}.files a{margin-right:6px;font-size:90%}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}.fail{color:#a00}"""


def _entry_html(entry: Entry) -> str:
    links = " ".join(
        f'<a href="{quote(f)}">{escape(Path(f).suffix.lstrip(".") or f)}{" data" if "_data." in f else ""}</a>'
        for f in entry.files
    )
    pngs = [f for f in entry.files if f.endswith(".png")]
    thumb = f'<a href="{quote(pngs[0])}"><img src="{quote(pngs[0])}" alt="{escape(entry.title)}"></a>' if pngs else ""
    return f'<div class="entry"><div>{escape(entry.title)}</div>{thumb}<div class="files">{links}</div></div>'


def _section(title: str, entries: Sequence[Entry]) -> str:
    if not entries:
        return ""
    parts = [f"<h2>{escape(title)}</h2>"]
    for group, items in groupby(entries, key=lambda e: e.group):
        if group:
            parts.append(f"<h3>{escape(group)}</h3>")
        parts.append("".join(_entry_html(e) for e in items))
    return "\n".join(parts)


def render_index(summary: ReportSummary, formats: Sequence[str]) -> str:
    """The HTML text of the index page (relative links only, so the folder can be moved or served)."""
    failed = "".join(
        f'<tr><td>{escape(path)}</td><td class="fail">{escape(reason)}</td></tr>'
        for path, reason in summary.failures.items()
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in summary.notes)
    unlike = "".join(
        f'<tr><td>{escape(path)}</td><td class="fail">{distance:.1f}</td></tr>'
        for path, distance in summary.unlike_training.items()
    )
    sections = [
        _section("Images", [e for e in summary.entries if e.section == "images"]),
        _section("Relations over the data set", [e for e in summary.entries if e.section == "dataset"]),
        _section("Model: conv4 filters and label paths", [e for e in summary.entries if e.section == "model"]),
    ]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>SRN analysis report</title><style>{STYLE}</style></head>
<body><h1>SRN analysis report</h1>
<p>{escape(summary.domain)}</p>
<p>{summary.analysed} of {summary.images} images analysed; figures as {escape(", ".join(formats))}.
Numbers behind every figure are in the <code>_data</code> files; the run is summarised in
<a href="report.json">report.json</a>.</p>
{f"<ul>{notes}</ul>" if notes else ""}
{
        f"<h2>Images unlike the training data ({len(summary.unlike_training)})</h2><p>Their features lie farther from "
        "the training images' than almost all held-out training-domain images do: their labels are guesses.</p>"
        f"<table><tr><th>image</th><th>feature distance</th></tr>{unlike}</table>"
        if summary.unlike_training
        else ""
    }
{
        f"<h2>Failed images ({len(summary.failures)})</h2><table><tr><th>image</th><th>reason</th></tr>{failed}</table>"
        if summary.failures
        else ""
    }
{"".join(sections)}
</body></html>
"""


def write_index(out: Path, summary: ReportSummary, formats: Sequence[str]) -> Path:
    return write_text(out / "index.html", render_index(summary, formats))
