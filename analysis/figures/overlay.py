"""Attention maps laid over the original image: upsample, normalise, colour and blend, all labels at once.

Nearest upsampling (the paper's figures) maps output pixel (x, y) to grid cell
(floor((y + 0.5) * g / H), floor((x + 0.5) * g / W)): cell (r, c) covers the image block whose
centre is ((c + 0.5) W / g, (r + 0.5) H / g), because the model saw the whole image resized.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np
from matplotlib import colormaps
from PIL import Image

from ..session import ImageAnalysis, LabelRef

UPSAMPLING = {"nearest": None, "bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC}
CV_MAX_CHANNELS = 128  # OpenCV resizes at most this many channels at once


def upsample_maps(maps: np.ndarray, size: tuple[int, int], mode: str = "nearest") -> np.ndarray:
    """(K, h, w) maps -> (K, H, W) float32 at `size` = (H, W), in one pass for all K maps.

    `mode`: 'nearest' (blocks, as in the paper), 'bilinear' or 'bicubic' (smooth, cell centres aligned).
    """
    if mode not in UPSAMPLING:
        raise ValueError(f"unknown upsampling {mode!r}; choose one of {tuple(UPSAMPLING)}")
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim != 3:
        raise ValueError(f"maps must be (K, h, w), got shape {maps.shape}")
    height, width = int(size[0]), int(size[1])
    k, h, w = maps.shape
    if mode == "nearest":
        rows = np.minimum(((np.arange(height) + 0.5) * h / height).astype(np.int64), h - 1)
        cols = np.minimum(((np.arange(width) + 0.5) * w / width).astype(np.int64), w - 1)
        return np.ascontiguousarray(maps[:, rows][:, :, cols])
    out = np.empty((k, height, width), dtype=np.float32)
    for start in range(0, k, CV_MAX_CHANNELS):
        chunk = np.ascontiguousarray(maps[start : start + CV_MAX_CHANNELS].transpose(1, 2, 0))
        resized = cv2.resize(chunk, (width, height), interpolation=UPSAMPLING[mode])
        out[start : start + CV_MAX_CHANNELS] = resized.reshape(height, width, -1).transpose(2, 0, 1)
    return out


def normalize_maps(maps: np.ndarray, how: str | tuple[float, float] = "map") -> np.ndarray:
    """Scale maps to [0, 1]: 'map' (each map by its own min and max), 'global' (one range for all)
    or a fixed (low, high) range. Flat maps become 0."""
    maps = np.asarray(maps, dtype=np.float32)
    if isinstance(how, tuple):
        low, high = (np.float32(v) for v in how)
    elif how == "map":
        axes = tuple(range(1, maps.ndim))
        low, high = maps.min(axis=axes, keepdims=True), maps.max(axis=axes, keepdims=True)
    elif how == "global":
        low, high = maps.min(), maps.max()
    else:
        raise ValueError(f"unknown normalisation {how!r}; use 'map', 'global' or a (low, high) tuple")
    span = np.where(high - low > 0, high - low, 1.0)
    return np.clip((maps - low) / span, 0.0, 1.0) * (high - low > 0)


def colour_table(cmap: str = "jet") -> np.ndarray:
    """A matplotlib colour map as a (256, 3) uint8 lookup table."""
    try:
        table = colormaps[cmap](np.linspace(0.0, 1.0, 256))[:, :3]
    except KeyError:
        raise ValueError(f"unknown colour map {cmap!r}") from None
    return np.round(table * 255).astype(np.uint8)


def colorize(values: np.ndarray, cmap: str = "jet") -> np.ndarray:
    """Values in [0, 1] of any shape -> uint8 RGB of that shape + (3,)."""
    index = np.clip(np.round(np.asarray(values, dtype=np.float32) * 255), 0, 255).astype(np.uint8)
    return colour_table(cmap)[index]


def blend(
    image: np.ndarray, colours: np.ndarray, opacity: float = 0.5, weights: np.ndarray | None = None
) -> np.ndarray:
    """(1 - a) * image + a * colours with a = opacity (times `weights` per pixel, if given: values in
    [0, 1] of shape colours.shape[:-1]), broadcast over leading label axes; uint8 out."""
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must lie in [0, 1], got {opacity}")
    alpha = np.float32(opacity) if weights is None else np.float32(opacity) * weights[..., None].astype(np.float32)
    mixed = (1.0 - alpha) * image.astype(np.float32) + alpha * colours.astype(np.float32)
    return np.clip(np.round(mixed), 0, 255).astype(np.uint8)


def fit_image(image: np.ndarray, max_side: int | None) -> np.ndarray:
    """Shrink `image` (area interpolation) so that its longer side is at most `max_side`."""
    height, width = image.shape[:2]
    if max_side is None or max(height, width) <= max_side:
        return image
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def kind_range(kind: str) -> str | tuple[float, float]:
    """How maps of `kind` are scaled for display: sigmoid(S) on its fixed range (0, 1), A and U each
    by its own range."""
    return (0.0, 1.0) if kind == "confidence" else "map"


def encode_image(image: np.ndarray, fmt: str = "JPEG", quality: int = 90) -> bytes:
    """An RGB uint8 image as JPEG (fast, small: for screen thumbnails) or PNG (lossless, fast compression)."""
    options = {"quality": quality} if fmt == "JPEG" else {"compress_level": 1}
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def data_uri(image: np.ndarray, fmt: str = "PNG") -> str:
    """An RGB uint8 image as a data: URI (plotly's go.Image(source=...) sends it as one short string)."""
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(encode_image(image, fmt)).decode("ascii")


def colour_bar(cmap: str, width: int = 256, height: int = 12) -> np.ndarray:
    """A horizontal colour bar of `cmap`, low values on the left, as an RGB uint8 image."""
    return np.ascontiguousarray(np.broadcast_to(colorize(np.linspace(0.0, 1.0, width), cmap), (height, width, 3)))


@dataclass
class Overlays:
    """Blended images (K, H, W, 3) uint8, the upsampled values (K, H, W) in [0, 1] and their labels."""

    images: np.ndarray
    values: np.ndarray
    labels: list[str]
    kind: str


def overlay_image(
    image: np.ndarray,
    maps: np.ndarray,
    mode: str = "nearest",
    cmap: str = "jet",
    opacity: float = 0.5,
    normalize: str | tuple[float, float] = "map",
    max_side: int | None = None,
    fade: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Lay each of `maps` (K, g, g) over `image` (H, W, 3): returns (blended (K, H', W', 3), values).

    `fade` scales the opacity of each pixel by the square root of its normalised value, so that low
    values leave the image as it is and the high ones are coloured (the colour map's dark end no
    longer tints the whole image, and a peaked map still shows around its peak).
    """
    base = fit_image(np.asarray(image, dtype=np.uint8), max_side)
    values = normalize_maps(upsample_maps(maps, base.shape[:2], mode), normalize)
    return blend(base, colorize(values, cmap), opacity, np.sqrt(values) if fade else None), values


def overlay_maps(
    analysis: ImageAnalysis,
    labels: Iterable[LabelRef] | None = None,
    kind: str = "attention",
    mode: str = "nearest",
    cmap: str = "jet",
    opacity: float = 0.5,
    normalize: str | tuple[float, float] = "auto",
    max_side: int | None = None,
    fade: bool = False,
) -> Overlays:
    """Overlays of A, sigmoid(S) or U (`kind`) for `labels` (default all) on the analysed image.

    `normalize='auto'` uses the fixed range (0, 1) for sigmoid(S) and each map's own range for A and U.
    """
    index = analysis.indices(labels)
    how = kind_range(kind) if normalize == "auto" else normalize
    images, values = overlay_image(analysis.image, analysis.maps(kind)[index], mode, cmap, opacity, how, max_side, fade)
    return Overlays(images, values, [analysis.label_names[i] for i in index], kind)


def overlay_thumbnails(
    analysis: ImageAnalysis,
    labels: Iterable[LabelRef],
    kind: str = "attention",
    mode: str = "nearest",
    cmap: str = "jet",
    opacity: float = 0.5,
    side: int = 224,
    fade: bool = False,
) -> list[bytes]:
    """JPEG thumbnails (longer side at most `side`) of the overlays of `labels`: what a screen grid shows."""
    overlays = overlay_maps(analysis, labels, kind, mode, cmap, opacity, max_side=side, fade=fade)
    return [encode_image(image, "JPEG") for image in overlays.images]
