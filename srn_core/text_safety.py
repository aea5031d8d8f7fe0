"""User strings (label names, file names, metadata) made safe for each place they are shown.

Label names and file names come from files users share, so they are treated as hostile text: each
output gets one function that makes such a string mean only itself there.

- `markdown_text`: Streamlit markdown (st.markdown, st.caption, st.error, widget labels, image
  captions): the characters that open markup are backslash-escaped, so no link, image, heading,
  `:red[...]` directive, autolink, HTML or `$...$` LaTeX can form;
- `plotly_text`: plotly titles, ticks, hover text and names: HTML-escaped, so `<a href>` shows as text;
- `mpl_text`: matplotlib text: `$` escaped, so no mathtext is parsed;
- `csv_cell`: a CSV cell that spreadsheets cannot read as a formula (OWASP's rule: a leading
  `=`, `+`, `-`, `@`, tab or carriage return gets a `'` in front);
- `slug` / `unique_slugs`: a file name (downloads, reports, ZIP members) of ASCII letters, digits,
  '-', '_' and '.', never a path, a hidden file or longer than `limit`.

All but `csv_cell` also shorten the text to `limit` characters and turn control characters (line
breaks included) into spaces, so one name can neither flood a page nor break its layout.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from typing import Any

DISPLAY_LIMIT = 200
MAX_LABEL_CHARS = 200
LABEL_CHARS = 40  # label names are shortened to this in figure ticks, axis labels and panel titles
ELLIPSIS = "\u2026"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_MARKDOWN_SPECIAL = re.compile(r"[\\`*~\[\]<>$@]|:(?=[A-Za-z_/])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
WORD_JOINER = "\u2060"
# GFM finds autolinks (http://, www., user@host) in the text after escapes are read, so escaping cannot
# stop them; an invisible word joiner inside each pattern does.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)", re.IGNORECASE)
_BLOCK_START = re.compile(r"^(\s*\d*)([#>+=|-]|(?<=\d)[.)])")


def plain_text(text: Any, limit: int = DISPLAY_LIMIT) -> str:
    """`text` as one printable line of at most `limit` characters (an ellipsis marks a cut)."""
    value = "".join(c if c.isprintable() else " " for c in str(text))
    return value if len(value) <= limit else value[: max(0, limit - 1)] + ELLIPSIS


def markdown_text(text: Any, limit: int = DISPLAY_LIMIT) -> str:
    """`text` for Streamlit markdown: shown literally, never as markup, a link or an image.

    Escaped: every character that opens markup inline (`[ ] < > * ~ $ @` and backquotes, backslash),
    a colon before a letter or `/` (`:red[`, `:smile:`), an underscore at a word edge and a block
    marker at the start; an invisible word joiner splits `://`, `www.` and `@`, which GFM would
    otherwise turn into links. Ordinary names (`letter_T`, `scene.png`, `refused: x`) keep their look.
    """
    text = _AUTOLINK.sub(WORD_JOINER, plain_text(text, limit))
    return _BLOCK_START.sub(r"\1\\\2", _MARKDOWN_SPECIAL.sub(r"\\\g<0>", text), count=1)


def plotly_text(text: Any, limit: int = DISPLAY_LIMIT) -> str:
    """`text` for plotly (which renders a subset of HTML): tags and entities show as typed, and `%` is
    written as an entity so that no `%{...}` in a name is read as a hover-template field."""
    return html.escape(plain_text(text, limit), quote=True).replace("%", "&#37;")


def plotly_original(text: str) -> str:
    """The name a `plotly_text` string came from (for clicks read back from a chart)."""
    return html.unescape(text)


def mpl_text(text: Any, limit: int = DISPLAY_LIMIT) -> str:
    """`text` for matplotlib: dollar signs escaped, so mathtext never parses (or fails on) it."""
    return plain_text(text, limit).replace("$", r"\$")


def label_names_problem(names: list[str]) -> str | None:
    """What makes `names` unusable as label names, or None: each must be a string of 1-200 printable
    characters, not only spaces, and no name may repeat (checked in linear time)."""
    seen: set[str] = set()
    for n, name in enumerate(names):
        if not isinstance(name, str):
            return f"label {n} is a {type(name).__name__}, not a string"
        if not 1 <= len(name) <= MAX_LABEL_CHARS:
            return f"label {n} has {len(name)} characters (1 to {MAX_LABEL_CHARS} allowed)"
        if not name.isprintable() or not name.strip():
            return f"label {n} ({plain_text(name, 60)!r}) is not printable text (line breaks, control characters)"
        if name in seen:
            return f"duplicate label names: label {n} repeats {plain_text(name, 60)!r} (names must be unique)"
        seen.add(name)
    return None


def csv_cell(value: Any) -> Any:
    """A CSV cell that cannot start a formula: strings starting with = + - @ tab or CR get a leading `'`.

    Numbers pass unchanged (a negative number is data, not a formula).
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def slug(text: str, limit: int = 60) -> str:
    """A file-name-safe form of `text` (letters, digits, '-', '_', '.'); different texts may share one."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "item"
    return cleaned[:limit]


def unique_slugs(texts: Sequence[str], limit: int = 60) -> list[str]:
    """One file-name-safe name per text, all different even on case-insensitive file systems.

    A text that `slug` keeps as it is keeps its slug; one that `slug` changes gets a short hash of
    the text appended ("a b" -> "a_b-5a1c2e"), so "a b", "a_b", "a/b" and "a:b" never share a file.
    """
    taken: set[str] = set()
    out = []
    for text in texts:
        base = slug(text, limit)
        name = base if base == text else f"{base}-{hashlib.sha1(text.encode('utf-8', 'surrogatepass')).hexdigest()[:6]}"
        candidate, n = name, 2
        while candidate.lower() in taken:
            candidate, n = f"{name}-{n}", n + 1
        taken.add(candidate.lower())
        out.append(candidate)
    return out


__all__ = [
    "DISPLAY_LIMIT",
    "LABEL_CHARS",
    "MAX_LABEL_CHARS",
    "csv_cell",
    "label_names_problem",
    "markdown_text",
    "mpl_text",
    "plain_text",
    "plotly_original",
    "plotly_text",
    "slug",
    "unique_slugs",
]
