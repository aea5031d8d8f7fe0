"""SRN Insight dashboard: `streamlit run dashboard/app.py`.

Opens on the shipped model with a sample image analysed. Only the chosen tab runs; every view is
guarded, so an error shows as a message and the other views keep working.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import streamlit as st

# `streamlit run` puts only this folder on sys.path; the repository root makes `analysis`,
# `srn_core` and `dashboard` importable as the packages they are, installed or not.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard import settings, sidebar
from dashboard.guard import guarded, show_error
from srn_core.text_safety import markdown_text

VIEW_MODULES = dict(zip(settings.VIEWS, ("images", "filters", "relations", "whatif", "probes", "trust")))
KEEP_PREFIX = "keep."


def keep_widget_state() -> None:
    """Streamlit forgets the value of a widget that is not drawn in a run (a hidden tab); writing the
    value back keeps every view's controls as the user left them."""
    for key in list(st.session_state):
        if str(key).startswith(KEEP_PREFIX):
            st.session_state[key] = st.session_state[key]


def domain_notice(selection: sidebar.Selection) -> None:
    """What the model knows (its training domain and labels), and a warning when the image is unlike it."""
    meta = selection.model.meta
    st.info(markdown_text(meta.domain_summary(), 3000), icon=":material/info:")
    check = selection.analysis.domain
    if meta.domain is None:
        st.caption(
            "This checkpoint records no statistics of its training images, so images unlike them cannot "
            "be flagged (add them with `python -m srn_core domain`)."
        )
    elif check is not None and check.outside:
        st.warning(
            f"**This image looks unlike the training images** (feature distance {check.distance:.1f}, "
            f"threshold {check.threshold:.1f}). The model only knows its {len(meta.label_names)} labels, "
            "so its scores and maps for this image are guesses.",
            icon=":material/warning:",
        )


def render_view(name: str, selection: sidebar.Selection) -> None:
    """Draw view `name`; its module is imported the first time its tab opens, so that launching the app
    does not pay for the imports of views nobody opened (the trust view's alone cost about a second)."""
    importlib.import_module(f"dashboard.views.{VIEW_MODULES[name]}").render(selection)


def main() -> None:
    st.set_page_config(page_title="SRN Insight", page_icon=":material/visibility:", layout="wide")
    st.set_option("client.showErrorDetails", "none")
    keep_widget_state()
    st.title("SRN Insight")
    selection = guarded("Sidebar", sidebar.render)
    if selection is None:
        return
    for error in selection.errors:
        show_error(error)
    st.caption(
        f"Model **{markdown_text(selection.model.name)}** · image **{markdown_text(selection.item.name)}** "
        f"({selection.analysis.image_size[0]} x {selection.analysis.image_size[1]} px)"
    )
    domain_notice(selection)
    tabs = st.tabs(list(settings.VIEWS), key="view", on_change="rerun")
    for tab, name in zip(tabs, VIEW_MODULES):
        if tab.open:
            with tab:
                guarded(f"{name} view", render_view, name, selection)


main()
