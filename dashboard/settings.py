"""Where the dashboard finds its checkpoints and samples, and the choices its widgets offer.

`SRN_WEIGHTS_DIR` (default: the repository's `weights/`) is the folder whose `*.safetensors` files
the model picker lists; `SRN_SAMPLES` (default: `weights/samples/manifest.json`) the sample images
with ground truth. `SRN_DEFAULT_MODEL` names the checkpoint opened first (default demo_scenes).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "demo_scenes.safetensors"
IMAGE_TYPES = ("jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff")
MAX_IMAGE_BYTES = 50 * 1024 * 1024
MAX_CHECKPOINT_BYTES = 1024 * 1024 * 1024
COLOUR_MAPS = ("viridis", "inferno", "magma", "plasma", "cividis", "turbo", "jet", "gray")
UPSAMPLING = ("bilinear", "bicubic", "nearest")
MAP_DEFAULTS = {"cmap": "viridis", "mode": "bilinear", "opacity": 0.8, "fade": True}
PAPER_STYLE = {"cmap": "jet", "mode": "nearest", "opacity": 0.5, "fade": False}
KIND_NAMES = {"attention": "A (attention)", "confidence": "sigmoid(S) (confidence)", "weighted": "U = sigmoid(S) A"}
THUMBNAIL_SIDE = 224
THUMBNAIL_PX = 190
LARGE_SIDE = 320
VIEWS = ("Images", "conv4 filters", "Label relations", "What-if", "Relation probes", "Can this map be trusted?")


def upload_limit_mb(limit_bytes: int) -> int:
    """An upload limit in the MiB that Streamlit's uploaders take (`max_upload_size`), at least 1."""
    return max(1, limit_bytes // 2**20)


def weights_dir() -> Path:
    """The folder of checkpoints the model picker lists."""
    return Path(os.environ.get("SRN_WEIGHTS_DIR") or REPO / "weights")


def samples_manifest() -> Path:
    """The manifest of the sample images (with ground truth) offered beside uploads."""
    return Path(os.environ.get("SRN_SAMPLES") or REPO / "weights" / "samples" / "manifest.json")


def default_model() -> str:
    """File name of the checkpoint the dashboard opens with."""
    return os.environ.get("SRN_DEFAULT_MODEL") or DEFAULT_MODEL


def upload_dir() -> Path:
    """Where uploaded checkpoints are staged (loading needs a file); one folder per content hash."""
    return Path(os.environ.get("SRN_UPLOAD_DIR") or Path(tempfile.gettempdir()) / "srn-dashboard")
