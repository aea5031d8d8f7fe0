"""One forward pass per image, kept as numpy: the object every other analysis function reads.

`Analyzer` is a `srn_core.Predictor` (a model and its preprocessing); `analyse` runs the predictor's
forward pass and returns `ImageAnalysis` objects, `Prediction`s (logits, A, S, U) that also keep the
original image and its ground truth. Callers (the dashboard, the report) cache these and pass them to
the measures, so no measure ever runs the backbone again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from srn_core import SRN
from srn_core.datasets import Box, Sample
from srn_core.images import ImageLoadError, ImageSource, load_image, source_name
from srn_core.predictor import Prediction, Predictor, check_batch, sigmoid

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


@dataclass(kw_only=True)
class ImageAnalysis(Prediction):
    """A `Prediction` that keeps its image and ground truth: what every measure and figure reads.

    `image` is the original RGB image, uint8 (H, W, 3); `alpha` the model's fusion weight. `targets`
    (int8, 1/0/-1) and `boxes` are the ground truth when the caller has it.
    """

    image: np.ndarray
    alpha: float
    targets: np.ndarray | None = None
    boxes: list[Box] = field(default_factory=list)

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
            row: dict[str, Any] = {
                "label": name,
                "fused_logit": float(self.logits[i]),
                "main_logit": float(self.cls_logits[i]),
                "srn_logit": float(self.sr_logits[i]),
            }
            row.update({f"{key}_prob": float(value[i]) for key, value in probs.items()})
            if self.targets is not None:
                row["target"] = int(self.targets[i])
            rows.append(row)
        return rows

    def without_pixels(self) -> ImageAnalysis:
        """A copy whose image is a zero-cost blank of the same size: keeps every number (and the pixel
        coordinates) while many analyses are held in memory; overlays on it are blank."""
        blank = np.broadcast_to(np.zeros(3, dtype=np.uint8), self.image.shape)
        return dataclasses.replace(self, image=blank)

    def to_dict(self, include_maps: bool = True) -> dict[str, Any]:
        """JSON-ready form: scores per label and, optionally, the three map kinds as nested lists."""
        data: dict[str, Any] = {
            "source": self.source,
            "image_size": list(self.image_size),
            "grid": self.grid,
            "alpha": self.alpha,
            "labels": self.label_names,
            "scores": self.score_rows(),
            "boxes": [vars(b) for b in self.boxes],
            "domain": self.domain.to_dict() if self.domain is not None else None,
        }
        if include_maps:
            data["maps"] = {kind: self.maps(kind).tolist() for kind in MAP_KINDS}
        return data


class Analyzer(Predictor):
    """A `Predictor` whose results keep each image and its ground truth: `ImageAnalysis` objects."""

    @property
    def alpha(self) -> float:
        return float(self.model.config.alpha)

    def analyse(
        self,
        images: Iterable[ImageSource],
        names: Sequence[str] | None = None,
        batch_size: int = 8,
        targets: Sequence[np.ndarray | None] | None = None,
        boxes: Sequence[list[Box]] | None = None,
    ) -> list[ImageAnalysis]:
        """Forward every image (batched). Raises ImageLoadError on the first image that cannot be read."""
        sources = list(images)
        check_batch(len(sources), batch_size, names)
        for given, what in ((targets, "targets"), (boxes, "box lists")):
            if given is not None and len(given) != len(sources):
                raise ValueError(f"{len(given)} {what} given for {len(sources)} images; give one per image")
        labels = list(names) if names is not None else [source_name(s) for s in sources]
        pictures = [load_image(src, name) for src, name in zip(sources, labels)]
        predictions = self.predict_loaded(pictures, labels, batch_size)
        given = targets if targets is not None else [None] * len(sources)
        return [
            ImageAnalysis(
                **{f.name: getattr(p, f.name) for f in dataclasses.fields(Prediction)},
                image=np.asarray(pictures[n], dtype=np.uint8),
                alpha=self.alpha,
                targets=None if given[n] is None else np.asarray(given[n], np.int8),
                boxes=list(boxes[n]) if boxes is not None else [],
            )
            for n, p in enumerate(predictions)
        ]

    def analyse_one(
        self,
        image: ImageSource,
        name: str | None = None,
        targets: np.ndarray | None = None,
        boxes: list[Box] | None = None,
    ) -> ImageAnalysis:
        return self.analyse([image], [source_name(image, name)], 1, [targets], [boxes or []])[0]

    def analyse_samples(
        self, samples: Sequence[Sample], batch_size: int = 8, progress: Callable[[Iterable], Iterable] | None = None
    ) -> tuple[list[ImageAnalysis], dict[str, str]]:
        """Analyse dataset samples; an image that fails is left out and reported as {path: reason}."""
        results: list[ImageAnalysis] = []
        failures: dict[str, str] = {}
        iterator = progress(range(0, len(samples), batch_size)) if progress else range(0, len(samples), batch_size)
        for start in iterator:
            good, pictures = [], []
            for sample in samples[start : start + batch_size]:
                try:
                    pictures.append(load_image(sample.path))
                    good.append(sample)
                except ImageLoadError as exc:
                    failures[str(sample.path)] = exc.reason
            if good:
                results.extend(
                    self.analyse(
                        pictures,
                        [str(s.path) for s in good],
                        batch_size,
                        [s.targets for s in good],
                        [s.boxes for s in good],
                    )
                )
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
