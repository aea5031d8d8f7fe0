"""conv4 filters view: browse the channels x filters of f_sr's conv4, sorted by norm or by how
strongly a label drives them, and follow one label's path label -> channel -> filter -> label."""

from __future__ import annotations

import streamlit as st

from analysis import path_table
from analysis.figures.catalogue import build
from analysis.measures.browse import channel_page, channel_rows, page_count, rank_channels
from srn_core.text_safety import markdown_text as md

from .. import state
from ..downloads import figure_downloads, table_download
from ..fragments import guarded_fragment
from ..sidebar import Selection

SORTS = ("drive by the label", "filter norm")
EXPLAIN = (
    "conv4 gives each of f_sr's channels its own spatial filters, each spanning the whole grid: a "
    "template of **where** things sit. A channel's drive by a label is measured by feeding f_sr that "
    "label's attention alone (spread evenly) and reading the channel's change. Red weights excite, "
    "blue inhibit."
)


def _browser(sel: Selection, tools: state.ModelTools, label: str) -> None:
    filters, probes = tools.filters, tools.probes
    count = filters.weights.shape[0]
    row = st.container(horizontal=True, wrap=True, gap="medium", vertical_alignment="bottom")
    how = row.radio(
        "Sort channels by",
        SORTS,
        horizontal=True,
        key="keep.f_sort",
        width="content",
        help="drive: how strongly the chosen label drives each channel (measured); norm: how "
        "large the channel's filters are, whichever label uses them.",
    )
    per_page = row.select_slider("Channels per page", (2, 4, 6, 8, 12), key="keep.f_per_page", width=220)
    pages = page_count(count, per_page)
    if st.session_state.get("keep.f_page", 1) > pages:
        st.session_state["keep.f_page"] = pages
    number = row.number_input(f"Page (of {pages})", 1, pages, step=1, key="keep.f_page", width=140)
    order, scores = rank_channels(filters, probes, label if how == SORTS[0] else None)
    channels = channel_page(order, number, per_page)
    st.dataframe(
        channel_rows(filters, probes, channels, scores),
        hide_index=True,
        key="channel_table",
        column_config={
            "score": st.column_config.NumberColumn(
                "score", help="filter norm, or the label's measured drive", format="%.4g"
            )
        },
    )
    spec = build(
        "conv4_filters",
        f"conv4_page{number}_{'norm' if how == SORTS[1] else label}",
        f"filters of page {number}",
        filters=filters,
        channels=channels,
        readout=tools.readout,
    )
    st.plotly_chart(state.figure("filters", (sel.model.key, tuple(channels)), spec.plotly), key="filters_page")
    figure_downloads(spec, "filters_page")


def _path(sel: Selection, tools: state.ModelTools, label: str) -> None:
    st.subheader(f"{md(label)} -> channels -> filters -> labels")
    k = st.slider("Channels to follow", 1, 8, key="keep.f_channels")
    drives = tools.probes.label_channels(label, k)
    channels = [c for c, _ in drives]
    st.markdown("The channels **" + md(label) + "** drives most: " + ", ".join(f"ch{c} ({d:+.3g})" for c, d in drives))
    spec = build(
        "conv4_filters",
        f"conv4_{label}",
        f"filters of {label}'s channels",
        filters=tools.filters,
        channels=channels,
        readout=tools.readout,
    )
    st.plotly_chart(state.figure("filters", (sel.model.key, tuple(channels)), spec.plotly), key="filters_label")
    st.markdown(
        "What the fc layer reads each of these filters into (the labels whose SRN logit it raises and lowers most):"
    )
    st.dataframe(spec.rows(), hide_index=True, key="readout_table")
    figure_downloads(spec, "filters_label")
    st.markdown(
        f"**Strongest paths** from {md(label)}: the contribution of each filter to each label's SRN logit "
        f"when only {md(label)} holds attention (they add up to the probe's whole effect)."
    )
    paths = path_table(sel.model.model, tools.probes, [label], top=20)
    st.dataframe(paths, hide_index=True, key="path_table")
    table_download(lambda: paths, f"paths_{label}", "paths")


def render(sel: Selection) -> None:
    """Draw the conv4 filters view (a fragment: its controls rerun only this view); the label follows the image."""
    names = sel.model.label_names
    st.session_state.setdefault("keep.f_sort", SORTS[0])
    st.session_state.setdefault("keep.f_per_page", 4)
    st.session_state.setdefault("keep.f_channels", 3)
    fresh = state.new_image("filters", f"{sel.model.key}|{sel.item.key}")
    if fresh or st.session_state.get("keep.f_label") not in names:
        st.session_state["keep.f_label"] = names[sel.analysis.top_labels(1)[0]]
        st.session_state["keep.f_page"] = 1
    _view(sel)


@guarded_fragment("conv4 filters view")
def _view(sel: Selection) -> None:
    tools = state.model_tools(sel.model.key, sel.model)
    names = sel.model.label_names
    st.caption(EXPLAIN)
    label = st.selectbox("Label (for sorting and for its path)", names, key="keep.f_label")
    _browser(sel, tools, label)
    _path(sel, tools, label)
