"""Pascal VOC (Annotations/*.xml, ImageSets/Main/<set>.txt, JPEGImages/) -> image-level labels plus boxes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .base import UNKNOWN, Box, DatasetError, MultiLabelDataset, Sample, check_label_names, image_present, text_lines

VOC_CLASSES = (
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
)


def read_voc(
    root: str | Path, image_set: str = "trainval", skip_missing: bool = False, label_names: Sequence[str] = VOC_CLASSES
) -> MultiLabelDataset:
    """Read one VOC image set; the image of id X is JPEGImages/X.jpg, as in the VOC devkit.

    A label is positive if the image has a non-difficult object of it, unknown (-1) if all its
    objects are marked difficult, negative otherwise. Every object's box is kept;
    `Sample.extra` holds "voc_id" and "difficult" (one flag per box).
    """
    root = Path(root)
    label_names = check_label_names(list(label_names), "VOC label names")
    set_file = root / "ImageSets" / "Main" / f"{image_set}.txt"
    index = {name: i for i, name in enumerate(label_names)}
    samples, skipped = [], 0
    for line, image_id in _image_ids(set_file):
        where = f"{set_file}, line {line}"
        xml_path = root / "Annotations" / f"{image_id}.xml"
        if not xml_path.is_file():
            raise DatasetError(f"{where}: annotation not found: {xml_path}")
        targets, boxes, difficult = _parse_annotation(xml_path, index)
        sample = Sample(
            root / "JPEGImages" / f"{image_id}.jpg", targets, boxes, {"voc_id": image_id, "difficult": difficult}
        )
        if image_present(sample.path, where, skip_missing):
            samples.append(sample)
        else:
            skipped += 1
    return MultiLabelDataset(list(label_names), samples, skipped_missing=skipped)


def _image_ids(set_file: Path) -> list[tuple[int, str]]:
    """(line number, image id) for each non-blank line of an ImageSets file."""
    ids = []
    for line, text in text_lines(set_file, "image set file"):
        tokens = text.split()
        if len(tokens) != 1:
            raise DatasetError(f"{set_file}, line {line}: malformed line {text!r} (expected one image id)")
        ids.append((line, tokens[0]))
    return ids


def _parse_annotation(xml_path: Path, index: dict[str, int]) -> tuple[np.ndarray, list[Box], list[bool]]:
    try:
        root = ET.parse(xml_path).getroot()
    except ET.ParseError as exc:
        raise DatasetError(f"{xml_path}, line {exc.position[0]}: bad XML: {exc}") from None
    plain = np.zeros(len(index), dtype=bool)
    hard = np.zeros(len(index), dtype=bool)
    boxes, difficult = [], []
    for k, obj in enumerate(root.findall("object")):
        where = f"{xml_path}, entry object[{k}]"
        name = (obj.findtext("name") or "").strip()
        if name not in index:
            raise DatasetError(f"{where}: unknown label {name!r}")
        flag = (obj.findtext("difficult") or "0").strip()
        if flag not in ("0", "1"):
            raise DatasetError(f"{where}: <difficult> must be 0 or 1, got {flag!r}")
        (hard if flag == "1" else plain)[index[name]] = True
        boxes.append(_bndbox(obj, name, where))
        difficult.append(flag == "1")
    targets = plain.astype(np.int8)
    targets[hard & ~plain] = UNKNOWN
    return targets, boxes, difficult


def _bndbox(obj: ET.Element, name: str, where: str) -> Box:
    tags = ("xmin", "ymin", "xmax", "ymax")
    node = obj.find("bndbox")
    try:
        x0, y0, x1, y1 = (float(node.findtext(t)) for t in tags)  # type: ignore[union-attr, arg-type]
    except (AttributeError, TypeError, ValueError):
        raise DatasetError(f"{where}: <bndbox> needs numeric {', '.join(tags)}") from None
    if x1 < x0 or y1 < y0:
        raise DatasetError(f"{where}: <bndbox> has xmax < xmin or ymax < ymin")
    return Box(name, x0, y0, x1, y1)
