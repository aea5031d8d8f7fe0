"""Write a faithfulness summary's figures (matplotlib files, plotly pages) and data (JSON, CSV)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..export.files import save_data, save_figure, save_html
from ..figures import mpl as fm
from ..figures import plotly as fp
from ..tables import LabelMatrix
from . import figures
from .methods import METHOD_NAMES
from .results import FaithfulnessSummary

BAR_MEASURES = ("deletion_fused", "insertion_fused", "pointing", "relevance_mass", "label_spearman")


def figure_pairs(summary: FaithfulnessSummary) -> list[tuple[str, str, Any, Any]]:
    """(file name, title, matplotlib figure, plotly figure) of every faithfulness figure."""
    measured = set(summary.measures())
    out = [("curves_fused", "deletion and insertion curves (fused)", figures.curves_figure(summary),
            figures.curves_plotly(summary))] if summary.curves.get("deletion") else []
    out += [(f"bars_{m}", f"per label: {m}", figures.label_bars_figure(summary, m),
             figures.label_bars_plotly(summary, m))
            for m in BAR_MEASURES if m in measured]
    if any(m.startswith("randomised_") for m in measured):
        out += [(f"randomisation_{k}", f"randomisation cascade ({k})", figures.randomisation_figure(summary, k),
                 figures.randomisation_plotly(summary, k)) for k in ("spearman", "ssim")]
    for method, matrix in pair_matrices(summary).items():
        out.append((f"label_pairs_{method}", f"label pairs ({METHOD_NAMES[method]})", fm.matrix_figure(matrix),
                    fp.matrix_figure(matrix)))
    return out


def pair_matrices(summary: FaithfulnessSummary) -> dict[str, LabelMatrix]:
    """{method: C x C mean Spearman of label i's map (rows, measured labels) with label j's}."""
    names = summary.label_names
    return {m: LabelMatrix(values, names, names, f"Spearman of label maps, {METHOD_NAMES[m]}",
                           "row: the measured label's map; column: another label's map on the same image; "
                           "mean over images where the row label was measured (NaN: never)")
            for m, values in summary.pairs.items()}


def write_outputs(summary: FaithfulnessSummary, out: str | Path, formats: Sequence[str] = ("png",), dpi: int = 150,
                  html: bool = False, include_plotlyjs: bool | str = True) -> list[Path]:
    """Every figure in `formats` (and as a plotly page with `html`), the table as CSV and all as JSON."""
    out = Path(out)
    files = save_data(summary, out / "faithfulness")
    for name, _, mpl, plotly in figure_pairs(summary):
        files += save_figure(mpl, out / name, formats, dpi)
        if html:
            files.append(save_html(plotly, out / f"{name}.html", include_plotlyjs=include_plotlyjs))
    return files


def add_report_pages(writer: Any, summary: FaithfulnessSummary, folder: str = "faithfulness") -> None:
    """The report's faithfulness section: every figure with its data, and the whole table."""
    group = "Can these maps be trusted?"
    writer.add("dataset", group, folder, "faithfulness_table", "faithfulness: every measure per label and method "
               "(mean, 95 % bootstrap interval)", data=summary)
    for name, title, mpl, plotly in figure_pairs(summary):
        writer.add("dataset", group, folder, name, f"faithfulness: {title}", mpl, plotly)
