"""Checks of a checkpoint's metadata and tensor header, made before anything is allocated.

A checkpoint is a file users share, so every field is treated as hostile: types and ranges of the
model fields, a finite normalisation with std > 0, label names (unique, 1-200 printable
characters), then the tensors' names, dtypes, shapes and byte ranges from the safetensors header,
compared with the model the metadata describes (built on the `meta` device, which allocates
nothing). Every failure is a `CheckpointError` naming the file and the field.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from . import backbones
from .domain import DOMAIN_MEAN, DOMAIN_PRECISION
from .model import PADDING_MODES, SRN, SRNConfig
from .text_safety import label_names_problem

FORMAT_NAME = "srn-checkpoint"
FORMAT_VERSION = 1
MAX_LABELS = 20_000
INPUT_SIZE_RANGE = (16, 1024)
MAX_CHANNELS = 8192
MAX_FILTERS_PER_CHANNEL = 64
MAX_DESCRIPTION_CHARS = 300
FLOAT_DTYPES = ("F32", "F16", "BF16")
DTYPE_BYTES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "F64": 8,
    "I64": 8,
    "U64": 8,
}


class CheckpointError(ValueError):
    """A file is not a usable SRN checkpoint; the message names the file and what is wrong."""


def _show(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _fail(source: str, field: str, problem: str) -> CheckpointError:
    return CheckpointError(f"{source}: metadata field {field!r} {problem}")


def _integer(data: Mapping[str, Any], key: str, low: int, high: int, source: str, where: str = "model.") -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _fail(source, where + key, f"must be an integer from {low} to {high}, got {_show(value)}")
    return value


def _number(value: Any, field: str, source: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise _fail(source, field, f"must be a finite number, got {_show(value)}")
    return float(value)


def check_label_names(names: Any, count: int | None, source: str, field: str = "label_names") -> list[str]:
    """`names` if it is a list of `count` unique strings of 1-200 printable characters, not all blank."""
    if not isinstance(names, list):
        raise _fail(source, field, f"must be a list of strings, got {type(names).__name__}")
    if count is not None and len(names) != count:
        raise _fail(source, field, f"lists {len(names)} label names but num_labels is {count}")
    problem = label_names_problem(names)
    if problem:
        raise _fail(source, field, f"is not usable: {problem}")
    return list(names)


def _config(model: Any, source: str) -> SRNConfig:
    if not isinstance(model, dict):
        raise _fail(source, "model", f"must be a JSON object, got {type(model).__name__}")
    known = {f.name for f in dataclasses.fields(SRNConfig)}
    unknown = sorted(set(model) - known)
    if unknown:
        raise _fail(source, "model", f"has unknown keys {_show(unknown)}")
    values = {"num_labels": _integer(model, "num_labels", 1, MAX_LABELS, source)}
    backbone = model.get("backbone", "resnet101")
    if backbone not in backbones.BACKBONE_NAMES:
        raise _fail(
            source,
            "model.backbone",
            f"names no known backbone: {_show(backbone)} (known: {', '.join(backbones.BACKBONE_NAMES)})",
        )
    values["backbone"] = backbone
    widths = model.get("widths")
    if widths is not None:
        if (
            not isinstance(widths, list)
            or len(widths) != 4
            or not all(isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= MAX_CHANNELS for w in widths)
        ):
            raise _fail(
                source, "model.widths", f"must be null or four integers from 1 to {MAX_CHANNELS}, got {_show(widths)}"
            )
        values["widths"] = tuple(widths)
    if "alpha" in model:
        alpha = _number(model["alpha"], "model.alpha", source)
        if not 0.0 <= alpha <= 1.0:
            raise _fail(source, "model.alpha", f"must lie in [0, 1], got {alpha}")
        values["alpha"] = alpha
    low, high = INPUT_SIZE_RANGE
    if "input_size" in model:
        size = _integer(model, "input_size", low, high, source)
        if size % 16:
            raise _fail(source, "model.input_size", f"must be a multiple of 16, got {size}")
        values["input_size"] = size
    for key, top in (
        ("att_channels", MAX_CHANNELS),
        ("sr_channels", MAX_CHANNELS),
        ("filters_per_channel", MAX_FILTERS_PER_CHANNEL),
    ):
        if key in model:
            values[key] = _integer(model, key, 1, top, source)
    if "padding_mode" in model:
        mode = model["padding_mode"]
        if mode not in PADDING_MODES:
            raise _fail(source, "model.padding_mode", f"must be one of {', '.join(PADDING_MODES)}, got {_show(mode)}")
        values["padding_mode"] = mode
    try:
        return SRNConfig(**values)
    except (TypeError, ValueError) as exc:
        raise _fail(source, "model", f"is inconsistent: {exc}") from None


def _triple(norm: Mapping[str, Any], key: str, default: Sequence[float], source: str) -> tuple[float, float, float]:
    value = norm.get(key, list(default))
    if not isinstance(value, list) or len(value) != 3:
        raise _fail(source, f"normalization.{key}", f"must be a list of three numbers, got {_show(value)}")
    return tuple(_number(v, f"normalization.{key}[{n}]", source) for n, v in enumerate(value))  # type: ignore[return-value]


def parse_metadata(text: Any, source: str) -> dict[str, Any]:
    """The checked fields of the metadata JSON `text`: version, config, label_names, mean, std, training."""
    if not isinstance(text, str):
        raise CheckpointError(f"{source}: SRN metadata must be a JSON string")
    try:
        data = json.loads(text)
    except RecursionError:
        raise CheckpointError(f"{source}: metadata JSON is nested too deeply") from None
    except ValueError as exc:
        raise CheckpointError(f"{source}: metadata is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{source}: metadata must be a JSON object, got {type(data).__name__}")
    if data.get("format") != FORMAT_NAME:
        raise _fail(source, "format", f"must be {FORMAT_NAME!r}, got {_show(data.get('format'))}")
    version = _integer(data, "format_version", 1, 10**6, source, "")
    if version > FORMAT_VERSION:
        raise _fail(source, "format_version", f"is {version}, newer than this code reads ({FORMAT_VERSION})")
    config = _config(data.get("model"), source)
    labels = check_label_names(data.get("label_names"), config.num_labels, source)
    norm = data.get("normalization") or {}
    if not isinstance(norm, dict):
        raise _fail(source, "normalization", f"must be a JSON object, got {type(norm).__name__}")
    mean = _triple(norm, "mean", backbones.IMAGENET_MEAN, source)
    std = _triple(norm, "std", backbones.IMAGENET_STD, source)
    if min(std) <= 0:
        raise _fail(source, "normalization.std", f"must be positive, got {list(std)}")
    training = data.get("training")
    if training is not None and not isinstance(training, dict):
        raise _fail(source, "training", f"must be a JSON object, got {type(training).__name__}")
    return {
        "config": config,
        "label_names": labels,
        "mean": mean,
        "std": std,
        "training": dict(training or {}),
        "format_version": version,
        "domain_record": _domain_record(data.get("domain"), source),
    }


def _domain_record(record: Any, source: str) -> dict[str, Any] | None:
    """The out-of-domain statistics' JSON part (`srn_core.domain`): a description and a finite threshold."""
    if record is None:
        return None
    if not isinstance(record, dict):
        raise _fail(source, "domain", f"must be a JSON object, got {type(record).__name__}")
    description = record.get("description", "")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION_CHARS:
        raise _fail(source, "domain.description", f"must be text of at most {MAX_DESCRIPTION_CHARS} characters")
    if _number(record.get("threshold"), "domain.threshold", source) < 0:
        raise _fail(source, "domain.threshold", "must not be negative")
    return dict(record)


def expected_tensors(
    config: SRNConfig, source: str, domain: bool = False
) -> dict[str, tuple[tuple[int, ...], tuple[str, ...]]]:
    """{name: (shape, allowed safetensors dtypes)} of the model `config` describes, built on the meta device,
    with the out-of-domain statistics' mean (D,) and precision (D, D) when `domain`."""
    try:
        with torch.device("meta"):
            model = SRN.from_config(config)
    except (TypeError, ValueError) as exc:
        raise _fail(source, "model", f"does not describe a buildable SRN: {exc}") from None
    expected = {
        name: (tuple(t.shape), FLOAT_DTYPES if t.is_floating_point() else ("I64",))
        for name, t in model.state_dict().items()
    }
    if domain:
        width = model.f_cls.fc.in_features
        expected.update({DOMAIN_MEAN: ((width,), FLOAT_DTYPES), DOMAIN_PRECISION: ((width, width), FLOAT_DTYPES)})
    return expected


def _entry(name: str, entry: Any, data_bytes: int, source: str) -> tuple[str, tuple[int, ...]]:
    """(dtype, shape) of a header entry whose byte range is consistent and inside the file."""
    bad = CheckpointError(f"{source}: tensor {_show(name)} has a malformed header entry")
    if not isinstance(entry, dict):
        raise bad
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if (
        dtype not in DTYPE_BYTES
        or not isinstance(shape, list)
        or not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in [*shape, *offsets])
    ):
        raise bad
    begin, end = offsets
    if not begin <= end <= data_bytes or end - begin != math.prod(shape) * DTYPE_BYTES[dtype]:
        raise CheckpointError(
            f"{source}: tensor {_show(name)} claims bytes {begin}..{end}, which do not match its "
            f"shape {shape} and dtype {dtype} or lie beyond the file's end"
        )
    return dtype, tuple(shape)


def check_header(
    header: Mapping[str, Any], config: SRNConfig, data_bytes: int, source: str, domain: bool = False
) -> None:
    """Compare the header's tensors (names, dtypes, shapes, byte ranges) with what `config` implies
    (and the domain statistics, when the metadata has them)."""
    expected = expected_tensors(config, source, domain)
    found = {name: _entry(name, entry, data_bytes, source) for name, entry in header.items() if name != "__metadata__"}
    problems = []
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing:
        problems.append(f"missing tensors {_few(missing)}")
    if extra:
        problems.append(f"unexpected tensors {_few(extra)}")
    for name in sorted(set(expected) & set(found)):
        (shape, dtypes), (dtype, got) = expected[name], found[name]
        if got != shape:
            problems.append(f"{name} has shape {got}, metadata implies {shape}")
        elif dtype not in dtypes:
            problems.append(f"{name} has dtype {dtype}, expected {' or '.join(dtypes)}")
    if problems:
        raise CheckpointError(
            f"{source}: tensors do not match the metadata (backbone {config.backbone}, "
            f"{config.num_labels} labels, input {config.input_size}): " + "; ".join(problems[:6])
        )


def non_finite(tensors: Mapping[str, torch.Tensor]) -> list[str]:
    """Names of floating-point tensors holding NaN or infinity."""
    return sorted(name for name, t in tensors.items() if t.is_floating_point() and not bool(torch.isfinite(t).all()))


def _few(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(n if len(n) <= 80 else n[:80] + "..." for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
