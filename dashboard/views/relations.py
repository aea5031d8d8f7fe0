"""Label relations view: semantic matrices (co-occurrence, P(j | i), f_sr similarity, influence) and
spatial ones (centroid offsets) over the samples or the uploads, as a clickable heat map and a label
graph; a clicked (or picked) pair opens in `pair.py`."""

from __future__ import annotations

import streamlit as st

from analysis import (
    centroid_offsets,
    conditional_probability,
    cooccurrence,
    figures_mpl,
    figures_plotly,
    fsr_similarity,
    label_matrix_of,
)
from analysis.browse import offset_matrices, strongest_pairs
from analysis.bundle import FigureSpec
from analysis.label_graph import graph_rows, label_graph_figure_mpl, label_graph_figure_plotly
from analysis.tables import LabelMatrix
from srn_core.text_safety import plotly_original, plotly_text

from .. import state
from ..downloads import figure_downloads
from ..selection import add_click_layer, clicked_point
from ..sidebar import Selection
from . import pair

MATRICES = ("co-occurrence", "P(j | i)", "f_sr similarity", "influence", "offset consistency", "mean dx", "mean dy")
MEANING = {
    "co-occurrence": "how often two labels are present in the same image",
    "P(j | i)": "how likely the column label is present when the row label is",
    "f_sr similarity": "how alike f_sr treats two labels (cosine of their measured channel drives)",
    "influence": "how much the row label's attention moves the column label's SRN logit (red raises)",
    "offset consistency": "how reliably the column label's attention sits in one direction from the row label's",
    "mean dx": "mean horizontal offset (cells) of the column label's attention centroid from the row label's",
    "mean dy": "mean vertical offset (cells, down) of the column label's attention centroid from the row label's",
}


def _matrix(sel: Selection, name: str, analyses, keys: tuple[str, ...], presence: str) -> LabelMatrix:
    names = sel.model.label_names
    threshold = float(st.session_state.get("keep.threshold", 0.5))
    if name in ("co-occurrence", "P(j | i)"):
        targets = label_matrix_of(analyses, presence, threshold)
        return (cooccurrence if name == "co-occurrence" else conditional_probability)(targets, names)
    if name == "f_sr similarity":
        return fsr_similarity(sel.model.model, names, state.model_tools(sel.model.key, sel.model).probes)
    if name == "influence":
        return state.influence(sel.model, analyses, keys, present_only=True)
    key = {"offset consistency": "consistency"}.get(name, name)
    return offset_matrices(centroid_offsets(analyses, "attention", "cells", threshold))[key]


def _on_click() -> None:
    point = clicked_point(st.session_state.get("matrix_click"))
    if point and point[0] is not None:
        st.session_state["keep.r_other"], st.session_state["keep.r_anchor"] = (plotly_original(str(v)) for v in point)


def _heatmap(matrix: LabelMatrix, spec: FigureSpec) -> None:
    fig = spec.plotly()
    fig.update_traces(hoverinfo="skip", hovertemplate=None, selector={"type": "heatmap"})
    fig.update_xaxes(dtick=1, tickangle=-60)
    fig.update_yaxes(dtick=1)
    fig.update_layout(height=620, width=None, margin={"l": 10, "r": 10, "t": 50, "b": 10})
    add_click_layer(fig, [plotly_text(n) for n in matrix.col_names], [plotly_text(n) for n in matrix.row_names],
                    matrix.values,
                    "row %{y}, column %{x}: %{customdata:.4g}<extra>click to open the pair</extra>", size=18)
    st.plotly_chart(fig, key="matrix_click", on_select=_on_click, selection_mode="points")


def _image_set(sel: Selection) -> tuple[str, list]:
    sources = [name for name, found in (("samples", sel.samples), ("uploads", sel.uploads)) if found]
    if st.session_state.get("keep.r_source") not in sources:
        st.session_state["keep.r_source"] = sources[0]
    source = st.radio("Images", sources, horizontal=True, key="keep.r_source",
                      help="The matrices and offsets are measured over these images.")
    return source, sel.samples if source == "samples" else sel.uploads


def render(sel: Selection) -> None:
    """Draw the label relations view."""
    names = sel.model.label_names
    top, choice = st.columns([2, 3])
    with top:
        source, pairs = _image_set(sel)
    analyses = [analysis for _, analysis in pairs]
    keys = tuple(item.key for item, _ in pairs)
    presence = "truth" if all(a.targets is not None for a in analyses) else "prediction"
    st.session_state.setdefault("keep.r_matrix", MATRICES[0])
    name = choice.radio("Matrix", MATRICES, horizontal=True, key="keep.r_matrix")
    st.caption(f"**{name}**: {MEANING[name]}. Over {len(analyses)} {source} "
               f"(present = {'ground truth' if presence == 'truth' else 'fused score above the threshold'}). "
               "Click a cell to open that pair below.")
    matrix = _matrix(sel, name, analyses, keys, presence)
    slug = name.replace(" ", "_").replace("|", "given").replace("(", "").replace(")", "")
    spec = FigureSpec(f"{slug}_{source}", f"the {name} matrix", lambda: figures_mpl.matrix_figure(matrix),
                      lambda: figures_plotly.matrix_figure(matrix), matrix.rows)
    heat, graph = st.columns([3, 2])
    with heat:
        _heatmap(matrix, spec)
        figure_downloads(spec, "matrix")
    with graph:
        st.session_state.setdefault("keep.r_edges", 15)
        edges = st.slider("Edges in the label graph", 3, 40, key="keep.r_edges")
        graph_spec = FigureSpec(f"graph_{slug}_{source}", "the label graph",
                                lambda: label_graph_figure_mpl(matrix, edges),
                                lambda: label_graph_figure_plotly(matrix, edges), lambda: graph_rows(matrix, edges))
        st.plotly_chart(graph_spec.plotly(), key="label_graph")
        figure_downloads(graph_spec, "graph")
    strongest = strongest_pairs(matrix, 1)
    first = (names[strongest[0][0]], names[strongest[0][1]]) if strongest else (names[0], names[1 % len(names)])
    for key, default in (("keep.r_anchor", first[0]), ("keep.r_other", first[1])):
        if st.session_state.get(key) not in names:
            st.session_state[key] = default
    st.subheader("A pair")
    left, right = st.columns(2)
    anchor = left.selectbox("Anchor label (row)", names, key="keep.r_anchor")
    other = right.selectbox("Other label (column)", names, key="keep.r_other")
    pair.render(sel, pairs, anchor, other, source)
