"""A corpus of hostile but fair inputs, generated on the fly (no stored files), for the test_hostile_* tests.

Each builder writes one small file and returns its path; the tests run every file through every entry
point that accepts it (library, CLIs, dashboard) and assert a clear error or the correct result.
Issue 15 numbers the findings each case reproduces.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from srn_core import save_checkpoint

from .helpers import TINY_LABELS, tiny_model

EVIL_HOST = "evil.example"
HOSTILE_LABELS = [
    f"![x](http://{EVIL_HOST}/x.png)",  # 1: a markdown image fetched from outside
    f"[click](https://{EVIL_HOST}/)",  # 1: a markdown link
    f'=HYPERLINK("http://{EVIL_HOST}","x")',  # 2: CSV formula injection
    "+cmd|' /C calc'!A0",  # 2
    "@SUM(1+1)",  # 2
    "-2+3",  # 2
    f"<a href='http://{EVIL_HOST}'>link</a>",  # 3: a live link in plotly
    "<img src=x onerror=alert(1)>",  # 3
    "$\\alpha$ and $x_1$",  # 12: matplotlib mathtext
    "$unbalanced",  # 12
    ":red[big] **bold** # head %{x}",  # 1: Streamlit directives, plotly template fields
    "a b",
    "a_b",
    "a/b",
    "a:b",
    "a?b",  # 14: one slug, five labels
    "x" * 200,  # 7: the longest allowed name
]


def run_cli(main: Callable[[list[str]], int], argv: list[str], capsys: Any) -> tuple[int, str]:
    """Run a CLI's main() in-process: (exit code, everything it printed); argparse's SystemExit counts."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return int(code), captured.out + captured.err


def write_png_header(path: Path, width: int, height: int) -> Path:
    """A PNG whose header declares width x height (one empty IDAT): refusal must come from the header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )
    return path


TOP_HOSTILE = [
    "a b",
    "a_b",
    "a/b",
    "a:b",
    "a?b",
    "$\\alpha$ and $x_1$",
    f"<a href='http://{EVIL_HOST}'>link</a>",
    f'=HYPERLINK("http://{EVIL_HOST}","x")',
]


REPORT_LABELS = [*TOP_HOSTILE, "x" * 200, HOSTILE_LABELS[0]]


def hostile_label_checkpoint(path: Path, labels: list[str] = HOSTILE_LABELS) -> Path:
    """A valid tiny checkpoint whose label names try markdown, HTML, formulas and mathtext; the labels of
    TOP_HOSTILE get the highest scores on any image (by their fc biases), in that order."""
    model = tiny_model(len(labels))
    with torch.no_grad():
        for fc in (model.f_cls.fc, model.f_sr.fc):
            fc.weight.mul_(0.01)
            fc.bias.fill_(-10.0)
            for rank, name in enumerate(TOP_HOSTILE):
                fc.bias[labels.index(name)] = 10.0 - rank
    return save_checkpoint(path, model, labels, training={"note": "hostile"})


def _rewrite(
    source: Path,
    target: Path,
    meta: Callable[[dict], Any] | None = None,
    tensors: Callable[[dict], None] | None = None,
    raw_meta: str | None = None,
) -> Path:
    data = load_file(str(source))
    header_len = struct.unpack("<Q", source.read_bytes()[:8])[0]
    text = json.loads(source.read_bytes()[8 : 8 + header_len])["__metadata__"]["srn"]
    if meta is not None:
        value = json.loads(text)
        changed = meta(value)
        text = json.dumps(value if changed is None else changed)
    if tensors is not None:
        tensors(data)
    save_file(data, str(target), metadata={"srn": raw_meta if raw_meta is not None else text})
    return target


def _set(path: str, value: Any) -> Callable[[dict], None]:
    def edit(meta: dict) -> None:
        node = meta
        keys = path.split(".")
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return edit


def _nan_first(data: dict) -> None:
    data["f_sr.fc.weight"][0, 0] = float("nan")


def _as(name: str, dtype: torch.dtype) -> Callable[[dict], None]:
    def edit(data: dict) -> None:
        data[name] = data[name].to(dtype)

    return edit


def _huge(meta: dict) -> None:
    """Metadata of a model with 20,000 labels and 8,192-channel f_sr (gigabytes) in a file of kilobytes."""
    meta["model"].update(num_labels=20_000, sr_channels=8192, att_channels=8192)
    meta["label_names"] = [f"l{i}" for i in range(20_000)]


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


# name: (finding, how to make it from a good checkpoint, words the error must contain)
BAD_CHECKPOINTS: dict[str, tuple[int, dict[str, Any], tuple[str, ...]]] = {
    "meta_is_list": (9, {"meta": lambda m: [m]}, ("metadata must be a JSON object",)),
    "norm_is_list": (9, {"meta": _set("normalization", [0.5, 0.5])}, ("'normalization'",)),
    "version_1e400": (9, {"raw_meta": None}, ("'format_version'",)),
    "num_labels_float": (9, {"meta": _set("model.num_labels", 5.0)}, ("'model.num_labels'", "integer")),
    "training_string": (9, {"meta": _set("training", "abc")}, ("'training'", "JSON object")),
    "backbone_unknown": (9, {"meta": _set("model.backbone", "resnet9000")}, ("'model.backbone'", "resnet9000")),
    "widths_zero": (9, {"meta": _set("model.widths", [0, 0, 0, 0])}, ("'model.widths'",)),
    "padding_mode_circular": (9, {"meta": _set("model.padding_mode", "circular")}, ("'model.padding_mode'", "reflect")),
    "input_size_32000": (4, {"meta": _set("model.input_size", 32000)}, ("'model.input_size'", "1024")),
    "huge_model_small_file": (4, {"meta": lambda m: _huge(m)}, ("tensors do not match the metadata",)),
    "std_zero": (10, {"meta": _set("normalization.std", [0, 0, 0])}, ("'normalization.std'", "positive")),
    "mean_nan": (11, {"raw_meta": None}, ("'normalization.mean[0]'", "finite")),
    "weights_nan": (11, {"tensors": _nan_first}, ("NaN or infinite", "f_sr.fc.weight")),
    "labels_duplicate": (
        13,
        {"meta": _set("label_names", ["cat", "cat", "car", "tree", "sun"])},
        ("'label_names'", "duplicate"),
    ),
    "label_200000_chars": (
        7,
        {"meta": _set("label_names", ["c" * 200_000, *TINY_LABELS[1:]])},
        ("'label_names'", "200"),
    ),
    "label_control_chars": (1, {"meta": _set("label_names", ["a\nb", *TINY_LABELS[1:]])}, ("printable",)),
    "label_empty": (13, {"meta": _set("label_names", ["", *TINY_LABELS[1:]])}, ("'label_names'",)),
    "tensor_float64": (22, {"tensors": _as("f_sr.fc.weight", torch.float64)}, ("f_sr.fc.weight", "F64")),
    "tensor_int64": (22, {"tensors": _as("f_sr.fc.bias", torch.int64)}, ("f_sr.fc.bias", "I64")),
    "metadata_deep_json": (16, {"raw_meta": _deep(200_000)}, ("nested too deeply",)),
}


def bad_checkpoint(name: str, good: Path, folder: Path) -> Path:
    """Write the bad checkpoint `name` (from BAD_CHECKPOINTS) made from the good checkpoint `good`."""
    _, how, _ = BAD_CHECKPOINTS[name]
    target = folder / f"{name}.safetensors"
    if name == "version_1e400":
        text = json.dumps(json.loads(_meta_text(good))).replace('"format_version": 1', '"format_version": 1e400')
        return _rewrite(good, target, raw_meta=text)
    if name == "mean_nan":
        text = json.dumps(json.loads(_meta_text(good))).replace('"mean": [0.485', '"mean": [NaN')
        return _rewrite(good, target, raw_meta=text)
    return _rewrite(good, target, how.get("meta"), how.get("tensors"), how.get("raw_meta"))


def _meta_text(path: Path) -> str:
    raw = path.read_bytes()
    length = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8 : 8 + length])["__metadata__"]["srn"]


def peak_rss_bytes() -> int:
    """Peak resident memory of this process since the last `reset_peak_rss` (Linux VmHWM)."""
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) * 1024 for line in handle if line.startswith("VmHWM"))


def current_rss_bytes() -> int:
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) * 1024 for line in handle if line.startswith("VmRSS"))


def reset_peak_rss() -> None:
    """Start a new peak-memory measurement (Linux: writing 5 to clear_refs resets VmHWM)."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


# name: (finding, width, height)
BAD_IMAGES = {
    "strip_1x63000000": (5, 63_000_000, 1),
    "strip_1x20000": (6, 1, 20_000),
    "wide_20000x1": (6, 20_000, 1),
    "pixels_9000x9000": (5, 9_000, 9_000),
    "aspect_1700x100": (6, 1700, 100),
}
