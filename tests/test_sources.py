"""srn_core.sources: one label alignment for datasets, sources and single target vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from srn_core.datasets import Box, MultiLabelDataset, Sample
from srn_core.sources import InMemoryImages, align_dataset, align_targets, aligned, label_columns

MODEL = ["cat", "dog", "car"]


def test_label_columns_put_the_data_in_the_model_order() -> None:
    columns = label_columns(["car", "cat", "dog"], MODEL)
    assert columns.tolist() == [1, 2, 0]
    assert np.array(["car", "cat", "dog"])[columns].tolist() == MODEL


def test_label_columns_name_what_is_missing_and_unexpected() -> None:
    with pytest.raises(ValueError, match=r"missing \['dog'\], unexpected \['sun'\] \(3 vs 3 labels\)"):
        label_columns(["cat", "sun", "car"], MODEL)
    with pytest.raises(ValueError, match=r"missing \[\], unexpected \[\] \(4 vs 3 labels\)"):
        label_columns(["cat", "dog", "car", "cat"], MODEL)  # a repeated name is not the same label set


def test_a_long_mismatch_names_the_first_eight_labels_only() -> None:
    with pytest.raises(ValueError) as caught:
        label_columns([f"x{i:03d}" for i in range(500)], MODEL)
    message = str(caught.value)
    assert "x007" in message and "x008" not in message and "(500 vs 3 labels)" in message


def test_align_targets_reorders_one_vector() -> None:
    targets = align_targets((1, -1, 0), ("car", "cat", "dog"), MODEL)
    assert targets.dtype == np.int8 and targets.tolist() == [-1, 0, 1]
    with pytest.raises(ValueError, match="missing"):
        align_targets((1, 0), ("car", "cat"), MODEL)


def test_aligned_source_and_dataset_agree() -> None:
    box = Box("dog", 1, 2, 3, 4)
    dataset = MultiLabelDataset(["dog", "car", "cat"], [Sample(Path("a.png"), np.array([1, 0, -1], np.int8), [box])])
    fixed = align_dataset(dataset, MODEL)
    assert fixed.label_names == MODEL and fixed.samples[0].targets.tolist() == [-1, 1, 0]
    assert fixed.samples[0].boxes == [box] and fixed.samples[0].path == Path("a.png")
    source = InMemoryImages(["dog", "car", "cat"], [(np.zeros((4, 4, 3), np.uint8), [1, 0, -1])])
    assert aligned(source, MODEL).targets(0).tolist() == [-1, 1, 0]
    assert align_dataset(dataset, ["dog", "car", "cat"]) is dataset
    assert aligned(source, ["dog", "car", "cat"]) is source
