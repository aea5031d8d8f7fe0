"""'Can this map be trusted?' view: deletion / insertion, randomisation, label specificity and (with
boxes) localisation of A, U, Grad-CAM and two baselines, for the current image or the sample set.

Every number comes from analysis.faithfulness; this view only chooses options, caches results per
(model, image, options) and lays them out."""

from __future__ import annotations

from dataclasses import astuple

import streamlit as st

from analysis.export.files import FigureSpec
from analysis.faithfulness import (
    FILLS,
    HEADS,
    METHOD_NAMES,
    METHODS,
    FaithfulnessEvaluator,
    FaithfulnessOptions,
    ImageFaithfulness,
    summarise,
)
from analysis.faithfulness.card import overall_rows, verdicts
from analysis.faithfulness.measures import HEAD_NAMES, describe
from analysis.figures.catalogue import build
from analysis.session import ImageAnalysis

from ..downloads import figure_downloads, table_download
from ..sidebar import Selection
from ..state import ImageItem, LoadedModel

SCOPES = ("this image", "sample set")
DEFAULTS = {
    "keep.t_scope": SCOPES[0],
    "keep.t_methods": list(METHODS),
    "keep.t_head": "fused",
    "keep.t_fill": "mean",
    "keep.t_steps": 14,
    "keep.t_random": True,
}


@st.cache_resource(max_entries=4, show_spinner="Randomising copies of the model ...")
def _evaluator(model_key: str, options: tuple, _model: LoadedModel) -> FaithfulnessEvaluator:
    return FaithfulnessEvaluator(_model.analyzer, FaithfulnessOptions(*options))


@st.cache_data(max_entries=256, show_spinner=False)
def _measure(
    model_key: str, item_key: str, options: tuple, number: int, _model: LoadedModel, _analysis: ImageAnalysis
) -> ImageFaithfulness:
    return _evaluator(model_key, options, _model).image(_analysis, number)


def _options(names: list[str]) -> FaithfulnessOptions:
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value)
    st.session_state["keep.t_labels"] = [n for n in st.session_state.get("keep.t_labels", []) if n in names]
    scope, methods, head = st.columns([2, 5, 2])
    scope.radio(
        "Images",
        SCOPES,
        horizontal=True,
        key="keep.t_scope",
        help="The sample set is measured image by image when you press the button; results are kept.",
    )
    methods.multiselect("Maps", METHODS, format_func=METHOD_NAMES.get, key="keep.t_methods")
    head.selectbox("Score", HEADS, format_func=HEAD_NAMES.get, key="keep.t_head")
    fill, steps, random = st.columns([2, 3, 3])
    fill.radio(
        "Removed cells show",
        FILLS,
        horizontal=True,
        key="keep.t_fill",
        help="mean: the image's mean colour; blur: the image blurred (Gaussian, sigma 5 px).",
    )
    steps.slider("Deletion / insertion steps", 4, 28, step=1, key="keep.t_steps")
    random.toggle(
        "Randomisation cascade",
        key="keep.t_random",
        help="Re-initialise f_att, conv1, f_cls and the backbone stages on copies of the model.",
    )
    st.multiselect(
        "Labels (none chosen: each image's present labels)",
        names,
        key="keep.t_labels",
        help="Present: ground truth for samples, else fused score > 0.5. Any label can be measured.",
    )
    chosen = tuple(st.session_state["keep.t_methods"]) or METHODS
    stages = FaithfulnessOptions.stages if st.session_state["keep.t_random"] else ()
    return FaithfulnessOptions(
        methods=chosen,
        labels=tuple(st.session_state["keep.t_labels"]) or None,
        fill=st.session_state["keep.t_fill"],
        steps=int(st.session_state["keep.t_steps"]),
        stages=stages,
    )


def _parts(sel: Selection, options: FaithfulnessOptions) -> list[ImageFaithfulness] | None:
    key = astuple(options)
    pairs: list[tuple[ImageItem, ImageAnalysis]] = [(sel.item, sel.analysis)]
    if st.session_state["keep.t_scope"] == SCOPES[1]:
        if not sel.samples:
            st.info("There are no sample images with this model.")
            return None
        pairs = sel.samples
        if not st.button(
            f"Measure the {len(pairs)} sample images", key="t_run", type="primary"
        ) and st.session_state.get("_t_ran") != (sel.model.key, key):
            st.caption("About 10 s per image on a CPU (the randomisation cascade about doubles it).")
            return None
        st.session_state["_t_ran"] = (sel.model.key, key)
    parts = []
    bar = st.progress(0.0, text=f"Measuring {len(pairs)} image(s) ...")
    for n, (item, analysis) in enumerate(pairs):
        parts.append(_measure(sel.model.key, item.key, key, n, sel.model, analysis))
        bar.progress((n + 1) / len(pairs), text=f"Measured {n + 1} of {len(pairs)} images")
    bar.empty()
    return parts


def _figure(spec: FigureSpec, key: str) -> None:
    st.plotly_chart(spec.plotly(), key=f"t_chart_{key}")
    figure_downloads(spec, f"t_{key}")


def render(sel: Selection) -> None:
    st.subheader("Can this map be trusted?")
    st.caption(
        "Deletion removes the image's grid cells in the map's order (most relevant first) and follows "
        "the label's score; insertion reveals them on an empty canvas. A faithful map makes deletion "
        "fall fast (low AUC) and insertion rise fast (high AUC), better than the centre and random "
        "baselines; its map changes when the model's weights are randomised; and labels' maps differ."
    )
    options = _options(sel.model.label_names)
    parts = _parts(sel, options)
    if parts is None:
        return
    if not any(p.records for p in parts):
        st.warning("No label to measure: the image has no present label (ground truth, or fused score > 0.5).")
        return
    summary = summarise(parts, sel.model.label_names, options, resamples=500)
    head = st.session_state["keep.t_head"]
    for line in verdicts(summary):
        st.markdown(line)
    st.dataframe(overall_rows(summary), hide_index=True, key="t_table")
    table_download(summary.rows, "faithfulness", "t_table", "CSV of every label and method")
    name = "trust_" + ("image" if len(parts) == 1 else "samples")
    _figure(build("faithfulness_curves", f"{name}_curves", summary=summary, head=head), "curves")
    measures = summary.measures()
    if st.session_state.get("keep.t_measure") not in measures:
        st.session_state["keep.t_measure"] = f"deletion_{head}" if f"deletion_{head}" in measures else measures[0]
    measure = st.selectbox("Per label", measures, format_func=lambda m: describe(m)[0], key="keep.t_measure")
    if measure:
        _figure(build("faithfulness_bars", f"{name}_bars", summary=summary, measure=measure), "bars")
    if options.stages:
        _figure(
            build("faithfulness_randomisation", f"{name}_randomisation", summary=summary, kind="spearman"), "random"
        )
