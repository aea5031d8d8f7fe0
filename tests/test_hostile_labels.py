"""Label names that try markdown, HTML, spreadsheet formulas and mathtext (issue 15: findings 1-3, 7, 12,
14) stay label names at every output: the escaping functions, a whole report (figures, CSV, HTML pages,
index), the predict CLI and the dashboard's download files."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image
from plotly.offline import get_plotlyjs

from analysis import Analyzer
from analysis.cli import main as analysis_main
from analysis.export.bundle import image_bundle
from analysis.figures.catalogue import image_figures
from analysis.figures.image_inputs import ImageView
from srn_core.cli import main as srn_main
from srn_core.text_safety import csv_cell, markdown_text, mpl_text, plotly_original, plotly_text, unique_slugs
from tests.helpers import report_args

from .hostile_corpus import EVIL_HOST, HOSTILE_LABELS, REPORT_LABELS, TOP_HOSTILE, hostile_label_checkpoint

pytestmark = pytest.mark.timeout(180)  # a hostile input must never hang a run

FORMULA = ("=", "+", "-", "@", "\t", "\r")
UNESCAPED_MARKUP = re.compile(r"(?<!\\)[\[\]<>$*`~]|(?<!\\):(?=[A-Za-z/])")


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def assert_safe_csv(text: str) -> None:
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            assert not cell.startswith(FORMULA) or _is_number(cell), cell


def assert_no_live_markup(html: str) -> None:
    """No tag, link or image made from a label: the hostile names appear only escaped."""
    assert f"<a href='http://{EVIL_HOST}'" not in html and "<img src=x" not in html
    page = html.replace(get_plotlyjs(), "")  # the embedded plotly.js library holds its own (unused) links
    assert not re.search(r"""<[a-zA-Z][^<>]*\s(src|href)=["']?(https?:)?//""", page), "nothing loaded from outside"


@pytest.mark.parametrize("name", HOSTILE_LABELS)
def test_each_escape_keeps_the_name_a_name(name: str) -> None:
    shown = markdown_text(name)
    assert not UNESCAPED_MARKUP.search(shown), shown
    assert "http://" not in shown and "https://" not in shown
    html = plotly_text(name)
    assert "<" not in html and ">" not in html and "%{" not in html
    assert plotly_original(html) == name
    cell = csv_cell(name)
    assert not str(cell).startswith(FORMULA) or _is_number(str(cell))
    figure = Figure()
    figure.suptitle(mpl_text(name))
    figure.subplots().set_yticks([0], [mpl_text(name)])
    figure.savefig(io.BytesIO(), format="png")


def test_report_file_names_are_unique_per_label() -> None:
    names = unique_slugs(["a b", "a_b", "a/b", "a:b", "a?b", "Cat", "cat", "x" * 200])
    assert len({n.lower() for n in names}) == len(names)
    assert names[1] == "a_b" and names[5] == "Cat" and all(len(n) < 80 for n in names)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("hostile_labels")
    checkpoint = hostile_label_checkpoint(folder / "hostile.safetensors")
    images = folder / "images"
    images.mkdir()
    rng = np.random.default_rng(1)
    for n in range(1):
        Image.fromarray(rng.integers(0, 255, (64, 80, 3), dtype=np.uint8)).save(images / f"$img{n}$ [x](y).png")
    return checkpoint, images


def test_a_whole_report_keeps_every_label_a_label(hostile, tmp_path, capsys) -> None:
    _, images = hostile
    checkpoint = hostile_label_checkpoint(tmp_path / "report_labels.safetensors", REPORT_LABELS)
    out = tmp_path / "report"
    start = time.perf_counter()
    code = analysis_main(
        [
            *report_args(checkpoint, images, out),
            "--formats",
            "png",
            "--html",
            "--no-progress",
            "--top-k",
            str(len(TOP_HOSTILE)),
            "--pairs",
            "1",
        ]
    )
    elapsed = time.perf_counter() - start
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "Traceback" not in printed.out + printed.err and "failed" not in printed.err
    assert elapsed < 120
    label_pngs = sorted(p.name for p in (out / "images").glob("*/label_*.png"))
    assert len(label_pngs) == len(set(label_pngs)) == len(TOP_HOSTILE)
    for path in out.rglob("*.csv"):
        assert_safe_csv(path.read_text())
    for path in out.rglob("*.html"):
        if path.name != "plotly.min.js":
            assert_no_live_markup(path.read_text())
    index = (out / "index.html").read_text()
    assert "Failed images" not in index and "stopped early" not in index


def test_predict_cli_prints_and_writes_hostile_names_as_data(hostile, tmp_path, capsys) -> None:
    checkpoint, images = hostile
    target = tmp_path / "scores.json"
    code = srn_main(
        [
            "predict",
            "--weights",
            str(checkpoint),
            *map(str, sorted(images.iterdir())),
            "--json",
            str(target),
            "--top-k",
            "3",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in out + err
    assert set(json.loads(target.read_text())["labels"]) == set(HOSTILE_LABELS)


def test_dashboard_download_files_of_a_mathtext_label(hostile) -> None:
    checkpoint, images = hostile
    analyzer = Analyzer.from_checkpoint(checkpoint, "cpu")
    analysis = analyzer.analyse_one(sorted(images.iterdir())[0])
    for label in ("$\\alpha$ and $x_1$", "$unbalanced", '=HYPERLINK("http://evil.example","x")'):
        view = ImageView(label=label, top_k=3, grid_labels=[HOSTILE_LABELS.index(label)])
        for spec in image_figures(analyzer.model, analysis, view).values():
            for fmt in spec.formats if label.startswith("$\\alpha") else ("png", "html", "csv"):
                if fmt not in spec.formats:
                    continue
                data = spec.file(fmt, 40)
                if fmt == "csv":
                    assert_safe_csv(data.decode())
                if fmt in ("html", "svg"):
                    assert_no_live_markup(data.decode())
    archive = zipfile.ZipFile(io.BytesIO(image_bundle(analyzer.model, analysis, view, ("png", "csv"), dpi=30)))
    assert_safe_csv(archive.read("scores.csv").decode())


def test_evaluate_cli_writes_scores_csv_without_formulas(hostile, tmp_path, capsys) -> None:
    _, images = hostile
    checkpoint = hostile_label_checkpoint(tmp_path / "labels.safetensors", REPORT_LABELS)
    image = sorted(images.iterdir())[0]
    manifest = tmp_path / "data.json"
    manifest.write_text(
        json.dumps(
            {
                "format": "srn-manifest",
                "version": 1,
                "labels": REPORT_LABELS,
                "images": [{"path": str(image), "labels": REPORT_LABELS[2:4]}],
            }
        )
    )
    code = srn_main(
        ["evaluate", "--weights", str(checkpoint), "--data", str(manifest), "--out", str(tmp_path / "eval"), "--quiet"]
    )
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in out + err
    text = (tmp_path / "eval" / "scores.csv").read_text()
    assert_safe_csv(text)
    assert "'=HYPERLINK" in text
