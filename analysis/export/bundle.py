"""The ZIP of everything about one image: every per-image figure of the catalogue (files made by
`FigureSpec.files`), the image's scores (CSV), the analysis with all maps (JSON) and the image (PNG)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image

from srn_core import SRN

from ..figures.catalogue import image_figures
from ..figures.image_inputs import ImageView
from ..session import ImageAnalysis
from .files import DOWNLOAD_DPI, csv_bytes, json_bytes

ZIP_FORMATS = ("png", "html", "csv")


def zip_files(files: dict[str, bytes]) -> bytes:
    """{name: bytes} as a ZIP archive (deflated), in the given order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def image_bundle(
    model: SRN,
    analysis: ImageAnalysis,
    view: ImageView,
    formats: Sequence[str] = ZIP_FORMATS,
    dpi: int = DOWNLOAD_DPI,
    progress: Callable[[float], None] | None = None,
) -> bytes:
    """Everything about one image as a ZIP: every figure of `image_figures` in `formats` (default PNG at
    the single downloads' resolution, HTML and CSV; PDF and SVG only on request, as they repeat the PNG
    and take as long again each), the scores (CSV), the analysis with all maps (JSON) and the original
    image (PNG). The HTML pages share one plotly.min.js in the archive, so they open offline."""
    from plotly.offline import get_plotlyjs

    image = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(analysis.image)).save(image, format="PNG")
    files = {
        "image.png": image.getvalue(),
        "scores.csv": csv_bytes(analysis.score_rows()),
        "analysis.json": json_bytes(analysis.to_dict(include_maps=True)),
    }
    if "html" in formats:
        files["plotly.min.js"] = get_plotlyjs().encode("utf-8")
    specs = list(image_figures(model, analysis, view).values())
    for n, spec in enumerate(specs):
        files.update(spec.files(formats, dpi, "plotly.min.js"))
        if progress:
            progress((n + 1) / len(specs))
    return zip_files(files)
