"""Export: figures and numbers as bytes and files. `files` turns figures (and catalogue `FigureSpec`s)
into PNG / SVG / PDF, HTML, JSON and CSV and writes them atomically; `bundle` zips everything about one
image (imported on use)."""

from .files import save_csv, save_data, save_figure, save_html, save_json

__all__ = ["save_csv", "save_data", "save_figure", "save_html", "save_json"]
