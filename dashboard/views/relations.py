"""Label relations view: semantic matrices (co-occurrence, P(j | i), f_sr similarity, influence) and
spatial ones (centroid offsets) over the samples or the uploads, as a clickable heat map and a label
graph; a clicked (or picked) pair opens below it (`dashboard.pair_panel`)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from analysis.export.files import FigureSpec
from analysis.figures.catalogue import build
from analysis.measures.browse import images_with
from analysis.measures.relation_view import MATRICES, MEANING, default_pair, presence_source, relation_matrix
from analysis.tables import LabelMatrix
from srn_core.text_safety import plotly_original, plotly_text

from .. import state
from ..downloads import figure_downloads
from ..fragments import guarded_fragment
from ..image_sets import pick_image_set
from ..image_view import threshold
from ..pair_panel import render_pair
from ..selection import add_click_layer, clicked_point
from ..sidebar import Selection


def _matrix(sel: Selection, name: str, analyses, keys: tuple[str, ...]) -> tuple[LabelMatrix, np.ndarray | None]:
    model = sel.model
    return relation_matrix(
        name,
        model.model,
        analyses,
        model.label_names,
        threshold(),
        probes=state.model_tools(model.key, model).probes if name == "f_sr similarity" else None,
        influence=lambda: state.influence(model, analyses, keys, present_only=True),
    )


def _on_click() -> None:
    point = clicked_point(st.session_state.get("matrix_click"))
    if point and point[0] is not None:
        st.session_state["keep.r_other"], st.session_state["keep.r_anchor"] = (plotly_original(str(v)) for v in point)


def _heatmap(matrix: LabelMatrix, counts: np.ndarray | None, spec: FigureSpec) -> None:
    fig = spec.plotly()
    fig.update_traces(hoverinfo="skip", hovertemplate=None, selector={"type": "heatmap"})
    fig.update_xaxes(dtick=1, tickangle=-60)
    fig.update_yaxes(dtick=1)
    fig.update_layout(height=600, width=None, margin={"l": 10, "r": 40, "b": 10})
    value = "%{customdata[0]:.4g} (n=%{customdata[1]})" if counts is not None else "%{customdata:.4g}"
    add_click_layer(
        fig,
        [plotly_text(n) for n in matrix.col_names],
        [plotly_text(n) for n in matrix.row_names],
        matrix.values,
        f"row %{{y}}, column %{{x}}: {value}<extra>click to open the pair</extra>",
        size=18,
        counts=counts,
    )
    st.plotly_chart(fig, key="matrix_click", on_select=_on_click, selection_mode="points")


def _follow_images(matrix: LabelMatrix, analyses, source: str, keys: tuple[str, ...]) -> None:
    """A new image set opens on a pair its images hold; a pair the user picked stays while they hold it."""
    level = threshold()
    names = matrix.row_names
    fresh = state.new_image("relations", f"{source}|{hash(keys)}")
    current = (st.session_state.get("keep.r_anchor"), st.session_state.get("keep.r_other"))
    if (
        current[0] not in names
        or current[1] not in names
        or (fresh and not images_with(analyses, list(current), level))
    ):
        st.session_state["keep.r_anchor"], st.session_state["keep.r_other"] = default_pair(matrix, analyses, level)


def render(sel: Selection) -> None:
    """Draw the label relations view (a fragment: its controls rerun only this view)."""
    _view(sel)


@guarded_fragment("Label relations view")
def _view(sel: Selection) -> None:
    names = sel.model.label_names
    controls = st.container(horizontal=True, wrap=True, gap="large")
    with controls:
        source, pairs = pick_image_set(sel, "keep.r_source", "The matrices and offsets are measured over these images.")
    analyses = [analysis for _, analysis in pairs]
    keys = tuple(item.key for item, _ in pairs)
    presence = presence_source(analyses)
    st.session_state.setdefault("keep.r_matrix", MATRICES[0])
    name = controls.radio("Matrix", MATRICES, horizontal=True, key="keep.r_matrix", width="content")
    matrix, counts = _matrix(sel, name, analyses, keys)
    st.caption(
        f"**{name}**: {MEANING[name]}. Over {len(analyses)} {source} "
        f"(present = {'ground truth' if presence == 'truth' else 'fused score above the threshold'})"
        + ("; n, the number of images behind each value, shows on hover" if counts is not None else "")
        + ". Click a cell to open that pair below."
    )
    spec = build("matrix", f"{name}_{source}", f"the {name} matrix", matrix=matrix, counts=counts)
    row = st.container(horizontal=True, wrap=True, gap="small")
    with row.container(width=520):
        _heatmap(matrix, counts, spec)
        figure_downloads(spec, "matrix")
    with row.container(width=400):
        st.session_state.setdefault("keep.r_edges", 15)
        edges = st.slider("Edges in the label graph", 3, 40, key="keep.r_edges")
        graph_spec = build("label_graph", f"graph_{name}_{source}", "the label graph", matrix=matrix, top=edges)
        st.plotly_chart(
            state.figure("graph", (sel.model.key, keys, name, edges, presence, threshold()), graph_spec.plotly),
            key="label_graph",
        )
        figure_downloads(graph_spec, "graph")
    _follow_images(matrix, analyses, source, keys)
    st.subheader("A pair")
    picks = st.container(horizontal=True, wrap=True, gap="medium")
    anchor = picks.selectbox("Anchor label (row)", names, key="keep.r_anchor", width=280)
    other = picks.selectbox("Other label (column)", names, key="keep.r_other", width=280)
    render_pair(sel, pairs, anchor, other, source)
