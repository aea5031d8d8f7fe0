"""Resumable training state in one safetensors file, never a pickle.

Nested Python state (optimizer and scheduler state dicts, RNG states, counters, config) is split
into tensors, stored as safetensors tensors, and everything else, stored as JSON in the same file's
metadata, where each tensor is replaced by a reference to its key. One file means one atomic
rename: the tensors and the JSON can never come from different moments. `state.json` beside it is
a readable copy of the JSON for people; the trainer reads only the safetensors file.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..checkpoint import read_header
from ..fileio import atomic_path, atomic_write_text

STATE_FORMAT = "srn-training-state"
STATE_VERSION = 1
METADATA_KEY = "srn_training_state"


class StateError(ValueError):
    """A training-state file is missing, corrupt or from another program; the message says which."""


def encode(value: Any, tensors: dict[str, torch.Tensor], prefix: str) -> Any:
    """JSON-able form of `value`; tensors and numpy arrays go to `tensors` under keys starting with `prefix`."""
    if isinstance(value, torch.Tensor):
        key = f"{prefix}#{len(tensors)}"
        tensors[key] = value.detach().to("cpu").contiguous()
        return {"__tensor__": key}
    if isinstance(value, np.ndarray):
        key = f"{prefix}#{len(tensors)}"
        tensors[key] = torch.from_numpy(value.astype(np.int64) if value.dtype.kind in "ui" else value).contiguous()
        return {"__ndarray__": key, "dtype": value.dtype.str}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, tensors, prefix) for v in value]}
    if isinstance(value, list):
        return [encode(v, tensors, prefix) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: encode(v, tensors, prefix) for k, v in value.items()}
        return {"__items__": [[encode(k, tensors, prefix), encode(v, tensors, prefix)] for k, v in value.items()]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in the training state ({prefix})")


def decode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Inverse of `encode`."""
    if isinstance(value, list):
        return [decode(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        return tensors[value["__tensor__"]]
    if "__ndarray__" in value:
        return tensors[value["__ndarray__"]].numpy().astype(np.dtype(value["dtype"]))
    if "__tuple__" in value:
        return tuple(decode(v, tensors) for v in value["__tuple__"])
    if "__items__" in value:
        return {_hashable(decode(k, tensors)): decode(v, tensors) for k, v in value["__items__"]}
    return {k: decode(v, tensors) for k, v in value.items()}


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def rng_state() -> dict[str, Any]:
    """The state of every random generator the training touches."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `rng_state` returned (CUDA generators only if there are as many devices)."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def save_state(path: str | Path, state: dict[str, Any], readable_copy: bool = True) -> Path:
    """Write `state` (nested dicts of tensors, arrays, tuples and JSON values) atomically to `path`."""
    path = Path(path)
    tensors: dict[str, torch.Tensor] = {}
    body = {"format": STATE_FORMAT, "version": STATE_VERSION, "state": encode(state, tensors, "t")}
    text = json.dumps(body)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={METADATA_KEY: text})
    if readable_copy:
        atomic_write_text(path.with_suffix(".json"), json.dumps(body, indent=1))
    return path


def load_state(path: str | Path) -> dict[str, Any]:
    """Read a state written by `save_state`; anything else raises StateError."""
    path = Path(path)
    try:
        text = (read_header(path).get("__metadata__") or {}).get(METADATA_KEY)
    except ValueError as exc:
        raise StateError(str(exc)) from None
    if text is None:
        raise StateError(f"{path}: a safetensors file without training state (not written by save_state)")
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(f"{path}: training state metadata is not valid JSON ({exc})") from None
    if body.get("format") != STATE_FORMAT or int(body.get("version", 0)) > STATE_VERSION:
        raise StateError(f"{path}: not a training state of format {STATE_FORMAT} version <= {STATE_VERSION}")
    try:
        tensors = load_file(str(path), device="cpu")
        return decode(body["state"], tensors)
    except (SafetensorError, OSError, KeyError) as exc:
        raise StateError(f"{path}: corrupt training state ({type(exc).__name__}: {exc})") from None
