"""Score a labelled image set with every SRN head and measure it the way the official code does.

Heads: `main` (y_cls), `attention` (y_att), `srn` (y_sr) and `fused` (y). Metrics come from
`srn_core.metrics.evaluate_logits` (mAP, CP, CR, CF1, OP, OR, OF1 and the top-3 variants, percent),
ranked by the logits themselves so that float32 rounding never ties two scores, in our default
convention or the authors' (`convention="official"`).
`srn_core.sources` turns datasets, in-memory lists or generators into what is scored here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from .backbones import IMAGENET_MEAN, IMAGENET_STD
from .fileio import atomic_path, atomic_write_text
from .heads import HEADS, TABLE_HEADS, head_logits
from .jsonsafe import json_safe, json_text
from .metrics import evaluate_logits, labels_without_positives, per_class_logits
from .model import SRN
from .official_metrics import sigmoid64
from .predictor import Predictor, resolve_device
from .preprocess import Preprocessor
from .sources import LabelledImages, aligned, as_source
from .text_safety import csv_cell

METRIC_ORDER = ("mAP", "CP", "CR", "CF1", "OP", "OR", "OF1")


class ImageTensors(Dataset):
    """Map-style torch dataset: index -> (preprocessed image (3, S, S), targets int8 (C,), index)."""

    def __init__(self, source: LabelledImages, preprocess: Preprocessor) -> None:
        self.source = source
        self.preprocess = preprocess

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        image = self.preprocess(self.source.image(index))
        return image, torch.from_numpy(np.asarray(self.source.targets(index), dtype=np.int8)), index


@torch.inference_mode()
def predict_logits(
    model: SRN,
    dataset: ImageTensors,
    batch_size: int = 32,
    device: str | torch.device = "cpu",
    workers: int = 0,
    indices: Sequence[int] | None = None,
    progress: bool = False,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Logits (N, C) float32 of each head, as the model computed them, and the targets (N, C) int8 for
    `dataset` (or its `indices`), in order. The model is left in eval mode."""
    device = torch.device(device)
    model.eval()
    subset = dataset if indices is None else torch.utils.data.Subset(dataset, list(indices))
    loader = DataLoader(
        subset, batch_size=batch_size, shuffle=False, num_workers=workers, pin_memory=device.type == "cuda"
    )
    chunks: dict[str, list[np.ndarray]] = {head: [] for head in (*HEADS, "targets")}
    for images, targets, _ in tqdm(loader, desc="evaluate", unit="batch", leave=False, disable=not progress):
        out = model(images.to(device, non_blocking=True))
        for head, logits in head_logits(out).items():
            chunks[head].append(logits.float().cpu().numpy())
        chunks["targets"].append(targets.numpy())
    empty = np.zeros((0, model.num_labels), np.float32)
    arrays = {head: np.concatenate(parts) if parts else empty for head, parts in chunks.items()}
    return {head: arrays[head] for head in HEADS}, arrays.pop("targets").astype(np.int8)


@dataclass
class EvaluationResult:
    """Per-image logits of every head, the targets, and the paper's metrics per head (percent)."""

    label_names: list[str]
    names: list[str]
    targets: np.ndarray
    logits: dict[str, np.ndarray]
    metrics: dict[str, dict[str, float]]
    per_class: dict[str, dict[str, dict[str, float]]]
    threshold: float = 0.5
    top_k: int = 3
    convention: str = "voc2012"

    @classmethod
    def from_logits(
        cls,
        label_names: list[str],
        names: list[str],
        targets: np.ndarray,
        logits: dict[str, np.ndarray],
        threshold: float = 0.5,
        top_k: int = 3,
        convention: str = "voc2012",
    ) -> EvaluationResult:
        """Compute every head's metrics from its logits."""
        metrics = {head: evaluate_logits(logits[head], targets, threshold, top_k, convention) for head in HEADS}
        per_class = {}
        for head in HEADS:
            table = per_class_logits(logits[head], targets, threshold, convention=convention)
            per_class[head] = {
                name: {key: float(table[key][c]) for key in ("AP", "P", "R", "F1", "positives")}
                for c, name in enumerate(label_names)
            }
        return cls(label_names, names, targets, logits, metrics, per_class, threshold, top_k, convention)

    @cached_property
    def scores(self) -> dict[str, np.ndarray]:
        """Probabilities (N, C) of each head, sigmoid of the logits in float64."""
        return {head: sigmoid64(self.logits[head]) for head in HEADS}

    def notes(self) -> list[str]:
        """What a reader of the numbers must know: labels without positives and how the convention treats them."""
        missing = labels_without_positives(self.targets, self.label_names)
        if not missing:
            return []
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        if self.convention == "official":
            return [
                f"{len(missing)} label(s) have no positive image ({shown}): their AP is NaN, so mAP is NaN, "
                "as in the official evaluation; their recall and F1 follow its eps rule"
            ]
        return [
            f"{len(missing)} label(s) have no positive image ({shown}): their AP is undefined and left out "
            "of mAP; their recall counts as 0"
        ]

    def table(self) -> str:
        """The metrics as a fixed-width text table, one row per head."""
        return format_table(self.metrics, self.top_k)

    def to_dict(self) -> dict[str, Any]:
        """Metrics as plain JSON-ready data (NaN becomes null)."""
        return json_safe(
            {
                "num_images": len(self.names),
                "num_labels": len(self.label_names),
                "label_names": self.label_names,
                "threshold": self.threshold,
                "top_k": self.top_k,
                "convention": self.convention,
                "notes": self.notes(),
                "heads": self.metrics,
                "per_class": self.per_class,
            }
        )

    def write(self, out_dir: str | Path, scores_format: str = "csv", extra: dict[str, Any] | None = None) -> list[Path]:
        """Write metrics.json and the per-image scores (scores.csv and/or scores.npz) atomically.

        Probabilities are written in float64 at full precision and the logits beside them, so that a
        re-evaluation from the files ranks exactly as this one did."""
        if scores_format not in ("csv", "npz", "both", "none"):
            raise ValueError(f"scores_format must be csv, npz, both or none, got {scores_format!r}")
        out = Path(out_dir)
        written = [atomic_write_text(out / "metrics.json", json_text({**(extra or {}), **self.to_dict()}, indent=2))]
        if scores_format in ("csv", "both"):
            written.append(atomic_write_text(out / "scores.csv", self.scores_csv()))
        if scores_format in ("npz", "both"):
            with atomic_path(out / "scores.npz") as tmp, open(tmp, "wb") as handle:
                np.savez_compressed(
                    handle,
                    names=np.array(self.names, dtype=str),
                    label_names=np.array(self.label_names, dtype=str),
                    targets=self.targets,
                    **{head: self.scores[head] for head in HEADS},
                    **{f"{head}_logits": self.logits[head] for head in HEADS},
                )
            written.append(out / "scores.npz")
        return written

    def scores_csv(self) -> str:
        """One row per (image, label): path, label, the probability of fused, main, srn and attention
        heads, target (1/0/-1), then the four logits; every number at full (round-trip) precision."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["path", "label", *TABLE_HEADS, "target", *(f"{head}_logit" for head in TABLE_HEADS)])
        for i, name in enumerate(self.names):
            for c, label in enumerate(self.label_names):
                probs = (repr(float(self.scores[head][i, c])) for head in TABLE_HEADS)
                logits = (repr(float(self.logits[head][i, c])) for head in TABLE_HEADS)
                writer.writerow([csv_cell(name), csv_cell(label), *probs, int(self.targets[i, c]), *logits])
        return buffer.getvalue()


def format_table(metrics: dict[str, dict[str, float]], top_k: int = 3) -> str:
    """Per-head metrics as a fixed-width text table: mAP, CP ... OF1, then the top-k variants."""
    columns = [*METRIC_ORDER, *(f"{m}-{top_k}" for m in METRIC_ORDER[1:])]
    lines = [f"{'head':<10}" + "".join(f"{c:>8}" for c in columns)]
    for head in HEADS:
        if head in metrics:
            lines.append(f"{head:<10}" + "".join(f"{metrics[head][c]:>8.2f}" for c in columns))
    return "\n".join(lines)


def evaluate(
    model: SRN | Predictor | str | Path,
    data: Any,
    batch_size: int = 32,
    device: str | torch.device | None = None,
    threshold: float = 0.5,
    top_k: int = 3,
    workers: int = 0,
    label_names: Sequence[str] | None = None,
    preprocess: Preprocessor | None = None,
    progress: bool = False,
    convention: str = "voc2012",
) -> EvaluationResult:
    """Evaluate every head of `model` (an SRN, a Predictor or a checkpoint path) on `data`.

    `data` is anything `srn_core.sources.as_source` takes (a MultiLabelDataset, a LabelledImages
    source). Its labels are matched to the model's by name (reordered when needed). A bare SRN uses
    `label_names` (default: the data's) and `preprocess` (default: resize + ImageNet normalisation).
    `convention` is "voc2012" (ours, the default) or "official" (the authors' Matlab code exactly; see
    `srn_core.metrics`).
    """
    if isinstance(model, (str, Path)):
        model = Predictor.from_checkpoint(model, device or "auto")
    if isinstance(model, Predictor):
        net, names, preprocess = model.model, model.label_names, preprocess or model.preprocess
        device = device or model.device
    else:
        net, names = model, list(label_names) if label_names is not None else None
        preprocess = preprocess or Preprocessor(model.config.input_size, IMAGENET_MEAN, IMAGENET_STD)
        device = resolve_device(device or next(model.parameters()).device)
    source = as_source(data)
    if names is not None:
        source = aligned(source, list(names))
    if len(source.label_names) != net.num_labels:
        raise ValueError(f"the data has {len(source.label_names)} labels but the model has {net.num_labels}")
    if len(source) == 0:
        raise ValueError("cannot evaluate on an empty dataset")
    net.to(device)
    logits, targets = predict_logits(
        net, ImageTensors(source, preprocess), batch_size, device, workers, progress=progress
    )
    image_names = [source.name(i) for i in range(len(source))]
    return EvaluationResult.from_logits(
        list(source.label_names), image_names, targets, logits, threshold, top_k, convention
    )


__all__ = ["EvaluationResult", "ImageTensors", "evaluate", "format_table", "predict_logits"]
