"""srn_core: a faithful PyTorch Spatial Regularization Network, its data, training and checkpoints.

Names are imported lazily (PEP 562), so `srn_core.datasets` and `srn_core.scenes` stay torch-free.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SRN": "model",
    "SRNConfig": "model",
    "SRNOutput": "model",
    "CheckpointError": "checkpoint",
    "CheckpointMeta": "checkpoint",
    "load_checkpoint": "checkpoint",
    "read_metadata": "checkpoint",
    "save_checkpoint": "checkpoint",
    "ImageLoadError": "images",
    "load_image": "images",
    "Prediction": "predictor",
    "Predictor": "predictor",
    "Preprocessor": "preprocess",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'srn_core' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
