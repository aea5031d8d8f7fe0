"""Dataset readers and the manifest writer, on tiny files made in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srn_core.datasets import (
    Box,
    DatasetError,
    MultiLabelDataset,
    Sample,
    load_dataset,
    read_coco,
    read_manifest,
    read_srn_split,
    read_voc,
    write_manifest,
)


def png(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4), (255, 0, 0)).save(path)
    return path


def small_dataset(root: Path) -> MultiLabelDataset:
    a, b = png(root / "images" / "a.png"), png(root / "images" / "b.png")
    return MultiLabelDataset(
        ["circle", "star", "square"],
        [
            Sample(a, np.array([1, 0, -1], np.int8), [Box("circle", 1.0, 2.0, 3.5, 4.0)], {"rules": ["r1", "r2"]}),
            Sample(b, np.array([0, 1, 1], np.int8)),
        ],
    )


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, indent=1))
    return path


def manifest_json(images: list[dict]) -> dict:
    return {"format": "srn-manifest", "version": 1, "labels": ["circle", "star"], "images": images}


# ---------------------------------------------------------------- manifest


def test_json_manifest_round_trip(tmp_path: Path) -> None:
    dataset = small_dataset(tmp_path)
    out = write_manifest(tmp_path / "manifest.json", dataset)
    data = json.loads(out.read_text())
    assert data["images"][0] == {
        "path": "images/a.png",
        "labels": ["circle"],
        "unknown": ["square"],
        "boxes": [{"label": "circle", "box": [1.0, 2.0, 3.5, 4.0]}],
        "rules": ["r1", "r2"],
    }
    back = read_manifest(out)
    assert back.label_names == dataset.label_names
    assert np.array_equal(back.target_matrix(), dataset.target_matrix())
    assert [s.path for s in back.samples] == [s.path for s in dataset.samples]
    assert back.samples[0].boxes == dataset.samples[0].boxes
    assert back.samples[0].extra == {"rules": ["r1", "r2"]}
    assert back.samples[1].boxes == [] and back.samples[1].extra == {}


def test_csv_manifest_round_trip_drops_boxes(tmp_path: Path) -> None:
    dataset = small_dataset(tmp_path)
    out = write_manifest(tmp_path / "labels.csv", dataset)
    assert out.read_text().splitlines() == ["path,circle,star,square", "images/a.png,1,0,-1", "images/b.png,0,1,1"]
    back = read_manifest(out)
    assert back.label_names == dataset.label_names
    assert np.array_equal(back.target_matrix(), dataset.target_matrix())
    assert [s.path for s in back.samples] == [s.path for s in dataset.samples]
    assert all(s.boxes == [] for s in back.samples)


def test_manifest_paths_outside_folder_are_absolute(tmp_path: Path) -> None:
    dataset = small_dataset(tmp_path / "data")
    out = write_manifest(tmp_path / "sub" / "m.json", dataset)
    stored = json.loads(out.read_text())["images"][0]["path"]
    assert Path(stored).is_absolute()
    assert read_manifest(out).samples[0].path == dataset.samples[0].path


def test_write_is_atomic_and_overwrites(tmp_path: Path) -> None:
    dataset = small_dataset(tmp_path)
    (tmp_path / "m.json").write_text("old")
    write_manifest(tmp_path / "m.json", dataset)
    assert json.loads((tmp_path / "m.json").read_text())["format"] == "srn-manifest"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images", "m.json"]


def test_write_refuses_bad_input(tmp_path: Path) -> None:
    dataset = small_dataset(tmp_path)
    with pytest.raises(DatasetError, match="must end in .json or .csv"):
        write_manifest(tmp_path / "m.txt", dataset)
    dataset.samples[1].extra["labels"] = ["x"]
    with pytest.raises(DatasetError, match="sample 1: extra keys"):
        write_manifest(tmp_path / "m.json", dataset)
    assert not (tmp_path / "m.json").exists()


@pytest.mark.parametrize(
    "entry, reason",
    [
        ({"path": "a.png", "labels": ["cat"]}, "unknown label 'cat'"),
        ({"labels": ["circle"]}, 'missing or empty "path"'),
        ({"path": "a.png", "labels": ["circle"], "unknown": ["circle"]}, "both positive and unknown"),
        ({"path": "a.png", "boxes": [{"label": "circle", "box": [0, 0, 1]}]}, "a box must look like"),
        ({"path": "a.png", "boxes": [{"label": "dog", "box": [0, 0, 1, 1]}]}, "unknown label 'dog'"),
        ({"path": "missing.png"}, "image not found"),
    ],
)
def test_json_manifest_errors_name_file_and_entry(tmp_path: Path, entry: dict, reason: str) -> None:
    png(tmp_path / "a.png")
    path = write_json(tmp_path / "m.json", manifest_json([{"path": "a.png"}, entry]))
    with pytest.raises(DatasetError) as info:
        read_manifest(path)
    assert str(path) in str(info.value) and "images[1]" in str(info.value) and reason in str(info.value)


def test_bad_json_names_line(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{"format": "srn-manifest",\n "version": 1,\n "labels": [,]}')
    with pytest.raises(DatasetError, match=r"m\.json, line 3, column \d+: bad JSON"):
        read_manifest(path)
    write_json(path, {"format": "other"})
    with pytest.raises(DatasetError, match="not an srn-manifest"):
        read_manifest(path)


@pytest.mark.parametrize(
    "lines, where, reason",
    [
        (["path,circle,star", "a.png,1,0", "a.png,1"], "line 3", "expected 3 columns, found 2"),
        (["path,circle,star", "a.png,yes,0"], "line 2", "bad value 'yes' for label 'circle'"),
        (["path,circle,star", "", "missing.png,0,0"], "line 3", "image not found"),
        (["file,circle,star"], "line 1", "first column must be 'path'"),
        (["path,circle,circle"], "line 1", "duplicate label names"),
    ],
)
def test_csv_errors_name_file_and_line(tmp_path: Path, lines: list[str], where: str, reason: str) -> None:
    png(tmp_path / "a.png")
    path = tmp_path / "m.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError) as info:
        read_manifest(path)
    assert f"{path}, {where}: " in str(info.value) and reason in str(info.value)


def test_skip_missing_counts(tmp_path: Path) -> None:
    png(tmp_path / "a.png")
    path = write_json(tmp_path / "m.json", manifest_json([{"path": "a.png"}, {"path": "x.png"}, {"path": "y.png"}]))
    dataset = read_manifest(path, skip_missing=True)
    assert len(dataset) == 1 and dataset.skipped_missing == 2
    (tmp_path / "m.csv").write_text("path,circle\na.png,1\nx.png,0\n")
    dataset = read_manifest(tmp_path / "m.csv", skip_missing=True)
    assert len(dataset) == 1 and dataset.skipped_missing == 1


# ---------------------------------------------------------------- COCO


def coco_files(tmp_path: Path) -> tuple[Path, Path]:
    image_dir = tmp_path / "val2014"
    for name in ("1.jpg", "2.jpg", "3.jpg"):
        png(image_dir / name)
    ann = tmp_path / "annotations" / "instances_val2014.json"
    ann.parent.mkdir()
    write_json(
        ann,
        {
            "categories": [{"id": 18, "name": "dog"}, {"id": 1, "name": "person"}, {"id": 3, "name": "car"}],
            "images": [
                {"id": 10, "file_name": "1.jpg"},
                {"id": 20, "file_name": "2.jpg"},
                {"id": 30, "file_name": "3.jpg"},
            ],
            "annotations": [
                {"image_id": 10, "category_id": 18, "bbox": [1, 2, 10, 20]},
                {"image_id": 10, "category_id": 1, "bbox": [0, 0, 5, 5]},
                {"image_id": 20, "category_id": 3, "bbox": [3, 4, 1.5, 2]},
            ],
        },
    )
    return ann, image_dir


def test_coco_reader(tmp_path: Path) -> None:
    ann, image_dir = coco_files(tmp_path)
    dataset = read_coco(ann, image_dir)
    assert dataset.label_names == ["person", "car", "dog"]  # category-id order
    assert dataset.target_matrix().tolist() == [[1, 0, 1], [0, 1, 0], [0, 0, 0]]  # image 30: no annotations
    assert dataset.samples[0].boxes[0] == Box("dog", 1.0, 2.0, 11.0, 22.0)  # xywh -> x0 y0 x1 y1
    assert dataset.samples[1].boxes == [Box("car", 3.0, 4.0, 4.5, 6.0)]
    assert dataset.samples[2].path == image_dir / "3.jpg" and dataset.samples[2].extra == {"coco_id": 30}


def test_coco_errors_and_skip_missing(tmp_path: Path) -> None:
    ann, image_dir = coco_files(tmp_path)
    data = json.loads(ann.read_text())
    data["annotations"].append({"image_id": 20, "category_id": 99, "bbox": [0, 0, 1, 1]})
    write_json(ann, data)
    with pytest.raises(DatasetError, match=r"instances_val2014\.json, entry annotations\[3\]: unknown label"):
        read_coco(ann, image_dir)
    data["annotations"][3] = {"image_id": 77, "category_id": 1, "bbox": [0, 0, 1, 1]}
    write_json(ann, data)
    with pytest.raises(DatasetError, match=r"annotations\[3\]: unknown image id 77"):
        read_coco(ann, image_dir)
    data["annotations"].pop()
    write_json(ann, data)
    (image_dir / "2.jpg").unlink()
    with pytest.raises(DatasetError, match=r"entry images\[1\]: image not found"):
        read_coco(ann, image_dir)
    dataset = read_coco(ann, image_dir, skip_missing=True)
    assert len(dataset) == 2 and dataset.skipped_missing == 1


# ---------------------------------------------------------------- VOC


def voc_xml(objects: list[tuple[str, int]]) -> str:
    parts = [
        f"<object><name>{name}</name><difficult>{hard}</difficult>"
        f"<bndbox><xmin>{i}</xmin><ymin>2</ymin><xmax>{i + 10}</xmax><ymax>20</ymax></bndbox></object>"
        for i, (name, hard) in enumerate(objects)
    ]
    return "<annotation><filename>x.jpg</filename>" + "".join(parts) + "</annotation>"


def voc_root(tmp_path: Path, annotations: dict[str, list[tuple[str, int]]]) -> Path:
    root = tmp_path / "VOC2007"
    (root / "Annotations").mkdir(parents=True)
    (root / "ImageSets" / "Main").mkdir(parents=True)
    for image_id, objects in annotations.items():
        (root / "Annotations" / f"{image_id}.xml").write_text(voc_xml(objects))
        png(root / "JPEGImages" / f"{image_id}.jpg")
    (root / "ImageSets" / "Main" / "trainval.txt").write_text("\n".join(annotations) + "\n")
    return root


def test_voc_reader_difficult_rule(tmp_path: Path) -> None:
    root = voc_root(
        tmp_path,
        {
            "000001": [("person", 1), ("dog", 0)],  # person only difficult -> unknown
            "000002": [("person", 1), ("person", 0), ("cat", 1)],  # a plain person -> positive; cat unknown
        },
    )
    dataset = read_voc(root)
    assert len(dataset.label_names) == 20 and dataset.label_names[14] == "person"
    person, dog, cat = (dataset.label_names.index(n) for n in ("person", "dog", "cat"))
    t = dataset.target_matrix()
    assert (t[0, person], t[0, dog], t[0, cat]) == (-1, 1, 0)
    assert (t[1, person], t[1, dog], t[1, cat]) == (1, 0, -1)
    assert int((t != 0).sum()) == 4
    assert dataset.samples[1].boxes[1] == Box("person", 1.0, 2.0, 11.0, 20.0)
    assert dataset.samples[1].extra == {"voc_id": "000002", "difficult": [True, False, True]}
    assert dataset.samples[0].path == root / "JPEGImages" / "000001.jpg"


def test_voc_errors_and_skip_missing(tmp_path: Path) -> None:
    root = voc_root(tmp_path, {"000001": [("dog", 0)], "000002": [("unicorn", 0), ("dog", 0)]})
    with pytest.raises(DatasetError, match=r"000002\.xml, entry object\[0\]: unknown label 'unicorn'"):
        read_voc(root)
    (root / "Annotations" / "000002.xml").write_text("<annotation>\n<object>\n</annotation>")
    with pytest.raises(DatasetError, match=r"000002\.xml, line 3: bad XML"):
        read_voc(root)
    set_file = root / "ImageSets" / "Main" / "trainval.txt"
    set_file.write_text("000001\n000001 1\n")
    with pytest.raises(DatasetError, match=r"trainval\.txt, line 2: malformed line"):
        read_voc(root)
    set_file.write_text("000001\n\n000003\n")
    with pytest.raises(DatasetError, match=r"trainval\.txt, line 3: annotation not found"):
        read_voc(root)
    set_file.write_text("000001\n")
    (root / "JPEGImages" / "000001.jpg").unlink()
    with pytest.raises(DatasetError, match=r"trainval\.txt, line 1: image not found"):
        read_voc(root)
    assert read_voc(root, skip_missing=True).skipped_missing == 1
    with pytest.raises(DatasetError, match=r"test\.txt: image set file not found"):
        read_voc(root, image_set="test")


# ---------------------------------------------------------------- official SRN split files


def split_files(tmp_path: Path, list_lines: list[str], matrix_lines: list[str]) -> tuple[Path, Path]:
    for rel in ("imgs/a.jpg", "imgs/b.jpg"):
        png(tmp_path / rel)
    (tmp_path / "list.txt").write_text("\n".join(list_lines) + "\n")
    (tmp_path / "labels.txt").write_text("\n".join(matrix_lines) + "\n")
    return tmp_path / "list.txt", tmp_path / "labels.txt"


def test_srn_split_binary_and_names_file(tmp_path: Path) -> None:
    image_list, matrix = split_files(tmp_path, ["imgs/a.jpg 2", "imgs/b.jpg 0"], ["1 0 1", "0 0 0"])
    dataset = read_srn_split(image_list, matrix, tmp_path)
    assert dataset.label_names == ["label_0", "label_1", "label_2"]
    assert dataset.target_matrix().tolist() == [[1, 0, 1], [0, 0, 0]]
    assert dataset.samples[0].path == tmp_path / "imgs" / "a.jpg"
    (tmp_path / "names.txt").write_text("sky\nwater\ndog\n")
    assert read_srn_split(image_list, matrix, tmp_path, label_names=tmp_path / "names.txt").label_names == [
        "sky",
        "water",
        "dog",
    ]
    with pytest.raises(DatasetError, match="2 label names but .*labels.txt has 3 columns"):
        read_srn_split(image_list, matrix, tmp_path, label_names=["sky", "water"])


def test_srn_split_wider_encoding(tmp_path: Path) -> None:
    # WIDER: 1 positive, -1 negative, 0 unknown -> ours 1, 0, -1
    image_list, matrix = split_files(tmp_path, ["imgs/a.jpg 1", "imgs/b.jpg 1"], ["1 -1 0", "0 1 -1"])
    assert read_srn_split(image_list, matrix, tmp_path).target_matrix().tolist() == [[1, 0, -1], [-1, 1, 0]]
    with pytest.raises(DatasetError, match=r"labels\.txt, line 1: -1 in a binary"):
        read_srn_split(image_list, matrix, tmp_path, encoding="binary")


@pytest.mark.parametrize(
    "list_lines, matrix_lines, match",
    [
        (
            ["imgs/a.jpg 2", "imgs/b.jpg 0"],
            ["1 0 0", "0 0 0"],
            r"list\.txt, line 1: says 2 positive labels but .*labels\.txt, line 1 has 1",
        ),
        (["imgs/a.jpg 1", "imgs/b.jpg"], ["1 0 0", "0 0 0"], r"list\.txt, line 2: malformed line"),
        (["imgs/a.jpg 1", "imgs/b.jpg 0"], ["1 0 0", "0 0"], r"labels\.txt, line 2: expected 3 columns, found 2"),
        (["imgs/a.jpg 1", "imgs/b.jpg 0"], ["1 0 0", "0 0 x"], r"labels\.txt, line 2: malformed line"),
        (["imgs/a.jpg 1"], ["1 0 0", "0 0 0"], r"list\.txt lists 1 images but .*labels\.txt has 2 rows"),
        (["imgs/a.jpg 1", "imgs/c.jpg 0"], ["1 0 0", "0 0 0"], r"list\.txt, line 2: image not found"),
    ],
)
def test_srn_split_errors(tmp_path: Path, list_lines: list[str], matrix_lines: list[str], match: str) -> None:
    image_list, matrix = split_files(tmp_path, list_lines, matrix_lines)
    with pytest.raises(DatasetError, match=match):
        read_srn_split(image_list, matrix, tmp_path)


def test_srn_split_skip_missing(tmp_path: Path) -> None:
    image_list, matrix = split_files(tmp_path, ["imgs/a.jpg 1", "imgs/c.jpg 0"], ["1.0 0.0", "0 0"])
    dataset = read_srn_split(image_list, matrix, tmp_path, skip_missing=True)
    assert len(dataset) == 1 and dataset.skipped_missing == 1
    assert dataset.target_matrix().tolist() == [[1, 0]]


# ---------------------------------------------------------------- dispatch


def test_load_dataset_detects_each_format(tmp_path: Path) -> None:
    write_manifest(tmp_path / "man" / "manifest.json", small_dataset(tmp_path / "man"))
    assert load_dataset(tmp_path / "man" / "manifest.json").label_names == ["circle", "star", "square"]
    assert len(load_dataset(tmp_path / "man")) == 2  # a folder holding manifest.json
    write_manifest(tmp_path / "man" / "m.csv", small_dataset(tmp_path / "man"))
    assert len(load_dataset(tmp_path / "man" / "m.csv")) == 2
    ann, image_dir = coco_files(tmp_path / "coco")
    assert load_dataset(ann).label_names == ["person", "car", "dog"]  # image_dir from the standard layout
    assert len(load_dataset(ann, image_dir=image_dir)) == 3
    root = voc_root(tmp_path / "voc", {"000001": [("dog", 0)]})
    assert len(load_dataset(root)) == 1
    image_list, matrix = split_files(tmp_path / "srn", ["imgs/a.jpg 1"], ["0 1"])
    assert load_dataset(image_list, label_matrix=matrix).target_matrix().tolist() == [[0, 1]]
    with pytest.raises(DatasetError, match="needs label_matrix"):
        load_dataset(image_list)
    write_json(tmp_path / "other.json", {"hello": 1})
    with pytest.raises(DatasetError, match="neither an srn-manifest"):
        load_dataset(tmp_path / "other.json")
    with pytest.raises(DatasetError, match="neither a VOC root"):
        load_dataset(tmp_path / "coco")
