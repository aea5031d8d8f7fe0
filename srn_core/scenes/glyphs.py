"""The object classes' shapes: each glyph is a few filled polygons and strokes in unit coordinates.

A glyph is drawn by `draw_glyph` at a size (the larger side of its box), rotation, stroke width and
colour; `place_glyph` computes the exact pixel outline and box first, so the ground-truth box is the
drawn object's box and the box centre is the requested centre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import ImageDraw

Points = list[tuple[float, float]]


@dataclass(frozen=True)
class Shape:
    """A glyph in unit coordinates (about [-1, 1], y down): filled polygons and open/closed strokes.

    `ring_width` makes closed strokes thicker in proportion to the size (a ring is a thick outline).
    """

    polys: tuple[Points, ...] = ()
    strokes: tuple[Points, ...] = ()
    ring_width: float = 0.0


def _regular(n: int, radius: float = 1.0, phase: float = -math.pi / 2) -> Points:
    return [
        (radius * math.cos(phase + 2 * math.pi * k / n), radius * math.sin(phase + 2 * math.pi * k / n))
        for k in range(n)
    ]


def _star() -> Points:
    return [
        (
            (1.0 if k % 2 == 0 else 0.42) * math.cos(-math.pi / 2 + math.pi * k / 5),
            (1.0 if k % 2 == 0 else 0.42) * math.sin(-math.pi / 2 + math.pi * k / 5),
        )
        for k in range(10)
    ]


def _crescent() -> Points:
    outer = [(math.cos(a), math.sin(a)) for a in np.linspace(math.pi * 0.5, math.pi * 1.5, 18)]
    inner = [(0.45 * math.cos(a) - 0.05, math.sin(a)) for a in np.linspace(math.pi * 1.5, math.pi * 0.5, 14)]
    return outer + inner


def _heart() -> Points:
    pts = []
    for t in np.linspace(0, 2 * math.pi, 36, endpoint=False):
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        pts.append((x / 16.0, -y / 16.0))
    return pts


SHAPES: dict[str, Shape] = {
    "circle": Shape(polys=(_regular(32),)),
    "square": Shape(polys=([(-1, -1), (1, -1), (1, 1), (-1, 1)],)),
    "triangle": Shape(polys=([(0, -1), (1, 0.85), (-1, 0.85)],)),
    "star": Shape(polys=(_star(),)),
    "cross": Shape(
        polys=(
            [
                (-0.3, -1),
                (0.3, -1),
                (0.3, -0.3),
                (1, -0.3),
                (1, 0.3),
                (0.3, 0.3),
                (0.3, 1),
                (-0.3, 1),
                (-0.3, 0.3),
                (-1, 0.3),
                (-1, -0.3),
                (-0.3, -0.3),
            ],
        )
    ),
    "hexagon": Shape(polys=(_regular(6, phase=0.0),)),
    "crescent": Shape(polys=(_crescent(),)),
    "heart": Shape(polys=(_heart(),)),
    "arrow": Shape(polys=([(-1, -0.25), (0.2, -0.25), (0.2, -0.7), (1, 0), (0.2, 0.7), (0.2, 0.25), (-1, 0.25)],)),
    "bolt": Shape(polys=([(0.2, -1), (-0.6, 0.1), (-0.05, 0.1), (-0.3, 1), (0.6, -0.2), (0.05, -0.2), (0.35, -1)],)),
    "bowtie": Shape(polys=([(-1, -0.8), (-0.05, 0), (-1, 0.8)], [(1, -0.8), (0.05, 0), (1, 0.8)])),
    "ring": Shape(strokes=(_regular(28) + _regular(28)[:1],), ring_width=0.16),
    "letter_T": Shape(strokes=([(-0.8, -0.9), (0.8, -0.9)], [(0, -0.9), (0, 0.9)])),
    "letter_H": Shape(strokes=([(-0.7, -0.9), (-0.7, 0.9)], [(0.7, -0.9), (0.7, 0.9)], [(-0.7, 0), (0.7, 0)])),
    "letter_E": Shape(strokes=([(0.6, -0.9), (-0.6, -0.9), (-0.6, 0.9), (0.6, 0.9)], [(-0.6, 0), (0.4, 0)])),
    "digit_7": Shape(strokes=([(-0.7, -0.9), (0.7, -0.9), (-0.15, 0.9)],)),
    "digit_4": Shape(strokes=([(0.35, 0.95), (0.35, -0.95), (-0.7, 0.35), (0.75, 0.35)],)),
    "hash": Shape(
        strokes=(
            [(-0.3, -0.95), (-0.45, 0.95)],
            [(0.45, -0.95), (0.3, 0.95)],
            [(-0.9, -0.35), (0.9, -0.35)],
            [(-0.9, 0.35), (0.9, 0.35)],
        )
    ),
}

GLYPH_NAMES: tuple[str, ...] = tuple(SHAPES)


@dataclass(frozen=True)
class Placed:
    """A glyph laid out in pixels: outlines to draw and its box (x0, y0, x1, y1)."""

    polys: tuple[Points, ...]
    strokes: tuple[Points, ...]
    stroke_width: int
    ring_width: int
    box: tuple[float, float, float, float]


def _rotate(points: Points, angle_deg: float) -> np.ndarray:
    a = math.radians(angle_deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return np.asarray(points, dtype=float) @ rot.T


def place_glyph(name: str, centre: tuple[float, float], size: float, angle_deg: float, stroke: int) -> Placed:
    """Lay out glyph `name` so its box's larger side is `size` px and its box centre is `centre`."""
    shape = SHAPES[name]
    ring = max(stroke, int(round(shape.ring_width * size))) if shape.ring_width else 0
    pad = (max(stroke, ring) + 2) / 2 if shape.strokes else 1.0
    rotated = [_rotate(p, angle_deg) for p in shape.polys + shape.strokes]
    allpts = np.concatenate(rotated)
    lo, hi = allpts.min(axis=0), allpts.max(axis=0)
    scale = max(size - 2 * pad, 4.0) / float(max(hi - lo))
    offset = np.asarray(centre) - (lo + hi) / 2 * scale
    pix = [[(float(x), float(y)) for x, y in p * scale + offset] for p in rotated]
    half = (hi - lo) / 2 * scale + pad
    box = (centre[0] - half[0], centre[1] - half[1], centre[0] + half[0], centre[1] + half[1])
    n = len(shape.polys)
    return Placed(tuple(pix[:n]), tuple(pix[n:]), stroke, ring, box)


def draw_glyph(
    draw: ImageDraw.ImageDraw, placed: Placed, colour: tuple[int, int, int], edge: tuple[int, int, int]
) -> None:
    """Draw a placed glyph: filled polygons with an `edge`-coloured outline, strokes with an `edge` halo.

    Strokes get round caps, so the drawn mark fills its box (half the halo width past every end).
    """
    for poly in placed.polys:
        draw.polygon(poly, fill=colour, outline=edge, width=2)
    width = placed.ring_width or placed.stroke_width
    for fill, w in ((edge, width + 2), (colour, width)):
        for line in placed.strokes:
            draw.line(line, fill=fill, width=w, joint="curve")
            for x, y in (line[0], line[-1]):
                draw.ellipse([x - w / 2, y - w / 2, x + w / 2, y + w / 2], fill=fill)


def draw_glyph_mask(draw: ImageDraw.ImageDraw, placed: Placed) -> None:
    """Draw a placed glyph in white on a mode-"L" image (used to cut fragments for distractors)."""
    for poly in placed.polys:
        draw.polygon(poly, fill=255)
    for line in placed.strokes:
        draw.line(line, fill=255, width=placed.ring_width or placed.stroke_width, joint="curve")
