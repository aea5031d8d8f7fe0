"""One entry point for every dataset format: detect the format from the source's shape and dispatch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import DatasetError, MultiLabelDataset, load_json
from .coco import coco_from_dict
from .manifest import FORMAT_NAME, manifest_from_dict, read_manifest
from .srn_split import read_srn_split
from .voc import read_voc

FORMATS = ("manifest", "coco", "voc", "srn-split")
MANIFEST_NAMES = ("manifest.json", "manifest.csv")


def detect_format(source: str | Path, **kw: Any) -> str:
    """Guess the format of `source` from its shape, without parsing JSON (a .json file is 'json')."""
    source = Path(source)
    if source.is_dir():
        if (source / "Annotations").is_dir() and (source / "ImageSets" / "Main").is_dir():
            return "voc"
        if any((source / name).is_file() for name in MANIFEST_NAMES):
            return "manifest"
        raise DatasetError(
            f"{source}: folder is neither a VOC root (Annotations/, ImageSets/Main/) nor holds one of {MANIFEST_NAMES}"
        )
    suffix = source.suffix.lower()
    if suffix == ".csv":
        return "manifest"
    if suffix == ".json":
        return "json"
    if suffix == ".txt" and "label_matrix" in kw:
        return "srn-split"
    if suffix == ".txt":
        raise DatasetError(f"{source}: a .txt source is read as an SRN image list and needs label_matrix=")
    if not source.exists():
        raise DatasetError(f"{source}: not found")
    raise DatasetError(f"{source}: unknown dataset format (expected .json, .csv, .txt image list or a VOC folder)")


def load_dataset(source: str | Path, fmt: str = "auto", skip_missing: bool = False, **kw: Any) -> MultiLabelDataset:
    """Read any supported dataset. `fmt`: 'auto' or one of FORMATS. Extra keywords go to the reader:

    coco: image_dir (default: for .../annotations/instances_<split>.json, the folder .../<split>);
    voc: image_set, label_names; srn-split: label_matrix (required), subset, image_root (default: the list's
    folder), label_names, encoding. A folder holding manifest.json or manifest.csv reads that manifest.
    """
    source = Path(source)
    if fmt not in ("auto", *FORMATS):
        raise ValueError(f"fmt must be 'auto' or one of {FORMATS}, got {fmt!r}")
    kind = detect_format(source, **kw) if fmt == "auto" else fmt
    if kind == "voc":
        return read_voc(source, skip_missing=skip_missing, **kw)
    if kind == "srn-split":
        if "label_matrix" not in kw:
            raise DatasetError(f"{source}: an SRN image list needs label_matrix=")
        kw.setdefault("image_root", source.parent)
        return read_srn_split(source, skip_missing=skip_missing, **kw)
    if kind == "manifest" and source.is_dir():
        source = next(source / n for n in MANIFEST_NAMES if (source / n).is_file())
    if kind == "manifest" and source.suffix.lower() == ".csv":
        return read_manifest(source, skip_missing=skip_missing, **kw)
    data = load_json(source)
    if kind == "json":
        kind = _json_kind(data, source)
    if kind == "manifest":
        return manifest_from_dict(data, source, skip_missing, **kw)
    return coco_from_dict(data, source, _coco_image_dir(source, kw.pop("image_dir", None)), skip_missing, **kw)


def _json_kind(data: Any, source: Path) -> str:
    if isinstance(data, dict) and data.get("format") == FORMAT_NAME:
        return "manifest"
    if isinstance(data, dict) and "categories" in data and "images" in data:
        return "coco"
    raise DatasetError(
        f'{source}: JSON is neither an srn-manifest ("format": "{FORMAT_NAME}") '
        'nor a COCO instances file ("images", "categories")'
    )


def _coco_image_dir(source: Path, image_dir: str | Path | None) -> Path:
    """The given image_dir, or the standard COCO layout's split folder next to annotations/."""
    if image_dir is not None:
        return Path(image_dir)
    stem = source.stem
    if stem.startswith("instances_"):
        guess = source.parent.parent / stem.removeprefix("instances_")
        if guess.is_dir():
            return guess
    raise DatasetError(f"{source}: COCO annotations need image_dir= (the folder holding the images)")
