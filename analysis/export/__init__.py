"""Export: figures and numbers as files. `files` writes PNG / SVG / PDF, HTML, JSON and CSV atomically;
`bundle` builds downloadable figures lazily and the ZIP of everything about one image (imported on use)."""

from .files import save_csv, save_data, save_figure, save_html, save_json

__all__ = ["save_csv", "save_data", "save_figure", "save_html", "save_json"]
