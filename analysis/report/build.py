"""The whole analysis of a set of images written to a folder: figures, their data and an index.html.

Layout: images/<nnnn_name>/ (one folder per image), dataset/ (relations over all images), model/
(conv4 filters and the label paths through f_sr), report.json and index.html. Every file is written
atomically, so re-running into the same folder never leaves a half-written file; an image that fails
is listed with its reason and the others go on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from srn_core.domain import describe
from srn_core.images import ImageLoadError
from srn_core.text_safety import slug, unique_slugs

from ..export.files import FigureSpec, save_data, save_figure, save_html, save_json, save_spec, write_plotly_js
from ..faithfulness import FaithfulnessEvaluator, FaithfulnessOptions, ImageFaithfulness, summarise
from ..faithfulness.outputs import add_report_pages
from ..figures.catalogue import FigureEntry, build, entries
from ..figures.image_inputs import ImageInputs, ImageView
from ..measures.attention_stats import attention_stats
from ..measures.filters import conv4_filters, filter_readout, path_table, probe_sr, weight_drive
from ..measures.gradcam import PointingComparison, compare_pointing, gradcam_maps, merge_pointing
from ..measures.semantic import conditional_probability, cooccurrence, fsr_similarity, influence_matrix, label_matrix_of
from ..measures.spatial import centroid_offsets, point_attention, relation_field
from ..session import MAP_KINDS, Analyzer, ImageAnalysis
from ..tables import LabelMatrix
from .index import write_index
from .inputs import ReportInputs, ReportItem

PLOTLY_JS = "plotly.min.js"
SCORE_BARS = 10  # labels in an image's score bars


@dataclass
class ReportOptions:
    """What a report draws and how."""

    formats: tuple[str, ...] = ("png", "svg", "pdf")
    dpi: int = 150
    top_k: int = 3
    mode: str = "nearest"
    cmap: str = "jet"
    opacity: float = 0.5
    gradcam: bool = False
    gradcam_layer: str = "layer4"
    html: bool = False
    channels: list[int] | None = None
    pairs: int = 6
    threshold: float = 0.5
    tolerance: float = 15.0
    faithfulness: bool = False


@dataclass
class Entry:
    """One item of the index: a title and the files written for it (paths relative to the report root)."""

    section: str
    title: str
    files: list[str]
    group: str = ""


@dataclass
class ReportSummary:
    out: Path
    images: int
    analysed: int
    failures: dict[str, str]
    entries: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    domain: str = ""
    unlike_training: dict[str, float] = field(default_factory=dict)


class ReportWriter:
    """Writes each figure in the chosen formats (and its plotly page, its data) and remembers it for the index."""

    def __init__(self, out: Path, options: ReportOptions, label_names: list[str] | None = None) -> None:
        self.out = out
        self.options = options
        self.entries: list[Entry] = []
        self.file_names = dict(zip(label_names or [], unique_slugs(label_names or []), strict=True))

    def label_file(self, name: str) -> str:
        """The file-name part for label `name`: unique per label, even where slugs of two names agree."""
        return self.file_names.get(name) or slug(name)

    def add(
        self,
        section: str,
        group: str,
        folder: str,
        name: str,
        title: str,
        mpl: Any = None,
        plotly: Any = None,
        data: Any = None,
    ) -> None:
        stem = self.out / folder / name
        files = save_figure(mpl, stem, self.options.formats, self.options.dpi) if mpl is not None else []
        if plotly is not None and self.options.html:
            depth = "../" * len(Path(folder).parts)
            files.append(save_html(plotly, stem.with_suffix(".html"), include_plotlyjs=depth + PLOTLY_JS))
        if data is not None:
            files += save_data(data, stem.with_name(f"{name}_data"), ("json", "csv") if _has_rows(data) else ("json",))
        self.entries.append(Entry(section, title, [f.relative_to(self.out).as_posix() for f in files], group))

    def add_figure(self, section: str, group: str, folder: str, spec: FigureSpec) -> None:
        """A catalogue figure in the chosen formats, its plotly page (with --html) and its data."""
        js = "../" * len(Path(folder).parts) + PLOTLY_JS if self.options.html else None
        files = save_spec(spec, self.out / folder / spec.name, self.options.formats, self.options.dpi, js)
        self.entries.append(Entry(section, spec.title, [f.relative_to(self.out).as_posix() for f in files], group))


def _has_rows(data: Any) -> bool:
    return hasattr(data, "rows") or (isinstance(data, list) and all(isinstance(r, dict) for r in data))


def _image_stem(writer: ReportWriter, entry: FigureEntry, image: ImageInputs) -> str | None:
    """The report's own file names of three image figures (older than the catalogue, kept so that links
    stay stable); None: the entry's name."""
    if entry.name == "label":
        return f"label_{writer.label_file(image.label_name)}"
    return {"influence": "influence", "what_if": "what_if_remove"}.get(entry.name)


def _image_pages(writer: ReportWriter, analyzer: Analyzer, analysis: ImageAnalysis, folder: str) -> None:
    """Every per-image figure of the catalogue, of the top label (label figures: of each top label, with
    its Grad-CAM when asked), and the peak / centroid / spread table."""
    o, group = writer.options, analysis.source
    top = analysis.top_labels(o.top_k)
    view = ImageView(
        top[0], mode=o.mode, cmap=o.cmap, opacity=o.opacity, top_k=SCORE_BARS, grid_labels=top, grid_kinds=MAP_KINDS
    )
    inputs = ImageInputs(analyzer.model, analysis, view)
    cams = gradcam_maps(analyzer, analysis, top, o.gradcam_layer) if o.gradcam else [None] * len(top)
    for entry in entries("image"):
        for label, cam in zip(top, cams, strict=True) if entry.per_label else [(top[0], None)]:
            image = inputs.for_label(label, cam)
            writer.add_figure("images", group, folder, entry.spec(_image_stem(writer, entry, image), image=image))
    writer.add(
        "images",
        group,
        folder,
        "attention_stats",
        "peak, centroid and spread of A",
        data=attention_stats(analysis, top),
    )


def _matrix(
    writer: ReportWriter, name: str, matrix: LabelMatrix, folder: str = "dataset", section: str = "dataset"
) -> None:
    writer.add_figure(section, "", folder, build("matrix", name, matrix=matrix))


def _top_pairs(counts: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """The `limit` unordered label pairs seen together most often (i < j), most frequent first."""
    upper = np.triu(np.asarray(counts, dtype=np.float64), k=1)
    order = np.argsort(-upper, axis=None, kind="stable")[:limit]
    return [(int(i), int(j)) for i, j in zip(*np.unravel_index(order, upper.shape), strict=True) if upper[i, j] > 0]


def _dataset_pages(
    writer: ReportWriter, analyzer: Analyzer, analyses: list[ImageAnalysis], pointing: PointingComparison | None
) -> None:
    """Relations over all analysed images."""
    names, model, o = analyzer.label_names, analyzer.model, writer.options
    predicted = label_matrix_of(analyses, "prediction", o.threshold)
    if all(a.targets is not None for a in analyses):
        truth = label_matrix_of(analyses, "truth")
        _matrix(writer, "cooccurrence_truth", cooccurrence(truth, names))
        _matrix(writer, "conditional_truth", conditional_probability(truth, names))
    _matrix(writer, "cooccurrence_predicted", cooccurrence(predicted, names))
    _matrix(writer, "conditional_predicted", conditional_probability(predicted, names))
    _matrix(writer, "influence", influence_matrix(model, analyses))
    _matrix(writer, "fsr_similarity_weights", fsr_similarity(model, names))
    _matrix(writer, "fsr_similarity_probes", fsr_similarity(model, names, probe_sr(model, names)))
    offsets = centroid_offsets(analyses, threshold=o.threshold)
    pairs = _top_pairs(offsets.count, o.pairs)
    title = "centroid offsets of co-present labels (cells)"
    if pairs:
        writer.add_figure(
            "dataset", "", "dataset", build("offsets", "centroid_offsets", title, stats=offsets, pairs=pairs)
        )
    else:
        writer.add("dataset", "", "dataset", "centroid_offsets", title, data=offsets)
    grid = analyses[0].grid
    for anchor, other in pairs:
        base = point_attention(len(names), grid, {anchor: (grid // 2, grid // 2, 1.0)})
        result = relation_field(model, base, names, other, anchor, mass=1.0)
        stem = f"relation_field_{writer.label_file(names[other])}_around_{writer.label_file(names[anchor])}"
        writer.add_figure("dataset", "", "dataset", build("relation_field", stem, field=result))
    if pointing is not None and pointing.trials.sum() > 0:
        writer.add_figure("dataset", "", "dataset", build("pointing_game", comparison=pointing))


def _model_pages(writer: ReportWriter, analyzer: Analyzer) -> None:
    """conv4 filters of chosen channels and the paths label -> channel -> filter -> label."""
    model, names = analyzer.model, analyzer.label_names
    filters = conv4_filters(model)
    channels = writer.options.channels or [int(c) for c in np.argsort(-filters.norm.sum(axis=1), kind="stable")[:6]]
    readout = filter_readout(model, names)
    spec = build("conv4_filters", filters=filters, channels=channels, readout=readout)
    writer.add_figure("model", "", "model", spec)
    probes = probe_sr(model, names)
    for name, matrix in (
        ("channel_drive_weights", weight_drive(model, names)),
        ("channel_drive_measured", probes.channel_matrix()),
    ):
        shown = LabelMatrix(
            matrix.values[:, channels],
            matrix.row_names,
            [matrix.col_names[c] for c in channels],
            f"{matrix.title}, channels {channels}",
            matrix.description,
        )
        spec = build("matrix", name, matrix.title, matrix=shown)
        writer.add_figure("model", "", "model", dataclasses.replace(spec, rows=matrix.rows, data=lambda m=matrix: m))
    _matrix(writer, "probe_logit_change", probes.logit_matrix(), "model", "model")
    writer.add("model", "", "model", "filter_readout", "fc readout of every conv4 filter", data=readout)
    writer.add(
        "model",
        "",
        "model",
        "paths",
        "strongest paths label -> channel -> filter -> label",
        data=path_table(model, probes, top=10),
    )


def run_report(
    analyzer: Analyzer,
    inputs: ReportInputs,
    out: str | Path,
    options: ReportOptions | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> ReportSummary:
    """Analyse every input image and write all figures, data files, report.json and index.html to `out`."""
    out = Path(out)
    options = options or ReportOptions()
    writer = ReportWriter(out, options, analyzer.label_names)
    if options.html:
        write_plotly_js(out / PLOTLY_JS)
    analyses: list[ImageAnalysis] = []
    pointing: list[PointingComparison] = []
    failures: dict[str, str] = {}
    unlike: dict[str, float] = {}
    trust: list[ImageFaithfulness] = []
    evaluator = (
        FaithfulnessEvaluator(analyzer, FaithfulnessOptions(threshold=options.threshold, tolerance=options.tolerance))
        if options.faithfulness
        else None
    )
    for n, item in enumerate(tqdm(inputs.items, desc="images", unit="image", disable=not progress)):
        try:
            analysis = _analyse(analyzer, item)
            if analysis.domain is not None and analysis.domain.outside:
                unlike[str(item.path)] = analysis.domain.distance
                log(
                    f"warning: {item.path} looks unlike the training images (feature distance "
                    f"{analysis.domain.distance:.1f} > {analysis.domain.threshold:.1f}); its labels are guesses"
                )
            _image_pages(writer, analyzer, analysis, f"images/{n:04d}_{slug(item.path.stem)}")
            if options.gradcam and analysis.boxes:
                pointing.append(
                    compare_pointing(analyzer, [analysis], layer=options.gradcam_layer, tolerance=options.tolerance)
                )
            if evaluator is not None:
                trust.append(evaluator.image(analysis, n))
            analyses.append(analysis.without_pixels())
        except ImageLoadError as exc:
            failures[str(item.path)] = exc.reason
            log(f"failed: {exc}")
        except Exception as exc:  # one image must never stop the report; the reason is listed
            failures[str(item.path)] = f"{type(exc).__name__}: {exc}"
            log(f"failed: {item.path}: {type(exc).__name__}: {exc}")
    notes = list(inputs.notes)
    pages = (
        [
            (
                "relations over the data set",
                lambda: _dataset_pages(writer, analyzer, analyses, merge_pointing(pointing) if pointing else None),
            )
        ]
        if analyses
        else []
    )
    if trust:
        pages.append(
            (
                "faithfulness",
                lambda: add_report_pages(writer, summarise(trust, analyzer.label_names, evaluator.options)),
            )
        )
    for what, draw in [*pages, ("model pages", lambda: _model_pages(writer, analyzer))]:
        try:
            draw()
        except Exception as exc:  # a failing figure must not cost the rest of the report its index
            notes.append(f"{what} stopped early: {type(exc).__name__}: {exc}")
            log(f"failed: {what}: {type(exc).__name__}: {exc}")
    domain = analyzer.domain
    line = describe(domain.description if domain else None, analyzer.label_names) + (
        ""
        if domain
        else ". The checkpoint records no statistics of its training images, so images unlike "
        "them cannot be flagged (python -m srn_core domain adds them)."
    )
    summary = ReportSummary(out, len(inputs.items), len(analyses), failures, writer.entries, notes, line, unlike)
    save_json(
        out / "report.json",
        {
            "images": summary.images,
            "analysed": summary.analysed,
            "failures": failures,
            "notes": notes,
            "options": asdict(options),
            "domain": summary.domain,
            "domain_threshold": domain.threshold if domain else None,
            "unlike_training": unlike,
            "labels": analyzer.label_names,
            "entries": [asdict(e) for e in writer.entries],
        },
    )
    write_index(out, summary, options.formats)
    return summary


def _analyse(analyzer: Analyzer, item: ReportItem) -> ImageAnalysis:
    return analyzer.analyse_one(item.path, str(item.path), item.targets, item.boxes)
