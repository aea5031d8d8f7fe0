"""Load any image a user may have as an 8-bit RGB PIL image, or fail with one clear error type."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 64_000_000
MAX_SIDE = 16_384
MAX_ASPECT = 16.0
BAND_PIXELS = 1_000_000
ImageSource = str | Path | bytes | Image.Image | np.ndarray


class ImageLoadError(ValueError):
    """An image could not be used; `source` names it and `reason` says why."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


def source_name(source: ImageSource, name: str | None = None) -> str:
    """A short human name for an image source, used in messages and reports."""
    if name:
        return name
    if isinstance(source, (str, Path)):
        return str(source)
    if isinstance(source, Image.Image) and getattr(source, "filename", None):
        return str(source.filename)
    return f"<{type(source).__name__}>"


def check_size(width: int, height: int, name: str, max_pixels: int = MAX_PIXELS) -> None:
    """Refuse image sizes whose decoding or resizing could exhaust memory, from the header alone.

    Limits: `max_pixels` pixels, MAX_SIDE pixels a side and an aspect ratio of MAX_ASPECT; together
    they bound every buffer that loading, preprocessing and the figures allocate.
    """
    if width <= 0 or height <= 0:
        raise ImageLoadError(name, "image has no pixels")
    if width * height > max_pixels:
        raise ImageLoadError(name, f"{width}x{height} pixels exceeds the limit of {max_pixels:,} pixels")
    if max(width, height) > MAX_SIDE:
        raise ImageLoadError(name, f"{width}x{height} pixels: a side over the limit of {MAX_SIDE:,} pixels")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ImageLoadError(name, f"{width}x{height} pixels: aspect ratio over the limit of {MAX_ASPECT:g}:1")


def _to_8bit(im: Image.Image) -> Image.Image:
    """Scale 16/32-bit integer and float images to 8 bits instead of clipping them (in place, float32)."""
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        arr = np.array(im, dtype=np.float32)
        peak = float(arr.max(initial=0))
        top = 1.0 if im.mode == "F" and peak <= 1.0 else (255.0 if peak <= 255 else 65535.0)
        arr *= 255.0 / top
        arr += 0.5
        np.clip(arr, 0, 255, out=arr)
        return Image.fromarray(arr.astype(np.uint8), "L")
    return im


def _composite_on_white(im: Image.Image) -> Image.Image:
    """RGB, with any transparency composited on white band by band, so that a large image needs one
    RGB copy and a few small bands on top of itself instead of three full RGBA copies."""
    if not (im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (im.mode == "P" and "transparency" in im.info)):
        return im.convert("RGB")
    out = Image.new("RGB", im.size, (255, 255, 255))
    rows = max(1, BAND_PIXELS // im.width)
    for top in range(0, im.height, rows):
        box = (0, top, im.width, min(im.height, top + rows))
        band = im.crop(box).convert("RGBA")
        white = Image.new("RGBA", band.size, (255, 255, 255, 255))
        out.paste(Image.alpha_composite(white, band).convert("RGB"), box[:2])
    return out


def _from_array(arr: np.ndarray, name: str) -> Image.Image:
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)) or arr.size == 0:
        raise ImageLoadError(name, f"array of shape {arr.shape} is not an HxW, HxWx3 or HxWx4 image")
    check_size(arr.shape[1], arr.shape[0], name)
    if arr.dtype == np.uint8:
        data = arr
    elif arr.dtype == np.uint16:
        data = (arr.astype(np.float64) / 65535.0 * 255.0 + 0.5).astype(np.uint8)
    elif np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise ImageLoadError(name, "array holds NaN or infinite values")
        scale = 255.0 if arr.max(initial=0) <= 1.0 else 1.0
        data = np.clip(arr * scale + 0.5, 0, 255).astype(np.uint8)
    else:
        raise ImageLoadError(name, f"unsupported array dtype {arr.dtype}")
    return Image.fromarray(np.ascontiguousarray(data))


def _open(source: ImageSource, name: str) -> Image.Image:
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise ImageLoadError(name, "file does not exist")
        if not path.is_file():
            raise ImageLoadError(name, "not a file")
        if path.stat().st_size == 0:
            raise ImageLoadError(name, "file is empty")
        return Image.open(path)
    if isinstance(source, (bytes, bytearray)):
        if not source:
            raise ImageLoadError(name, "file is empty")
        return Image.open(io.BytesIO(source))
    raise ImageLoadError(name, f"unsupported image source type {type(source).__name__}")


def load_image(source: ImageSource, name: str | None = None, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Return `source` as an RGB image: EXIF orientation applied, alpha composited on white,
    first frame of animations, 16-bit scaled to 8-bit. Raises ImageLoadError on any problem.

    The size limits (`check_size`) are applied to the header before any pixel is decoded.
    """
    label = source_name(source, name)
    if isinstance(source, np.ndarray):
        return _from_array(source, label).convert("RGB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = source if isinstance(source, Image.Image) else _open(source, label)
            check_size(*im.size, label, max_pixels)
            if getattr(im, "n_frames", 1) > 1:
                im.seek(0)
            im.load()
            if isinstance(source, Image.Image):
                im = ImageOps.exif_transpose(im)  # a copy: the caller's image stays as it was
            else:
                ImageOps.exif_transpose(im, in_place=True)
            return _composite_on_white(_to_8bit(im))
    except ImageLoadError:
        raise
    except UnidentifiedImageError:
        raise ImageLoadError(label, "not an image file (format not recognised)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageLoadError(label, f"too many pixels (possible decompression bomb): {exc}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageLoadError(label, f"corrupt or truncated image ({exc})") from None
