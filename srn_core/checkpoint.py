"""The one checkpoint format: safetensors tensors plus our JSON metadata in the same file.

Loading never unpickles: the file is parsed as safetensors (a JSON header and raw tensor bytes),
anything else is refused, and tensors are checked against the metadata before use.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .backbones import IMAGENET_MEAN, IMAGENET_STD
from .fileio import atomic_path
from .model import SRN, SRNConfig
from .preprocess import Preprocessor

FORMAT_NAME = "srn-checkpoint"
FORMAT_VERSION = 1
METADATA_KEY = "srn"
MAX_HEADER_BYTES = 100_000_000


class CheckpointError(ValueError):
    """A file is not a usable SRN checkpoint; the message names the file and what is wrong."""


@dataclass
class CheckpointMeta:
    """What a checkpoint says about its model besides the tensors."""

    config: SRNConfig
    label_names: list[str]
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    training: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def preprocessor(self) -> Preprocessor:
        """The preprocessing the model was trained with."""
        return Preprocessor(self.config.input_size, self.mean, self.std)

    def to_json(self) -> str:
        return json.dumps({
            "format": FORMAT_NAME, "format_version": self.format_version, "label_names": self.label_names,
            "model": self.config.to_dict(), "normalization": {"mean": list(self.mean), "std": list(self.std)},
            "training": self.training,
        })

    @classmethod
    def from_json(cls, text: str, source: str) -> "CheckpointMeta":
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT_NAME:
                raise CheckpointError(f"{source}: metadata is not of format {FORMAT_NAME!r}")
            version = int(data["format_version"])
            if version > FORMAT_VERSION:
                raise CheckpointError(f"{source}: format version {version} is newer than this code reads ({FORMAT_VERSION})")
            config = SRNConfig(**data["model"])
            labels = [str(name) for name in data["label_names"]]
            norm = data.get("normalization", {})
            mean = tuple(float(v) for v in norm.get("mean", IMAGENET_MEAN))
            std = tuple(float(v) for v in norm.get("std", IMAGENET_STD))
        except CheckpointError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{source}: malformed metadata ({type(exc).__name__}: {exc})") from None
        if len(labels) != config.num_labels:
            raise CheckpointError(f"{source}: metadata lists {len(labels)} label names but num_labels is {config.num_labels}")
        return cls(config, labels, mean, std, dict(data.get("training") or {}), version)


def save_checkpoint(path: str | Path, model: SRN, label_names: list[str], training: dict[str, Any] | None = None,
                    mean: tuple[float, float, float] = IMAGENET_MEAN,
                    std: tuple[float, float, float] = IMAGENET_STD) -> Path:
    """Write `model` and its metadata to `path` atomically (a temporary file, then a rename)."""
    if len(label_names) != model.num_labels:
        raise ValueError(f"{len(label_names)} label names given for a model with {model.num_labels} labels")
    meta = CheckpointMeta(model.config, list(label_names), tuple(mean), tuple(std), dict(training or {}))
    tensors = {name: t.detach().to("cpu").contiguous() for name, t in model.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={METADATA_KEY: meta.to_json()})
    return Path(path)


def read_header(path: str | Path) -> dict[str, Any]:
    """Parse a safetensors JSON header without touching the tensor bytes (and without pickle)."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise CheckpointError(f"{source}: file does not exist")
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise CheckpointError(f"{source}: not an SRN checkpoint (file too short to be safetensors)")
        (length,) = struct.unpack("<Q", head)
        if length <= 1 or length > min(size - 8, MAX_HEADER_BYTES):
            raise CheckpointError(f"{source}: not an SRN checkpoint (not a safetensors file; pickles and "
                                  f".pth files are refused because loading them can run code)")
        raw = handle.read(length)
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(f"{source}: not an SRN checkpoint (safetensors header is not valid JSON)") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{source}: not an SRN checkpoint (safetensors header is not an object)")
    return header


def read_metadata(path: str | Path) -> CheckpointMeta:
    """Read only the metadata of a checkpoint (cheap: no tensors are loaded)."""
    header = read_header(path)
    text = (header.get("__metadata__") or {}).get(METADATA_KEY)
    if text is None:
        raise CheckpointError(f"{path}: a safetensors file without SRN metadata (not saved by save_checkpoint)")
    return CheckpointMeta.from_json(text, str(path))


def _check_tensors(source: str, model: SRN, tensors: dict[str, torch.Tensor]) -> None:
    expected = model.state_dict()
    problems = []
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing:
        problems.append(f"missing tensors {_few(missing)}")
    if extra:
        problems.append(f"unexpected tensors {_few(extra)}")
    for name in sorted(set(expected) & set(tensors)):
        if tuple(expected[name].shape) != tuple(tensors[name].shape):
            problems.append(f"{name} has shape {tuple(tensors[name].shape)}, metadata implies {tuple(expected[name].shape)}")
    if problems:
        config = model.config
        raise CheckpointError(f"{source}: tensors do not match the metadata (backbone {config.backbone}, "
                              f"{config.num_labels} labels, input {config.input_size}): " + "; ".join(problems[:6]))


def _few(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> tuple[SRN, CheckpointMeta]:
    """Rebuild the model saved at `path` (in eval mode, on `device`) and return it with its metadata."""
    meta = read_metadata(path)
    try:
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: corrupt safetensors data ({exc})") from None
    model = SRN.from_config(meta.config)
    _check_tensors(str(path), model, tensors)
    model.load_state_dict(tensors)
    return model.to(device).eval(), meta
