"""The dashboard driven by Streamlit's AppTest: the opening page, uploads (good and bad), every view and
its controls, downloads. Runs on the checkpoints in SRN_WEIGHTS_DIR (default: weights/) and the shipped
samples, so it holds for the real model: no predicted label is asserted, only structure and effects."""

from __future__ import annotations

import io
import json
import struct
import tomllib
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save as save_safetensors
from streamlit.testing.v1 import AppTest

from analysis.export.bundle import image_bundle
from analysis.export.files import FILE_FORMATS
from analysis.figures.catalogue import image_figures
from analysis.figures.image_inputs import ImageView
from dashboard import settings, state
from dashboard.selection import clicked_point
from srn_core import SRN, save_checkpoint

from .helpers import TINY_LABELS, tiny_model

APP = Path(settings.REPO) / "dashboard" / "app.py"
SAMPLE_DIR = settings.samples_manifest().parent
FORMATS = ["PNG", "SVG", "PDF", "HTML", "CSV data"]


@pytest.fixture(scope="module")
def checkpoint() -> Path:
    found = state.list_checkpoints(settings.weights_dir())
    if not found:
        pytest.fail(
            f"no *.safetensors in {settings.weights_dir()}: the dashboard needs the shipped model "
            "(or point SRN_WEIGHTS_DIR at a folder with one)"
        )
    names = {p.name: p for p in found}
    return names.get(settings.default_model(), found[0])


@pytest.fixture
def app(checkpoint: Path) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def forward_passes(monkeypatch) -> Counter:
    """Counts the images the whole SRN runs forward: AppTest runs the app in this process, so wrapping
    `SRN.forward` sees every pass the dashboard makes, with no counter in the product."""
    counted: Counter = Counter()
    forward = SRN.forward

    def counting(model: SRN, images: torch.Tensor, *args, **kwargs):
        counted["images"] += int(images.shape[0])
        return forward(model, images, *args, **kwargs)

    monkeypatch.setattr(SRN, "forward", counting)
    return counted


@pytest.fixture
def figure_builds(monkeypatch) -> Counter:
    """Counts the figures the dashboard really builds, per role ("grid" for the map thumbnails): the cached
    `state.figure` calls its `_build` only on a cache miss, and the thumbnails call `overlay_thumbnails`."""
    counted: Counter = Counter()
    cached_figure, thumbnails = state.figure, state.overlay_thumbnails

    def figure(role: str, key: tuple, _build):
        def build():
            counted[role] += 1
            return _build()

        return cached_figure(role, key, build)

    def overlays(*args, **kwargs):
        counted["grid"] += 1
        return thumbnails(*args, **kwargs)

    monkeypatch.setattr(state, "figure", figure)
    monkeypatch.setattr(state, "overlay_thumbnails", overlays)
    return counted


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def grid_images(at: AppTest) -> list[str]:
    """URLs of the attention-grid thumbnails (their media ids are content hashes)."""
    return [
        url
        for image in at.get("image")
        for url, cap in zip(image.value, image.captions, strict=True)
        if cap.count(":") == 1
    ]


TABLES = {
    "scores_table": ("label", "fused", "main net"),
    "label_stats": ("kind", "peak_row"),
    "channel_table": ("channel", "driven by"),
    "path_table": ("source", "filter", "contribution"),
    "readout_table": ("filter", "raises"),
    "shared_table": ("channel", "shared"),
    "all_fields_table": ("moved", "best dx"),
    "whatif_table": ("label", "srn_logit_after"),
}


def table(at: AppTest, name: str):
    """The shown table (pandas DataFrame) with the columns of `name` (tables are not keyed widgets)."""
    found = [d.value for d in at.dataframe if set(TABLES[name]) <= set(d.value.columns)]
    assert len(found) == 1, (name, len(found))
    return found[0]


def chart(at: AppTest, key: str) -> dict:
    [found] = [c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")]
    return json.loads(found.proto.spec)


def switch(at: AppTest, view: str) -> AppTest:
    at.session_state["view"] = view
    at.run()
    assert not at.exception, at.exception
    assert not errors(at), errors(at)
    return at


def sample_bytes(n: int = 0) -> bytes:
    return sorted((SAMPLE_DIR / "images").iterdir())[n].read_bytes()


def encoded(fmt: str, n: int = 1) -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(sample_bytes(n))).convert("RGB").save(buffer, format=fmt)
    return buffer.getvalue()


def huge_png(width: int = 8_500, height: int = 8_000) -> bytes:
    """A tiny PNG whose header claims width x height pixels (over the 64-megapixel limit)."""
    data = bytearray(encoded("PNG"))
    ihdr = bytes(data[12:16]) + struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(ihdr) & 0xFFFFFFFF)
    return bytes(data)


def test_opening_page_shows_an_analysed_sample_without_a_click(app: AppTest, checkpoint: Path) -> None:
    assert errors(app) == []
    assert app.selectbox(key="model_choice").value == checkpoint.name
    assert app.selectbox(key="image_choice").value.startswith("sample: ")
    names = state.load_model(checkpoint).label_names
    scores = table(app, "scores_table")
    assert list(scores["label"]) and sorted(scores["label"]) == sorted(names)
    assert {"fused", "main net", "SRN", "truth"} <= set(scores.columns)
    assert list(scores["fused"]) == sorted(scores["fused"], reverse=True)
    assert len(grid_images(app)) == app.slider(key="keep.top_k").value
    assert len(chart(app, "score_bars")["data"]) == 3
    assert any("Ground truth" in m.value for m in app.markdown)


def test_model_details_are_readable_tables(app: AppTest, checkpoint: Path) -> None:
    meta = state.load_model(checkpoint).meta
    [details] = [e for e in app.expander if e.label.startswith("Model details")]
    text = " ".join(m.value for m in details.markdown)
    assert all(name in text for name in meta.label_names)
    tables = [d.value for d in details.dataframe]
    model, record = dict(zip(tables[0]["setting"], tables[0]["value"], strict=True)), tables[-1]
    assert model["backbone"] == meta.config.backbone and model["labels"] == str(len(meta.label_names))
    assert 0 < len(record) <= 400 and all(len(v) < 200 for v in record["value"]) and not list(details.code)


def test_uploaders_show_the_limits_the_app_applies(app: AppTest) -> None:
    config = tomllib.loads((Path(settings.REPO) / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 2**20 >= settings.MAX_CHECKPOINT_BYTES
    limits = {u.proto.label: u.proto.max_upload_size_mb for u in app.get("file_uploader")}
    assert limits["Upload images"] * 2**20 == settings.MAX_IMAGE_BYTES
    assert limits["Upload a checkpoint"] * 2**20 == settings.MAX_CHECKPOINT_BYTES


def test_uploads_are_analysed_once_and_the_newest_is_shown(app: AppTest, forward_passes: Counter) -> None:
    before = forward_passes.total()
    files = [
        ("scene.jpg", encoded("JPEG"), "image/jpeg"),
        ("scene.webp", encoded("WEBP", 2), "image/webp"),
        ("scene.bmp", encoded("BMP", 3), "image/bmp"),
        ("scene.tiff", encoded("TIFF", 4), "image/tiff"),
    ]
    app.file_uploader(key="uploads").set_value(files).run()
    assert not app.exception and errors(app) == []
    options = app.selectbox(key="image_choice").options
    assert all(f"upload: {name}" in options for name, _, _ in files)
    assert app.selectbox(key="image_choice").value == "upload: scene.tiff"
    assert "scene.tiff" in app.caption[0].value
    assert "truth" not in table(app, "scores_table").columns
    assert len(grid_images(app)) == app.slider(key="keep.top_k").value
    assert 1 <= forward_passes.total() - before <= len(files)
    app.selectbox(key="image_choice").set_value("upload: scene.jpg").run()
    assert "scene.jpg" in app.caption[0].value


def test_bad_uploads_name_the_file_and_the_reason_and_the_app_goes_on(app: AppTest, monkeypatch) -> None:
    monkeypatch.setattr(settings, "MAX_IMAGE_BYTES", 200_000)
    app.run()  # the uploader now shows (and is keyed by) the lower limit
    good = encoded("PNG")
    bad = [
        ("truncated.png", good[: len(good) // 3], "corrupt or truncated"),
        ("empty.png", b"", "file is empty"),
        ("notes.png", b"just some text, not pixels", "not an image file"),
        ("giant.png", huge_png(), "exceeds the limit"),
        ("heavy.bmp", encoded("BMP") + b"\0" * 200_000, "limit for images"),
    ]
    files = [(name, data, "image/png") for name, data, _ in bad] + [("fine.png", good, "image/png")]
    app.file_uploader(key="uploads").set_value(files)
    app.run()
    assert not app.exception
    shown = errors(app)
    for name, _, reason in bad:
        assert any(name in message and reason in message for message in shown), (name, shown)
    assert app.selectbox(key="image_choice").value == "upload: fine.png"
    assert len(grid_images(app)) > 0
    assert all("Traceback" not in message for message in shown)


def test_wrong_checkpoints_are_refused_with_the_file_and_reason(app: AppTest, checkpoint: Path) -> None:
    pickle = io.BytesIO()
    torch.save({"weight": torch.zeros(3)}, pickle)
    for name, data, reason in (
        ("model.pth", pickle.getvalue(), "pickles and .pth files are refused"),
        ("bare.safetensors", save_safetensors({"w": torch.zeros(2)}), "without SRN metadata"),
        ("empty.safetensors", b"", "file is empty"),
    ):
        app.file_uploader(key="ckpt_upload").set_value((name, data, "application/octet-stream")).run()
        assert not app.exception
        assert any(
            message.startswith(f"Checkpoint refused: {name}") and reason in message for message in errors(app)
        ), (name, errors(app))
        assert app.selectbox(key="model_choice").value == checkpoint.name
        assert len(grid_images(app)) > 0


def test_an_uploaded_checkpoint_is_offered_and_every_view_works_on_it(
    app: AppTest, checkpoint: Path, tmp_path: Path
) -> None:
    """A different model (other labels, a 4 x 4 grid): samples lose their ground truth, views adapt."""
    save_checkpoint(tmp_path / "tiny.safetensors", tiny_model(), TINY_LABELS, training={"note": "test"})
    upload = ("mine.safetensors", (tmp_path / "tiny.safetensors").read_bytes(), "application/octet-stream")
    app.file_uploader(key="ckpt_upload").set_value(upload)
    app.run()
    assert not app.exception and errors(app) == []
    assert app.selectbox(key="model_choice").value == "uploaded: mine.safetensors"
    assert "mine.safetensors" in app.caption[0].value
    assert sorted(table(app, "scores_table")["label"]) == sorted(TINY_LABELS)
    assert "truth" not in table(app, "scores_table")
    assert any("has no ground truth for this model" in c.value and "missing" in c.value for c in app.caption)
    assert len(grid_images(app)) == len(TINY_LABELS)
    for view in settings.VIEWS[1:]:
        switch(app, view)
    switch(app, settings.VIEWS[0])
    app.selectbox(key="model_choice").set_value(checkpoint.name).run()
    assert checkpoint.name in app.caption[0].value and errors(app) == []
    assert len(grid_images(app)) == app.slider(key="keep.top_k").value


def test_display_controls_change_the_maps_but_never_rerun_the_network(
    app: AppTest, forward_passes: Counter, figure_builds: Counter
) -> None:
    passes = forward_passes.total()
    seen = [grid_images(app)]
    for key, value in (
        ("keep.opacity", 0.9),
        ("keep.cmap", "inferno"),
        ("keep.mode", "nearest"),
        ("keep.fade", False),
        ("keep.kind", "weighted"),
    ):
        builds = figure_builds.copy()
        widget = (
            app.slider(key=key)
            if key == "keep.opacity"
            else app.selectbox(key=key)
            if key == "keep.cmap"
            else app.checkbox(key=key)
            if key == "keep.fade"
            else app.radio(key=key)
        )
        widget.set_value(value).run()
        assert not app.exception
        seen.append(grid_images(app))
        assert seen[-1] != seen[-2], key
        rebuilt = {role for role in figure_builds if figure_builds[role] != builds[role]}
        assert rebuilt == ({"grid"} if key == "keep.kind" else {"grid", "label"}), (key, rebuilt)
    switch(app, "What-if")
    switch(app, "Images")
    assert app.slider(key="keep.opacity").value == 0.9 and grid_images(app) == seen[-1]
    assert forward_passes.total() == passes


def test_threshold_top_k_and_label_controls(app: AppTest) -> None:
    app.slider(key="keep.top_k").set_value(3).run()
    assert len(grid_images(app)) == 3 and len(chart(app, "score_bars")["data"][0]["y"]) == 3
    app.slider(key="keep.threshold").set_value(0.0).run()
    assert all(table(app, "scores_table")["predicted"])
    app.slider(key="keep.threshold").set_value(1.0).run()
    assert not any(table(app, "scores_table")["predicted"])
    assert any("Predicted** (fused > 1.00): none" in m.value for m in app.markdown)
    last = [b for b in app.button if b.key.startswith("enlarge-")][-1]
    last.click().run()
    name = last.key.removeprefix("enlarge-")
    assert app.selectbox(key="keep.label").value == name
    for key in ("label_maps", "label_maps_dialog"):
        assert chart(app, key)["layout"]["title"]["text"].startswith(f"{name}:")
    stats = [d.value for d in app.dataframe if set(TABLES["label_stats"]) <= set(d.value.columns)]
    assert len(stats) == 2 and all(set(t["label"]) == {name} for t in stats)
    app.run()
    assert not [c for c in app.get("plotly_chart") if c.proto.id.endswith("-label_maps_dialog")]


def test_defaults_follow_the_image(app: AppTest) -> None:
    """A new image opens on its own top label (what-if and conv4 too); a relation pair the new images do
    not hold gives way to one they do."""
    scores = table(app, "scores_table")
    app.selectbox(key="keep.label").set_value(scores["label"].iloc[-1]).run()
    upload = ("other.png", encoded("PNG", 5), "image/png")
    app.file_uploader(key="uploads").set_value([upload]).run()
    assert app.selectbox(key="image_choice").value == "upload: other.png"
    ranked = list(table(app, "scores_table")["label"])
    top = ranked[0]
    assert app.selectbox(key="keep.label").value == top
    assert chart(app, "label_maps")["layout"]["title"]["text"].startswith(f"{top}:")
    switch(app, "What-if")
    assert app.selectbox(key="keep.w_label").value == top
    switch(app, "conv4 filters")
    assert app.selectbox(key="keep.f_label").value == top
    switch(app, "Label relations")
    app.selectbox(key="keep.r_anchor").set_value(ranked[-1]).run()
    app.selectbox(key="keep.r_other").set_value(ranked[-2]).run()
    app.radio(key="keep.r_source").set_value("uploads").run()
    anchor, other = app.selectbox(key="keep.r_anchor").value, app.selectbox(key="keep.r_other").value
    assert anchor != other
    assert not [i for i in app.info if "No image holds both" in i.value], (anchor, other)


def test_every_view_offers_downloads_and_the_zip(app: AppTest) -> None:
    labels = [b.proto.label for b in app.get("download_button")]
    assert "Download everything for this image (ZIP)" in labels
    assert labels.count("PNG") == 3 and all(labels.count(f) == 3 for f in FORMATS)
    expected = {"conv4 filters": 2, "Label relations": 5, "What-if": 2}
    for view, figures in expected.items():
        labels = [b.proto.label for b in switch(app, view).get("download_button")]
        assert all(labels.count(f) >= figures for f in FORMATS), (view, labels)


def test_filters_view_sorting_paging_and_the_label_path(app: AppTest) -> None:
    switch(app, "conv4 filters")
    by_norm = list(table(app, "channel_table")["channel"])
    app.number_input(key="keep.f_page").set_value(2).run()
    second = list(table(app, "channel_table")["channel"])
    assert len(second) == len(by_norm) and not set(second) & set(by_norm)
    app.radio(key="keep.f_sort").set_value("drive by the label").run()
    ranked = table(app, "channel_table")
    assert list(ranked["score"]) == sorted(ranked["score"], reverse=True)
    label = app.selectbox(key="keep.f_label").options[-1]
    app.selectbox(key="keep.f_label").set_value(label).run()
    assert set(table(app, "path_table")["source"]) == {label}
    app.slider(key="keep.f_channels").set_value(2).run()
    assert len(table(app, "readout_table")) == 2 * 4
    app.select_slider(key="keep.f_per_page").set_value(2).run()
    assert len(table(app, "channel_table")) == 2


def test_relations_view_matrices_and_a_pair(app: AppTest) -> None:
    switch(app, "Label relations")
    for name in app.radio(key="keep.r_matrix").options:
        app.radio(key="keep.r_matrix").set_value(name).run()
        assert not app.exception and not errors(app), (name, errors(app))
        assert len(chart(app, "matrix_click")["data"]) == 2
    options = app.selectbox(key="keep.r_anchor").options
    app.selectbox(key="keep.r_anchor").set_value(options[0]).run()
    app.selectbox(key="keep.r_other").set_value(options[1]).run()
    title = chart(app, "pair_field")["layout"]["title"]["text"]
    assert title.startswith(f"relation field: {options[1]} around {options[0]}")
    assert len(table(app, "shared_table")) == 4
    app.toggle(key="keep.r_all_fields").set_value(True).run()
    fields = table(app, "all_fields_table")
    assert len(fields) == len(options) - 1 and set(fields["anchor"]) == {options[0]}


def test_a_click_on_a_cell_is_read_back() -> None:
    event = {"selection": {"points": [{"x": "star", "y": "square", "curve_number": 1}]}}
    assert clicked_point(event) == ("star", "square")
    assert clicked_point({"selection": {"points": []}}) is None and clicked_point(None) is None


def test_what_if_controls_change_the_scores(app: AppTest) -> None:
    switch(app, "What-if")

    def after() -> np.ndarray:
        rows = table(app, "whatif_table").sort_values("label")
        return rows["srn_logit_after"].to_numpy(), rows["srn_logit_before"].to_numpy()

    removed, before = after()
    app.radio(key="keep.w_op").set_value("scale").run()
    app.slider(key="keep.w_factor").set_value(1.0).run()
    unchanged, _ = after()
    assert np.allclose(unchanged, before, atol=1e-5)
    app.slider(key="keep.w_factor").set_value(3.0).run()
    assert not np.allclose(after()[0], before)
    app.radio(key="keep.w_op").set_value("move").run()
    app.slider(key="keep.w_dx").set_value(3).run()
    moved, _ = after()
    assert not np.allclose(moved, removed) and "move" in chart(app, "whatif_scores")["layout"]["title"]["text"]


def test_an_error_inside_a_view_becomes_a_message(app: AppTest, monkeypatch) -> None:
    from dashboard.views import filters

    def broken(*args, **kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(filters, "rank_channels", broken)
    app.session_state["view"] = "conv4 filters"
    app.run()
    assert not app.exception
    assert any("conv4 filters view failed (RuntimeError: simulated failure)" in m for m in errors(app))
    switch(app, "Images")
    assert len(grid_images(app)) > 0


def test_the_files_behind_the_buttons(checkpoint: Path) -> None:
    model = state.load_model(checkpoint)
    [analysis] = model.analyzer.analyse([sample_bytes(0)], ["s.png"])
    specs = image_figures(model.model, analysis, ImageView(label=analysis.top_labels(1)[0], top_k=3))
    magic = {"png": b"\x89PNG", "svg": b"<svg", "pdf": b"%PDF", "html": b"<html", "csv": b"label,"}
    for fmt in FILE_FORMATS:
        assert magic[fmt] in specs["scores"].file(fmt)[:400], fmt
    archive = zipfile.ZipFile(io.BytesIO(image_bundle(model.model, analysis, ImageView(label=0, top_k=2))))
    names = set(archive.namelist())
    assert {"image.png", "scores.csv", "analysis.json", "plotly.min.js", "what_if.png", "what_if_data.csv"} <= names
    assert not [n for n in names if n.endswith(".svg")]
    assert json.loads(archive.read("analysis.json"))["labels"] == model.label_names
    single = Image.open(io.BytesIO(specs["what_if"].file("png")))
    assert Image.open(io.BytesIO(archive.read("what_if.png"))).size == single.size
