"""Images view: the chosen image's scores (main net, SRN, fused; ground truth for samples), a grid of
per-label maps with colour map, opacity and upsampling controls, and one label's maps large."""

from __future__ import annotations

import streamlit as st

from analysis import ImageAnalysis, overlay_maps
from analysis.bundle import ImageView, image_bundle, image_figures

from .. import settings, state
from ..downloads import figure_downloads, zip_download
from ..sidebar import Selection

GRID_COLUMNS = 6
TOP_K = 8
DEFAULTS = {"keep.threshold": 0.5, "keep.kind": "attention", "keep.cmap": "jet", "keep.opacity": 0.5,
            "keep.mode": "nearest"}


def _pick(name: str) -> None:
    st.session_state["keep.label"] = name


def view_settings(analysis: ImageAnalysis) -> ImageView:
    """The view settings the user has chosen so far (defaults where a control was never drawn)."""
    value = {key: st.session_state.get(key, default) for key, default in DEFAULTS.items()}
    names = analysis.label_names
    label = st.session_state.get("keep.label")
    return ImageView(label=label if label in names else names[analysis.top_labels(1)[0]],
                     kind=value["keep.kind"], mode=value["keep.mode"], cmap=value["keep.cmap"],
                     opacity=float(value["keep.opacity"]), threshold=float(value["keep.threshold"]),
                     top_k=int(st.session_state.get("keep.top_k", min(TOP_K, len(names)))))


def _scores(analysis: ImageAnalysis, view: ImageView, spec) -> None:
    probs = analysis.probabilities()
    order = analysis.top_labels(analysis.num_labels)
    rows = [{"label": analysis.label_names[i], "fused": float(probs["fused"][i]), "main net": float(probs["main"][i]),
             "SRN": float(probs["srn"][i]), "predicted": bool(probs["fused"][i] > view.threshold),
             **({"truth": bool(analysis.targets[i] == 1)} if analysis.targets is not None else {})} for i in order]
    predicted = [r["label"] for r in rows if r["predicted"]]
    left, right = st.columns([6, 5])
    with left:
        st.markdown(f"**Predicted** (fused > {view.threshold:.2f}): {', '.join(predicted) or 'none'}")
        if analysis.targets is not None:
            truth = [analysis.label_names[i] for i in analysis.present_labels()]
            st.markdown(f"**Ground truth:** {', '.join(truth) or 'none'}")
        bar, tick = st.column_config.ProgressColumn, st.column_config.CheckboxColumn
        st.dataframe(rows, hide_index=True, height=min(35 * len(rows) + 40, 480), key="scores_table",
                     column_config={**{k: bar(k, min_value=0.0, max_value=1.0, format="%.2f", width="small")
                                       for k in ("fused", "main net", "SRN")},
                                    **{k: tick(k, width="small") for k in ("predicted", "truth")}})
    with right:
        st.plotly_chart(spec.plotly(), key="score_bars")
        figure_downloads(spec, "scores")


def _map_controls() -> None:
    kind, cmap, opacity, mode = st.columns([3, 2, 2, 2])
    kind.radio("Map", list(settings.KIND_NAMES), format_func=settings.KIND_NAMES.get, horizontal=True,
               key="keep.kind", help="A: where each label looks (sums to 1); sigmoid(S): how confident each "
                                     "position is; U = sigmoid(S) A: what f_sr reads.")
    cmap.selectbox("Colour map", settings.COLOUR_MAPS, key="keep.cmap")
    opacity.slider("Opacity", 0.0, 1.0, step=0.05, key="keep.opacity")
    mode.radio("Upsampling", settings.UPSAMPLING, horizontal=True, key="keep.mode",
               help="nearest shows the 14 x 14 cells as the paper does; bilinear and bicubic smooth them.")


def _grid(analysis: ImageAnalysis, view: ImageView, labels: list[int], spec) -> None:
    overlays = overlay_maps(analysis, labels, view.kind, view.mode, view.cmap, view.opacity,
                            max_side=settings.THUMBNAIL_SIDE)
    probs = analysis.probabilities()["fused"]
    with st.container(key="attention_grid"):
        for start in range(0, len(labels), GRID_COLUMNS):
            columns = st.columns(GRID_COLUMNS)
            for column, n in zip(columns, range(start, min(start + GRID_COLUMNS, len(labels)))):
                i = labels[n]
                name = analysis.label_names[i]
                mark = " ✓" if analysis.targets is not None and analysis.targets[i] == 1 else ""
                column.image(overlays.images[n], caption=f"{name}{mark}: {probs[i]:.2f}", width="stretch",
                             output_format="PNG")
                column.button(f"Enlarge {name}", key=f"enlarge-{name}", on_click=_pick, args=(name,),
                              type="tertiary")
    figure_downloads(spec, "grid")


def _label_panel(sel: Selection, view: ImageView) -> ImageView:
    analysis = sel.analysis
    names = analysis.label_names
    if st.session_state.get("keep.label") not in names:
        st.session_state["keep.label"] = view.label
    choose, cam = st.columns([3, 2])
    label = choose.selectbox("Label to see large", names, key="keep.label")
    view.label = label
    if cam.checkbox("Add Grad-CAM of the main net", key="keep.gradcam",
                    help="Where the main net's own logit for this label looks (layer4), beside SRN's maps."):
        i = names.index(label)
        view.gradcam = state.gradcam(sel.model.key, sel.item.key, i, sel.model, analysis)
    spec = image_figures(sel.model.model, analysis, view)["label"]
    st.plotly_chart(spec.plotly(), key="label_maps", width="content")
    st.dataframe(spec.rows(), hide_index=True, key="label_stats")
    figure_downloads(spec, "label")
    return view


def render(sel: Selection) -> None:
    """Draw the Images view for the chosen image."""
    analysis = sel.analysis
    zip_slot = st.container()
    if sel.item.rules:
        st.caption("Rules of this scene: " + ", ".join(sel.item.rules))
    count = analysis.num_labels
    if not 1 <= st.session_state.get("keep.top_k", 0) <= count:
        st.session_state["keep.top_k"] = min(TOP_K, count)
    for key, default in DEFAULTS.items():
        st.session_state.setdefault(key, default)
    threshold, top_k = st.columns(2)
    threshold.slider("Threshold (fused probability)", 0.0, 1.0, step=0.01, key="keep.threshold")
    top_k.slider("Top-k labels", 1, count, key="keep.top_k")
    view = view_settings(analysis)
    specs = image_figures(sel.model.model, analysis, view)
    st.subheader("Scores")
    _scores(analysis, view, specs["scores"])
    st.subheader("Per-label maps")
    _map_controls()
    view = view_settings(analysis)
    labels = analysis.top_labels(view.top_k)
    view.grid_labels = labels
    _grid(analysis, view, labels, image_figures(sel.model.model, analysis, view)["grid"])
    st.subheader("One label, large")
    view = _label_panel(sel, view)
    with zip_slot:
        zip_download("Download everything for this image (ZIP)",
                     lambda: image_bundle(sel.model.model, analysis, view), f"{sel.item.name}_srn.zip", "zip_all")
