"""The dashboard (Streamlit AppTest) with hostile uploads (issue 15: findings 1, 3, 5, 9, 11, 13, 20, 21):
each bad checkpoint or image is one message naming it while the rest keeps working; a model with hostile
label names renders every view with the names as plain text (no link, image or directive from a name,
no live HTML in a chart); same-name uploads both stay selectable."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from dashboard import settings
from srn_core import save_checkpoint
from srn_core.text_safety import markdown_text

from .helpers import TINY_LABELS, tiny_model
from .hostile_corpus import (
    BAD_CHECKPOINTS,
    EVIL_HOST,
    HOSTILE_LABELS,
    bad_checkpoint,
    hostile_label_checkpoint,
    write_png_header,
)

pytestmark = pytest.mark.timeout(180)  # a hostile input must never hang a run

APP = Path(settings.REPO) / "dashboard" / "app.py"
LIVE = re.compile(r"\]\(|<a |<img|:red\[|https?://|!\[")
DASHBOARD_CASES = [
    "meta_is_list",
    "version_1e400",
    "num_labels_float",
    "training_string",
    "backbone_unknown",
    "input_size_32000",
    "huge_model_small_file",
    "std_zero",
    "weights_nan",
    "labels_duplicate",
    "tensor_float64",
    "metadata_deep_json",
]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile_dashboard")
    good = save_checkpoint(folder / "good.safetensors", tiny_model(), TINY_LABELS)
    found = {name: bad_checkpoint(name, good, folder) for name in DASHBOARD_CASES}
    found["hostile"] = hostile_label_checkpoint(folder / "hostile.safetensors")
    found["strip"] = write_png_header(folder / "strip.png", 63_000_000, 1)
    return found | {"good": good}


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_bad_checkpoint_in_the_weights_folder_leaves_the_picker_working(files, tmp_path, monkeypatch) -> None:
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "a_bad.safetensors").write_bytes(files["weights_nan"].read_bytes())
    (folder / "b_good.safetensors").write_bytes(files["good"].read_bytes())
    monkeypatch.setenv("SRN_WEIGHTS_DIR", str(folder))
    monkeypatch.setenv("SRN_DEFAULT_MODEL", "a_bad.safetensors")
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    assert not at.exception
    assert len(errors(at)) == 1 and "a_bad.safetensors" in errors(at)[0] and "NaN" in errors(at)[0]
    at.selectbox(key="model_choice").set_value("b_good.safetensors").run()
    assert not at.exception and errors(at) == []
    assert at.selectbox(key="image_choice").value


def png(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (50, 60, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def shown_markdown(at: AppTest) -> list[str]:
    """Every string the page renders as markdown: text elements, messages, widget labels, image captions."""
    texts = [
        e.value
        for kind in ("markdown", "caption", "error", "info", "warning", "success", "subheader", "title")
        for e in at.get(kind)
    ]
    texts += [
        w.label
        for kind in ("button", "toggle", "checkbox", "selectbox", "radio", "slider", "expander")
        for w in at.get(kind)
    ]
    texts += [c for image in at.get("image") for c in image.captions if c]
    return texts


def chart_strings(at: AppTest) -> list[str]:
    found: list[str] = []

    def walk(value) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for chart in at.get("plotly_chart"):
        walk(json.loads(chart.proto.spec))
    return found


def assert_names_stay_names(at: AppTest) -> None:
    for text in shown_markdown(at):
        assert not LIVE.search(re.sub(r"\\.", "", text)), text  # what is left once escaped characters are dropped
    for text in chart_strings(at):
        assert "<a " not in text and "<img" not in text, text[:200]


@pytest.mark.parametrize("name", DASHBOARD_CASES)
def test_a_bad_checkpoint_upload_is_one_message_and_the_app_goes_on(app: AppTest, files, name: str) -> None:
    chosen = app.selectbox(key="model_choice").value
    app.file_uploader(key="ckpt_upload").set_value(
        (f"{name}.safetensors", files[name].read_bytes(), "application/octet-stream")
    ).run()
    assert not app.exception
    shown = errors(app)
    assert len(shown) == 1 and shown[0].startswith(f"Checkpoint refused: {markdown_text(name)}"), shown
    assert BAD_CHECKPOINTS[name][2][0].split("'")[-2 if "'" in BAD_CHECKPOINTS[name][2][0] else 0] in shown[0]
    assert "Traceback" not in shown[0]
    assert app.selectbox(key="model_choice").value == chosen
    assert app.selectbox(key="image_choice").value


@pytest.mark.parametrize("upload_name", ["..", "m" * 400 + ".safetensors", "![x](http://evil.example/x.png)"])
def test_odd_checkpoint_names_are_only_names(app: AppTest, files, upload_name: str) -> None:
    app.file_uploader(key="ckpt_upload").set_value(
        (upload_name, files["good"].read_bytes(), "application/octet-stream")
    ).run()
    assert not app.exception and errors(app) == []
    assert app.selectbox(key="model_choice").value == f"uploaded: {upload_name}"
    assert_names_stay_names(app)


def test_hostile_label_names_render_as_text_in_every_view(app: AppTest, files) -> None:
    app.file_uploader(key="ckpt_upload").set_value(
        ("hostile.safetensors", files["hostile"].read_bytes(), "application/octet-stream")
    ).run()
    assert not app.exception and errors(app) == []
    details = " ".join(m.value for e in app.expander if e.label.startswith("Model details") for m in e.markdown)
    assert details.count(",") >= len(HOSTILE_LABELS) - 1
    for view in settings.VIEWS:
        app.session_state["view"] = view
        app.run()
        assert not app.exception, (view, app.exception)
        assert errors(app) == [], (view, errors(app))
        assert_names_stay_names(app)
    assert EVIL_HOST in " ".join(chart_strings(app) + shown_markdown(app))


def test_bad_images_and_same_name_uploads(app: AppTest, files) -> None:
    uploads = [
        ("strip.png", files["strip"].read_bytes(), "image/png"),
        ("same.png", png(1), "image/png"),
        ("same.png", png(2), "image/png"),
        ("p" * 400 + ".png", png(3), "image/png"),
        ("$x$ [a](http://evil.example).png", png(4), "image/png"),
    ]
    app.file_uploader(key="uploads").set_value(uploads).run()
    assert not app.exception
    shown = errors(app)
    assert len(shown) == 1 and "strip.png" in shown[0] and "limit" in shown[0], shown
    options = app.selectbox(key="image_choice").options
    same = [o for o in options if o.startswith("upload: same.png")]
    assert len(same) == 2
    for label in same:
        app.selectbox(key="image_choice").set_value(label).run()
        assert not app.exception and len(errors(app)) == 1
    assert_names_stay_names(app)
