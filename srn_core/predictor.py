"""Load a checkpoint once, then turn images into per-label scores and attention maps."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Self

import numpy as np
import torch
from PIL import Image

from .checkpoint import CheckpointMeta, load_checkpoint
from .domain import DomainCheck, DomainModel, capture_features
from .heads import TABLE_HEADS, head_logits
from .images import ImageSource, load_image, source_name
from .model import SRN, SRNOutput
from .preprocess import Preprocessor


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """`auto` picks CUDA when present, else the CPU; anything else must name a device this machine has
    (ValueError otherwise: an unknown name, CUDA or MPS missing, a GPU index out of range)."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"unknown device {str(device)!r}; use auto, cpu, cuda, cuda:N or mps") from None
    if chosen.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"device {str(device)!r}: CUDA is not available on this machine; use cpu or auto")
        if chosen.index is not None and chosen.index >= count:
            raise ValueError(f"device {str(device)!r}: this machine has {count} CUDA device(s)")
    elif chosen.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {str(device)!r}: MPS is not available on this machine; use cpu or auto")
    elif chosen.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device {str(device)!r} is not supported; use auto, cpu, cuda, cuda:N or mps")
    return chosen


def check_batch(count: int, batch_size: int, names: Sequence[str] | None) -> None:
    """ValueError unless `batch_size` >= 1 and `names` (when given) has one name per image."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
    if names is not None and len(names) != count:
        raise ValueError(f"{len(names)} names given for {count} images; give one name per image")


OUTPUT_FIELDS = tuple(f.name for f in fields(SRNOutput))


def forward_arrays(
    model: SRN, preprocess: Preprocessor, images: Sequence[Image.Image], device: torch.device, batch_size: int = 8
) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """Run loaded RGB images through `model` in batches under inference mode.

    Yields (index of the batch's first image, {SRNOutput field: float32 array with a batch axis,
    and "features": the pooled f_cls features (B, D) that `srn_core.domain` compares with training}).
    """
    check_batch(len(images), batch_size, None)
    with capture_features(model) as features:
        for start in range(0, len(images), batch_size):
            batch = preprocess.batch(images[start : start + batch_size]).to(device)
            with torch.inference_mode():
                out = model(batch)
            arrays = {name: getattr(out, name).float().cpu().numpy() for name in OUTPUT_FIELDS}
            pooled = features[-1].cpu().numpy()
            features.clear()
            yield start, {**arrays, "features": pooled}


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function on numpy arrays (float32 out): logits -> probabilities."""
    return (0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))).astype(np.float32)


@dataclass
class Prediction:
    """One image's forward pass, as float32 numpy: logits (C,) and maps (C, g, g), named as in `SRNOutput`.

    `logits` is the fused y, `cls_logits` y_cls, `sr_logits` y_sr, `att_logits` y_att; `attention` is A,
    `confidence_logits` S and `weighted_attention` U = sigmoid(S) * A, the input of f_sr; `confidence` is
    sigmoid(S) and `probabilities()` the sigmoid of each head. `image_size` is the original (width, height); `domain`
    compares the image with the training images (None when the checkpoint records no statistics of them).
    """

    source: str
    image_size: tuple[int, int]
    label_names: list[str]
    logits: np.ndarray
    cls_logits: np.ndarray
    sr_logits: np.ndarray
    att_logits: np.ndarray
    attention: np.ndarray
    confidence_logits: np.ndarray
    weighted_attention: np.ndarray
    domain: DomainCheck | None = None

    @property
    def confidence(self) -> np.ndarray:
        """sigmoid(S), the per-position confidence in [0, 1]."""
        return sigmoid(self.confidence_logits)

    def probabilities(self) -> dict[str, np.ndarray]:
        """sigmoid of each head's logits (C,), keyed as in every table: fused (y), main (y_cls), srn (y_sr)
        and attention (y_att)."""
        return {head: sigmoid(logits) for head, logits in head_logits(self, TABLE_HEADS).items()}

    def above(self, threshold: float = 0.5) -> list[str]:
        """Labels whose fused probability exceeds `threshold`, highest first."""
        fused = sigmoid(self.logits)
        return [self.label_names[i] for i in np.argsort(-fused) if fused[i] > threshold]

    def top_k(self, k: int) -> list[str]:
        """The `k` labels with the highest fused probability."""
        return [self.label_names[i] for i in np.argsort(-sigmoid(self.logits))[:k]]

    def scores(self) -> dict[str, dict[str, float]]:
        """Every label's fused / main-net / SRN / attention probability, as plain floats."""
        heads = self.probabilities()
        return {
            name: {head: float(values[i]) for head, values in heads.items()} for i, name in enumerate(self.label_names)
        }


class Predictor:
    """A model and its preprocessing, loaded once; `predict` runs batches under inference mode."""

    def __init__(self, model: SRN, meta: CheckpointMeta, device: str | torch.device = "auto") -> None:
        if len(meta.label_names) != model.num_labels:
            raise ValueError(f"{len(meta.label_names)} label names for a model with {model.num_labels} labels")
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.meta = meta
        self.preprocess = meta.preprocessor()

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "auto") -> Self:
        model, meta = load_checkpoint(path, "cpu")
        return cls(model, meta, device)

    @property
    def label_names(self) -> list[str]:
        return self.meta.label_names

    @property
    def domain(self) -> DomainModel | None:
        """The training images' statistics that each result is compared with (None when not recorded)."""
        return self.meta.domain

    def predict(
        self, images: Iterable[ImageSource], batch_size: int = 8, names: Sequence[str] | None = None
    ) -> list[Prediction]:
        """Predict each image (paths, bytes, PIL images or arrays). Raises ImageLoadError on a bad one."""
        sources = list(images)
        check_batch(len(sources), batch_size, names)
        labels = list(names) if names is not None else [source_name(s) for s in sources]
        return self.predict_loaded([load_image(src, name) for src, name in zip(sources, labels)], labels, batch_size)

    def predict_loaded(
        self, images: Sequence[Image.Image], names: Sequence[str], batch_size: int = 8
    ) -> list[Prediction]:
        """Predict RGB images already loaded (by `srn_core.images.load_image`), one name each."""
        check_batch(len(images), batch_size, names)
        results: list[Prediction] = []
        for start, out in forward_arrays(self.model, self.preprocess, images, self.device, batch_size):
            features = out.pop("features")
            checks = self.domain.check(features) if self.domain is not None else None
            for row in range(len(out["logits"])):
                n = start + row
                results.append(
                    Prediction(
                        names[n],
                        images[n].size,
                        self.label_names,
                        **{key: value[row] for key, value in out.items()},
                        domain=checks[row] if checks is not None else None,
                    )
                )
        return results
