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
from .checkpoint_checks import (
    FORMAT_NAME,
    FORMAT_VERSION,
    CheckpointError,
    check_header,
    check_label_names,
    non_finite,
    parse_metadata,
)
from .domain import DOMAIN_MEAN, DOMAIN_PRECISION, DomainModel, describe
from .fileio import atomic_path
from .model import SRN, SRNConfig
from .preprocess import Preprocessor

METADATA_KEY = "srn"
MAX_HEADER_BYTES = 100_000_000


@dataclass
class CheckpointMeta:
    """What a checkpoint says about its model besides the tensors."""

    config: SRNConfig
    label_names: list[str]
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    training: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    domain_record: dict[str, Any] | None = None
    domain: DomainModel | None = field(default=None, compare=False, repr=False)

    def preprocessor(self) -> Preprocessor:
        """The preprocessing the model was trained with."""
        return Preprocessor(self.config.input_size, self.mean, self.std)

    def to_json(self) -> str:
        data = {
            "format": FORMAT_NAME,
            "format_version": self.format_version,
            "label_names": self.label_names,
            "model": self.config.to_dict(),
            "normalization": {"mean": list(self.mean), "std": list(self.std)},
            "training": self.training,
        }
        if self.domain_record is not None:
            data["domain"] = self.domain_record
        return json.dumps(data)

    def domain_summary(self) -> str:
        """One line on what the model knows: its training domain (when recorded) and its labels."""
        return describe((self.domain_record or {}).get("description"), self.label_names)

    @classmethod
    def from_json(cls, text: str, source: str) -> CheckpointMeta:
        """Parse and check metadata (types, ranges, label names, normalisation); CheckpointError names the field."""
        return cls(**parse_metadata(text, source))


def save_checkpoint(
    path: str | Path,
    model: SRN,
    label_names: list[str],
    training: dict[str, Any] | None = None,
    mean: tuple[float, float, float] = IMAGENET_MEAN,
    std: tuple[float, float, float] = IMAGENET_STD,
    domain: DomainModel | None = None,
) -> Path:
    """Write `model` and its metadata to `path` atomically (a temporary file, then a rename).

    The metadata is checked as loading checks it (label names unique, 1-200 printable characters;
    finite normalisation with std > 0), so a saved checkpoint always loads; CheckpointError otherwise.
    `domain` adds the training images' feature statistics (`srn_core.domain`).
    """
    if len(label_names) != model.num_labels:
        raise ValueError(f"{len(label_names)} label names given for a model with {model.num_labels} labels")
    meta = CheckpointMeta(
        model.config,
        list(label_names),
        tuple(mean),
        tuple(std),
        dict(training or {}),
        domain_record=domain.metadata() if domain is not None else None,
    )
    text = meta.to_json()
    CheckpointMeta.from_json(text, f"{path} (saving)")
    tensors = {name: t.detach().to("cpu").contiguous() for name, t in model.state_dict().items()}
    if domain is not None:
        tensors.update(domain.tensors())
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={METADATA_KEY: text})
    return Path(path)


def _read_header(path: str | Path) -> tuple[dict[str, Any], int]:
    """The safetensors JSON header of `path` and the number of tensor bytes after it (no pickle, no tensors)."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise CheckpointError(f"{source}: file does not exist" if not path.exists() else f"{source}: not a file")
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise CheckpointError(f"{source}: not an SRN checkpoint (file too short to be safetensors)")
        (length,) = struct.unpack("<Q", head)
        if length <= 1 or length > min(size - 8, MAX_HEADER_BYTES):
            raise CheckpointError(
                f"{source}: not an SRN checkpoint (not a safetensors file; pickles and "
                f".pth files are refused because loading them can run code)"
            )
        raw = handle.read(length)
    try:
        header = json.loads(raw)
    except RecursionError:
        raise CheckpointError(f"{source}: not an SRN checkpoint (safetensors header is nested too deeply)") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(f"{source}: not an SRN checkpoint (safetensors header is not valid JSON)") from None
    if not isinstance(header, dict) or not isinstance(header.get("__metadata__", {}), dict):
        raise CheckpointError(f"{source}: not an SRN checkpoint (safetensors header is not an object)")
    return header, size - 8 - length


def read_header(path: str | Path) -> dict[str, Any]:
    """Parse a safetensors JSON header without touching the tensor bytes (and without pickle)."""
    return _read_header(path)[0]


def _meta_of(header: dict[str, Any], path: str | Path) -> CheckpointMeta:
    text = (header.get("__metadata__") or {}).get(METADATA_KEY)
    if text is None:
        raise CheckpointError(f"{path}: a safetensors file without SRN metadata (not saved by save_checkpoint)")
    return CheckpointMeta.from_json(text, str(path))


def read_metadata(path: str | Path) -> CheckpointMeta:
    """Read and check only the metadata of a checkpoint (cheap: no tensors are loaded)."""
    return _meta_of(read_header(path), path)


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> tuple[SRN, CheckpointMeta]:
    """Rebuild the model saved at `path` (in eval mode, on `device`) and return it with its metadata.

    Order: metadata checked, then the header's tensor names, dtypes, shapes and byte ranges compared
    with the model the metadata describes, and only then tensors read (weights with NaN or infinity
    are refused) and layers built. Nothing large is allocated for a file that is refused.
    """
    header, data_bytes = _read_header(path)
    meta = _meta_of(header, path)
    check_header(header, meta.config, data_bytes, str(path), meta.domain_record is not None)
    try:
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: corrupt safetensors data ({exc})") from None
    bad = non_finite(tensors)
    if bad:
        raise CheckpointError(
            f"{path}: tensors hold NaN or infinite weights: {', '.join(bad[:5])}"
            + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        )
    if meta.domain_record is not None:
        domain_tensors = {name: tensors.pop(name) for name in (DOMAIN_MEAN, DOMAIN_PRECISION)}
        meta.domain = DomainModel.from_parts(meta.domain_record, domain_tensors)
    model = SRN.from_config(meta.config)
    model.load_state_dict(tensors)
    return model.to(device).eval(), meta


__all__ = [
    "CheckpointError",
    "CheckpointMeta",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "check_label_names",
    "load_checkpoint",
    "read_header",
    "read_metadata",
    "save_checkpoint",
]
