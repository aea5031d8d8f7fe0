"""The settings every view shares with the Images view: the threshold, top-k, chosen label and map style,
read from the session state, with defaults where a control was never drawn."""

from __future__ import annotations

import streamlit as st

from analysis import ImageAnalysis
from analysis.figures.image_inputs import ImageView

from . import settings

TOP_K = 8
DEFAULTS = {
    "keep.threshold": 0.5,
    "keep.kind": "attention",
    "keep.cmap": settings.MAP_DEFAULTS["cmap"],
    "keep.opacity": settings.MAP_DEFAULTS["opacity"],
    "keep.mode": settings.MAP_DEFAULTS["mode"],
    "keep.fade": settings.MAP_DEFAULTS["fade"],
    "keep.zip_vector": False,
}


def threshold() -> float:
    """The fused-probability threshold above which a label counts as predicted (present, without ground truth)."""
    return float(st.session_state.get("keep.threshold", DEFAULTS["keep.threshold"]))


def view_settings(analysis: ImageAnalysis) -> ImageView:
    """The view settings the user has chosen so far (defaults where a control was never drawn)."""
    value = {key: st.session_state.get(key, default) for key, default in DEFAULTS.items()}
    names = analysis.label_names
    label = st.session_state.get("keep.label")
    return ImageView(
        label=label if label in names else names[analysis.top_labels(1)[0]],
        kind=value["keep.kind"],
        mode=value["keep.mode"],
        cmap=value["keep.cmap"],
        opacity=float(value["keep.opacity"]),
        fade=bool(value["keep.fade"]),
        threshold=float(value["keep.threshold"]),
        top_k=int(st.session_state.get("keep.top_k", min(TOP_K, len(names)))),
    )
