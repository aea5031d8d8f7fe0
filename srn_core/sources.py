"""Labelled images from anywhere, behind one small interface that training and evaluation share.

A `LabelledImages` source has `label_names`, a length, and per index an RGB image, a target vector
(int8: 1 positive, 0 negative, -1 unknown) and a name. Adapters: a `MultiLabelDataset` (images read
from disk on demand), an in-memory list of (image, targets) pairs, or a function that makes image
`i` on the fly (e.g. `srn_core.scenes.render_scene`), which never needs the images on disk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image

from .datasets import MultiLabelDataset, Sample
from .images import ImageSource, load_image


@runtime_checkable
class LabelledImages(Protocol):
    """What training and evaluation read: indexable labelled RGB images."""

    label_names: list[str]

    def __len__(self) -> int: ...

    def image(self, index: int) -> Image.Image: ...

    def targets(self, index: int) -> np.ndarray: ...

    def name(self, index: int) -> str: ...


def _targets(value: Any, num_labels: int, where: str) -> np.ndarray:
    targets = np.asarray(value.targets if isinstance(value, Sample) else value)
    if targets.shape != (num_labels,) or not np.isin(targets, (-1, 0, 1)).all():
        raise ValueError(f"{where}: targets must be {num_labels} values of 1, 0 or -1, got {targets!r}")
    return targets.astype(np.int8)


class DatasetImages:
    """A MultiLabelDataset whose images are decoded from disk when asked for."""

    def __init__(self, dataset: MultiLabelDataset) -> None:
        self.dataset = dataset
        self.label_names = list(dataset.label_names)

    def __len__(self) -> int:
        return len(self.dataset)

    def image(self, index: int) -> Image.Image:
        return load_image(self.dataset.samples[index].path)

    def targets(self, index: int) -> np.ndarray:
        return np.asarray(self.dataset.samples[index].targets, dtype=np.int8)

    def name(self, index: int) -> str:
        return str(self.dataset.samples[index].path)


class InMemoryImages:
    """A list of (image, targets) pairs; images may be PIL images, arrays, bytes or paths."""

    def __init__(
        self, label_names: Sequence[str], items: Sequence[tuple[ImageSource, Any]], names: Sequence[str] | None = None
    ) -> None:
        self.label_names = list(label_names)
        self.items = [(image, _targets(t, len(self.label_names), f"item {i}")) for i, (image, t) in enumerate(items)]
        self.names = list(names) if names is not None else [f"item{i}" for i in range(len(self.items))]
        if len(self.names) != len(self.items):
            raise ValueError(f"{len(self.names)} names given for {len(self.items)} images")

    def __len__(self) -> int:
        return len(self.items)

    def image(self, index: int) -> Image.Image:
        return load_image(self.items[index][0], self.names[index])

    def targets(self, index: int) -> np.ndarray:
        return self.items[index][1]

    def name(self, index: int) -> str:
        return self.names[index]


class GeneratedImages:
    """Images made on the fly: `make(i)` returns (image, targets or Sample); must be deterministic in i.

    The last result is kept, so asking for image i and then its targets makes it once; pass
    `targets_of(i)` when targets alone are cheaper to get.
    """

    def __init__(
        self,
        label_names: Sequence[str],
        length: int,
        make: Callable[[int], tuple[Image.Image, Any]],
        targets_of: Callable[[int], Any] | None = None,
    ) -> None:
        if length < 0:
            raise ValueError(f"length must be >= 0, got {length}")
        self.label_names = list(label_names)
        self.length = length
        self.make = make
        self.targets_of = targets_of
        self._last: tuple[int, tuple[Image.Image, Any]] | None = None

    def __len__(self) -> int:
        return self.length

    def _made(self, index: int) -> tuple[Image.Image, Any]:
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} generated images")
        if self._last is None or self._last[0] != index:
            self._last = (index, self.make(index))
        return self._last[1]

    def image(self, index: int) -> Image.Image:
        return load_image(self._made(index)[0], self.name(index))

    def targets(self, index: int) -> np.ndarray:
        value = self.targets_of(index) if self.targets_of else self._made(index)[1]
        return _targets(value, len(self.label_names), self.name(index))

    def name(self, index: int) -> str:
        return f"generated{index}"


class ReorderedImages:
    """Another source with its label columns put into the order of `label_names`."""

    def __init__(self, source: LabelledImages, label_names: Sequence[str], columns: np.ndarray) -> None:
        self.source = source
        self.label_names = list(label_names)
        self.columns = columns

    def __len__(self) -> int:
        return len(self.source)

    def image(self, index: int) -> Image.Image:
        return self.source.image(index)

    def targets(self, index: int) -> np.ndarray:
        return np.asarray(self.source.targets(index), dtype=np.int8)[self.columns]

    def name(self, index: int) -> str:
        return self.source.name(index)


def as_source(data: Any) -> LabelledImages:
    """A LabelledImages view of `data`: a MultiLabelDataset or anything already LabelledImages."""
    if isinstance(data, MultiLabelDataset):
        return DatasetImages(data)
    if isinstance(data, LabelledImages):
        return data
    raise TypeError(
        f"cannot read labelled images from {type(data).__name__}; pass a MultiLabelDataset, "
        f"InMemoryImages or GeneratedImages"
    )


def label_columns(have: Sequence[str], wanted: Sequence[str]) -> np.ndarray:
    """The column of each of `wanted` in `have`, so that `targets[columns]` is in `wanted`'s order.

    Raises ValueError naming the missing and unexpected labels (the first 8 of each) when the two
    label lists do not hold the same names."""
    have, wanted = list(have), list(wanted)
    if sorted(have) != sorted(wanted):
        missing, extra = sorted(set(wanted) - set(have)), sorted(set(have) - set(wanted))
        raise ValueError(
            f"the data's labels do not match the model's: missing {missing[:8]}, unexpected "
            f"{extra[:8]} ({len(have)} vs {len(wanted)} labels)"
        )
    column = {name: i for i, name in enumerate(have)}
    return np.array([column[name] for name in wanted], dtype=np.int64)


def align_targets(targets: Sequence[int] | np.ndarray, names: Sequence[str], label_names: Sequence[str]) -> np.ndarray:
    """One target vector over `names` put into the order of `label_names` (int8); ValueError as in
    `label_columns` when the label sets differ."""
    return np.asarray(targets, dtype=np.int8)[label_columns(names, label_names)]


def aligned(source: LabelledImages, label_names: Sequence[str]) -> LabelledImages:
    """`source` with its labels in the order of `label_names`; a clear error if the label sets differ."""
    if list(source.label_names) == list(label_names):
        return source
    return ReorderedImages(source, label_names, label_columns(source.label_names, label_names))


def align_dataset(dataset: MultiLabelDataset, label_names: Sequence[str]) -> MultiLabelDataset:
    """The dataset with its targets in the order of `label_names` (boxes and paths kept); a clear error if
    the label sets differ."""
    if list(dataset.label_names) == list(label_names):
        return dataset
    columns = label_columns(dataset.label_names, label_names)
    samples = [Sample(s.path, np.asarray(s.targets)[columns], s.boxes, s.extra) for s in dataset.samples]
    return MultiLabelDataset(list(label_names), samples, dataset.skipped_missing)


__all__ = [
    "DatasetImages",
    "GeneratedImages",
    "InMemoryImages",
    "LabelledImages",
    "ReorderedImages",
    "align_dataset",
    "align_targets",
    "aligned",
    "as_source",
    "label_columns",
]
