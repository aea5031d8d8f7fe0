"""analysis.measures.attention_stats' pixel <-> cell maths: where a click on a shown map lands, and the
move that puts a label's peak there."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import ImageAnalysis
from analysis.measures.attention_stats import cell_centres, cell_to_pixel, pixel_to_cell, shift_to_cell


def analysis_with_peaks(peaks: dict[int, tuple[int, int]], grid: int = 4, labels: int = 3) -> ImageAnalysis:
    """An analysis of a 60 x 40 image whose weighted map of label k peaks on cell peaks[k] = (row, col)."""
    u = np.full((labels, grid, grid), 0.01, np.float32)
    for k, (row, col) in peaks.items():
        u[k, row, col] = 1.0
    zeros = np.zeros(labels, np.float32)
    return ImageAnalysis(
        source="x",
        image_size=(60, 40),
        label_names=[f"l{k}" for k in range(labels)],
        logits=zeros,
        cls_logits=zeros,
        sr_logits=zeros,
        att_logits=zeros,
        attention=u,
        confidence_logits=u * 0,
        weighted_attention=u,
        image=np.zeros((40, 60, 3), np.uint8),
        alpha=0.5,
    )


def test_cell_centres_are_the_pixels_of_cell_to_pixel() -> None:
    xs, ys = cell_centres(4, (320, 160))
    assert xs == [40.0, 120.0, 200.0, 280.0] and ys == [20.0, 60.0, 100.0, 140.0]
    np.testing.assert_allclose(cell_to_pixel(np.array([2]), np.array([1]), 4, (320, 160)), [[xs[1], ys[2]]])


@pytest.mark.parametrize(
    ("x", "y", "cell"),
    [
        (0.0, 0.0, (0, 0)),
        (79.9, 39.9, (0, 0)),
        (80.0, 40.0, (1, 1)),
        (319.0, 159.0, (3, 3)),
        (320.0, 160.0, (3, 3)),
        (-5.0, 500.0, (3, 0)),
        (200.0, 60.0, (1, 2)),
    ],
)
def test_a_pixel_falls_in_its_cell_and_edges_in_the_nearest(x: float, y: float, cell: tuple[int, int]) -> None:
    assert pixel_to_cell(x, y, 4, (320, 160)) == cell


def test_every_cell_centre_maps_back_to_its_cell() -> None:
    xs, ys = cell_centres(14, (317, 203))
    assert [pixel_to_cell(x, ys[0], 14, (317, 203))[1] for x in xs] == list(range(14))
    assert [pixel_to_cell(xs[0], y, 14, (317, 203))[0] for y in ys] == list(range(14))


def test_shift_to_cell_moves_the_peak_onto_the_cell() -> None:
    analysis = analysis_with_peaks({0: (1, 2), 2: (3, 0)})
    assert shift_to_cell(analysis, "l0", (3, 3)) == (1, 2)
    assert shift_to_cell(analysis, 2, (0, 3)) == (3, -3)
    assert shift_to_cell(analysis, "l0", (1, 2)) == (0, 0)
