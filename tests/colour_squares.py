"""An easy multi-label dataset for the training tests: coloured squares on grey, one label per colour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from srn_core.datasets import MultiLabelDataset, Sample, write_manifest
from srn_core.training import TrainConfig

from .helpers import TINY

COLOURS = {"red": (230, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 230)}


def square_image(targets: np.ndarray, rng: np.random.Generator, size: int = 64) -> Image.Image:
    """A grey image with a 22-pixel square of each colour whose target is 1, at random places."""
    image = Image.new("RGB", (size, size), (128, 128, 128))
    draw = ImageDraw.Draw(image)
    for on, colour in zip(targets, COLOURS.values()):
        if on == 1:
            x, y = (int(v) for v in rng.integers(0, size - 24, 2))
            draw.rectangle([x, y, x + 22, y + 22], fill=colour)
    return image


def make_squares(root: Path, count: int, seed: int = 0, unknown_every: int = 0) -> Path:
    """Write `count` PNGs and a manifest under `root`; return the manifest path.

    With `unknown_every` = k, every k-th image has its last label marked unknown (-1).
    """
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    samples = []
    for i in range(count):
        targets = rng.integers(0, 2, len(COLOURS)).astype(np.int8)
        path = root / "images" / f"{i:03d}.png"
        square_image(targets, rng).save(path)
        if unknown_every and i % unknown_every == 0:
            targets[-1] = -1
        samples.append(Sample(path, targets))
    return write_manifest(root / "manifest.json", MultiLabelDataset(list(COLOURS), samples))


def tiny_config(out: Path, data: Path | None, **overrides) -> TrainConfig:
    """A TrainConfig of the tiny compact model that trains in seconds on the CPU."""
    settings = dict(
        out=out,
        data=str(data) if data else None,
        **TINY,
        pretrained="none",
        epochs=(3, 2, 2, 2),
        lr=1e-2,
        optimizer="adam",
        weight_decay=0.0,
        batch_size=8,
        checkpoint_every=4,
        progress=False,
    )
    settings.update(overrides)
    return TrainConfig(**settings)
