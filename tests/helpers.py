"""Small models and label sets that build in milliseconds, shared by the tests."""

from __future__ import annotations

import numpy as np
import torch

from srn_core import SRN, CheckpointMeta

TINY = dict(backbone="compact", widths=(8, 16, 32, 64), input_size=64, att_channels=16, sr_channels=16)
TINY_LABELS = ["cat", "dog", "car", "tree", "sun"]
TINY_TARGETS = ([1, 1, 0, 0, 1], [1, 1, 1, 0, 0], [0, 1, 1, 1, 0])


def tiny_cli_args() -> list[str]:
    """TINY as `python -m srn_core train` options."""
    return [
        "--backbone",
        TINY["backbone"],
        "--widths",
        *(str(w) for w in TINY["widths"]),
        "--input-size",
        str(TINY["input_size"]),
        "--att-channels",
        str(TINY["att_channels"]),
        "--sr-channels",
        str(TINY["sr_channels"]),
    ]


def tiny_model(num_labels: int = len(TINY_LABELS), seed: int = 0, **overrides) -> SRN:
    """A small compact-backbone SRN with a 4x4 grid, deterministic for `seed`."""
    torch.manual_seed(seed)
    return SRN(num_labels, **{**TINY, **overrides}).eval()


def tiny_meta(model: SRN, labels: list[str] = TINY_LABELS) -> CheckpointMeta:
    """Metadata for `model` with `labels`, normalising pixels in [0, 1] with mean 0.5 and std 0.25."""
    return CheckpointMeta(model.config, list(labels), (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))


def blank_f_sr(model: SRN) -> SRN:
    """Zero every f_sr parameter and make conv3 the identity, so a test can wire f_sr by hand."""
    sr = model.f_sr
    with torch.no_grad():
        for p in sr.parameters():
            p.zero_()
        sr.conv3.weight[:, :, 0, 0] = torch.eye(sr.conv3.out_channels)
    return model


def tiny_analyses(model: SRN) -> list:
    """Analyses of three random 64 x 48 images (seed 0) named a, b, c, with TINY_TARGETS as ground truth."""
    from analysis import Analyzer

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(3)]
    return Analyzer(model, tiny_meta(model), "cpu").analyse(
        images, ["a", "b", "c"], targets=[np.array(t, np.int8) for t in TINY_TARGETS]
    )


def report_args(weights, images, out) -> list[str]:
    """The start of an `analysis report` command line: the subcommand, its model, its images and its folder."""
    return ["report", "--weights", str(weights), "--images", str(images), "--out", str(out)]
