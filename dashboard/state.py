"""What the dashboard keeps between reruns: the model (once per process), per-image analyses (per image
content and model), the per-model measures, the samples and uploaded files.

Changing a colour map, an opacity or a tab reruns the script, never the network: the forward pass
lives behind `st.cache_data` keyed by (model key, image digest, name). Figures and thumbnails are
cached by what they show, so a control rebuilds only the figures it changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from analysis import Analyzer, ImageAnalysis, conv4_filters, filter_readout, gradcam_maps, influence_matrix, probe_sr
from analysis.figures.overlay import overlay_thumbnails
from analysis.measures.filters import Conv4Filters, ProbeResult
from analysis.tables import LabelMatrix
from srn_core import SRN, load_checkpoint
from srn_core.checkpoint import CheckpointError, CheckpointMeta
from srn_core.datasets import Box, DatasetError, read_manifest
from srn_core.fileio import atomic_write_bytes
from srn_core.images import ImageLoadError
from srn_core.sources import align_targets

from . import settings


@dataclass(frozen=True)
class LoadedModel:
    """A checkpoint loaded for analysis: `key` identifies it in every cache, `name` is shown."""

    key: str
    name: str
    analyzer: Analyzer
    meta: CheckpointMeta

    @property
    def model(self) -> SRN:
        return self.analyzer.model

    @property
    def label_names(self) -> list[str]:
        return self.analyzer.label_names


@dataclass(frozen=True)
class ImageItem:
    """An image the user can pick: its bytes, a content digest, and ground truth for samples."""

    name: str
    data: bytes = field(repr=False)
    digest: str
    origin: str
    target_names: tuple[str, ...] = ()
    targets: tuple[int, ...] | None = None
    boxes: tuple[Box, ...] = ()
    rules: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.digest}:{self.name}"

    @property
    def label(self) -> str:
        return f"{'sample' if self.origin == 'sample' else 'upload'}: {self.name}"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:24]


def _size(count: int) -> str:
    return f"{count / 2**20:.1f} MiB" if count >= 2**20 else f"{count / 2**10:.0f} KiB"


def checkpoint_key(path: Path) -> str:
    """Identity of a checkpoint file: its path, size and modification time (a retrained file is a new model)."""
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


@st.cache_resource(max_entries=4, show_spinner="Loading the model ...")
def _load(key: str, path: str, name: str) -> LoadedModel:
    model, meta = load_checkpoint(path, "cpu")
    return LoadedModel(key, name, Analyzer(model, meta, "auto"), meta)


def load_model(path: Path, name: str | None = None) -> LoadedModel:
    """The model in `path`, loaded once per process. Raises CheckpointError naming `name` (default: the path)."""
    try:
        return _load(checkpoint_key(path), str(path), name or path.name)
    except CheckpointError as exc:
        raise CheckpointError(str(exc).replace(str(path), name or str(path))) from None
    except OSError as exc:
        raise CheckpointError(f"{name or path}: cannot read the file ({exc.strerror or exc})") from None
    except (MemoryError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{name or path}: cannot be loaded ({type(exc).__name__}: {exc})") from None


def list_checkpoints(folder: Path) -> list[Path]:
    """The `*.safetensors` files of `folder`, sorted by name (none if the folder is missing)."""
    return sorted(p for p in folder.glob("*.safetensors") if p.is_file()) if folder.is_dir() else []


def stage_checkpoint(name: str, data: bytes) -> Path:
    """Write an uploaded checkpoint to the staging folder (loading reads files) and return its path."""
    if not data:
        raise CheckpointError(f"{name}: file is empty")
    if len(data) > settings.MAX_CHECKPOINT_BYTES:
        raise CheckpointError(
            f"{name}: file is {_size(len(data))}, over the {_size(settings.MAX_CHECKPOINT_BYTES)} limit for checkpoints"
        )
    path = settings.upload_dir() / digest(data) / "upload.safetensors"  # the user's name is shown, never used as a path
    if not path.exists():
        atomic_write_bytes(path, data)
    return path


def upload_item(name: str, data: bytes) -> ImageItem:
    """An uploaded image as an item; files over the size limit are refused here, the rest when read."""
    if len(data) > settings.MAX_IMAGE_BYTES:
        raise ImageLoadError(
            name, f"file is {_size(len(data))}, over the {_size(settings.MAX_IMAGE_BYTES)} limit for images"
        )
    return ImageItem(name, data, digest(data), "upload")


@st.cache_data(show_spinner=False)
def _samples(manifest: str, stamp: int) -> tuple[list[ImageItem], list[str]]:
    dataset = read_manifest(manifest, skip_missing=True)
    items, problems = [], []
    for sample in dataset.samples:
        try:
            data = Path(sample.path).read_bytes()
        except OSError as exc:
            problems.append(f"{sample.path}: cannot read ({exc.strerror or exc})")
            continue
        items.append(
            ImageItem(
                Path(sample.path).name,
                data,
                digest(data),
                "sample",
                tuple(dataset.label_names),
                tuple(int(t) for t in sample.targets),
                tuple(sample.boxes),
                tuple(sample.extra.get("rules", ())),
            )
        )
    return items, problems


def sample_items() -> tuple[list[ImageItem], list[str]]:
    """The sample images and any problems reading them (no samples at all is not an error)."""
    manifest = settings.samples_manifest()
    if not manifest.is_file():
        return [], []
    try:
        return _samples(str(manifest), manifest.stat().st_mtime_ns)
    except DatasetError as exc:
        return [], [f"Samples unavailable: {exc}"]


def ground_truth(item: ImageItem, label_names: Sequence[str]) -> tuple[np.ndarray | None, str]:
    """The item's targets in the model's label order, or None and why not: "" for an item without ground
    truth (an upload), a sentence naming the labels that differ for a sample the model's labels do not fit."""
    if item.targets is None:
        return None, ""
    try:
        return align_targets(item.targets, item.target_names, label_names), ""
    except ValueError as exc:
        return None, f"{item.name} has no ground truth for this model: {exc}"


@st.cache_data(max_entries=512, show_spinner=False)
def _analyse(model_key: str, item_key: str, _analyzer: Analyzer, _item: ImageItem) -> tuple[ImageAnalysis | None, str]:
    try:
        return _analyzer.analyse_one(
            _item.data, _item.name, ground_truth(_item, _analyzer.label_names)[0], list(_item.boxes)
        ), ""
    except ImageLoadError as exc:
        return None, exc.reason
    except (MemoryError, RuntimeError, ValueError) as exc:  # one bad image must not take the others down
        return None, f"cannot be analysed ({type(exc).__name__}: {exc})"


def analyse(model: LoadedModel, item: ImageItem) -> ImageAnalysis:
    """The item's analysis (cached per model and image). Raises ImageLoadError naming the file."""
    result, reason = _analyse(model.key, item.key, model.analyzer, item)
    if result is None:
        raise ImageLoadError(item.name, reason)
    st.session_state.setdefault("_analysed", set()).add((model.key, item.key))
    return result


def analyse_many(
    model: LoadedModel, items: Sequence[ImageItem], what: str = "images"
) -> tuple[list[tuple[ImageItem, ImageAnalysis]], list[str]]:
    """(item, analysis) for every item that can be read, in order, and the error messages of the others
    (each names the file and the reason). Shows progress when more than one image needs the network."""
    done = st.session_state.setdefault("_analysed", set())
    pending = sum((model.key, item.key) not in done for item in items)
    bar = st.progress(0.0, text=f"Analysing {pending} {what} ...") if pending > 1 else None
    results, errors = [], []
    for n, item in enumerate(items):
        try:
            results.append((item, analyse(model, item)))
        except ImageLoadError as exc:
            errors.append(str(exc))
        if bar:
            bar.progress((n + 1) / len(items), text=f"Analysing {what}: {n + 1} of {len(items)}")
    if bar:
        bar.empty()
    return results, errors


@dataclass(frozen=True)
class ModelTools:
    """Measures of one model that do not depend on images: conv4 filters, probe responses, fc readout."""

    filters: Conv4Filters
    probes: ProbeResult
    readout: LabelMatrix


@st.cache_resource(max_entries=4, show_spinner="Measuring the model's filters ...")
def model_tools(key: str, _model: LoadedModel) -> ModelTools:
    """conv4 filters, f_sr's response to one-label probes and the fc readout, once per model."""
    model, names = _model.model, _model.label_names
    return ModelTools(conv4_filters(model), probe_sr(model, names), filter_readout(model, names))


@st.cache_resource(max_entries=4)
def store(model_key: str) -> dict:
    """A per-model dict for results whose computation shows progress (cached functions would replay it)."""
    return {}


def influence(
    model: LoadedModel, analyses: Sequence[ImageAnalysis], keys: tuple[str, ...], present_only: bool
) -> LabelMatrix:
    """The influence matrix over `analyses` (identified by `keys`), computed once with a progress bar."""
    results = store(model.key)
    key = ("influence", keys, present_only)
    if key not in results:
        bar = st.progress(0.0, text="Influence: gradients of f_sr ...")

        def progress(items):
            for n, item in enumerate(items):
                bar.progress(n / len(analyses), text=f"Influence: image {n + 1} of {len(analyses)}")
                yield item

        try:
            results[key] = influence_matrix(model.model, analyses, present_only=present_only, progress=progress)
        finally:
            bar.empty()
    return results[key]


@st.cache_data(max_entries=64, show_spinner="Grad-CAM of the main net ...")
def gradcam(model_key: str, item_key: str, label: int, _model: LoadedModel, _analysis: ImageAnalysis) -> np.ndarray:
    """Grad-CAM (layer4) of the main-net logit of `label` for one image, cached per model, image and label."""
    return gradcam_maps(_model.analyzer, _analysis, [label])[0]


@st.cache_resource(max_entries=128, show_spinner=False)
def figure(role: str, key: tuple, _build: Callable[[], Any]) -> Any:
    """The figure `_build()` makes, built once per (role, key): `key` must name everything it shows.
    The figure is shared between reruns, so callers never change it."""
    return _build()


@st.cache_data(max_entries=256, show_spinner=False)
def thumbnails(
    model_key: str, item_key: str, labels: tuple[int, ...], style: tuple, _analysis: ImageAnalysis
) -> list[bytes]:
    """JPEG overlays of `labels` for the map grid; `style` = (kind, mode, cmap, opacity, fade)."""
    kind, mode, cmap, opacity, fade = style
    return overlay_thumbnails(_analysis, list(labels), kind, mode, cmap, opacity, settings.THUMBNAIL_SIDE, fade)


def new_image(view: str, key: str) -> bool:
    """True the first time `view` is drawn for the image (or image set) `key`: its defaults then follow it."""
    seen = st.session_state.setdefault("_image_of_view", {})
    fresh = seen.get(view) != key
    seen[view] = key
    return fresh
