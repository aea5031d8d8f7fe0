"""Write a faithfulness summary's figures (matplotlib files, plotly pages) and data (JSON, CSV)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..export.files import FigureSpec, save_data, save_figure, save_html
from ..figures.catalogue import build
from ..tables import LabelMatrix
from .methods import METHOD_NAMES
from .results import FaithfulnessSummary

BAR_MEASURES = ("deletion_fused", "insertion_fused", "pointing", "relevance_mass", "label_spearman")


def figure_specs(summary: FaithfulnessSummary) -> list[FigureSpec]:
    """Every faithfulness figure of `summary`, from the figure catalogue (built when asked)."""
    measured = set(summary.measures())
    out = (
        [build("faithfulness_curves", "curves_fused", "deletion and insertion curves (fused)", summary=summary)]
        if summary.curves.get("deletion")
        else []
    )
    out += [
        build("faithfulness_bars", f"bars_{m}", f"per label: {m}", summary=summary, measure=m)
        for m in BAR_MEASURES
        if m in measured
    ]
    if any(m.startswith("randomised_") for m in measured):
        out += [
            build(
                "faithfulness_randomisation",
                f"randomisation_{k}",
                f"randomisation cascade ({k})",
                summary=summary,
                kind=k,
            )
            for k in ("spearman", "ssim")
        ]
    for method, matrix in pair_matrices(summary).items():
        out.append(build("matrix", f"label_pairs_{method}", f"label pairs ({METHOD_NAMES[method]})", matrix=matrix))
    return out


def pair_matrices(summary: FaithfulnessSummary) -> dict[str, LabelMatrix]:
    """{method: C x C mean Spearman of label i's map (rows, measured labels) with label j's}."""
    names = summary.label_names
    return {
        m: LabelMatrix(
            values,
            names,
            names,
            f"Spearman of label maps, {METHOD_NAMES[m]}",
            "row: the measured label's map; column: another label's map on the same image; "
            "mean over images where the row label was measured (NaN: never)",
        )
        for m, values in summary.pairs.items()
    }


def write_outputs(
    summary: FaithfulnessSummary,
    out: str | Path,
    formats: Sequence[str] = ("png",),
    dpi: int = 150,
    html: bool = False,
    include_plotlyjs: bool | str = True,
) -> list[Path]:
    """Every figure in `formats` (and as a plotly page with `html`), the table as CSV and all as JSON."""
    out = Path(out)
    files = save_data(summary, out / "faithfulness")
    for spec in figure_specs(summary):
        files += save_figure(spec.mpl(), out / spec.name, formats, dpi)
        if html:
            files.append(save_html(spec.plotly(), out / f"{spec.name}.html", include_plotlyjs=include_plotlyjs))
    return files


def add_report_pages(writer: Any, summary: FaithfulnessSummary, folder: str = "faithfulness") -> None:
    """The report's faithfulness section: every figure with its data, and the whole table."""
    group = "Can these maps be trusted?"
    writer.add(
        "dataset",
        group,
        folder,
        "faithfulness_table",
        "faithfulness: every measure per label and method (mean, 95 % bootstrap interval)",
        data=summary,
    )
    for spec in figure_specs(summary):
        writer.add("dataset", group, folder, spec.name, f"faithfulness: {spec.title}", spec.mpl(), spec.plotly())
