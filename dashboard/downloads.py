"""Download buttons: every format of a figure, its data as CSV, and the ZIP of the current image.

Files are made only when a button is clicked (Streamlit's deferred download data), so offering
PNG, SVG, PDF, HTML and CSV for every figure costs nothing on a rerun.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from analysis.export.files import MIME_TYPES, FigureSpec, csv_bytes
from srn_core.text_safety import markdown_text, slug

DPI = 150


def file_name(spec: FigureSpec, fmt: str) -> str:
    """The downloaded file's name: the figure's name made file-safe (it may hold label names), '_data' for its CSV."""
    stem = slug(spec.name)
    return f"{stem}_data.csv" if fmt == "csv" else f"{stem}.{fmt}"


def figure_downloads(spec: FigureSpec, key: str) -> None:
    """A row of small buttons, one per format the figure offers (PNG, SVG, PDF, HTML, CSV)."""
    row = st.container(horizontal=True, gap="small", key=f"downloads-{key}")
    with row:
        st.caption(f"Download {markdown_text(spec.title)}:")
        for fmt in spec.formats:
            st.download_button(
                fmt.upper() if fmt != "csv" else "CSV data",
                data=_maker(spec, fmt),
                file_name=file_name(spec, fmt),
                mime=MIME_TYPES[fmt],
                key=f"dl-{key}-{fmt}",
                on_click="ignore",
                type="tertiary",
                icon=":material/download:",
            )


def _maker(spec: FigureSpec, fmt: str) -> Callable[[], bytes]:
    return lambda: spec.file(fmt, DPI)


def zip_download(label: str, make: Callable[[], bytes], name: str, key: str) -> None:
    """One button that builds and downloads a ZIP archive when clicked."""
    st.download_button(
        label,
        data=make,
        file_name=name,
        mime=MIME_TYPES["zip"],
        key=key,
        on_click="ignore",
        type="primary",
        icon=":material/folder_zip:",
    )


def table_download(rows_of: Callable[[], list[dict]], name: str, key: str, label: str = "CSV of this table") -> None:
    """A button that downloads a table (dict rows, made on click) as `name`.csv (made file-safe)."""
    st.download_button(
        label,
        data=lambda: csv_bytes(rows_of()),
        file_name=f"{slug(name)}.csv",
        mime=MIME_TYPES["csv"],
        key=f"dl-{key}-csv",
        on_click="ignore",
        type="tertiary",
        icon=":material/download:",
    )
