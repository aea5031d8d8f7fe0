"""Images whose header alone asks for gigabytes (issue 15: findings 5, 6) are refused before decoding,
through the library, the predict CLI and the report CLI; the other images of the batch still run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from analysis.cli import main as analysis_main
from srn_core import Predictor
from srn_core.cli import main as srn_main
from srn_core.images import MAX_ASPECT, ImageLoadError, load_image
from tests.helpers import report_args

from .hostile_corpus import BAD_IMAGES, current_rss_bytes, peak_rss_bytes, reset_peak_rss, write_png_header

pytestmark = pytest.mark.timeout(180)  # a hostile input must never hang a run

REFUSAL_BYTES = 50 * 2**20


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile_images")
    found = {
        name: write_png_header(folder / f"{name}.png", width, height) for name, (_, width, height) in BAD_IMAGES.items()
    }
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(folder / "good.png")
    Image.fromarray(rng.integers(0, 255, (10, int(10 * MAX_ASPECT), 3), dtype=np.uint8)).save(folder / "banner.png")
    return found | {"good": folder / "good.png", "banner": folder / "banner.png"}


@pytest.mark.parametrize("name", BAD_IMAGES)
def test_refused_from_the_header_with_little_memory(images, name: str) -> None:
    base = current_rss_bytes()
    reset_peak_rss()
    with pytest.raises(ImageLoadError, match="limit") as info:
        load_image(images[name])
    assert info.value.source == str(images[name])
    assert peak_rss_bytes() - base < REFUSAL_BYTES


def test_the_widest_accepted_aspect_ratio_is_analysed(images, tiny_checkpoint) -> None:
    [result] = Predictor.from_checkpoint(tiny_checkpoint, "cpu").predict([images["banner"]])
    assert result.image_size == (int(10 * MAX_ASPECT), 10) and np.isfinite(result.probabilities()["fused"]).all()


@pytest.mark.parametrize("name", BAD_IMAGES)
def test_predictor_names_the_bad_image(images, name: str, tiny_checkpoint) -> None:
    predictor = Predictor.from_checkpoint(tiny_checkpoint, "cpu")
    base = current_rss_bytes()
    reset_peak_rss()
    with pytest.raises(ImageLoadError, match=name):
        predictor.predict([images["good"], images[name]])
    assert peak_rss_bytes() - base < REFUSAL_BYTES


def test_predict_cli_reports_each_bad_image_and_runs_the_rest(images, tiny_checkpoint, capsys) -> None:
    paths = [str(images[n]) for n in (*BAD_IMAGES, "good")]
    code = srn_main(["predict", "--weights", str(tiny_checkpoint), *paths])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err
    assert f"{images['good']}:" in out
    for name in BAD_IMAGES:
        assert f"error: {images[name]}:" in err
    assert f"{len(BAD_IMAGES)} of {len(paths)} images failed" in err


def test_report_cli_lists_bad_images_and_analyses_the_rest(images, tiny_checkpoint, tmp_path, capsys) -> None:
    folder = Path(images["good"]).parent
    code = analysis_main(
        [
            *report_args(tiny_checkpoint, folder, tmp_path / "report"),
            "--formats",
            "png",
            "--no-progress",
            "--top-k",
            "1",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err
    assert "2 of 7 images analysed" in out
    index = (tmp_path / "report" / "index.html").read_text()
    for name in BAD_IMAGES:
        assert f"{name}.png" in index


def test_a_large_transparent_image_is_loaded_in_bands(tmp_path) -> None:
    """16 megapixels RGBA: decoding (64 MB) plus the RGB result (48 MB) and small bands, not three RGBA copies."""
    side = 4000
    ramp = np.linspace(0, 255, side, dtype=np.uint8)
    rgba = np.empty((side, side, 4), np.uint8)
    rgba[..., :3] = ramp[None, :, None]
    rgba[..., 3] = ramp[:, None]
    path = tmp_path / "large.png"
    Image.fromarray(rgba, "RGBA").save(path, compress_level=1)
    del rgba
    base = current_rss_bytes()
    reset_peak_rss()
    loaded = load_image(path)
    assert loaded.mode == "RGB" and loaded.size == (side, side)
    assert peak_rss_bytes() - base < 2.5 * side * side * 4
    assert loaded.getpixel((side - 1, 0)) == (255, 255, 255) and loaded.getpixel((side - 1, side - 1))[0] == 255
