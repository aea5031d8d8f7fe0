"""MS-COCO instances JSON -> image-level labels (any annotated category is positive) plus boxes."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from .base import Box, DatasetError, MultiLabelDataset, Sample, check_label_names, image_present, load_json


def read_coco(annotations_json: str | Path, image_dir: str | Path, skip_missing: bool = False) -> MultiLabelDataset:
    """Read a COCO `instances_*.json`; label names are the category names in category-id order.

    Crowd annotations count like any other. Images without annotations are kept, all negative.
    `Sample.extra["coco_id"]` holds the COCO image id.
    """
    source = Path(annotations_json)
    return coco_from_dict(load_json(source), source, Path(image_dir), skip_missing)


def coco_from_dict(data: Any, source: Path, image_dir: Path, skip_missing: bool = False) -> MultiLabelDataset:
    """Build a dataset from an already parsed COCO instances file read from `source`."""
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in ("images", "categories")):
        raise DatasetError(f'{source}: not a COCO instances file (needs lists "images" and "categories")')
    if not isinstance(data.get("annotations"), list):
        raise DatasetError(f'{source}: no "annotations" list (an image-info file without labels?)')
    label_names, column = _categories(data["categories"], source)
    rows = _images(data["images"], source)
    targets = np.zeros((len(rows), len(label_names)), dtype=np.int8)
    boxes: list[list[Box]] = [[] for _ in rows]
    for i, ann in enumerate(data["annotations"]):
        where = f"{source}, entry annotations[{i}]"
        if not isinstance(ann, dict):
            raise DatasetError(f"{where}: an annotation must be a JSON object")
        row = rows.get(_key(ann.get("image_id")))
        if row is None:
            raise DatasetError(f"{where}: unknown image id {ann.get('image_id')!r}")
        col = column.get(_key(ann.get("category_id")))
        if col is None:
            raise DatasetError(f"{where}: unknown label (category id {ann.get('category_id')!r})")
        targets[row, col] = 1
        boxes[row].append(_box(ann.get("bbox"), label_names[col], where))
    samples, skipped = [], 0
    for (image_id, row), entry in zip(rows.items(), data["images"]):
        sample = Sample(image_dir / entry["file_name"], targets[row].copy(), boxes[row], {"coco_id": image_id})
        if image_present(sample.path, f"{source}, entry images[{row}]", skip_missing):
            samples.append(sample)
        else:
            skipped += 1
    return MultiLabelDataset(label_names, samples, skipped_missing=skipped)


def _key(value: Any) -> Any:
    """Ids are compared as given; bools and floats are not ids."""
    return value if isinstance(value, (int, str)) and not isinstance(value, bool) else None


def _categories(categories: list, source: Path) -> tuple[list[str], dict[Any, int]]:
    seen_ids, seen_names = set(), set()
    for i, cat in enumerate(categories):
        where = f"{source}, entry categories[{i}]"
        if not isinstance(cat, dict) or not isinstance(cat.get("id"), int) or isinstance(cat.get("id"), bool):
            raise DatasetError(f'{where}: a category needs an integer "id"')
        name = cat.get("name")
        if not isinstance(name, str) or not name.strip():
            raise DatasetError(f'{where}: a category needs a non-empty "name"')
        if cat["id"] in seen_ids or name in seen_names:
            raise DatasetError(f"{where}: duplicate category id {cat['id']} or name {name!r}")
        seen_ids.add(cat["id"])
        seen_names.add(name)
    ordered = sorted(categories, key=lambda c: c["id"])
    names = check_label_names([c["name"] for c in ordered], f'{source}, "categories"')
    return names, {c["id"]: j for j, c in enumerate(ordered)}


def _images(images: list, source: Path) -> dict[Any, int]:
    rows: dict[Any, int] = {}
    for i, entry in enumerate(images):
        where = f"{source}, entry images[{i}]"
        if not isinstance(entry, dict) or _key(entry.get("id")) is None:
            raise DatasetError(f'{where}: an image needs an "id"')
        if not isinstance(entry.get("file_name"), str) or not entry["file_name"].strip():
            raise DatasetError(f'{where}: an image needs a non-empty "file_name"')
        if entry["id"] in rows:
            raise DatasetError(f"{where}: duplicate image id {entry['id']!r}")
        rows[entry["id"]] = i
    return rows


def _box(bbox: Any, label: str, where: str) -> Box:
    """COCO boxes are [x, y, width, height]; ours are [x0, y0, x1, y1]."""
    if (
        not isinstance(bbox, list)
        or len(bbox) != 4
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in bbox)
    ):
        raise DatasetError(f'{where}: "bbox" must be [x, y, width, height], got {bbox!r}')
    x, y, w, h = (float(v) for v in bbox)
    if w < 0 or h < 0:
        raise DatasetError(f'{where}: "bbox" {bbox} has a negative width or height')
    return Box(label, x, y, x + w, y + h)
