"""What a report runs on: the images of a folder, or the samples of any dataset srn_core reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from srn_core.datasets import Box, DatasetError, detect_format, load_dataset
from srn_core.sources import align_dataset

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")


@dataclass
class ReportItem:
    """One image to analyse, with its ground truth when the source had any."""

    path: Path
    targets: np.ndarray | None = None
    boxes: list[Box] = field(default_factory=list)


@dataclass
class ReportInputs:
    items: list[ReportItem]
    kind: str
    notes: list[str] = field(default_factory=list)


def _is_dataset(source: Path) -> bool:
    if source.is_file():
        return True
    try:
        detect_format(source)
    except ValueError:
        return False
    return True


def gather_inputs(source: str | Path, label_names: Sequence[str], image_dir: str | Path | None = None) -> ReportInputs:
    """A folder of images (files with an image suffix, sorted; no ground truth) or a dataset / manifest
    (labels aligned to the model's; boxes kept). `image_dir` is the image folder of COCO annotations.
    Raises ValueError / DatasetError naming the problem."""
    source = Path(source)
    if not source.exists():
        raise ValueError(f"{source}: no such file or folder")
    if image_dir is not None and not Path(image_dir).is_dir():
        raise ValueError(f"{image_dir}: the image folder does not exist")
    if not _is_dataset(source):
        paths = sorted(
            p
            for p in source.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not paths:
            raise ValueError(f"{source}: folder holds no image files ({', '.join(IMAGE_SUFFIXES)})")
        return ReportInputs([ReportItem(p) for p in paths], "folder")
    options = {"image_dir": Path(image_dir)} if image_dir is not None else {}
    try:
        dataset = load_dataset(source, skip_missing=True, **options)
    except TypeError:
        raise ValueError(f"{source}: an image folder (--image-dir) applies to COCO annotations only") from None
    except DatasetError as exc:
        if "need image_dir=" in str(exc):
            raise DatasetError(
                f"{source}: COCO annotations need the folder of their images: pass --image-dir DIR "
                "(image_dir= in Python)"
            ) from None
        raise
    dataset = align_dataset(dataset, label_names)
    notes = (
        [f"{dataset.skipped_missing} images listed in {source} do not exist and were skipped"]
        if dataset.skipped_missing
        else []
    )
    items = [ReportItem(s.path, np.asarray(s.targets, np.int8), list(s.boxes)) for s in dataset.samples]
    if not items:
        raise ValueError(f"{source}: the dataset lists no existing images")
    return ReportInputs(items, "dataset", notes)
