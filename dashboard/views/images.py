"""Images view: the chosen image's scores (main net, SRN, fused; ground truth for samples), a grid of
per-label maps with colour map, opacity and upsampling controls, and one label's maps large.

The scores and the maps are two fragments: a control reruns only its own part of the page, and the
figures and thumbnails come from caches keyed by what they show (`state.figure`, `state.thumbnails`).
"""

from __future__ import annotations

import streamlit as st

from analysis.export.bundle import image_bundle
from analysis.export.files import FILE_FORMATS
from analysis.figures.catalogue import image_figures
from analysis.figures.image_inputs import ImageView
from analysis.figures.overlay import colour_bar
from analysis.measures.scores import score_table, true_labels
from srn_core.text_safety import LABEL_CHARS, slug
from srn_core.text_safety import markdown_text as md

from .. import settings, state
from ..downloads import figure_downloads, zip_download
from ..fragments import guarded_fragment
from ..image_view import DEFAULTS, TOP_K, view_settings
from ..sidebar import Selection

STYLE_KEYS = {"cmap": "keep.cmap", "mode": "keep.mode", "opacity": "keep.opacity", "fade": "keep.fade"}


def _pick(name: str) -> None:
    st.session_state["keep.label"] = name
    st.session_state["_enlarge"] = name


def _top_k_moved() -> None:
    """top-k also sets the map grid, another fragment: the whole page reruns."""
    st.session_state["_top_k_moved"] = True


def _paper_style() -> None:
    for name, key in STYLE_KEYS.items():
        st.session_state[key] = settings.PAPER_STYLE[name]


def _style(view: ImageView) -> tuple:
    return view.kind, view.mode, view.cmap, view.opacity, view.fade


def _follow_image(sel: Selection) -> None:
    """A new image (or model) starts on its own top label; a label it does not have is never kept."""
    names = sel.analysis.label_names
    if state.new_image("images", f"{sel.model.key}|{sel.item.key}") or st.session_state.get("keep.label") not in names:
        st.session_state["keep.label"] = names[sel.analysis.top_labels(1)[0]]
        st.session_state.pop("_enlarge", None)
    count = sel.analysis.num_labels
    if not 1 <= st.session_state.get("keep.top_k", 0) <= count:
        st.session_state["keep.top_k"] = min(TOP_K, count)
    for key, default in DEFAULTS.items():
        st.session_state.setdefault(key, default)


@guarded_fragment("Images view")
def _scores(sel: Selection) -> None:
    analysis = sel.analysis
    controls = st.container(horizontal=True, wrap=True, gap="medium")
    controls.slider("Threshold (fused probability)", 0.0, 1.0, step=0.01, key="keep.threshold", width=320)
    controls.slider(
        "Top-k labels",
        1,
        analysis.num_labels,
        key="keep.top_k",
        width=320,
        help="How many labels the bars and the map grid show.",
        on_change=_top_k_moved,
    )
    if st.session_state.pop("_top_k_moved", False):
        st.rerun()
    view = view_settings(analysis)
    rows = score_table(analysis, view.threshold)
    predicted = [r["label"] for r in rows if r["predicted"]]
    st.markdown(f"**Predicted** (fused > {view.threshold:.2f}): {', '.join(md(n) for n in predicted) or 'none'}")
    truth = true_labels(analysis)
    if truth is not None:
        st.markdown(f"**Ground truth:** {', '.join(md(n) for n in truth) or 'none'}")
    elif why_not := state.ground_truth(sel.item, analysis.label_names)[1]:
        st.caption(md(why_not, 600))
    spec = image_figures(sel.model.model, analysis, view)["scores"]
    row = st.container(horizontal=True, wrap=True, gap="medium")
    with row.container(width=450):
        bar, tick = st.column_config.ProgressColumn, st.column_config.CheckboxColumn
        st.dataframe(
            rows,
            hide_index=True,
            height=min(35 * len(rows) + 40, 420),
            key="scores_table",
            column_config={
                **{
                    k: bar(k, min_value=0.0, max_value=1.0, format="%.2f", width="small")
                    for k in ("fused", "main net", "SRN")
                },
                **{k: tick(k, width="small") for k in ("predicted", "truth")},
            },
        )
    with row.container(width=440):
        st.plotly_chart(
            state.figure("scores", (sel.model.key, sel.item.key, view.top_k), spec.plotly), key="score_bars"
        )
        figure_downloads(spec, "scores")


def _map_controls() -> None:
    st.radio(
        "Map",
        list(settings.KIND_NAMES),
        format_func=settings.KIND_NAMES.get,
        horizontal=True,
        key="keep.kind",
        help="A: where each label looks (sums to 1); sigmoid(S): how confident each "
        "position is; U = sigmoid(S) A: what f_sr reads.",
    )
    row = st.container(horizontal=True, wrap=True, gap="medium", vertical_alignment="bottom")
    row.selectbox(
        "Colour map",
        settings.COLOUR_MAPS,
        key="keep.cmap",
        width=160,
        help="viridis and the next ones are perceptually uniform: equal steps of value look like "
        "equal steps of colour. jet is the paper's.",
    )
    row.slider("Opacity", 0.0, 1.0, step=0.05, key="keep.opacity", width=200)
    row.radio(
        "Upsampling",
        settings.UPSAMPLING,
        horizontal=True,
        key="keep.mode",
        width="content",
        help="bilinear and bicubic interpolate between the 14 x 14 cells; nearest shows the cells as "
        "blocks, as the paper does.",
    )
    row.checkbox(
        "Fade low values",
        key="keep.fade",
        width="content",
        help="Opacity grows with the value, so low values leave the image visible.",
    )
    row.button("Paper style (jet, nearest)", on_click=_paper_style, key="paper_style", type="tertiary")


def _colour_key(view: ImageView) -> None:
    low, high = ("0", "1") if view.kind == "confidence" else ("min", "max")
    line = st.container(horizontal=True, gap="small", vertical_alignment="center", key="colour_key")
    line.caption(low)
    line.image(colour_bar(view.cmap), width=180)
    line.caption(high)
    if view.kind != "confidence":
        st.caption("Each map is coloured from its own minimum to its own maximum.")


def _grid(sel: Selection, view: ImageView, labels: list[int]) -> None:
    analysis = sel.analysis
    pictures = state.thumbnails(sel.model.key, sel.item.key, tuple(labels), _style(view), analysis)
    probs = analysis.probabilities()["fused"]
    with st.container(key="attention_grid", horizontal=True, wrap=True, gap="small"):
        for i, picture in zip(labels, pictures):
            name = analysis.label_names[i]
            mark = " ✓" if analysis.targets is not None and analysis.targets[i] == 1 else ""
            with st.container(width=settings.THUMBNAIL_PX, gap=None):
                st.image(picture, caption=f"{md(name, LABEL_CHARS)}{mark}: {probs[i]:.2f}", width="stretch")
                st.button(
                    f"Enlarge {md(name, LABEL_CHARS)}",
                    key=f"enlarge-{name}",
                    on_click=_pick,
                    args=(name,),
                    type="tertiary",
                    icon=":material/zoom_in:",
                )
    _colour_key(view)


def _label_figure(sel: Selection, view: ImageView, key: str) -> None:
    analysis = sel.analysis
    if st.session_state.get("keep.gradcam"):
        view.gradcam = state.gradcam(
            sel.model.key, sel.item.key, analysis.label_names.index(view.label), sel.model, analysis
        )
    spec = image_figures(sel.model.model, analysis, view)["label"]
    shown = (sel.model.key, sel.item.key, view.label, _style(view)[1:], view.gradcam is not None)
    figure = state.figure("label", shown, spec.plotly)
    st.plotly_chart(figure, key=key)
    st.dataframe(spec.rows(), hide_index=True, key=f"{key}_stats")
    figure_downloads(spec, key)


@st.dialog("One label, large", width="large")
def _enlarged(sel: Selection, view: ImageView) -> None:
    st.markdown(f"**{md(view.label)}**")
    _label_figure(sel, view, "label_maps_dialog")


@guarded_fragment("Images view")
def _maps(sel: Selection) -> None:
    analysis = sel.analysis
    _map_controls()
    view = view_settings(analysis)
    labels = analysis.top_labels(view.top_k)
    view.grid_labels = labels
    _grid(sel, view, labels)
    figure_downloads(image_figures(sel.model.model, analysis, view)["grid"], "grid")
    st.subheader("One label, large")
    row = st.container(horizontal=True, wrap=True, gap="medium", vertical_alignment="bottom")
    row.selectbox("Label to see large", analysis.label_names, key="keep.label", width=260)
    row.checkbox(
        "Add Grad-CAM of the main net",
        key="keep.gradcam",
        width="content",
        help="Where the main net's own logit for this label looks (layer4), beside SRN's maps.",
    )
    view.label = st.session_state["keep.label"]
    _label_figure(sel, view, "label_maps")
    if st.session_state.pop("_enlarge", None) == view.label:
        _enlarged(sel, view)
    _zip(sel, view)


def _zip(sel: Selection, view: ImageView) -> None:
    row = st.container(horizontal=True, wrap=True, gap="medium", vertical_alignment="center")
    vector = row.checkbox(
        "with PDF and SVG",
        key="keep.zip_vector",
        width="content",
        help="Vector copies of every figure: a larger archive that takes longer to pack.",
    )
    formats = {"formats": FILE_FORMATS} if vector else {}
    with row:
        zip_download(
            "Download everything for this image (ZIP)",
            lambda: image_bundle(sel.model.model, sel.analysis, view, **formats),
            f"{slug(sel.item.name)}_srn.zip",
            "zip_all",
        )


def render(sel: Selection) -> None:
    """Draw the Images view for the chosen image."""
    _follow_image(sel)
    if sel.item.rules:
        st.caption("Rules of this scene: " + ", ".join(md(rule) for rule in sel.item.rules))
    st.subheader("Scores")
    _scores(sel)
    st.subheader("Per-label maps")
    _maps(sel)
