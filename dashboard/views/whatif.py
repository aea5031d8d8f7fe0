"""What-if view: remove, weaken or move one label's weighted attention U in the chosen image (click the
map to move its peak there) and see every label's SRN and fused score change at once."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from analysis import Edit, ImageAnalysis, apply_edits
from analysis.figures.catalogue import image_figures
from analysis.figures.entries.edit_maps import edit_maps_figure_plotly
from analysis.figures.overlay import fit_image
from analysis.measures.attention_stats import cell_centres, pixel_to_cell, shift_to_cell
from analysis.measures.scores import largest_change_first
from srn_core.text_safety import markdown_text as md

from .. import settings, state
from ..downloads import figure_downloads
from ..fragments import guarded_fragment
from ..image_view import view_settings
from ..selection import add_click_layer, clicked_point
from ..sidebar import Selection

OPERATIONS = {"remove": "remove", "weaken or strengthen": "scale", "move": "move"}


def _shown_size(analysis: ImageAnalysis) -> tuple[int, int]:
    """(width, height) of the image as the map figure shows it."""
    height, width = fit_image(analysis.image, settings.LARGE_SIDE).shape[:2]
    return width, height


def _on_click(analysis: ImageAnalysis, label: int) -> None:
    point = clicked_point(st.session_state.get("whatif_click"))
    if point and point[0] is not None:
        cell = pixel_to_cell(point[0], point[1], analysis.grid, _shown_size(analysis))
        st.session_state["keep.w_op"] = "move"
        st.session_state["keep.w_dx"], st.session_state["keep.w_dy"] = shift_to_cell(analysis, label, cell)


def _map_figure(analysis: ImageAnalysis, label: int, after, description: str, view) -> go.Figure:
    fig = edit_maps_figure_plotly(
        analysis, label, after, description, view.mode, view.cmap, view.opacity, view.fade, settings.LARGE_SIDE
    )
    fig.update_traces(hoverinfo="skip", selector={"type": "heatmap"})
    grid = analysis.grid
    xs, ys = cell_centres(grid, _shown_size(analysis))
    add_click_layer(
        fig,
        xs,
        ys,
        analysis.weighted_attention[label],
        "U %{customdata:.4g}<extra>click: move the peak here</extra>",
        size=max(6, int(0.8 * settings.LARGE_SIDE / grid)),
    )
    return fig


def _edit_controls(names: list[str], grid: int) -> Edit:
    label, op = st.columns([1, 2])
    chosen = label.selectbox("Label to edit", names, key="keep.w_label")
    operation = op.radio(
        "Edit",
        list(OPERATIONS.values()),
        horizontal=True,
        key="keep.w_op",
        format_func={v: k for k, v in OPERATIONS.items()}.get,
    )
    factor, dx, dy = st.columns(3)
    scale = factor.slider(
        "Factor (weaken < 1 < strengthen)", 0.0, 3.0, step=0.05, key="keep.w_factor", disabled=operation != "scale"
    )
    shift_x = dx.slider("Move dx (cells, right)", -(grid - 1), grid - 1, key="keep.w_dx", disabled=operation != "move")
    shift_y = dy.slider("Move dy (cells, down)", -(grid - 1), grid - 1, key="keep.w_dy", disabled=operation != "move")
    return Edit(chosen, operation, float(scale), (int(shift_x), int(shift_y)))


def render(sel: Selection) -> None:
    """Draw the what-if view for the chosen image (a fragment: its controls rerun only this view)."""
    names = sel.analysis.label_names
    fresh = state.new_image("whatif", f"{sel.model.key}|{sel.item.key}")
    if fresh or st.session_state.get("keep.w_label") not in names:
        st.session_state["keep.w_label"] = names[sel.analysis.top_labels(1)[0]]
        st.session_state["keep.w_dx"] = st.session_state["keep.w_dy"] = 0
    for key, default in (("keep.w_op", "remove"), ("keep.w_factor", 0.5), ("keep.w_dx", 0), ("keep.w_dy", 0)):
        st.session_state.setdefault(key, default)
    _view(sel)


@guarded_fragment("What-if view")
def _view(sel: Selection) -> None:
    analysis, model = sel.analysis, sel.model.model
    names, grid = analysis.label_names, analysis.grid
    st.caption(
        "f_sr reads U = sigmoid(S) A. Edit one label's U and f_sr runs again on the edited maps; the main "
        "net's logits do not depend on U, so fused = alpha main + (1 - alpha) SRN moves with SRN alone."
    )
    edit = _edit_controls(names, grid)
    i = names.index(str(edit.label))
    view = view_settings(analysis)
    after = apply_edits(analysis.weighted_attention, names, [edit])[i]
    figure = _map_figure(analysis, i, after, edit.describe(names), view)
    st.plotly_chart(figure, key="whatif_click", selection_mode="points", on_select=lambda: _on_click(analysis, i))
    st.caption(f"Click the left map to move the peak there. after: {md(edit.describe(names))}")
    view.label, view.edit = names[i], edit
    figures = image_figures(model, analysis, view)
    figure_downloads(image_figures(model, analysis, view, "edit")["edit_maps"], "edit_maps")
    spec = figures["what_if"]
    st.plotly_chart(spec.plotly(), key="whatif_scores")
    figure_downloads(spec, "whatif")
    rows = largest_change_first(spec.rows())
    st.dataframe(rows, hide_index=True, key="whatif_table")
    st.subheader(f"Where {md(names[i])}'s attention moves the other labels")
    influence = figures["influence"]
    st.plotly_chart(influence.plotly(), key="whatif_influence", width="content")
    figure_downloads(influence, "influence")
