"""Command-line options that say where a dataset is, shared by `train` and `evaluate`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..datasets import FORMATS
from .config import DataSpec

_PER_SOURCE = (
    ("label_matrix", "--{p}label-matrix", "FILE", "SRN split: the label matrix of {w} image list"),
    ("image_dir", "--{p}image-dir", "DIR", "COCO: the folder holding {w} images"),
    (
        "image_root",
        "--{p}image-root",
        "DIR",
        "SRN split: the folder {w} list's paths are relative to (default: the list's folder)",
    ),
    ("image_set", "--{p}image-set", "NAME", "VOC: the image set of {w} data (e.g. trainval, test)"),
    (
        "subset",
        "--{p}subset",
        "FILE",
        "SRN split: keep only the rows of {w} list that FILE names: a "
        "MATLAB index vector or mask (NUS-WIDE's official "
        "nus_test_accessible.mat) or a text file of 1-based row numbers",
    ),
)


def add_data_arguments(parser: argparse.ArgumentParser, with_val: bool = False) -> None:
    """--data SOURCE and the format options; with `with_val`, also --val-data and its per-source options."""
    group = parser.add_argument_group("data (see docs/training.md, 'Dataset formats')")
    group.add_argument(
        "--data",
        required=True,
        metavar="SOURCE",
        help="dataset: manifest .json/.csv, COCO instances .json, VOC root folder, or an SRN image "
        "list .txt (with --label-matrix)",
    )
    prefixes = [("", "the")]
    if with_val:
        group.add_argument(
            "--val-data",
            metavar="SOURCE",
            help="validation data, same format as --data; metrics of every head are logged after each epoch",
        )
        prefixes.append(("val-", "the validation"))
    for prefix, whose in prefixes:
        for _, flag, metavar, text in _PER_SOURCE:
            group.add_argument(flag.format(p=prefix), metavar=metavar, help=text.format(w=whose))
    group.add_argument(
        "--format",
        default="auto",
        choices=("auto", *FORMATS),
        help="dataset format (default: detected from the source)",
    )
    group.add_argument(
        "--label-names",
        metavar="FILE_OR_LIST",
        help="label names for SRN split / VOC data: a file (one a line) or a comma-separated list",
    )
    group.add_argument(
        "--encoding",
        choices=("auto", "binary", "wider"),
        help="SRN split label matrix encoding (wider: 1/-1/0 = positive/negative/unknown)",
    )
    group.add_argument(
        "--skip-missing",
        action="store_true",
        help="leave out images whose file is missing (default: a missing image is an error)",
    )


def _label_names(value: str | None) -> list[str] | None:
    if value is None:
        return None
    path = Path(value)
    if path.is_file():
        return [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
    return [name.strip() for name in value.split(",") if name.strip()]


def data_spec(args: argparse.Namespace, val: bool = False) -> DataSpec | None:
    """The DataSpec of --data (or of --val-data with `val`), None when that option was not given."""
    prefix = "val_" if val else ""
    source = getattr(args, f"{prefix}data", None)
    if source is None:
        return None
    options = {}
    for key, *_ in _PER_SOURCE:
        value = getattr(args, prefix + key, None)
        if value is not None:
            options[key] = value
    names = _label_names(args.label_names)
    if names is not None:
        options["label_names"] = names
    if args.encoding is not None:
        options["encoding"] = args.encoding
    return DataSpec(str(source), args.format, options)
