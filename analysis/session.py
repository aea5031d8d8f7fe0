"""One forward pass per image, kept as numpy: the object every other analysis function reads.

`Analyzer` holds a model and its preprocessing; `analyse` turns images into `ImageAnalysis`
objects (logits, A, S, U and the original image). Callers (the dashboard, the report) cache these
and pass them to the measures, so no measure ever runs the backbone again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from srn_core import SRN, Preprocessor, load_checkpoint
from srn_core.datasets import Box, MultiLabelDataset, Sample
from srn_core.domain import DomainCheck, DomainModel
from srn_core.images import ImageLoadError, ImageSource, load_image, source_name
from srn_core.predictor import check_batch, forward_arrays, resolve_device, sigmoid

MAP_KINDS = ("attention", "confidence", "weighted")
LabelRef = str | int


def resolve_labels(label_names: Sequence[str], labels: Iterable[LabelRef] | None) -> list[int]:
    """Indices of `labels` (names or indices) in `label_names`; all labels when `labels` is None."""
    if labels is None:
        return list(range(len(label_names)))
    index = {name: i for i, name in enumerate(label_names)}
    out = []
    for label in labels:
        if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
            if not 0 <= int(label) < len(label_names):
                raise ValueError(f"label index {label} out of range for {len(label_names)} labels")
            out.append(int(label))
        elif label in index:
            out.append(index[label])
        else:
            raise ValueError(f"unknown label {label!r}; the model's labels are {list(label_names)}")
    return out


@dataclass
class ImageAnalysis:
    """One image's forward pass. Logits are float32 (C,); maps are float32 (C, g, g).

    `confidence_logits` is S; `confidence` (a property) is sigmoid(S); `weighted_attention` is
    U = sigmoid(S) * A, the input of f_sr. `image` is the original RGB image, uint8 (H, W, 3).
    `targets` (int8, 1/0/-1) and `boxes` are the ground truth when the caller has it. `domain`
    compares the image with the training images (None when the checkpoint records no statistics).
    """

    source: str
    image: np.ndarray
    label_names: list[str]
    alpha: float
    logits: np.ndarray
    cls_logits: np.ndarray
    sr_logits: np.ndarray
    att_logits: np.ndarray
    attention: np.ndarray
    confidence_logits: np.ndarray
    weighted_attention: np.ndarray
    targets: np.ndarray | None = None
    boxes: list[Box] = field(default_factory=list)
    domain: DomainCheck | None = None

    @property
    def image_size(self) -> tuple[int, int]:
        """(width, height) of the original image, in pixels."""
        return int(self.image.shape[1]), int(self.image.shape[0])

    @property
    def has_pixels(self) -> bool:
        """False for a copy made by `without_pixels` (the image is a blank placeholder)."""
        return self.image.strides[:2] != (0, 0)

    @property
    def grid(self) -> int:
        return int(self.attention.shape[-1])

    @property
    def num_labels(self) -> int:
        return len(self.label_names)

    @property
    def confidence(self) -> np.ndarray:
        """sigmoid(S), in [0, 1]."""
        return sigmoid(self.confidence_logits)

    def maps(self, kind: str = "attention") -> np.ndarray:
        """The (C, g, g) maps of `kind`: 'attention' (A), 'confidence' (sigmoid S) or 'weighted' (U)."""
        if kind == "attention":
            return self.attention
        if kind == "confidence":
            return self.confidence
        if kind == "weighted":
            return self.weighted_attention
        raise ValueError(f"unknown map kind {kind!r}; choose one of {MAP_KINDS}")

    def indices(self, labels: Iterable[LabelRef] | None = None) -> list[int]:
        return resolve_labels(self.label_names, labels)

    def probabilities(self) -> dict[str, np.ndarray]:
        """sigmoid of the fused, main-net, SRN and attention logits, each (C,)."""
        return {"fused": sigmoid(self.logits), "main": sigmoid(self.cls_logits),
                "srn": sigmoid(self.sr_logits), "attention": sigmoid(self.att_logits)}

    def top_labels(self, k: int = 5, threshold: float | None = None) -> list[int]:
        """Indices of the `k` highest fused scores (only those above `threshold` if given)."""
        probs = sigmoid(self.logits)
        order = [int(i) for i in np.argsort(-probs, kind="stable")[:k]]
        return [i for i in order if threshold is None or probs[i] > threshold]

    def present_labels(self, threshold: float = 0.5) -> list[int]:
        """Ground-truth positives when targets are known, else labels predicted above `threshold`."""
        if self.targets is not None:
            return [int(i) for i in np.flatnonzero(self.targets == 1)]
        return [int(i) for i in np.flatnonzero(sigmoid(self.logits) > threshold)]

    def boxes_of(self, label: LabelRef) -> list[Box]:
        name = self.label_names[self.indices([label])[0]]
        return [box for box in self.boxes if box.label == name]

    def score_rows(self) -> list[dict[str, Any]]:
        """One row per label: logits and probabilities of every head (for CSV/JSON export)."""
        probs = self.probabilities()
        rows = []
        for i, name in enumerate(self.label_names):
            row: dict[str, Any] = {"label": name, "fused_logit": float(self.logits[i]),
                                   "main_logit": float(self.cls_logits[i]), "srn_logit": float(self.sr_logits[i])}
            row.update({f"{key}_prob": float(value[i]) for key, value in probs.items()})
            if self.targets is not None:
                row["target"] = int(self.targets[i])
            rows.append(row)
        return rows

    def without_pixels(self) -> "ImageAnalysis":
        """A copy whose image is a zero-cost blank of the same size: keeps every number (and the pixel
        coordinates) while many analyses are held in memory; overlays on it are blank."""
        blank = np.broadcast_to(np.zeros(3, dtype=np.uint8), self.image.shape)
        return dataclasses.replace(self, image=blank)

    def to_dict(self, include_maps: bool = True) -> dict[str, Any]:
        """JSON-ready form: scores per label and, optionally, the three map kinds as nested lists."""
        data: dict[str, Any] = {"source": self.source, "image_size": list(self.image_size), "grid": self.grid,
                                "alpha": self.alpha, "labels": self.label_names, "scores": self.score_rows(),
                                "boxes": [vars(b) for b in self.boxes],
                                "domain": self.domain.to_dict() if self.domain is not None else None}
        if include_maps:
            data["maps"] = {kind: self.maps(kind).tolist() for kind in MAP_KINDS}
        return data


class Analyzer:
    """A model with its label names and preprocessing; turns images into `ImageAnalysis` objects."""

    def __init__(self, model: SRN, label_names: Sequence[str], preprocessor: Preprocessor,
                 device: str | torch.device = "auto", domain: DomainModel | None = None) -> None:
        if len(label_names) != model.num_labels:
            raise ValueError(f"{len(label_names)} label names for a model with {model.num_labels} labels")
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.label_names = list(label_names)
        self.preprocessor = preprocessor
        self.domain = domain

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "auto") -> "Analyzer":
        model, meta = load_checkpoint(path, "cpu")
        return cls(model, meta.label_names, meta.preprocessor(), device, meta.domain)

    @property
    def alpha(self) -> float:
        return float(self.model.config.alpha)

    def analyse(self, images: Iterable[ImageSource], names: Sequence[str] | None = None, batch_size: int = 8,
                targets: Sequence[np.ndarray | None] | None = None,
                boxes: Sequence[list[Box]] | None = None) -> list[ImageAnalysis]:
        """Forward every image (batched). Raises ImageLoadError on the first image that cannot be read."""
        sources = list(images)
        check_batch(len(sources), batch_size, names)
        for given, what in ((targets, "targets"), (boxes, "box lists")):
            if given is not None and len(given) != len(sources):
                raise ValueError(f"{len(given)} {what} given for {len(sources)} images; give one per image")
        labels = list(names) if names is not None else [source_name(s) for s in sources]
        pictures = [load_image(src, name) for src, name in zip(sources, labels)]
        results: list[ImageAnalysis] = []
        for start, out in forward_arrays(self.model, self.preprocessor, pictures, self.device, batch_size):
            out["confidence_logits"] = out.pop("confidence")
            features = out.pop("features")
            checks = self.domain.check(features) if self.domain is not None else None
            for row in range(len(out["logits"])):
                n = start + row
                results.append(ImageAnalysis(
                    labels[n], np.asarray(pictures[n], dtype=np.uint8), self.label_names, self.alpha,
                    **{key: value[row] for key, value in out.items()},
                    targets=None if targets is None or targets[n] is None else np.asarray(targets[n], np.int8),
                    boxes=list(boxes[n]) if boxes is not None else [],
                    domain=checks[row] if checks is not None else None))
        return results

    def analyse_one(self, image: ImageSource, name: str | None = None, targets: np.ndarray | None = None,
                    boxes: list[Box] | None = None) -> ImageAnalysis:
        return self.analyse([image], [source_name(image, name)], 1, [targets], [boxes or []])[0]

    def analyse_samples(self, samples: Sequence[Sample], batch_size: int = 8,
                        progress: Callable[[Iterable], Iterable] | None = None
                        ) -> tuple[list[ImageAnalysis], dict[str, str]]:
        """Analyse dataset samples; an image that fails is left out and reported as {path: reason}."""
        results: list[ImageAnalysis] = []
        failures: dict[str, str] = {}
        iterator = progress(range(0, len(samples), batch_size)) if progress else range(0, len(samples), batch_size)
        for start in iterator:
            good, pictures = [], []
            for sample in samples[start:start + batch_size]:
                try:
                    pictures.append(load_image(sample.path))
                    good.append(sample)
                except ImageLoadError as exc:
                    failures[str(sample.path)] = exc.reason
            if good:
                results.extend(self.analyse(pictures, [str(s.path) for s in good], batch_size,
                                            [s.targets for s in good], [s.boxes for s in good]))
        return results, failures

    def sr_logits(self, weighted_attention: np.ndarray | torch.Tensor) -> np.ndarray:
        """y_sr from U alone ((C, g, g) or (B, C, g, g)), running f_sr only."""
        return sr_forward(self.model, weighted_attention)


def sr_forward(model: SRN, weighted_attention: np.ndarray | torch.Tensor) -> np.ndarray:
    """Run f_sr alone on U ((C, g, g) or (B, C, g, g)); returns y_sr logits as numpy
    (float64 for a float64 model, else float32)."""
    u = torch.as_tensor(weighted_attention)
    single = u.dim() == 3
    u = u.unsqueeze(0) if single else u
    param = next(model.f_sr.parameters())
    with torch.inference_mode():
        y = model.f_sr(u.to(param.device, param.dtype))
    y = (y.double() if y.dtype == torch.float64 else y.float()).cpu().numpy()
    return y[0] if single else y


def align_dataset(dataset: MultiLabelDataset, label_names: Sequence[str]) -> MultiLabelDataset:
    """The dataset with its targets reordered to the model's labels; other label sets are an error."""
    if list(dataset.label_names) == list(label_names):
        return dataset
    missing = sorted(set(label_names) - set(dataset.label_names))
    extra = sorted(set(dataset.label_names) - set(label_names))
    if missing or extra:
        raise ValueError(f"dataset labels differ from the model's: missing {missing}, not in the model {extra}")
    column = {name: i for i, name in enumerate(dataset.label_names)}
    order = [column[name] for name in label_names]
    samples = [Sample(s.path, np.asarray(s.targets)[order], s.boxes, s.extra) for s in dataset.samples]
    return MultiLabelDataset(list(label_names), samples, dataset.skipped_missing)
