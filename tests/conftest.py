"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from srn_core import save_checkpoint

from .helpers import TINY_LABELS, tiny_model


@pytest.fixture
def tiny_checkpoint(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.safetensors"
    save_checkpoint(path, tiny_model(), TINY_LABELS, training={"note": "test fixture"})
    return path
