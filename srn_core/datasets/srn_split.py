"""The official SRN split files: an image list (`relative/path.jpg N`) and a label matrix (one row per image).

Binary matrices hold 0/1. WIDER-Attribute matrices hold -1/0/1 where 1 is positive, -1 negative and
0 unknown; they are mapped to our 1 / 0 / -1. With `encoding="auto"` a matrix that contains any -1 is
read as WIDER, any other as binary; pass `encoding="wider"` for a WIDER matrix without a single -1.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .base import DatasetError, MultiLabelDataset, Sample, check_label_names, image_present, text_lines
from .subset import read_subset

ENCODINGS = ("auto", "binary", "wider")
_VALUES = {"1": 1, "0": 0, "-1": -1}


def read_srn_split(
    image_list: str | Path,
    label_matrix: str | Path,
    image_root: str | Path,
    label_names: Sequence[str] | str | Path | None = None,
    skip_missing: bool = False,
    encoding: str = "auto",
    subset: str | Path | None = None,
) -> MultiLabelDataset:
    """Read an image list and its label matrix; N on each list line must equal the row's positive count.

    `label_names`: a list of names, a path to a names file (one name a line), or None for label_0, label_1, ...
    `subset`: keep only the rows a subset file names (`srn_core.datasets.subset`), e.g. NUS-WIDE's
    official `nus_test_accessible.mat`.
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")
    list_path, matrix_path, image_root = Path(image_list), Path(label_matrix), Path(image_root)
    entries = _read_image_list(list_path)
    rows = _read_matrix(matrix_path)
    if len(entries) != len(rows):
        raise DatasetError(f"{list_path} lists {len(entries)} images but {matrix_path} has {len(rows)} rows")
    num_labels = len(rows[0][1]) if rows else 0
    names = _label_names(label_names, num_labels, matrix_path)
    raw = np.array([values for _, values in rows], dtype=np.int8).reshape(len(rows), num_labels)
    targets = _decode(raw, encoding, matrix_path, [line for line, _ in rows])
    if subset is not None:
        keep = read_subset(subset, len(rows))
        entries, rows, targets = [entries[i] for i in keep], [rows[i] for i in keep], targets[keep]
    samples, skipped = [], 0
    for (line, rel, count), (row_line, _), row in zip(entries, rows, targets):
        where = f"{list_path}, line {line}"
        positives = int((row == 1).sum())
        if positives != count:
            raise DatasetError(
                f"{where}: says {count} positive labels but {matrix_path}, line {row_line} has {positives}"
            )
        sample = Sample(image_root / rel, row.copy())
        if image_present(sample.path, where, skip_missing):
            samples.append(sample)
        else:
            skipped += 1
    return MultiLabelDataset(names, samples, skipped_missing=skipped)


def _read_image_list(path: Path) -> list[tuple[int, str, int]]:
    entries = []
    for line, text in text_lines(path):
        parts = text.rsplit(None, 1)
        if len(parts) != 2 or not (parts[1].isascii() and parts[1].isdigit()):
            raise DatasetError(
                f"{path}, line {line}: malformed line {text!r} "
                "(expected '<relative/path.jpg> <number of positive labels>')"
            )
        entries.append((line, parts[0], int(parts[1])))
    return entries


def _read_matrix(path: Path) -> list[tuple[int, list[int]]]:
    rows: list[tuple[int, list[int]]] = []
    for line, text in text_lines(path):
        tokens = text.split()
        if rows and len(tokens) != len(rows[0][1]):
            raise DatasetError(f"{path}, line {line}: expected {len(rows[0][1])} columns, found {len(tokens)}")
        try:
            rows.append((line, [_VALUES[t] if t in _VALUES else _number(t) for t in tokens]))
        except ValueError:
            raise DatasetError(f"{path}, line {line}: malformed line (values must be 1, 0 or -1)") from None
    return rows


def _number(token: str) -> int:
    """Accept '1.0', '-1.000e+00' and the like, as written by numpy.savetxt."""
    if not token.isascii():
        raise ValueError(token)
    value = float(token)
    if value not in (-1.0, 0.0, 1.0):
        raise ValueError(token)
    return int(value)


def _decode(raw: np.ndarray, encoding: str, matrix_path: Path, lines: list[int]) -> np.ndarray:
    if encoding == "auto":
        encoding = "wider" if (raw == -1).any() else "binary"
    if encoding == "wider":
        return np.select([raw == 1, raw == -1], [1, 0], default=-1).astype(np.int8)
    bad = np.flatnonzero((raw == -1).any(axis=1))
    if bad.size:
        raise DatasetError(f"{matrix_path}, line {lines[bad[0]]}: -1 in a binary (0/1) label matrix")
    return raw


def _label_names(label_names: Sequence[str] | str | Path | None, num_labels: int, matrix_path: Path) -> list[str]:
    if label_names is None:
        return [f"label_{i}" for i in range(num_labels)]
    if isinstance(label_names, (str, Path)):
        source = str(label_names)
        names = [text for _, text in text_lines(Path(label_names))]
    else:
        source, names = "label_names", [str(n).strip() for n in label_names]
    if len(names) != num_labels:
        raise DatasetError(f"{source}: {len(names)} label names but {matrix_path} has {num_labels} columns")
    return check_label_names(names, source)
