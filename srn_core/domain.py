"""Does an image look like the training data? A Mahalanobis detector on the main net's pooled features.

A model trained on synthetic glyph scenes still gives a photograph confident glyph labels; this
module tells such images apart. At training time `fit_domain` records the mean and a shrunk
(Ledoit-Wolf) precision matrix of the pooled f_cls features (the input of f_cls.fc) of training
images, and sets the distance threshold on held-out in-domain images so that a chosen share of them
(1 % by default) would be flagged. The statistics travel in the checkpoint (`domain.mean`,
`domain.precision` tensors and a `domain` metadata entry); `DomainModel.distances` scores new
images from features captured during the ordinary forward pass (`capture_features`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from .model import SRN
from .preprocess import Preprocessor
from .sources import LabelledImages

DOMAIN_MEAN, DOMAIN_PRECISION = "domain.mean", "domain.precision"
DEFAULT_QUANTILE = 0.99


@contextmanager
def capture_features(model: SRN) -> Iterator[list[torch.Tensor]]:
    """Collect the pooled f_cls features (B, D) of every forward pass run inside the block."""
    captured: list[torch.Tensor] = []
    handle = model.f_cls.fc.register_forward_pre_hook(lambda _, args: captured.append(args[0].detach().float()))
    try:
        yield captured
    finally:
        handle.remove()


@dataclass(frozen=True)
class DomainCheck:
    """One image against the training domain: its feature distance and the threshold it is compared with."""

    distance: float
    threshold: float

    @property
    def outside(self) -> bool:
        """True when the image looks unlike the training images (distance beyond the threshold)."""
        return self.distance > self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {"distance": self.distance, "threshold": self.threshold, "out_of_domain": self.outside}


@dataclass
class DomainModel:
    """Feature statistics of the training images and the distance beyond which an image is flagged."""

    mean: np.ndarray
    precision: np.ndarray
    threshold: float
    description: str = ""
    record: dict[str, Any] = field(default_factory=dict)

    def distances(self, features: np.ndarray) -> np.ndarray:
        """Mahalanobis distance of each row of `features` (N, D) to the training mean."""
        centred = np.asarray(features, dtype=np.float64) - self.mean
        return np.sqrt(np.maximum(np.einsum("nd,de,ne->n", centred, self.precision, centred), 0.0))

    def check(self, features: np.ndarray) -> list[DomainCheck]:
        """One `DomainCheck` per row of `features` (N, D)."""
        return [DomainCheck(float(d), self.threshold) for d in self.distances(features)]

    def tensors(self) -> dict[str, torch.Tensor]:
        """The statistics as checkpoint tensors."""
        return {
            DOMAIN_MEAN: torch.from_numpy(self.mean.astype(np.float32)),
            DOMAIN_PRECISION: torch.from_numpy(self.precision.astype(np.float32)),
        }

    def metadata(self) -> dict[str, Any]:
        """The JSON part stored beside the tensors."""
        return {"description": self.description, "threshold": self.threshold, **self.record}

    @classmethod
    def from_parts(cls, metadata: dict[str, Any], tensors: dict[str, torch.Tensor]) -> DomainModel:
        """Rebuild from a checkpoint's `domain` metadata and its `domain.*` tensors (already validated)."""
        mean = tensors[DOMAIN_MEAN].double().numpy()
        precision = tensors[DOMAIN_PRECISION].double().numpy()
        record = {k: v for k, v in metadata.items() if k not in ("description", "threshold")}
        return cls(mean, precision, float(metadata["threshold"]), str(metadata.get("description", "")), record)


def describe(description: str | None, label_names: Sequence[str], shown: int = 30) -> str:
    """One line on what a model knows: its training domain (when recorded) and its labels."""
    names = ", ".join(label_names[:shown]) + (
        f" and {len(label_names) - shown} more" if len(label_names) > shown else ""
    )
    domain = description or "a training domain its checkpoint does not record"
    return f"Trained on {domain}; knows {len(label_names)} labels: {names}"


def pooled_features(
    model: SRN,
    source: LabelledImages,
    preprocess: Preprocessor,
    indices: Sequence[int],
    batch_size: int = 32,
    device: str | torch.device = "cpu",
    desc: str | None = None,
) -> np.ndarray:
    """Pooled f_cls features (N, D) float64 of `source`'s images at `indices`, in eval mode."""
    model.eval()
    parts: list[np.ndarray] = []
    with capture_features(model) as captured, torch.inference_mode():
        for start in tqdm(
            range(0, len(indices), batch_size), desc=desc, unit="batch", leave=False, disable=desc is None
        ):
            batch = torch.stack([preprocess(source.image(i)) for i in indices[start : start + batch_size]])
            model(batch.to(device))
            parts.append(captured.pop().cpu().double().numpy())
    return np.concatenate(parts) if parts else np.zeros((0, model.f_cls.fc.in_features))


def fit_domain(
    model: SRN,
    train: LabelledImages,
    held_out: LabelledImages | None,
    preprocess: Preprocessor,
    description: str,
    max_images: int = 2000,
    quantile: float = DEFAULT_QUANTILE,
    batch_size: int = 32,
    device: str | torch.device = "cpu",
    seed: int = 0,
    progress: bool = True,
) -> DomainModel:
    """Fit the statistics on up to `max_images` training images and set the threshold at the
    `quantile` of the held-out images' distances (so at most 1 - quantile of them are flagged).

    Without `held_out`, a fifth of the training images (at most `max_images // 4`) is held out instead.
    """
    from sklearn.covariance import LedoitWolf

    if not 0.5 <= quantile < 1.0:
        raise ValueError(f"quantile must lie in [0.5, 1), got {quantile}")
    order = np.random.default_rng(seed).permutation(len(train)).tolist()
    spare = [] if held_out is not None else order[-min(len(train) // 5, max_images // 4) :]
    picked = sorted(order[: min(max_images, len(train) - len(spare))])
    if len(picked) < 2 or (held_out is not None and len(held_out) < 1) or (held_out is None and not spare):
        raise ValueError(
            f"too few images to fit the domain: {len(train)} training and "
            f"{len(held_out) if held_out is not None else 0} held-out images"
        )
    features = pooled_features(
        model, train, preprocess, picked, batch_size, device, "domain: training images" if progress else None
    )
    estimate = LedoitWolf().fit(features)
    domain = DomainModel(estimate.location_, estimate.precision_, 0.0, description)
    held_source, held_indices = (held_out, list(range(len(held_out)))) if held_out is not None else (train, spare)
    distances = domain.distances(
        pooled_features(
            model,
            held_source,
            preprocess,
            held_indices,
            batch_size,
            device,
            "domain: held-out images" if progress else None,
        )
    )
    domain.threshold = float(np.quantile(distances, quantile, method="higher"))  # flags at most 1 - quantile
    domain.record = {
        "feature": f"pooled f_cls features ({features.shape[1]} values)",
        "method": "Mahalanobis distance, Ledoit-Wolf shrinkage",
        "num_images": len(picked),
        "held_out_images": len(held_indices),
        "quantile": quantile,
        "held_out_flagged": float((distances > domain.threshold).mean()),
        "shrinkage": float(estimate.shrinkage_),
    }
    return domain


__all__ = ["DomainCheck", "DomainModel", "capture_features", "describe", "fit_domain", "pooled_features"]
