"""The "Images" choice of the views that measure over many images: the samples or the uploads."""

from __future__ import annotations

import streamlit as st

from analysis import ImageAnalysis

from .sidebar import Selection
from .state import ImageItem


def pick_image_set(sel: Selection, key: str, help: str) -> tuple[str, list[tuple[ImageItem, ImageAnalysis]]]:
    """A radio between the image sets that hold images; returns the chosen set's name and its images."""
    sources = [name for name, found in (("samples", sel.samples), ("uploads", sel.uploads)) if found]
    if st.session_state.get(key) not in sources:
        st.session_state[key] = sources[0]
    source = st.radio("Images", sources, horizontal=True, key=key, help=help)
    return source, sel.samples if source == "samples" else sel.uploads
