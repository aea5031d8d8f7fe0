"""What-if view: remove, weaken or move one label's weighted attention U in the chosen image (click the
map to move its peak there) and see every label's SRN and fused score change at once."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from analysis import Edit, apply_edits, attention_stats
from analysis.figures.catalogue import image_figures
from analysis.figures.entries.what_if import edit_maps_figure
from analysis.figures.overlay import fit_image
from srn_core.text_safety import markdown_text as md

from .. import settings, state
from ..downloads import figure_downloads
from ..fragments import guarded_fragment
from ..selection import add_click_layer, clicked_point
from ..sidebar import Selection
from .images import view_settings

OPERATIONS = {"remove": "remove", "weaken or strengthen": "scale", "move": "move"}


def _on_click(peak: tuple[int, int], grid: int, size: tuple[int, int]) -> None:
    point = clicked_point(st.session_state.get("whatif_click"))
    if point and point[0] is not None:
        height, width = size
        col, row = int(point[0] * grid / width), int(point[1] * grid / height)
        st.session_state["keep.w_op"] = "move"
        st.session_state["keep.w_dx"], st.session_state["keep.w_dy"] = col - peak[1], row - peak[0]


def _map_figure(analysis, label: int, after, description: str, peak, view) -> go.Figure:
    fig = edit_maps_figure(analysis, label, after, description, view.mode, view.cmap, view.opacity, view.fade,
                           settings.LARGE_SIDE)
    fig.update_traces(hoverinfo="skip", selector={"type": "heatmap"})
    height, width = fit_image(analysis.image, settings.LARGE_SIDE).shape[:2]
    grid = analysis.grid
    xs = [(c + 0.5) * width / grid for c in range(grid)]
    ys = [(r + 0.5) * height / grid for r in range(grid)]
    add_click_layer(fig, xs, ys, analysis.weighted_attention[label],
                    "U %{customdata:.4g}<extra>click: move the peak here</extra>",
                    size=max(6, int(0.8 * settings.LARGE_SIDE / grid)))
    return fig


def _edit_controls(names: list[str], grid: int) -> Edit:
    label, op = st.columns([1, 2])
    chosen = label.selectbox("Label to edit", names, key="keep.w_label")
    operation = op.radio("Edit", list(OPERATIONS.values()), horizontal=True, key="keep.w_op",
                         format_func={v: k for k, v in OPERATIONS.items()}.get)
    factor, dx, dy = st.columns(3)
    scale = factor.slider("Factor (weaken < 1 < strengthen)", 0.0, 3.0, step=0.05, key="keep.w_factor",
                          disabled=operation != "scale")
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
    st.caption("f_sr reads U = sigmoid(S) A. Edit one label's U and f_sr runs again on the edited maps; the main "
               "net's logits do not depend on U, so fused = alpha main + (1 - alpha) SRN moves with SRN alone.")
    edit = _edit_controls(names, grid)
    i = names.index(str(edit.label))
    view = view_settings(analysis)
    peak = tuple(int(v) for v in attention_stats(analysis, [i], "weighted").peak_cell[0])
    after = apply_edits(analysis.weighted_attention, names, [edit])[i]
    base_shape = fit_image(analysis.image, settings.LARGE_SIDE).shape[:2]
    figure = _map_figure(analysis, i, after, edit.describe(names), peak, view)
    st.plotly_chart(figure, key="whatif_click", selection_mode="points",
                    on_select=lambda: _on_click(peak, grid, base_shape))
    st.caption(f"Click the left map to move the peak there. after: {md(edit.describe(names))}")
    view.label, view.edit = names[i], edit
    figures = image_figures(model, analysis, view)
    spec = figures["what_if"]
    st.plotly_chart(spec.plotly(), key="whatif_scores")
    figure_downloads(spec, "whatif")
    rows = sorted(spec.rows(), key=lambda r: -abs(r["srn_prob_after"] - r["srn_prob_before"]))
    st.dataframe(rows, hide_index=True, key="whatif_table")
    st.subheader(f"Where {md(names[i])}'s attention moves the other labels")
    influence = figures["influence"]
    st.plotly_chart(influence.plotly(), key="whatif_influence", width="content")
    figure_downloads(influence, "influence")
