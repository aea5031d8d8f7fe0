"""Row subsets of an SRN split, such as the NUS-WIDE test images the authors could still access.

The official evaluation (evaluate.m) keeps `labels(idx_final_test, :)` from
`datasets/nus_wide/nus_test_accessible.mat` of the authors' split archive. That file, or a plain
text file of 1-based row numbers, selects the same rows here. A MATLAB index vector keeps its order;
a logical mask (one 0/1 entry per row) keeps the rows it marks, in list order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import DatasetError

OFFICIAL_VARIABLE = "idx_final_test"
MAX_SUBSET_BYTES = 100_000_000


def read_subset(path: str | Path, num_rows: int) -> np.ndarray:
    """0-based row indices selected by `path` (.mat or text) out of `num_rows` rows."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: subset file not found")
    if path.stat().st_size > MAX_SUBSET_BYTES:
        raise DatasetError(f"{path}: subset file is larger than {MAX_SUBSET_BYTES} bytes")
    values = _read_mat(path) if path.suffix.lower() == ".mat" else _read_text(path)
    return _to_rows(values, num_rows, path)


def _read_mat(path: Path) -> np.ndarray:
    from scipy.io import loadmat

    try:
        variables = {k: v for k, v in loadmat(path).items() if not k.startswith("__")}
    except NotImplementedError:
        raise DatasetError(f"{path}: MATLAB v7.3 (HDF5) files are not read; save it again with -v7") from None
    except Exception as exc:  # scipy parsing untrusted bytes fails in many ways; each one is a bad file
        raise DatasetError(f"{path}: not a readable MATLAB .mat file ({type(exc).__name__}: {exc})") from None
    numeric = {k: v for k, v in variables.items() if isinstance(v, np.ndarray) and v.dtype.kind in "biuf"}
    if OFFICIAL_VARIABLE in numeric:
        return numeric[OFFICIAL_VARIABLE]
    if len(numeric) == 1:
        return next(iter(numeric.values()))
    raise DatasetError(
        f"{path}: expected one numeric variable (or {OFFICIAL_VARIABLE!r}), found {sorted(variables) or 'none'}"
    )


def _read_text(path: Path) -> np.ndarray:
    try:
        tokens = path.read_text(encoding="utf-8-sig").split()
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc.reason})") from None
    try:
        return np.array([float(token) for token in tokens])
    except ValueError as exc:
        raise DatasetError(f"{path}: subset files hold 1-based row numbers ({exc})") from None


def _to_rows(values: np.ndarray, num_rows: int, path: Path) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim > 1 and sum(side > 1 for side in values.shape) > 1:
        raise DatasetError(f"{path}: the subset must be a vector, got shape {values.shape}")
    values = values.ravel()
    is_mask = values.dtype == bool or (
        len(values) == num_rows and np.isin(values, (0, 1)).all() and (values == 0).any()
    )
    if is_mask:
        if len(values) != num_rows:
            raise DatasetError(f"{path}: a mask of {len(values)} entries for {num_rows} rows")
        return np.flatnonzero(values)
    if not np.isfinite(values).all() or (values != np.round(values)).any():
        raise DatasetError(f"{path}: row numbers must be whole numbers")
    rows = values.astype(np.int64)
    if rows.size and (rows.min() < 1 or rows.max() > num_rows):
        raise DatasetError(f"{path}: row numbers must lie in 1..{num_rows} (1-based), found {rows.min()}..{rows.max()}")
    if len(np.unique(rows)) != len(rows):
        raise DatasetError(f"{path}: a row number appears more than once")
    return rows - 1
