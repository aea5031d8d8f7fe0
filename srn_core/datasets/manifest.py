"""The project's own dataset manifest: JSON (labels, unknowns, boxes, extras) or flat CSV (labels only).

JSON::

    {"format": "srn-manifest", "version": 1, "labels": ["circle", "star"],
     "images": [{"path": "images/000001.png", "labels": ["circle"], "unknown": ["star"],
                 "boxes": [{"label": "circle", "box": [x0, y0, x1, y1]}], "rules": ["..."]}]}

Labels not listed for an image are negative; any other key of an image entry goes to `Sample.extra`.
CSV: header ``path,<label1>,<label2>,...`` and one row per image with 1 / 0 / -1 (unknown).
Image paths are stored relative to the manifest's folder when the image lies under it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..fileio import atomic_write_text
from .base import UNKNOWN, Box, DatasetError, MultiLabelDataset, Sample, check_label_names, image_present, load_json

FORMAT_NAME = "srn-manifest"
FORMAT_VERSION = 1
RESERVED_KEYS = ("path", "labels", "unknown", "boxes")
_CSV_VALUES = {"1": 1, "0": 0, "-1": -1}


def write_manifest(path: str | Path, dataset: MultiLabelDataset) -> Path:
    """Write `dataset` atomically as JSON (suffix .json) or CSV (suffix .csv; boxes and extras are dropped)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise DatasetError(f"{path}: a manifest must end in .json or .csv")
    _check_dataset(dataset, path)
    folder = Path(os.path.abspath(path.parent))
    text = _to_json(dataset, folder, path) if suffix == ".json" else _to_csv(dataset, folder)
    return atomic_write_text(path, text)


def read_manifest(path: str | Path, skip_missing: bool = False) -> MultiLabelDataset:
    """Read a JSON or CSV manifest; image paths are resolved against the manifest's folder."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        return manifest_from_dict(load_json(path), path, skip_missing)
    if suffix == ".csv":
        return _read_csv(path, skip_missing)
    raise DatasetError(f"{path}: a manifest must end in .json or .csv")


def manifest_from_dict(data: Any, source: Path, skip_missing: bool = False) -> MultiLabelDataset:
    """Build a dataset from an already parsed JSON manifest read from `source`."""
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise DatasetError(f'{source}: not an srn-manifest (top level needs "format": "{FORMAT_NAME}")')
    if data.get("version") != FORMAT_VERSION:
        raise DatasetError(
            f"{source}: unsupported manifest version {data.get('version')!r} (this reader knows {FORMAT_VERSION})"
        )
    labels = _label_names(data.get("labels"), str(source))
    images = data.get("images")
    if not isinstance(images, list):
        raise DatasetError(f'{source}: "images" must be a list')
    index = {name: i for i, name in enumerate(labels)}
    folder = source.parent
    samples, skipped = [], 0
    for i, entry in enumerate(images):
        where = f"{source}, entry images[{i}]"
        sample = _sample_from_entry(entry, index, folder, where)
        if image_present(sample.path, where, skip_missing):
            samples.append(sample)
        else:
            skipped += 1
    return MultiLabelDataset(labels, samples, skipped_missing=skipped)


def _label_names(names: Any, where: str) -> list[str]:
    if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
        raise DatasetError(f'{where}: "labels" must be a list of non-empty label names')
    return check_label_names(names, where)


def _name_list(entry: dict, key: str, index: dict[str, int], where: str) -> list[int]:
    names = entry.get(key, [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise DatasetError(f'{where}: "{key}" must be a list of label names')
    for name in names:
        if name not in index:
            raise DatasetError(f'{where}: unknown label {name!r} in "{key}"')
    return [index[n] for n in names]


def _box(item: Any, index: dict[str, int], where: str) -> Box:
    if not isinstance(item, dict) or not isinstance(item.get("box"), list) or len(item["box"]) != 4:
        raise DatasetError(f'{where}: a box must look like {{"label": name, "box": [x0, y0, x1, y1]}}')
    if item.get("label") not in index:
        raise DatasetError(f'{where}: unknown label {item.get("label")!r} in "boxes"')
    coords = item["box"]
    if not all(isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c) for c in coords):
        raise DatasetError(f"{where}: box coordinates must be finite numbers, got {coords}")
    x0, y0, x1, y1 = (float(c) for c in coords)
    if x1 < x0 or y1 < y0:
        raise DatasetError(f"{where}: box {coords} has x1 < x0 or y1 < y0")
    return Box(item["label"], x0, y0, x1, y1)


def _sample_from_entry(entry: Any, index: dict[str, int], folder: Path, where: str) -> Sample:
    if not isinstance(entry, dict):
        raise DatasetError(f"{where}: an image entry must be a JSON object")
    rel = entry.get("path")
    if not isinstance(rel, str) or not rel.strip():
        raise DatasetError(f'{where}: missing or empty "path"')
    positive = _name_list(entry, "labels", index, where)
    unknown = _name_list(entry, "unknown", index, where)
    both = sorted(set(positive) & set(unknown))
    if both:
        names = list(index)
        raise DatasetError(f"{where}: labels {[names[i] for i in both]} are both positive and unknown")
    targets = np.zeros(len(index), dtype=np.int8)
    targets[positive] = 1
    targets[unknown] = UNKNOWN
    boxes = entry.get("boxes", [])
    if not isinstance(boxes, list):
        raise DatasetError(f'{where}: "boxes" must be a list')
    extra = {k: v for k, v in entry.items() if k not in RESERVED_KEYS}
    return Sample(folder / rel, targets, [_box(b, index, where) for b in boxes], extra)


def _read_csv(path: Path, skip_missing: bool) -> MultiLabelDataset:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows = [(n, row) for n, row in _numbered_rows(csv.reader(handle))]
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{path}: cannot read as CSV: {exc}") from None
    if not rows:
        raise DatasetError(f"{path}: empty file (expected a header 'path,<label1>,...')")
    header_line, header = rows[0]
    if header[0].strip() != "path":
        raise DatasetError(f"{path}, line {header_line}: the first column must be 'path', got {header[0]!r}")
    labels = _label_names([h.strip() for h in header[1:]], f"{path}, line {header_line}")
    samples, skipped = [], 0
    for line, row in rows[1:]:
        where = f"{path}, line {line}"
        if len(row) != len(header):
            raise DatasetError(f"{where}: expected {len(header)} columns, found {len(row)}")
        if not row[0].strip():
            raise DatasetError(f"{where}: empty path")
        values = []
        for name, cell in zip(labels, row[1:]):
            if cell.strip() not in _CSV_VALUES:
                raise DatasetError(f"{where}: bad value {cell!r} for label {name!r} (expected 1, 0 or -1)")
            values.append(_CSV_VALUES[cell.strip()])
        sample = Sample(path.parent / row[0].strip(), np.array(values, dtype=np.int8))
        if image_present(sample.path, where, skip_missing):
            samples.append(sample)
        else:
            skipped += 1
    return MultiLabelDataset(labels, samples, skipped_missing=skipped)


def _numbered_rows(reader: Any) -> Any:
    """Yield (line number where the row starts, row), skipping blank lines."""
    start = 1
    for row in reader:
        if row and any(cell.strip() for cell in row):
            yield start, row
        start = reader.line_num + 1


def _check_dataset(dataset: MultiLabelDataset, path: Path) -> None:
    _label_names(list(dataset.label_names), f"{path} (writing)")
    names = set(dataset.label_names)
    for i, sample in enumerate(dataset.samples):
        where = f"{path} (writing), sample {i}"
        targets = np.asarray(sample.targets)
        if targets.shape != (dataset.num_labels,) or not np.isin(targets, (-1, 0, 1)).all():
            raise DatasetError(f"{where}: targets must be {dataset.num_labels} values in {{1, 0, -1}}")
        bad = [b.label for b in sample.boxes if b.label not in names]
        if bad:
            raise DatasetError(f"{where}: boxes with unknown labels {bad}")
        clash = [k for k in sample.extra if k in RESERVED_KEYS]
        if clash:
            raise DatasetError(f"{where}: extra keys {clash} clash with manifest fields")


def _relative(path: Path, folder: Path) -> str:
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(folder).as_posix()
    except ValueError:
        return absolute.as_posix()


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return value.as_posix()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _to_json(dataset: MultiLabelDataset, folder: Path, path: Path) -> str:
    names = dataset.label_names
    lines = []
    for i, sample in enumerate(dataset.samples):
        targets = np.asarray(sample.targets)
        entry: dict[str, Any] = {
            "path": _relative(sample.path, folder),
            "labels": [names[j] for j in np.flatnonzero(targets == 1)],
        }
        unknown = [names[j] for j in np.flatnonzero(targets == UNKNOWN)]
        if unknown:
            entry["unknown"] = unknown
        if sample.boxes:
            entry["boxes"] = [{"label": b.label, "box": [b.x0, b.y0, b.x1, b.y1]} for b in sample.boxes]
        entry.update(sample.extra)
        try:
            lines.append(json.dumps(entry, default=_json_default, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise DatasetError(f"{path} (writing), sample {i}: cannot store as JSON: {exc}") from None
    head = json.dumps({"format": FORMAT_NAME, "version": FORMAT_VERSION, "labels": list(names)})
    return head[:-1] + ', "images": [\n' + ",\n".join(lines) + "\n]}\n"


def _to_csv(dataset: MultiLabelDataset, folder: Path) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["path", *dataset.label_names])
    for sample in dataset.samples:
        writer.writerow([_relative(sample.path, folder), *(int(v) for v in np.asarray(sample.targets))])
    return buffer.getvalue()
