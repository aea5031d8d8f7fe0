"""The official NUS-WIDE test subset: a MATLAB index vector or mask, or a text file, selects split rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.io import savemat

from srn_core.datasets import DatasetError, load_dataset, read_srn_split


def three_row_split(root: Path) -> tuple[Path, Path]:
    for name in ("a", "b", "c"):
        Image.new("RGB", (8, 8)).save(root / f"{name}.png")
    (root / "list.txt").write_text("a.png 1\nb.png 0\nc.png 2\n")
    (root / "labels.txt").write_text("1 0\n0 0\n1 1\n")
    return root / "list.txt", root / "labels.txt"


def paths(dataset) -> list[str]:
    return [s.path.name for s in dataset.samples]


def test_official_mat_index_vector_keeps_its_rows_in_its_order(tmp_path: Path) -> None:
    image_list, matrix = three_row_split(tmp_path)
    savemat(
        tmp_path / "nus_test_accessible.mat",
        {"idx_final_test": np.array([[3], [1]], dtype=float), "other": np.array([7.0])},
    )
    dataset = read_srn_split(image_list, matrix, tmp_path, subset=tmp_path / "nus_test_accessible.mat")
    assert paths(dataset) == ["c.png", "a.png"]
    assert dataset.target_matrix().tolist() == [[1, 1], [1, 0]]


def test_logical_mask_and_text_file(tmp_path: Path) -> None:
    image_list, matrix = three_row_split(tmp_path)
    savemat(tmp_path / "mask.mat", {"keep": np.array([True, False, True])})
    assert paths(read_srn_split(image_list, matrix, tmp_path, subset=tmp_path / "mask.mat")) == ["a.png", "c.png"]
    (tmp_path / "rows.txt").write_text("2\n3\n")
    assert paths(load_dataset(image_list, label_matrix=matrix, subset=tmp_path / "rows.txt")) == ["b.png", "c.png"]


@pytest.mark.parametrize(
    "content, match",
    [
        ("0\n4\n", r"1\.\.3 \(1-based\)"),
        ("1\n1\n", "more than once"),
        ("1.5\n", "whole numbers"),
        ("one\n", "1-based row numbers"),
    ],
)
def test_bad_subset_files_are_named(tmp_path: Path, content: str, match: str) -> None:
    image_list, matrix = three_row_split(tmp_path)
    (tmp_path / "rows.txt").write_text(content)
    with pytest.raises(DatasetError, match=r"rows\.txt: .*" + match):
        read_srn_split(image_list, matrix, tmp_path, subset=tmp_path / "rows.txt")


def test_bad_mat_files_are_named(tmp_path: Path) -> None:
    image_list, matrix = three_row_split(tmp_path)
    (tmp_path / "broken.mat").write_bytes(b"MATLAB 5.0 MAT-file" + b"\0" * 20)
    with pytest.raises(DatasetError, match=r"broken\.mat: not a readable MATLAB"):
        read_srn_split(image_list, matrix, tmp_path, subset=tmp_path / "broken.mat")
    savemat(tmp_path / "two.mat", {"x": np.array([1.0]), "y": np.array([2.0])})
    with pytest.raises(DatasetError, match=r"two\.mat: expected one numeric variable"):
        read_srn_split(image_list, matrix, tmp_path, subset=tmp_path / "two.mat")
    with pytest.raises(DatasetError, match=r"missing\.mat: subset file not found"):
        read_srn_split(image_list, matrix, tmp_path, subset=tmp_path / "missing.mat")
