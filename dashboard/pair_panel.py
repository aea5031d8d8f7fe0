"""The panel of one pair of labels, below the label relations view's matrix: both attention maps on the
images that hold both, the distribution of their offsets, the relation field f_sr learned for them, and
the conv4 filters they share."""

from __future__ import annotations

import streamlit as st

from analysis import centroid_offsets, overlay_maps, relation_field
from analysis.figures.catalogue import build
from analysis.measures.browse import images_with, preferred_offsets, shared_channels
from analysis.measures.relation_view import anchor_alone, fields_around
from analysis.measures.spatial import map_relation_field
from srn_core.text_safety import markdown_text as md

from . import state
from .downloads import figure_downloads, table_download
from .image_view import threshold, view_settings
from .sidebar import Selection

SHOWN_IMAGES = 4
IMAGE_SIDE = 200
SYNTHETIC = "synthetic: the anchor alone, mass 1 at the centre"
REAL = "real maps: the moved label's own map, averaged over the images holding both"


def _images(analyses, found: list[int], anchor: str, other: str) -> None:
    if not found:
        st.info(f"No image holds both {md(anchor)} and {md(other)}.")
        return
    st.markdown(
        f"**Attention of both labels** on {min(len(found), SHOWN_IMAGES)} of the {len(found)} images holding both"
    )
    for n in found[:SHOWN_IMAGES]:
        view = view_settings(analyses[n])
        overlays = overlay_maps(
            analyses[n],
            [anchor, other],
            "attention",
            view.mode,
            view.cmap,
            view.opacity,
            max_side=IMAGE_SIDE,
            fade=view.fade,
        )
        st.image(
            list(overlays.images),
            caption=[f"{md(analyses[n].source)}: A of {md(anchor)}", f"A of {md(other)}"],
            width=IMAGE_SIDE,
        )


def _offsets(analyses, anchor: str, other: str, source: str) -> None:
    stats = centroid_offsets(analyses, "attention", "cells", threshold())
    spec = build("offsets", f"offsets_{anchor}_{other}_{source}", "the offsets", stats=stats, pairs=[(anchor, other)])
    st.plotly_chart(spec.plotly(), key="pair_offsets")
    figure_downloads(spec, "offsets")


def _field_input(sel: Selection, analyses, found: list[int], anchor: str):
    options = ([REAL] if found else []) + [SYNTHETIC] + [analyses[n].source for n in found]
    if st.session_state.get("keep.r_field_source") not in options:
        st.session_state["keep.r_field_source"] = options[0]
    choice = st.selectbox(
        "Relation field measured on",
        options,
        key="keep.r_field_source",
        help="The synthetic input shows f_sr's own preference; an image keeps its other labels.",
    )
    if choice == REAL:
        return choice, [analyses[n] for n in found], None
    if choice == SYNTHETIC:
        return choice, anchor_alone(sel.model.label_names, sel.analysis.grid, anchor), 1.0
    analysis = next(analyses[n] for n in found if analyses[n].source == choice)
    return choice, analysis.weighted_attention, None


def _field(sel: Selection, analyses, found: list[int], anchor: str, other: str) -> None:
    choice, u, mass = _field_input(sel, analyses, found, anchor)
    if choice == REAL:
        field = map_relation_field(sel.model.model, u, moved=other, anchor=anchor)
        u = u[0].weighted_attention
    else:
        field = relation_field(sel.model.model, u, sel.model.label_names, moved=other, anchor=anchor, mass=mass)
    spec = build("relation_field", f"field_{other}_around_{anchor}", "the relation field", field=field)
    st.plotly_chart(spec.plotly(), key="pair_field")
    if field.warning:
        st.warning(md(field.warning, 600))
    else:
        dx, dy = field.preferred_offset()
        st.caption(
            f"f_sr scores {md(anchor)} highest with {md(other)} at dx={dx}, dy={dy} cells from it (y down)"
            + (f", averaged over {field.images} images." if field.mode == "map" else ".")
        )
    figure_downloads(spec, "field")
    if st.toggle(f"Where does f_sr want every label around {md(anchor)}?", key="keep.r_all_fields"):
        rows = _all_fields(sel, u, anchor, mass, (choice, anchor))
        st.dataframe(rows, hide_index=True, key="all_fields_table")
        table_download(lambda: rows, f"preferred_offsets_{anchor}", "all_fields")


def _all_fields(sel: Selection, u, anchor: str, mass: float | None, key: tuple) -> list[dict]:
    """Relation fields of every label around `anchor`, computed once per input, with a progress bar."""
    store = state.store(sel.model.key)
    if ("fields", key) not in store:
        bar = st.progress(0.0, text="Relation fields ...")

        def progress(done: int, total: int) -> None:
            bar.progress(done / total, text=f"Relation fields: {done} of {total}")

        fields = fields_around(sel.model.model, u, sel.model.label_names, anchor, mass=mass, progress=progress)
        bar.empty()
        store[("fields", key)] = preferred_offsets(fields)
    return store[("fields", key)]


def _shared(sel: Selection, anchor: str, other: str) -> None:
    tools = state.model_tools(sel.model.key, sel.model)
    rows = shared_channels(tools.probes, anchor, other, 4)
    st.markdown("**conv4 channels both labels drive** (ranked by the smaller drive)")
    st.dataframe(rows, hide_index=True, key="shared_table")
    channels = [row["channel"] for row in rows]
    spec = build(
        "conv4_filters",
        f"conv4_shared_{anchor}_{other}",
        "the shared filters",
        filters=tools.filters,
        channels=channels,
        readout=tools.readout,
    )
    st.plotly_chart(spec.plotly(), key="pair_filters", width="content")
    figure_downloads(spec, "shared")


def render_pair(sel: Selection, pairs, anchor: str, other: str, source: str) -> None:
    """Draw the panel of the pair (anchor, other) over the (item, analysis) `pairs`."""
    if anchor == other:
        st.info("Pick two different labels.")
        return
    analyses = [analysis for _, analysis in pairs]
    found = images_with(analyses, [anchor, other], threshold())
    _images(analyses, found, anchor, other)
    row = st.container(horizontal=True, wrap=True, gap="medium")
    offsets, field = row.container(width=520), row.container(width=520)
    with offsets:
        st.markdown(f"**Offsets of {md(other)} around {md(anchor)}** (attention centroids, cells)")
        _offsets(analyses, anchor, other, source)
    with field:
        st.markdown(f"**Relation field**: {md(anchor)}'s SRN score with {md(other)}'s attention moved to each offset")
        _field(sel, analyses, found, anchor, other)
    _shared(sel, anchor, other)
