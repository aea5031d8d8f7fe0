"""Image loading: every format and mode a user may have, and one clear error for every bad file."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from srn_core import ImageLoadError, load_image
from srn_core.preprocess import Preprocessor


def _save(tmp_path, name, image, **kwargs):
    path = tmp_path / name
    image.save(path, **kwargs)
    return path


def _rgb(w=40, h=30, colour=(200, 30, 60)):
    return Image.new("RGB", (w, h), colour)


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("a.jpg", {"quality": 95}),
        ("a.png", {}),
        ("a.webp", {"lossless": True}),
        ("a.bmp", {}),
        ("a.tiff", {}),
        ("a.gif", {}),
    ],
)
def test_common_formats_load_as_rgb(tmp_path, name, kwargs):
    image = load_image(_save(tmp_path, name, _rgb(), **kwargs))
    assert image.mode == "RGB" and image.size == (40, 30)
    assert np.abs(np.asarray(image).astype(int)[5, 5] - (200, 30, 60)).max() <= 25


def test_gif_gives_first_frame(tmp_path):
    frames = [_rgb(colour=(255, 0, 0)), _rgb(colour=(0, 0, 255))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    pixel = np.asarray(load_image(path))[0, 0]
    assert pixel[0] > 200 and pixel[2] < 50


def test_16bit_png_is_scaled_not_clipped(tmp_path):
    arr = np.full((8, 8), 32768, dtype=np.uint16)
    path = _save(tmp_path, "deep.png", Image.fromarray(arr))
    assert Image.open(path).mode.startswith("I")
    value = np.asarray(load_image(path))[0, 0]
    assert abs(int(value[0]) - 128) <= 1 and value[0] == value[1] == value[2]


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "1"])
def test_other_modes_become_rgb(tmp_path, mode):
    image = _rgb().convert(mode)
    ext = "tiff" if mode == "CMYK" else "png"
    loaded = load_image(_save(tmp_path, f"m.{ext}", image))
    assert loaded.mode == "RGB" and loaded.size == (40, 30)


def test_rgba_is_composited_on_white(tmp_path):
    image = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    image.putpixel((0, 0), (255, 0, 0, 255))
    loaded = np.asarray(load_image(_save(tmp_path, "t.png", image)))
    assert tuple(loaded[3, 3]) == (255, 255, 255)
    assert tuple(loaded[0, 0]) == (255, 0, 0)


def test_palette_transparency_is_composited_on_white(tmp_path):
    image = Image.new("P", (4, 4), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.putpixel((0, 0), 1)
    loaded = np.asarray(load_image(_save(tmp_path, "p.png", image, transparency=0)))
    assert tuple(loaded[2, 2]) == (255, 255, 255) and tuple(loaded[0, 0]) == (255, 0, 0)


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (60, 20), (0, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6
    loaded = load_image(_save(tmp_path, "rot.jpg", image, exif=exif.tobytes()))
    assert loaded.size == (20, 60)


@pytest.mark.parametrize(
    "array",
    [
        np.zeros((5, 6), np.uint8),
        np.zeros((5, 6, 3), np.uint8),
        np.zeros((5, 6, 4), np.uint8),
        np.ones((5, 6, 3), np.float32),
        np.zeros((5, 6, 1), np.uint16),
    ],
)
def test_arrays_are_accepted(array):
    loaded = load_image(array)
    assert loaded.mode == "RGB" and loaded.size == (6, 5)


def test_bytes_and_pil_images_are_accepted(tmp_path):
    buffer = io.BytesIO()
    _rgb().save(buffer, format="PNG")
    assert load_image(buffer.getvalue(), name="upload.png").size == (40, 30)
    assert load_image(_rgb().convert("L")).mode == "RGB"


def _truncated(tmp_path):
    full = _save(
        tmp_path, "full.jpg", Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8))
    )
    path = tmp_path / "cut.jpg"
    path.write_bytes(full.read_bytes()[:400])
    return path


def _write(name, data):
    def make(folder):
        path = folder / name
        path.write_bytes(data)
        return path

    return make


@pytest.mark.parametrize(
    "make,reason",
    [
        (lambda folder: folder / "missing.png", "does not exist"),
        (_write("empty.png", b""), "empty"),
        (_write("notes.png", b"just text"), "not an image"),
        (_write("junk.jpg", b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4), "corrupt|not an image"),
        (_truncated, "corrupt or truncated"),
    ],
)
def test_bad_files_raise_one_error_naming_file_and_reason(tmp_path, make, reason):
    path = make(tmp_path)
    with pytest.raises(ImageLoadError, match=reason) as info:
        load_image(path)
    assert str(path) in str(info.value)
    assert info.value.source == str(path)


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    path = _save(tmp_path, "big.png", Image.new("L", (3000, 3000)))
    with pytest.raises(ImageLoadError, match="exceeds the limit"):
        load_image(path, max_pixels=1_000_000)


def test_bad_arrays_are_named():
    with pytest.raises(ImageLoadError, match="shape"):
        load_image(np.zeros((2, 3, 5)), name="weird")
    with pytest.raises(ImageLoadError, match="NaN"):
        load_image(np.full((2, 2), np.nan), name="nan")


def test_preprocessor_resizes_whole_image_without_crop_and_normalises():
    image = Image.new("RGB", (300, 100), (255, 255, 255))
    image.paste((0, 0, 0), (0, 0, 30, 100))
    pre = Preprocessor(64, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    tensor = pre(image)
    assert tensor.shape == (3, 64, 64) and tensor.dtype == torch.float32
    assert tensor[:, :, 0].max() < -0.9 and tensor[:, :, -1].min() > 0.9
    assert pre.batch([image, image]).shape == (2, 3, 64, 64)
