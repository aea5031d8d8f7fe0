"""The figure catalogue: every entry, drawn by both renderers on small inputs, carries the marks it promises,
and both renderings draw the same number of each countable mark; a new per-image entry reaches the ZIP
bundle, the report and `image_figures` from the catalogue alone."""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, Rectangle
from matplotlib.text import Annotation
from PIL import Image

from analysis import (
    Analyzer,
    centroid_offsets,
    compare_pointing,
    conv4_filters,
    filter_readout,
    gradcam_maps,
    influence_matrix,
    relation_field,
    relation_probe,
)
from analysis.export.bundle import image_bundle
from analysis.faithfulness import FaithfulnessEvaluator, FaithfulnessOptions, summarise
from analysis.figures import catalogue
from analysis.figures.catalogue import MARKS, FigureEntry, build, entries, image_figures
from analysis.figures.entries.scores import score_bars_figure_mpl, score_bars_figure_plotly
from analysis.figures.image_inputs import ImageInputs, ImageView
from analysis.report.build import ReportOptions, run_report
from analysis.report.inputs import gather_inputs
from srn_core.datasets import Box

from .helpers import TINY_LABELS, tiny_meta, tiny_model

COUNTED = {"image", "heatmap", "peak", "centroid", "centre", "mean", "ellipse", "boxes", "bars", "error_bars", "sign"}
SIGN = re.compile(r"\([+\-0]\)")
SYMBOLS = {"x": "peak", "circle-open": "centroid", "cross": "centre", "cross-thin": "centre", "star": "mean"}
LINE_MARKERS = {"x": "peak", "+": "centre", "*": "mean"}


def mpl_marks(fig: Figure) -> Counter:
    """The marks a matplotlib figure draws: images and heat maps, colour bars, markers by glyph, ellipses,
    unfilled rectangles, bars, error bars and bands, scatter points, lines and arrows, signs in panel titles."""
    marks: Counter = Counter()
    for ax in fig.axes:
        if getattr(ax, "_colorbar", None) is not None:
            marks["colorbar"] += 1
            continue
        for image in ax.images:
            marks["image" if image.get_array().ndim == 3 else "heatmap"] += 1
        for line in ax.get_lines():
            marker = line.get_marker()
            if marker == "o" and line.get_markerfacecolor() == "none":
                marks["centroid"] += 1
            elif marker in LINE_MARKERS:
                marks[LINE_MARKERS[marker]] += 1
            else:
                marks["threshold" if line.get_linestyle() == "--" else "lines"] += 1
        for patch in ax.patches:
            if isinstance(patch, Ellipse):
                marks["ellipse"] += 1
            elif isinstance(patch, Rectangle) and not patch.get_fill():
                marks["boxes"] += 1
        for container in ax.containers:
            if isinstance(container, BarContainer):
                marks["bars"] += len(container.patches)
            elif isinstance(container, ErrorbarContainer):
                marks["error_bars"] += 1
        for collection in ax.collections:
            if isinstance(collection, PathCollection):
                marks["points"] += len(collection.get_offsets())
            elif isinstance(collection, PolyCollection):
                marks["error_bars"] += 1  # a band between an interval's ends
        marks["lines"] += sum(1 for t in ax.texts if isinstance(t, Annotation) and t.arrow_patch is not None)
        marks["sign"] += bool(SIGN.search(ax.get_title()))
    return +marks


def plotly_marks(fig) -> Counter:
    """The same marks of a plotly figure: image traces, visible heat maps, colour scales shown, marker
    symbols, bars, error bars, line traces, rectangle / circle / dashed line shapes, signs in annotations."""
    marks: Counter = Counter()
    for trace in fig.data:
        if trace.type == "image":
            marks["image"] += 1
        elif trace.type == "heatmap":
            marks["heatmap"] += trace.opacity != 0
            marks["colorbar"] += trace.showscale is not False
        elif trace.type == "bar":
            marks["bars"] += len(trace.x)
            marks["error_bars"] += trace.error_y.array is not None
        elif trace.type == "scatter":
            mode = trace.mode or "lines+markers"
            if "markers" in mode:
                symbols = trace.marker.symbol
                symbols = list(symbols) if isinstance(symbols, (list, tuple)) else [symbols] * len(trace.x)
                marks.update(SYMBOLS.get(s, "points") for s in symbols)
            marks["lines"] += "lines" in mode
            marks["error_bars"] += trace.error_y.array is not None
    for shape in fig.layout.shapes:
        kind = {"rect": "boxes", "circle": "ellipse"}.get(shape.type)
        marks[kind or ("threshold" if shape.line.dash else "lines")] += 1
    marks["sign"] += sum(bool(SIGN.search(a.text or "")) for a in fig.layout.annotations)
    return +marks


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    model = tiny_model()
    return Analyzer(model, tiny_meta(model), "cpu")


@pytest.fixture(scope="module")
def inputs(analyzer: Analyzer) -> dict:
    """One value of every input name the catalogue's entries take, on a tiny model and three images."""
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 255, (40, 64, 3), np.uint8) for _ in range(3)]
    analyses = analyzer.analyse(
        images,
        names=["x", "y", "z"],
        targets=[np.array([1, 1, 0, 1, 0])] * 3,
        boxes=[[Box("cat", 0, 0, 30, 20), Box("dog", 30, 20, 64, 40)]] * 3,
    )
    model, a = analyzer.model, analyses[0]
    view = ImageView("cat", top_k=3, gradcam=gradcam_maps(analyzer, a, ["cat"])[0])
    options = FaithfulnessOptions(
        methods=("attention", "gradcam"), labels=("cat", "dog"), steps=2, stages=("f_att",), random_label=False
    )
    evaluator = FaithfulnessEvaluator(analyzer, options)
    summary = summarise([evaluator.image(x, n) for n, x in enumerate(analyses[:2])], TINY_LABELS, options, resamples=20)
    return {
        "image": ImageInputs(model, a, view),
        "matrix": influence_matrix(model, analyses),
        "filters": conv4_filters(model),
        "channels": [0, 5],
        "readout": filter_readout(model, TINY_LABELS),
        "stats": centroid_offsets(analyses),
        "pairs": [("cat", "dog"), ("cat", "tree")],
        "field": relation_field(model, a.weighted_attention, TINY_LABELS, "dog", "cat"),
        "comparison": compare_pointing(analyzer, analyses),
        "probe": relation_probe(model, analyses, "cat", "dog"),
        "summary": summary,
    }


@pytest.mark.parametrize("entry", entries(), ids=lambda e: e.name)
def test_both_renderings_draw_the_promised_marks(entry: FigureEntry, inputs: dict) -> None:
    spec = build(entry.name, **{name: inputs[name] for name in entry.inputs})
    drawn_mpl, drawn_plotly = mpl_marks(spec.mpl()), plotly_marks(spec.plotly())
    for mark in entry.marks:
        assert drawn_mpl[mark] > 0, f"{entry.name}: matplotlib draws no {mark} ({MARKS[mark]}): {drawn_mpl}"
        assert drawn_plotly[mark] > 0, f"{entry.name}: plotly draws no {mark} ({MARKS[mark]}): {drawn_plotly}"
    for mark in COUNTED:
        assert drawn_mpl[mark] == drawn_plotly[mark], (
            f"{entry.name}: {drawn_mpl[mark]} {mark} in matplotlib, {drawn_plotly[mark]} in plotly"
        )
    if entry.rows:
        assert isinstance(spec.rows(), list)


def test_the_drifted_marks_are_drawn_by_both_renderers(inputs: dict) -> None:
    image = inputs["image"]
    for figure in (build("label", image=image).mpl(), build("label", image=image).plotly()):
        marks = mpl_marks(figure) if isinstance(figure, Figure) else plotly_marks(figure)
        assert marks["centroid"] == 3 and marks["peak"] == 4 and marks["colorbar"] >= 4
    offsets = build("offsets", stats=inputs["stats"], pairs=[("cat", "dog")])
    assert mpl_marks(offsets.mpl())["ellipse"] == plotly_marks(offsets.plotly())["ellipse"] == 1
    filters = build("conv4_filters", filters=inputs["filters"], channels=[0], readout=inputs["readout"])
    per_channel = inputs["filters"].weights.shape[1]
    assert mpl_marks(filters.mpl())["sign"] == plotly_marks(filters.plotly())["sign"] == per_channel


def test_entries_check_their_inputs_and_marks() -> None:
    with pytest.raises(ValueError, match="missing \\['image'\\]"):
        build("scores")
    with pytest.raises(ValueError, match="no figure 'nothing'"):
        build("nothing")
    with pytest.raises(ValueError, match="marks"):
        FigureEntry("x", "x", "image", ("image",), len, len, frozenset({"sparkles"}))
    image = [e.name for e in entries("image")]
    assert image[:5] == ["scores", "grid", "label", "influence", "what_if"]  # in their order; new ones follow


def test_a_new_image_entry_reaches_the_bundle_and_the_report(
    analyzer: Analyzer, inputs: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = FigureEntry(
        "extra_scores",
        "all scores",
        "image",
        ("image",),
        mpl=lambda image: score_bars_figure_mpl(image.analysis),
        plotly=lambda image: score_bars_figure_plotly(image.analysis),
        rows=lambda image: image.analysis.score_rows(),
        marks=frozenset({"bars"}),
    )
    monkeypatch.setitem(catalogue._REGISTRY, extra.name, extra)
    image = inputs["image"]
    assert "extra_scores" in image_figures(image.model, image.analysis, image.view)
    archive = zipfile.ZipFile(io.BytesIO(image_bundle(image.model, image.analysis, image.view, ("png", "csv"), 30)))
    assert {"extra_scores.png", "extra_scores_data.csv"} <= set(archive.namelist())
    folder = tmp_path / "images"
    folder.mkdir()
    Image.fromarray(image.analysis.image).save(folder / "one.png")
    summary = run_report(
        analyzer,
        gather_inputs(folder, TINY_LABELS),
        tmp_path / "report",
        ReportOptions(formats=("png",), dpi=30, top_k=1, pairs=1),
        progress=False,
        log=lambda _: None,
    )
    assert "images/0000_one/extra_scores.png" in [f for e in summary.entries for f in e.files]
