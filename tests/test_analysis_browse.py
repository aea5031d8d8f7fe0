"""analysis.measures.browse, analysis.figures.entries.label_graph and analysis.export: the dashboard's
orderings, tables, label graph and in-memory files, on a tiny model."""

from __future__ import annotations

import csv
import io
import zipfile

import numpy as np
import pytest

from analysis import centroid_offsets, conv4_filters, filter_readout, probe_sr, relation_fields
from analysis.export.bundle import image_bundle, zip_files
from analysis.export.files import FigureSpec, csv_bytes
from analysis.figures.catalogue import entries, image_figures
from analysis.figures.entries.label_graph import graph_rows, label_graph_figure_mpl, label_graph_figure_plotly
from analysis.figures.image_inputs import ImageView
from analysis.measures.browse import (
    channel_page,
    channel_rows,
    filter_rows,
    images_with,
    is_symmetric,
    offset_matrices,
    page_count,
    preferred_offsets,
    rank_channels,
    shared_channels,
    strongest_pairs,
)
from analysis.tables import LabelMatrix

from .helpers import TINY_LABELS, tiny_analyses, tiny_model


@pytest.fixture(scope="module")
def model():
    return tiny_model()


@pytest.fixture(scope="module")
def analyses(model):
    return tiny_analyses(model)


def test_channels_rank_by_norm_or_by_a_labels_drive(model) -> None:
    filters, probes = conv4_filters(model), probe_sr(model, TINY_LABELS)
    order, score = rank_channels(filters)
    assert np.allclose(score, np.linalg.norm(filters.weights.reshape(len(score), -1), axis=1), atol=1e-6)
    assert list(score[order]) == sorted(score, reverse=True)
    order, score = rank_channels(filters, probes, "dog")
    assert np.array_equal(score, probes.channel_drive[1]) and score[order[0]] == score.max()
    with pytest.raises(ValueError, match="probe"):
        rank_channels(filters, label="dog")
    rows = channel_rows(filters, probes, order[:3], score)
    assert [r["channel"] for r in rows] == list(order[:3]) and all("driven by" in r for r in rows)


def test_filter_rows_name_the_labels_each_filter_is_read_into(model) -> None:
    filters, readout = conv4_filters(model), filter_readout(model, TINY_LABELS)
    rows = filter_rows(filters, readout, [2], k=2)
    assert [r["filter"] for r in rows] == ["ch2/f0", "ch2/f1", "ch2/f2", "ch2/f3"]
    weights = readout.values[readout.row_names.index("ch2/f1")]
    assert rows[1]["raises"].startswith(TINY_LABELS[int(np.argmax(weights))])
    assert rows[1]["lowers"].startswith(TINY_LABELS[int(np.argmin(weights))])


def test_shared_channels_rank_by_the_weaker_drive(model) -> None:
    probes = probe_sr(model, TINY_LABELS)
    rows = shared_channels(probes, "cat", "car", 3)
    both = np.minimum(probes.channel_drive[0], probes.channel_drive[2])
    assert [r["shared"] for r in rows] == pytest.approx(sorted(both, reverse=True)[:3])


def test_strongest_pairs_symmetric_once_asymmetric_ordered_nan_skipped() -> None:
    names = ["a", "b", "c"]
    symmetric = LabelMatrix(np.array([[9.0, 1, -5], [1, 9, 2], [-5, 2, 9]]), names, names, "s")
    assert is_symmetric(symmetric)
    assert strongest_pairs(symmetric, 5) == [(0, 2, -5.0), (1, 2, 2.0), (0, 1, 1.0)]
    assert strongest_pairs(symmetric, 1, absolute=False) == [(1, 2, 2.0)]
    directed = LabelMatrix(np.array([[0.0, 3, np.nan], [1, 0, 0], [0, 4, 0]]), names, names, "d")
    assert strongest_pairs(directed, 2) == [(2, 1, 4.0), (0, 1, 3.0)]
    edges = graph_rows(directed, 2)
    assert edges[0] == {"source": "c", "target": "b", "value": 4.0}
    plotly_graph = label_graph_figure_plotly(directed, 2)
    assert len(plotly_graph.data) == 2 * 2 + 1
    assert len(label_graph_figure_mpl(directed, 2).axes) == 1


def test_offsets_as_matrices_images_with_and_preferred_offsets(model, analyses) -> None:
    stats = centroid_offsets(analyses)
    matrices = offset_matrices(stats)
    assert set(matrices) == {"pairs seen", "consistency", "mean dx", "mean dy"}
    assert matrices["pairs seen"].values[0, 1] == 2 and np.isnan(matrices["mean dx"].values[3, 4])
    assert images_with(analyses, ["cat", "dog"]) == [0, 1] and images_with(analyses, ["sun", "tree"]) == []
    fields = relation_fields(model, analyses[0].weighted_attention, TINY_LABELS, "cat", ["dog", "sun"])
    rows = preferred_offsets(fields)
    assert [(r["best dx"], r["best dy"]) for r in rows] == [f.preferred_offset() for f in fields]
    assert all(0 <= r["best probability"] <= 1 for r in rows)


def test_figure_specs_files_and_the_image_bundle(model, analyses) -> None:
    specs = image_figures(model, analyses[0], ImageView(label="dog", top_k=2))
    spec = specs["scores"]
    files = spec.files(("png", "csv", "html"), dpi=40, plotlyjs="plotly.min.js")
    assert list(files) == ["scores.png", "scores_data.csv", "scores.html"]
    assert b'src="plotly.min.js"' in files["scores.html"]
    with pytest.raises(ValueError, match="offers"):
        FigureSpec("x", "x", spec.mpl).file("csv")
    rows = list(csv.DictReader(io.StringIO(csv_bytes([{"a": 1}, {"b": float("nan")}]).decode())))
    assert rows == [{"a": "1", "b": ""}, {"a": "", "b": ""}]
    assert set(specs) == {e.name for e in entries("image")}, "the image's figures are the catalogue's image entries"
    assert {"scores", "grid", "label", "influence", "what_if"} <= set(specs)
    assert specs["what_if"].rows()[1]["srn_logit_after"] != specs["what_if"].rows()[1]["srn_logit_before"]
    archive = zipfile.ZipFile(io.BytesIO(image_bundle(model, analyses[0], ImageView(label=0), ("svg",), dpi=40)))
    assert {"image.png", "scores.csv", "analysis.json", "what_if.svg", "maps_cat.svg"} <= set(archive.namelist())
    assert zipfile.ZipFile(io.BytesIO(zip_files({"a.txt": b"1"}))).read("a.txt") == b"1"


def test_channel_pages() -> None:
    assert [page_count(n, 4) for n in (0, 1, 4, 5, 16, 17)] == [1, 1, 1, 2, 4, 5]
    order = np.array([7, 3, 5, 0, 1, 6, 2, 4])
    assert channel_page(order, 1, 3) == [7, 3, 5] and channel_page(order, 3, 3) == [2, 4]
    assert channel_page(order, 4, 3) == [] and all(type(c) is int for c in channel_page(order, 2, 3))
    with pytest.raises(ValueError, match="per_page"):
        page_count(4, 0)
    with pytest.raises(ValueError, match="page"):
        channel_page(order, 0, 3)
