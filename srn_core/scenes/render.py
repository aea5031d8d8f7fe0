"""Everything in a scene that is not a labelled object: textured backgrounds, faint clutter,
look-alike distractors, partial occluders and pixel noise; plus a contact sheet to eyeball scenes.

All randomness comes from the numpy Generator passed in, so a scene is a pure function of its seed.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Sequence
from functools import lru_cache
from statistics import NormalDist

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .glyphs import Placed, draw_glyph_mask, place_glyph
from .spec import RenderParams

BoxT = tuple[float, float, float, float]
RGB = tuple[int, int, int]
EDGE: RGB = (25, 25, 30)
_NORMAL_QUANTILES = np.array([NormalDist().inv_cdf((i + 0.5) / 256) for i in range(256)], np.float32)
# Glyphs whose pieces look like no class (a half cross or H turned round is a T, half a square or arrow
# a triangle, part of an E still an E ...).
FRAGMENT_GLYPHS = ("circle", "ring", "hexagon", "star", "heart", "bolt")


@lru_cache(maxsize=4)
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    return yy, xx


def object_colour(rng: np.random.Generator) -> RGB:
    """A saturated, bright fill colour; objects and distractors share this palette on purpose."""
    r, g, b = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.6, 1.0), rng.uniform(0.75, 1.0))
    return int(r * 255), int(g * 255), int(b * 255)


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A muted, textured background (HxWx3 uint8): base colour, low-frequency blotches, one texture."""
    base = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.05, 0.35), rng.uniform(0.4, 0.7))
    grid = int(rng.integers(3, 9))
    blotch = Image.fromarray(rng.integers(0, 256, (grid, grid, 3), dtype=np.uint8)).resize((size, size), Image.BILINEAR)
    arr = np.asarray(base, np.float32) * 255 + (np.asarray(blotch, np.float32) - 128) * rng.uniform(0.1, 0.25)
    yy, xx = _grid(size)
    kind = int(rng.integers(0, 4))
    if kind == 1:
        theta, period = rng.uniform(0, math.pi), rng.uniform(6, 20)
        wave = np.sin(2 * math.pi * (xx * math.cos(theta) + yy * math.sin(theta)) / period)
        arr += (wave * rng.uniform(6, 14))[..., None]
    elif kind == 2:
        cell = int(rng.integers(8, 24))
        arr += ((((xx // cell) + (yy // cell)) % 2 - 0.5) * rng.uniform(8, 18))[..., None]
    elif kind == 3:
        speck = rng.normal(0, rng.uniform(6, 12), (size // 4, size // 4, 1)).astype(np.float32)
        arr += np.repeat(np.repeat(speck, 4, axis=0), 4, axis=1)
    return np.clip(arr, 0, 255).astype(np.uint8)


def add_clutter(img: Image.Image, bg: np.ndarray, rng: np.random.Generator, count: int) -> None:
    """Faint lines, arcs and ellipses close to the local background colour (texture, not objects)."""
    draw = ImageDraw.Draw(img)
    size = img.width
    for _ in range(count):
        x, y = rng.uniform(0, size, 2)
        local = bg[int(y), int(x)].astype(int)
        colour = tuple(int(v) for v in np.clip(local + rng.integers(-30, 31, 3), 0, 255))
        r = rng.uniform(6, 30)
        kind = int(rng.integers(0, 3))
        if kind == 0:
            x2, y2 = x + rng.uniform(-2 * r, 2 * r), y + rng.uniform(-2 * r, 2 * r)
            draw.line([(x, y), (x2, y2)], fill=colour, width=int(rng.integers(1, 4)))
        elif kind == 1:
            start = rng.uniform(0, 360)
            draw.arc(
                [x - r, y - r, x + r, y + r],
                start,
                start + rng.uniform(60, 200),
                fill=colour,
                width=int(rng.integers(1, 3)),
            )
        else:
            draw.ellipse([x - r, y - r / 2, x + r, y + r / 2], fill=colour)


def _overlaps(box: BoxT, others: Sequence[BoxT], margin: float = 2.0) -> bool:
    return any(
        box[0] < o[2] + margin and o[0] < box[2] + margin and box[1] < o[3] + margin and o[1] < box[3] + margin
        for o in others
    )


def _fragment_mask(rng: np.random.Generator, size: int, stroke: int) -> Image.Image:
    """A random glyph cut by a line near its centre, keeping one side (a partial, unlabelled shape)."""
    tile = Image.new("L", (size + 8, size + 8), 0)
    centre = ((size + 8) / 2, (size + 8) / 2)
    glyph = FRAGMENT_GLYPHS[int(rng.integers(len(FRAGMENT_GLYPHS)))]
    placed = place_glyph(glyph, centre, size, rng.uniform(0, 360), stroke)
    draw_glyph_mask(ImageDraw.Draw(tile), placed)
    theta = rng.uniform(0, 2 * math.pi)
    yy, xx = _grid(tile.width)
    side = (xx - centre[0]) * math.cos(theta) + (yy - centre[1]) * math.sin(theta) < rng.uniform(-0.1, 0.05) * size
    return Image.fromarray(np.where(side, np.asarray(tile), 0).astype(np.uint8))


def _scribble_mask(rng: np.random.Generator, size: int, stroke: int) -> Image.Image:
    """A glyph-sized mark that resembles no class: a smooth wiggle, an open arc or an irregular blob."""
    tile = Image.new("L", (size + 8, size + 8), 0)
    draw = ImageDraw.Draw(tile)
    c, half = (size + 8) / 2, size / 2
    kind = int(rng.integers(3))
    if kind == 0:
        t = np.linspace(-1, 1, 16)
        a, phase, turns = rng.uniform(0, math.pi), rng.uniform(0, 2 * math.pi), rng.uniform(0.7, 1.6)
        across = 0.35 * np.sin(turns * math.pi * t + phase)
        xs = c + half * (t * math.cos(a) - across * math.sin(a))
        ys = c + half * (t * math.sin(a) + across * math.cos(a))
        draw.line(list(zip(xs.tolist(), ys.tolist())), fill=255, width=stroke, joint="curve")
    elif kind == 1:
        start = rng.uniform(0, 360)
        draw.arc([c - half, c - half, c + half, c + half], start, start + rng.uniform(90, 240), fill=255, width=stroke)
    else:
        n = int(rng.integers(5, 8))
        angles = np.sort(rng.uniform(0, 2 * math.pi, n))
        radii = rng.uniform(0.25, 0.5, n) * size
        radii[int(rng.integers(n))] = 0.08 * size  # a notch: never a convex, regular-looking polygon
        draw.polygon([(c + r * math.cos(a), c + r * math.sin(a)) for a, r in zip(angles, radii)], fill=255)
    return tile


def add_distractors(img: Image.Image, rng: np.random.Generator, params: RenderParams, avoid: Sequence[BoxT]) -> None:
    """Unlabelled look-alikes (glyph fragments, scribbles, blobs) drawn like objects, away from them."""
    count = int(rng.integers(params.distractors[0], params.distractors[1] + 1))
    taken = list(avoid)
    for _ in range(count):
        size = int(rng.integers(params.object_size[0], params.object_size[1] + 1))
        stroke = int(rng.integers(params.stroke[0], params.stroke[1] + 1))
        mask = _fragment_mask(rng, size, stroke) if rng.random() < 0.5 else _scribble_mask(rng, size, stroke)
        colour = object_colour(rng)
        for _ in range(20):
            x, y = (int(v) for v in rng.integers(0, img.width - mask.width, 2))
            box = (x, y, x + mask.width, y + mask.height)
            if not _overlaps(box, taken):
                img.paste(EDGE, (x, y), mask.filter(ImageFilter.MaxFilter(3)))
                img.paste(colour, (x, y), mask)
                taken.append(box)
                break


FAINT_OPACITY = 0.45


def draw_faint(img: Image.Image, placed: Placed, colour: RGB) -> None:
    """Draw a glyph at low contrast: its fill blended over the background, no dark outline."""
    mask = Image.new("L", img.size, 0)
    draw_glyph_mask(ImageDraw.Draw(mask), placed)
    img.paste(colour, (0, 0), mask.point(lambda v: int(v * FAINT_OPACITY)))


def occlude(img: Image.Image, bg: np.ndarray, rng: np.random.Generator, box: BoxT) -> None:
    """Hide a corner of an object (at most ~10% of its box) behind a patch sticking out of the box.

    Half of the patches are cut from the clean background (the object looks cut off), half are
    flat muted shapes (something in front of it).
    """
    w, h = box[2] - box[0], box[3] - box[1]
    fx = rng.uniform(0.25, 0.5)
    fy = min(0.5, 0.2 / fx) * rng.uniform(0.6, 1.0)
    ow, oh = fx * w, fy * h
    left, top = rng.random() < 0.5, rng.random() < 0.5
    x0 = box[0] - 0.3 * ow if left else box[2] - 0.7 * ow
    y0 = box[1] - 0.3 * oh if top else box[3] - 0.7 * oh
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    x1, y1 = min(img.width, int(x0 + ow)), min(img.height, int(y0 + oh))
    if x1 <= x0 or y1 <= y0:
        return
    if rng.random() < 0.5:
        img.paste(Image.fromarray(bg[y0:y1, x0:x1]), (x0, y0))
    else:
        r, g, b = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.05, 0.4), rng.uniform(0.3, 0.8))
        ImageDraw.Draw(img).rectangle([x0, y0, x1 - 1, y1 - 1], fill=(int(r * 255), int(g * 255), int(b * 255)))


def add_noise(img: Image.Image, rng: np.random.Generator, sigma: tuple[float, float]) -> Image.Image:
    """Global brightness/contrast jitter and Gaussian pixel noise.

    The noise is a random byte per pixel mapped through the 256 normal quantiles (a Gaussian rounded
    to whole grey levels), a few times faster than `standard_normal` and the costliest step otherwise.
    """
    arr = np.asarray(img)
    levels = np.clip(np.arange(256) * rng.uniform(0.9, 1.1) + rng.uniform(-12, 12), 0, 255).astype(np.int16)
    table = np.rint(_NORMAL_QUANTILES * rng.uniform(*sigma)).astype(np.int16)
    noisy = levels[arr] + table[np.frombuffer(rng.bytes(arr.size), np.uint8).reshape(arr.shape)]
    return Image.fromarray(np.clip(noisy, 0, 255, out=noisy).astype(np.uint8))


def contact_sheet(
    images: Sequence[Image.Image],
    captions: Sequence[str] = (),
    boxes: Sequence[Sequence[tuple[str, BoxT]]] = (),
    cols: int = 4,
) -> Image.Image:
    """Tile scenes into one image, with each object's box and label drawn and a caption under each."""
    if not images:
        raise ValueError("contact_sheet needs at least one image")
    w, h = images[0].size
    pad = 14
    rows = math.ceil(len(images) / cols)
    sheet = Image.new("RGB", (cols * (w + 4), rows * (h + pad + 4)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for i, img in enumerate(images):
        x, y = (i % cols) * (w + 4), (i // cols) * (h + pad + 4)
        sheet.paste(img, (x, y))
        for label, (x0, y0, x1, y1) in boxes[i] if i < len(boxes) else ():
            draw.rectangle([x + x0, y + y0, x + x1, y + y1], outline=(255, 255, 255))
            draw.text((x + x0 + 1, y + y0), label, fill=(255, 255, 255))
        if i < len(captions):
            draw.text((x + 2, y + h + 1), captions[i][: w // 6], fill=(0, 0, 0))
    return sheet
