"""Scenes for the scene-data commands (scene-proof, probe): fresh ones of a seed, or a manifest's."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tqdm import tqdm

from srn_core.datasets import read_manifest
from srn_core.scenes import generate_dataset, load_spec
from srn_core.sources import align_dataset

from ..session import Analyzer, ImageAnalysis


def analyse_scenes(
    analyzer: Analyzer, generate: int | None, seed: int, spec: Path | None, manifest: Path | None
) -> tuple[list[ImageAnalysis], dict[str, str]]:
    """Analyses of `generate` fresh scenes of `seed` and `spec` (rendered into a scratch folder that is
    removed afterwards), or of the scenes a manifest lists; and the images that failed, {path: reason}."""
    with tempfile.TemporaryDirectory(prefix="srn-scenes-") as scratch:
        if generate:
            dataset = generate_dataset(scratch, generate, seed, load_spec(spec), progress=True)
        else:
            dataset = read_manifest(manifest)
        dataset = align_dataset(dataset, analyzer.label_names)
        return analyzer.analyse_samples(dataset.samples, progress=lambda it: tqdm(it, desc="analyse"))
