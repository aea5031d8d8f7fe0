"""Preprocessing as the official SRN test code: resize the whole image (no crop), then normalise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from PIL import Image
from torchvision.transforms.v2 import functional as TF


@dataclass(frozen=True)
class Preprocessor:
    """Turns RGB PIL images into the normalised (3, S, S) tensors a model was trained on."""

    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def __call__(self, image: Image.Image) -> torch.Tensor:
        tensor = TF.pil_to_tensor(image.convert("RGB"))
        tensor = TF.resize(tensor, [self.input_size, self.input_size], antialias=True)
        return TF.normalize(TF.to_dtype(tensor, torch.float32, scale=True), list(self.mean), list(self.std))

    def batch(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """Stack several preprocessed images into one (B, 3, S, S) batch."""
        return torch.stack([self(image) for image in images])
