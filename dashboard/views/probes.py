"""Relation probes view: for a label pair, what the SRN, main and fused scores do when the partner's map is
removed, moved, mirrored or added, averaged over the samples or the uploads, and whether f_sr learned the
partner's presence or its layout."""

from __future__ import annotations

import streamlit as st

from analysis.figures.catalogue import build
from analysis.measures.relation_probes import PROBE_OPS, relation_probe
from analysis.proof.relation_proof import planted_presets

from ..downloads import figure_downloads, table_download
from ..image_sets import pick_image_set
from ..sidebar import Selection

CENTRE = "(grid centre)"
CUSTOM = "(choose the labels)"
VERDICT_STYLE = {"layout": st.success, "presence": st.info, "none": st.warning}


def _apply_preset(presets: dict[str, dict]) -> None:
    chosen = presets.get(st.session_state.get("keep.p_preset"))
    if chosen:
        st.session_state["keep.p_read"] = chosen["read"]
        st.session_state["keep.p_partners"] = list(chosen["partners"])
        st.session_state["keep.p_anchor"] = chosen["anchor"] or CENTRE


def _controls(names: list[str], grid: int, presets: dict[str, dict]) -> dict:
    st.session_state.setdefault("keep.p_preset", next(iter(presets), CUSTOM))
    if st.session_state["keep.p_preset"] not in [CUSTOM, *presets]:
        st.session_state["keep.p_preset"] = CUSTOM
    if "keep.p_read" not in st.session_state or st.session_state["keep.p_read"] not in names:
        st.session_state["keep.p_read"], st.session_state["keep.p_partners"] = names[0], [names[1 % len(names)]]
        st.session_state["keep.p_anchor"] = CENTRE
        _apply_preset(presets)
    st.selectbox(
        "Planted pair",
        [CUSTOM, *presets],
        key="keep.p_preset",
        on_change=_apply_preset,
        args=(presets,),
        help="The pairs the scene spec planted (when the model's labels are the spec's).",
    )
    read, partners, anchor = st.columns(3)
    read.selectbox("Read label (its scores)", names, key="keep.p_read")
    st.session_state["keep.p_partners"] = [p for p in st.session_state.get("keep.p_partners", []) if p in names]
    partners.multiselect("Partner (its map is edited)", names, key="keep.p_partners")
    anchor.selectbox("Pivot of mirror / add", [CENTRE, *names], key="keep.p_anchor")
    dx, dy, ax, ay = st.columns(4)
    for key in ("keep.p_dx", "keep.p_dy", "keep.p_ax", "keep.p_ay"):
        st.session_state.setdefault(key, 3 if key == "keep.p_dx" else 0)
    span = grid - 1
    return {
        "shift": (
            dx.slider("move dx (cells)", -span, span, key="keep.p_dx"),
            dy.slider("move dy (cells, down)", -span, span, key="keep.p_dy"),
        ),
        "add_offset": (
            ax.slider("add at dx from pivot", -span, span, key="keep.p_ax"),
            ay.slider("add at dy from pivot", -span, span, key="keep.p_ay"),
        ),
    }


def render(sel: Selection) -> None:
    """Draw the relation probes view."""
    names, grid = sel.model.label_names, sel.analysis.grid
    st.caption(
        "Only the partner's weighted attention map U is edited and f_sr runs again: the main net never "
        "reads U (its change is 0), the fused logit moves by (1 - alpha) times the SRN change. Mirroring "
        "keeps the partner present but on the other side of the pivot: a large change means f_sr learned "
        "where the partner is (layout), a change only on removal means it learned that it is there "
        "(presence)."
    )
    source, pairs = pick_image_set(sel, "keep.p_source", "Each probe is averaged over these images.")
    analyses = [analysis for _, analysis in pairs]
    settings = _controls(names, grid, planted_presets(names))
    read, partners = st.session_state["keep.p_read"], st.session_state["keep.p_partners"]
    anchor = None if st.session_state["keep.p_anchor"] == CENTRE else st.session_state["keep.p_anchor"]
    if not partners:
        st.info("Pick at least one partner label.")
        return
    probe = relation_probe(
        sel.model.model, analyses, read, partners, anchor, settings["shift"], "xy", settings["add_offset"], PROBE_OPS
    )
    VERDICT_STYLE[probe.verdict](f"**{probe.verdict}** over {len(analyses)} {source}: {probe.explanation()}")
    name = f"probe_{read}_by_{'+'.join(partners)}_{source}"
    spec = build("probe", name, probe=probe)
    st.plotly_chart(spec.plotly(), key="probe_chart")
    figure_downloads(spec, "probe")
    rows = probe.rows()
    st.dataframe(rows, hide_index=True, key="probe_table")
    table_download(lambda: rows, name, "probe_rows")
