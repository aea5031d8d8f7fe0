"""argparse types that refuse bad options at once, with a message naming the problem (exit code 2).

A job should fail before it starts, not after an hour: counts, ranges, devices and output paths
are checked while the command line is parsed.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from pathlib import Path

MAX_DPI = 600
MIN_DPI = 20


def integer(low: int, high: int | None = None) -> Callable[[str], int]:
    """An int option in [low, high] (no upper bound when `high` is None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
        return value

    return parse


def number(low: float, high: float) -> Callable[[str], float]:
    """A finite float option in [low, high]."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be a number from {low:g} to {high:g}, got {text}")
        return value

    return parse


positive = integer(1)
non_negative = integer(0)
probability = number(0.0, 1.0)
dpi = integer(MIN_DPI, MAX_DPI)


def device(text: str) -> str:
    """A device this machine has: auto, cpu, cuda, cuda:N (N below the number of GPUs) or mps."""
    from .predictor import resolve_device

    try:
        resolve_device(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _writable_folder(path: Path, what: str) -> None:
    """Raise ArgumentTypeError unless `path` (a folder, possibly still to be created) can be written."""
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{what} {path}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{what} {path}: no permission to write in {existing}")


def output_file(text: str) -> Path:
    """A file path the job can write: not a folder, inside a folder that exists or can be made."""
    path = Path(text)
    if not text or path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; give a file name")
    if path.exists() and not os.access(path, os.W_OK):
        raise argparse.ArgumentTypeError(f"no permission to write {path}")
    _writable_folder(path.parent, "output file")
    return path


def output_folder(text: str) -> Path:
    """A folder the job can write into: an existing folder, or one that can be created (not a file)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a file; give a folder (it is created if needed)")
    _writable_folder(path, "output folder")
    return path
