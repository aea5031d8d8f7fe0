"""Every faithfulness measure for every chosen label of a set of images, and their summary.

`FaithfulnessEvaluator(analyzer, options).image(analysis)` measures one image (deletion/insertion,
ROAD, randomisation, random-label, localisation) and returns its records; `summarise` turns the
records of many images into a table with bootstrap intervals, mean curves and label-pair
similarities. `evaluate_faithfulness` does both with a progress bar.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from ..measures.gradcam import gradcam_maps
from ..session import Analyzer, ImageAnalysis, LabelRef
from .localisation import localisation, peak_points
from .methods import BASELINES, METHODS, MODEL_METHODS, check_methods, method_maps, pool_to_grid, upsample_to_input
from .perturbation import FILLS, HEADS, ROAD_LEVELS, perturbation_curves, road_scores, srn_scores
from .randomisation import CASCADE, randomised_cascade
from .similarity import spearman, ssim


@dataclass
class FaithfulnessOptions:
    """What to measure and how. `labels=None` takes each image's present labels (ground truth when
    known, else fused probability > `threshold`). ROAD (slow: one sparse solve per removal) runs on
    the first `road_images` images only."""

    methods: tuple[str, ...] = METHODS
    labels: Sequence[LabelRef] | None = None
    threshold: float = 0.5
    steps: int = 14
    fill: str = "mean"
    sigma: float = 5.0
    batch_size: int = 64
    road_images: int = 0
    road_levels: tuple[float, ...] = ROAD_LEVELS
    stages: tuple[str, ...] = CASCADE
    random_label: bool = True
    tolerance: float = 15.0
    seed: int = 0

    def __post_init__(self) -> None:
        self.methods = tuple(check_methods(self.methods))
        if self.fill not in FILLS:
            raise ValueError(f"unknown fill {self.fill!r}; choose one of {FILLS}")
        bad = [s for s in self.stages if s not in CASCADE]
        if bad:
            raise ValueError(f"unknown randomisation stages {bad}; choose from {CASCADE}")
        if self.steps < 1 or self.batch_size < 1 or self.road_images < 0:
            raise ValueError(
                f"steps and batch_size must be >= 1 and road_images >= 0, got {self.steps}, "
                f"{self.batch_size} and {self.road_images}"
            )
        if not all(0.0 < v < 1.0 for v in self.road_levels):
            raise ValueError(f"ROAD levels are fractions of pixels removed, in (0, 1); got {self.road_levels}")


@dataclass
class ImageFaithfulness:
    """One image's measures: `records` {image, label, method, measure, value}, its curves
    {'deletion'|'insertion': {method: {head: (K, T + 1)}}} and label-pair similarities."""

    source: str
    labels: list[str]
    fractions: np.ndarray
    curves: dict[str, dict[str, dict[str, np.ndarray]]]
    records: list[dict[str, Any]]
    pairs: dict[str, np.ndarray] = field(default_factory=dict)
    perturbed_images: int = 0
    seconds: float = 0.0


class FaithfulnessEvaluator:
    """Holds the model, its randomised copies (made once) and the options; measures images one by one."""

    def __init__(self, analyzer: Analyzer, options: FaithfulnessOptions | None = None) -> None:
        self.analyzer = analyzer
        self.options = options or FaithfulnessOptions()
        self.score = srn_scores(analyzer.model)
        wanted = [m for m in self.options.methods if m in MODEL_METHODS]
        self.randomised = (
            [
                (stage, Analyzer(model, analyzer.meta, analyzer.device))
                for stage, model in randomised_cascade(analyzer.model, self.options.stages, self.options.seed)
            ]
            if wanted
            else []
        )

    def labels_of(self, analysis: ImageAnalysis) -> list[int]:
        o = self.options
        return analysis.indices(o.labels) if o.labels is not None else analysis.present_labels(o.threshold)

    def image(self, analysis: ImageAnalysis, number: int = 0) -> ImageFaithfulness:
        """All measures of one analysed image (it must carry its pixels)."""
        if not analysis.has_pixels:
            raise ValueError(f"{analysis.source}: faithfulness needs the image, but this analysis has no pixels")
        start = time.perf_counter()
        o, names = self.options, analysis.label_names
        labels = self.labels_of(analysis)
        chosen = [names[i] for i in labels]
        records: list[dict[str, Any]] = []

        def add(method: str, measure: str, values: Iterable[float]) -> None:
            records.extend(
                {"image": analysis.source, "label": label, "method": method, "measure": measure, "value": float(v)}
                for label, v in zip(chosen, values)
            )

        seed = o.seed + number
        cam_labels = list(range(len(names))) if o.random_label else labels
        cams = gradcam_maps(self.analyzer, analysis, cam_labels) if "gradcam" in o.methods and labels else None
        own_cams = cams[[cam_labels.index(i) for i in labels]] if cams is not None else None
        maps = method_maps(self.analyzer, analysis, labels, o.methods, seed, own_cams)
        fractions = np.linspace(0.0, 1.0, min(o.steps, analysis.grid**2) + 1)
        curves: dict[str, dict[str, dict[str, np.ndarray]]] = {"deletion": {}, "insertion": {}}
        pairs: dict[str, np.ndarray] = {}
        perturbed = 0
        if labels:
            image = self.analyzer.preprocess(Image.fromarray(analysis.image)).to(self.analyzer.device)
            stacked = np.concatenate([maps[m] for m in o.methods])
            steps = min(o.steps, analysis.grid**2)
            result = perturbation_curves(
                self.score, image, stacked, labels * len(o.methods), steps, o.fill, o.sigma, o.batch_size, seed
            )
            fractions, perturbed = result.fractions, result.perturbed_images
            for kind in ("deletion", "insertion"):
                aucs = result.auc(kind)
                for n, method in enumerate(o.methods):
                    part = slice(n * len(labels), (n + 1) * len(labels))
                    curves[kind][method] = {head: getattr(result, kind)[head][part] for head in HEADS}
                    for head in HEADS:
                        add(method, f"{kind}_{head}", aucs[head][part])
            if number < o.road_images:
                road = road_scores(
                    self.score, image, stacked, labels * len(o.methods), o.road_levels, seed, o.batch_size
                )
                for n, method in enumerate(o.methods):
                    part = slice(n * len(labels), (n + 1) * len(labels))
                    for kind in ("morf", "lerf"):
                        for head in HEADS:
                            add(method, f"road_{kind}_{head}", road[kind][head][part].mean(axis=1))
            self._localise(analysis, labels, maps, own_cams, add)
            if o.random_label:
                pairs = self._label_pairs(analysis, labels, cams, add)
            self._randomise(analysis, labels, maps, add)
        return ImageFaithfulness(
            analysis.source, chosen, fractions, curves, records, pairs, perturbed, time.perf_counter() - start
        )

    def _localise(
        self,
        analysis: ImageAnalysis,
        labels: list[int],
        maps: dict[str, np.ndarray],
        cams: np.ndarray | None,
        add: Callable,
    ) -> None:
        boxed = [analysis.label_names[i] for i in labels]
        if not any(b.label in boxed for b in analysis.boxes):
            return
        size = self.analyzer.model.config.input_size
        for method, grid_maps in maps.items():
            full = cams if method == "gradcam" else upsample_to_input(grid_maps, size)
            points = peak_points(full if method == "gradcam" else grid_maps, analysis.image_size, method == "centre")
            for measure, values in localisation(
                full, points, boxed, analysis.boxes, analysis.image_size, self.options.tolerance
            ).items():
                add(method, measure, values)

    def _label_pairs(
        self, analysis: ImageAnalysis, labels: list[int], cams: np.ndarray | None, add: Callable
    ) -> dict[str, np.ndarray]:
        """Each chosen label's map against every other label's map of the same method and image."""
        count = analysis.num_labels
        pairs = {}
        for method in self.options.methods:
            if method in BASELINES:
                add(method, "label_spearman", np.ones(len(labels)))
                add(method, "label_ssim", np.ones(len(labels)))
                continue
            everything = (
                pool_to_grid(cams.astype(np.float64), analysis.grid)
                if method == "gradcam"
                else analysis.maps(method).astype(np.float64)
            )
            rho, sim = np.full((len(labels), count), np.nan), np.full((len(labels), count), np.nan)
            for k, i in enumerate(labels):
                others = [j for j in range(count) if j != i]
                own = np.broadcast_to(everything[i], (len(others), *everything.shape[1:]))
                rho[k, others] = spearman(own, everything[others])
                sim[k, others] = ssim(own, everything[others])
            add(method, "label_spearman", np.nanmean(rho, axis=1))
            add(method, "label_ssim", np.nanmean(sim, axis=1))
            pairs[method] = rho
        return pairs

    def _randomise(
        self, analysis: ImageAnalysis, labels: list[int], maps: dict[str, np.ndarray], add: Callable
    ) -> None:
        methods = [m for m in self.options.methods if m in MODEL_METHODS]
        for stage, analyzer in self.randomised:
            copy = analyzer.analyse_one(analysis.image, analysis.source)
            for method in methods:
                if method == "gradcam":
                    random_maps = method_maps(analyzer, copy, labels, [method])[method]
                else:
                    random_maps = copy.maps(method)[labels].astype(np.float64)
                add(method, f"randomised_spearman:{stage}", spearman(maps[method], random_maps))
                add(method, f"randomised_ssim:{stage}", ssim(maps[method], random_maps))
