"""The sidebar: pick or upload a checkpoint (with its details one click away), upload images or pick
samples, and choose the image every view looks at."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from analysis import ImageAnalysis
from analysis.report.model_details import architecture_rows, metric_rows, record_rows, stage_rows
from srn_core.checkpoint import CheckpointError
from srn_core.images import ImageLoadError
from srn_core.text_safety import markdown_text

from . import settings, state
from .guard import show_error
from .state import ImageItem, LoadedModel


@dataclass
class Selection:
    """What the views work on: the model, the readable images (samples, uploads), the chosen one."""

    model: LoadedModel
    samples: list[tuple[ImageItem, ImageAnalysis]]
    uploads: list[tuple[ImageItem, ImageAnalysis]]
    item: ImageItem
    analysis: ImageAnalysis
    errors: list[str] = field(default_factory=list)


def _uploaded_checkpoint(options: dict[str, Path], errors: list[str]) -> None:
    """Stage, check and offer an uploaded checkpoint; select it the first time it is seen."""
    upload = st.sidebar.file_uploader(
        "Upload a checkpoint",
        key="ckpt_upload",
        max_upload_size=settings.upload_limit_mb(settings.MAX_CHECKPOINT_BYTES),
        help="A .safetensors file saved by srn_core.save_checkpoint. Anything else (a pickle, a .pth "
        "file) is refused: loading those can run code.",
    )
    models = st.session_state.setdefault("_uploaded_models", {})
    options.update(models)
    if upload is None:
        return
    label = f"uploaded: {upload.name}"
    seen = st.session_state.setdefault("_checkpoint_uploads", {})
    if upload.file_id not in seen:
        try:
            path = state.stage_checkpoint(upload.name, upload.getvalue())
            state.load_model(path, upload.name)
            models[label] = options[label] = path
            st.session_state["model_choice"] = label
            seen[upload.file_id] = ""
        except CheckpointError as exc:
            seen[upload.file_id] = f"Checkpoint refused: {exc}"
        except Exception as exc:  # one bad upload is one message; the app keeps its current model
            seen[upload.file_id] = f"Checkpoint refused: {upload.name}: {type(exc).__name__}: {exc}"
    if seen[upload.file_id]:
        errors.append(seen[upload.file_id])


def _model_details(model: LoadedModel) -> None:
    with st.sidebar.expander("Model details: labels, backbone, training"):
        st.markdown(f"**{markdown_text(model.name)}**")
        st.dataframe(architecture_rows(model.meta), hide_index=True, key="model_table")
        st.markdown(f"**{len(model.label_names)} labels:** " + ", ".join(markdown_text(n) for n in model.label_names))
        if not model.meta.training:
            st.caption("The checkpoint records no training.")
            return
        for title, rows, key in (
            ("Held-out metrics", metric_rows(model.meta), "metrics_table"),
            ("Training stages", stage_rows(model.meta), "stages_table"),
            ("Whole training record", record_rows(model.meta), "record_table"),
        ):
            if rows:
                st.markdown(f"**{title}**")
                st.dataframe(rows, hide_index=True, key=key, height=min(35 * len(rows) + 40, 300))


def _pick_model(errors: list[str]) -> LoadedModel | None:
    st.sidebar.header("Model")
    options = {path.name: path for path in state.list_checkpoints(settings.weights_dir())}
    _uploaded_checkpoint(options, errors)
    if not options:
        st.sidebar.warning(
            f"No checkpoint (\\*.safetensors) in {markdown_text(settings.weights_dir())}; upload one above."
        )
        return None
    names = list(options)
    if st.session_state.get("model_choice") not in options:
        st.session_state["model_choice"] = settings.default_model() if settings.default_model() in options else names[0]
    choice = st.sidebar.selectbox(
        "Checkpoint",
        names,
        key="model_choice",
        help=f"The checkpoints in {settings.weights_dir()} and the ones you uploaded.",
    )
    try:
        model = state.load_model(options[choice], choice)
    except CheckpointError as exc:
        errors.append(f"Checkpoint refused: {exc}")
        return None
    except Exception as exc:  # the picker stays usable: choose another checkpoint
        errors.append(f"Checkpoint refused: {choice}: {type(exc).__name__}: {exc}")
        return None
    _model_details(model)
    return model


def _uploaded_images(model: LoadedModel, errors: list[str]) -> list[tuple[ImageItem, ImageAnalysis]]:
    files = st.sidebar.file_uploader(
        "Upload images",
        accept_multiple_files=True,
        key="uploads",
        max_upload_size=settings.upload_limit_mb(settings.MAX_IMAGE_BYTES),
        help="JPEG, PNG, WebP, BMP or TIFF, one or many. Each is analysed once per model.",
    )
    items = []
    for upload in files or []:
        try:
            items.append(state.upload_item(upload.name, upload.getvalue()))
        except ImageLoadError as exc:
            errors.append(f"Upload refused: {exc}")
    results, failures = state.analyse_many(model, items, "uploads")
    errors.extend(f"Upload refused: {message}" for message in failures)
    return results


def image_choices(pairs: list[tuple[ImageItem, ImageAnalysis]]) -> dict[str, tuple[ImageItem, ImageAnalysis]]:
    """{label shown in the picker: (item, analysis)}; two images of one name (different content) both
    stay selectable, the second labelled with its content digest."""
    choices: dict[str, tuple[ImageItem, ImageAnalysis]] = {}
    for item, analysis in pairs:
        label = item.label
        if label in choices:
            label = f"{label} ({item.digest[:10]})"
        choices.setdefault(label, (item, analysis))
    return choices


def _select_fresh_upload(choices: dict[str, tuple[ImageItem, ImageAnalysis]]) -> None:
    """Select the newest upload the first time it appears."""
    seen = st.session_state.setdefault("_seen_uploads", set())
    fresh = [label for label, (item, _) in choices.items() if item.origin == "upload" and item.key not in seen]
    if fresh:
        st.session_state["image_choice"] = fresh[-1]
        seen.update(choices[label][0].key for label in fresh)


def render() -> Selection | None:
    """Draw the sidebar and return what the views work on (None when there is no usable model or image)."""
    errors: list[str] = []
    model = _pick_model(errors)
    if model is None:
        for error in errors:
            show_error(error)
        return None
    st.sidebar.header("Images")
    uploads = _uploaded_images(model, errors)
    sample_items, problems = state.sample_items()
    samples, failures = state.analyse_many(model, sample_items, "samples")
    errors.extend(problems + failures)
    choices = image_choices(samples + uploads)
    _select_fresh_upload(choices)
    if not choices:
        for error in errors:
            show_error(error)
        st.info("Upload an image in the sidebar to begin.")
        return None
    if st.session_state.get("image_choice") not in choices:
        st.session_state["image_choice"] = next(iter(choices))
    label = st.sidebar.selectbox(
        "Image",
        list(choices),
        key="image_choice",
        help="Samples come with ground truth; uploads are analysed as they arrive.",
    )
    item, analysis = choices[label]
    return Selection(model, samples, uploads, item, analysis, errors)
