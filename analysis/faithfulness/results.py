"""The measures of many images pooled: a table with bootstrap intervals, mean curves, label pairs.

`evaluate_faithfulness(analyzer, analyses, options)` measures every image and summarises; the
report and the dashboard call `FaithfulnessEvaluator.image` per image and `summarise` once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..session import Analyzer, ImageAnalysis
from .evaluate import FaithfulnessEvaluator, FaithfulnessOptions, ImageFaithfulness
from .methods import METHOD_NAMES
from .perturbation import HEADS
from .summary import ALL_LABELS, bootstrap_table

LOWER_IS_BETTER = ("deletion", "road_morf", "label_", "randomised_")


@dataclass
class FaithfulnessSummary:
    """Everything measured over a set of images.

    `table`: rows {label, method, measure, mean, low, high, images} (label 'all labels' = mean over
    labels); `curves`: {'deletion'|'insertion': {method: {head: mean curve over every (image, label)}}};
    `pairs`: {method: (C, C) mean Spearman of label i's map with label j's, over images where i was
    measured}; `records`: the raw per (image, label) values.
    """

    options: FaithfulnessOptions
    label_names: list[str]
    images: list[str]
    fractions: np.ndarray
    table: list[dict[str, Any]]
    curves: dict[str, dict[str, dict[str, np.ndarray]]]
    pairs: dict[str, np.ndarray]
    records: list[dict[str, Any]]
    perturbed_images: int
    seconds: float

    def rows(self) -> list[dict[str, Any]]:
        return self.table

    def measures(self) -> list[str]:
        return list(dict.fromkeys(r["measure"] for r in self.table))

    def overall(self, measure: str, method: str) -> dict[str, Any] | None:
        """The 'all labels' row of one measure and method, or None when it was not measured."""
        for row in self.table:
            if row["label"] == ALL_LABELS and row["measure"] == measure and row["method"] == method:
                return row
        return None

    def to_dict(self, include_records: bool = False) -> dict[str, Any]:
        options = asdict(self.options)
        options["labels"] = None if self.options.labels is None else [str(v) for v in self.options.labels]
        data = {
            "options": options,
            "methods": {m: METHOD_NAMES[m] for m in self.options.methods},
            "labels": self.label_names,
            "images": len(self.images),
            "perturbed_images": self.perturbed_images,
            "seconds": self.seconds,
            "fractions": self.fractions.tolist(),
            "table": self.table,
            "curves": {
                kind: {m: {h: v.tolist() for h, v in heads.items()} for m, heads in per.items()}
                for kind, per in self.curves.items()
            },
            "label_pairs_spearman": {m: v.tolist() for m, v in self.pairs.items()},
        }
        if include_records:
            data["records"] = self.records
        return data


def summarise(
    parts: Sequence[ImageFaithfulness], label_names: Sequence[str], options: FaithfulnessOptions, resamples: int = 1000
) -> FaithfulnessSummary:
    """Pool per-image results: bootstrap table, mean curves and mean label-pair similarities."""
    records = [r for p in parts for r in p.records]
    with_curves = [p for p in parts if p.labels]
    fractions = with_curves[0].fractions if with_curves else np.linspace(0, 1, options.steps + 1)
    curves = {
        kind: {
            m: {h: np.concatenate([p.curves[kind][m][h] for p in with_curves]).mean(axis=0) for h in HEADS}
            for m in options.methods
        }
        if with_curves
        else {}
        for kind in ("deletion", "insertion")
    }
    count = len(label_names)
    pairs = {}
    for method in {m for p in parts for m in p.pairs}:
        total, seen = np.zeros((count, count)), np.zeros((count, count))
        for p in parts:
            if method in p.pairs:
                rows = [label_names.index(n) for n in p.labels]
                values = p.pairs[method]
                total[rows] += np.nan_to_num(values)
                seen[rows] += np.isfinite(values)
        with np.errstate(invalid="ignore", divide="ignore"):
            pairs[method] = total / seen
    return FaithfulnessSummary(
        options,
        list(label_names),
        [p.source for p in parts],
        np.asarray(fractions),
        bootstrap_table(records, resamples, seed=options.seed),
        curves,
        pairs,
        records,
        sum(p.perturbed_images for p in parts),
        sum(p.seconds for p in parts),
    )


def evaluate_faithfulness(
    analyzer: Analyzer,
    analyses: Iterable[ImageAnalysis],
    options: FaithfulnessOptions | None = None,
    progress: Callable[[Iterable], Iterable] | None = None,
) -> FaithfulnessSummary:
    """Measure every analysed image (with pixels) and summarise."""
    evaluator = FaithfulnessEvaluator(analyzer, options)
    analyses = list(analyses)
    parts = [evaluator.image(a, n) for n, a in enumerate(progress(analyses) if progress else analyses)]
    return summarise(parts, analyzer.label_names, evaluator.options)
