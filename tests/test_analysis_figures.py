"""analysis figures: every matplotlib figure saved as PNG, SVG and PDF and read back; every plotly figure
as standalone HTML; every figure's numbers as JSON / CSV."""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from analysis import (
    Analyzer,
    Edit,
    centroid_offsets,
    compare_pointing,
    conv4_filters,
    gradcam_maps,
    influence_maps,
    influence_matrix,
    probe_sr,
    relation_field,
    save_csv,
    save_data,
    save_figure,
    save_html,
    save_json,
    what_if,
)
from analysis.figures import mpl as fm
from analysis.figures import plotly as fp
from srn_core.datasets import Box
from srn_core.fileio import atomic_path

from .helpers import TINY_LABELS, tiny_meta, tiny_model


@pytest.fixture(scope="module")
def material():
    """One of every input the figures take, from a tiny model and three random images."""
    analyzer = Analyzer(model := tiny_model(), tiny_meta(model), "cpu")
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 255, (40, 64, 3), np.uint8) for _ in range(3)]
    analyses = analyzer.analyse(
        images,
        names=["x", "y", "z"],
        targets=[np.array([1, 1, 0, 1, 0])] * 3,
        boxes=[[Box("cat", 0, 0, 30, 20), Box("dog", 30, 20, 64, 40)]] * 3,
    )
    a = analyses[0]
    model = analyzer.model
    return {
        "analysis": a,
        "cam": gradcam_maps(analyzer, a, ["cat"])[0],
        "influence": influence_maps(model, a),
        "filters": conv4_filters(model),
        "matrix": influence_matrix(model, analyses),
        "offsets": centroid_offsets(analyses),
        "pointing": compare_pointing(analyzer, analyses),
        "field": relation_field(model, a.weighted_attention, TINY_LABELS, "dog", "cat"),
        "what_if": what_if(model, a, Edit("cat", "remove")),
        "probes": probe_sr(model, TINY_LABELS),
    }


def build(module, m):
    a = m["analysis"]
    return {
        "attention_grid": module.attention_grid_figure(a, mode="bilinear", cmap="viridis", opacity=0.6),
        "label_maps": module.label_maps_figure(a, "cat", gradcam=m["cam"]),
        "score_bars": module.score_bars_figure(a),
        "influence_maps": module.influence_maps_figure(a, m["influence"], "cat"),
        "conv4_filters": module.conv4_filters_figure(m["filters"], [0, 5]),
        "matrix": module.matrix_figure(m["matrix"]),
        "offsets": module.offsets_figure(m["offsets"], [("cat", "dog"), ("cat", "tree")]),
        "relation_field": module.relation_field_figure(m["field"]),
        "pointing": module.pointing_figure(m["pointing"]),
        "what_if": module.what_if_figure(m["what_if"]),
    }


def test_every_matplotlib_figure_in_every_format(material, tmp_path: Path):
    figures = build(fm, material)
    for name, fig in figures.items():
        written = save_figure(fig, tmp_path / name, dpi=72)
        assert [p.suffix for p in written] == [".png", ".svg", ".pdf"]
        with Image.open(tmp_path / f"{name}.png") as png:
            png.verify()
        with Image.open(tmp_path / f"{name}.png") as png:
            assert png.format == "PNG" and png.size[0] > 100 and png.size[1] > 50
        root = ET.parse(tmp_path / f"{name}.svg").getroot()
        assert root.tag.endswith("svg")
        pdf = (tmp_path / f"{name}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert len(figures) == len(fm.__all__)
    assert not list(tmp_path.glob(".*.tmp"))


def test_png_resolution_follows_dpi(material, tmp_path: Path):
    fig = fm.score_bars_figure(material["analysis"])
    save_figure(fig, tmp_path / "low.png", formats=("png",), dpi=50)
    save_figure(fig, tmp_path / "high", formats=("png",), dpi=100)
    with Image.open(tmp_path / "low.png") as low, Image.open(tmp_path / "high.png") as high:
        assert abs(high.size[0] - 2 * low.size[0]) <= 2
    with pytest.raises(ValueError, match="unknown figure formats"):
        save_figure(fig, tmp_path / "x", formats=("gif",))


def test_every_plotly_figure_as_standalone_html(material, tmp_path: Path):
    figures = build(fp, material)
    assert len(figures) == len(fp.__all__)
    for name, fig in figures.items():
        path = save_html(fig, tmp_path / name)
        html = path.read_text(encoding="utf-8")
        assert path.suffix == ".html" and "Plotly.newPlot" in html
        assert len(html) > 1_000_000, "plotly.js must be embedded"
        assert not re.search(r"<script[^>]*\bsrc=", html), "a standalone page must not load any script"
    linked = save_html(figures["matrix"], tmp_path / "linked.html", include_plotlyjs="plotly.min.js")
    assert re.search(r'<script[^>]*src="plotly.min.js"', linked.read_text()) and linked.stat().st_size < 200_000


def test_figure_numbers_export_as_json_and_csv(material, tmp_path: Path):
    for name in ("matrix", "offsets", "pointing", "field", "what_if"):
        json_path, csv_path = save_data(material[name], tmp_path / name)
        data = json.loads(json_path.read_text())
        assert isinstance(data, dict) and data
        with open(csv_path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert rows and len(rows) == len(material[name].rows())
    matrix = json.loads((tmp_path / "matrix.json").read_text())
    np.testing.assert_allclose(np.array(matrix["values"], dtype=float), material["matrix"].values, rtol=1e-6)
    field = json.loads((tmp_path / "field.json").read_text())
    assert field["logits"][0][0] is None
    save_data(material["filters"], tmp_path / "filters")
    assert np.array(json.loads((tmp_path / "filters.json").read_text())["weights"]).shape == (16, 4, 4, 4)
    save_data(material["probes"], tmp_path / "probes", ("json",))
    analysis_json = json.loads(save_json(tmp_path / "a.json", material["analysis"].to_dict()).read_text())
    assert np.array(analysis_json["maps"]["weighted"]).shape == (5, 4, 4)
    save_csv(tmp_path / "rows.csv", [{"a": 1}, {"b": np.float32(2.5), "a": None}])
    assert (tmp_path / "rows.csv").read_text() == "a,b\n1,\n,2.5\n"
    with pytest.raises(ValueError, match="CSV needs"):
        save_data({"x": 1}, tmp_path / "bad", ("csv",))


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path):
    target = tmp_path / "kept.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash while writing")
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new" and target.stat().st_mode & 0o044
