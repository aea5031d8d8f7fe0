"""Training batches: preprocessed, optionally augmented images with their targets, in a resumable order.

Every random choice (the shuffle of an epoch, each image's flip and crop) is a function of
(seed, epoch, index) alone, so a resumed run sees exactly the batches an uninterrupted one would,
whatever the number of DataLoader workers. The batch sampler hands out (epoch, index) pairs, so
workers can stay alive across epochs.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler
from torchvision.transforms.v2 import functional as TF

from ..preprocess import Preprocessor
from ..sources import LabelledImages

AUTO_CACHE_BYTES = 1 << 30


class Augment:
    """Random horizontal flip (p = 0.5, if enabled) and random resized crop (area in [crop_scale, 1])."""

    def __init__(self, hflip: bool = False, crop_scale: float = 1.0, seed: int = 0) -> None:
        self.hflip = hflip
        self.crop_scale = crop_scale
        self.seed = seed

    @property
    def active(self) -> bool:
        return self.hflip or self.crop_scale < 1.0

    def __call__(self, image: torch.Tensor, epoch: int, index: int) -> torch.Tensor:
        """Augment a preprocessed (3, S, S) tensor; the same (epoch, index) always gives the same result."""
        if not self.active:
            return image
        rng = np.random.default_rng([self.seed, epoch, index])
        if self.crop_scale < 1.0:
            size = image.shape[-1]
            area = rng.uniform(self.crop_scale, 1.0)
            ratio = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
            w = min(size, max(1, round(size * math.sqrt(area * ratio))))
            h = min(size, max(1, round(size * math.sqrt(area / ratio))))
            top, left = int(rng.integers(0, size - h + 1)), int(rng.integers(0, size - w + 1))
            image = TF.resized_crop(image, top, left, h, w, [size, size], antialias=True)
        if self.hflip and rng.random() < 0.5:
            image = TF.horizontal_flip(image)
        return image


class TrainingImages(Dataset):
    """(epoch, index) -> (augmented image (3, S, S), targets int8 (C,), index).

    With `cache`, each image is decoded and preprocessed once and kept in memory (float32).
    """

    def __init__(
        self, source: LabelledImages, preprocess: Preprocessor, augment: Augment | None = None, cache: bool = False
    ) -> None:
        self.source = source
        self.preprocess = preprocess
        self.augment = augment or Augment()
        self.cache: dict[int, tuple[torch.Tensor, torch.Tensor]] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.source)

    def _load(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if self.cache is not None and index in self.cache:
            return self.cache[index]
        image = self.preprocess(self.source.image(index))
        item = image, torch.from_numpy(np.asarray(self.source.targets(index), dtype=np.int8))
        if self.cache is not None:
            self.cache[index] = item
        return item

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, int]:
        epoch, index = key
        image, targets = self._load(index)
        return self.augment(image, epoch, index), targets, index


def should_cache(mode: str, num_images: int, input_size: int, workers: int) -> bool:
    """`on`/`off` as given; `auto` caches when there are no workers and the images fit in 1 GiB."""
    if mode != "auto":
        return mode == "on"
    return workers == 0 and num_images * 3 * input_size * input_size * 4 <= AUTO_CACHE_BYTES


class EpochBatches(Sampler[list[tuple[int, int]]]):
    """Batches of (epoch, index) for one rank: the epoch's seeded permutation, padded to a multiple of the
    world size (as DistributedSampler does), this rank's share, cut into batches.

    `set_epoch(epoch, skip)` picks the epoch and how many of its batches were already done. A last
    batch of a single image is dropped (BatchNorm cannot train on it when the final map is 1x1).
    """

    def __init__(
        self, num_images: int, batch_size: int, seed: int = 0, rank: int = 0, world_size: int = 1, shuffle: bool = True
    ) -> None:
        if num_images < 1:
            raise ValueError("cannot train on an empty dataset")
        self.num_images = num_images
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.shuffle = shuffle
        self.epoch = 0
        self.skip = 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.epoch = epoch
        self.skip = skip

    def _rank_indices(self) -> list[int]:
        if self.shuffle:
            seed = int(np.random.SeedSequence([self.seed, self.epoch]).generate_state(1)[0])
            generator = torch.Generator().manual_seed(seed)
            order = torch.randperm(self.num_images, generator=generator).tolist()
        else:
            order = list(range(self.num_images))
        total = math.ceil(self.num_images / self.world_size) * self.world_size
        padded = (order * math.ceil(total / len(order)))[:total]
        return padded[self.rank : total : self.world_size]

    def batches(self) -> list[list[int]]:
        """All of this epoch's batches of this rank (indices only), including the skipped ones."""
        indices = self._rank_indices()
        batches = [indices[i : i + self.batch_size] for i in range(0, len(indices), self.batch_size)]
        if len(batches) > 1 and len(batches[-1]) == 1:
            batches.pop()
        return batches

    def __len__(self) -> int:
        """Batches per epoch (ignoring the skip)."""
        per_rank = math.ceil(self.num_images / self.world_size)
        count = math.ceil(per_rank / self.batch_size)
        return count - 1 if count > 1 and per_rank % self.batch_size == 1 else count

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        for batch in self.batches()[self.skip :]:
            yield [(self.epoch, index) for index in batch]
