"""SRN Insight dashboard: `streamlit run dashboard/app.py`.

Opens on the shipped model with a sample image analysed. Only the chosen tab runs; every view is
guarded, so an error shows as a message and the other views keep working.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# `streamlit run` puts only this folder on sys.path; the repository root makes `analysis`,
# `srn_core` and `dashboard` importable as the packages they are, installed or not.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard import settings, sidebar
from dashboard.guard import guarded, show_error
from dashboard.views import filters, images, probes, relations, trust, whatif
from srn_core.text_safety import markdown_text

RENDERERS = dict(zip(settings.VIEWS, (images.render, filters.render, relations.render, whatif.render, probes.render,
                                        trust.render)))
KEEP_PREFIX = "keep."


def keep_widget_state() -> None:
    """Streamlit forgets the value of a widget that is not drawn in a run (a hidden tab); writing the
    value back keeps every view's controls as the user left them."""
    for key in list(st.session_state):
        if str(key).startswith(KEEP_PREFIX):
            st.session_state[key] = st.session_state[key]


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
    st.caption(f"Model **{markdown_text(selection.model.name)}** · image **{markdown_text(selection.item.name)}** "
               f"({selection.analysis.image_size[0]} x {selection.analysis.image_size[1]} px)")
    tabs = st.tabs(list(settings.VIEWS), key="view", on_change="rerun")
    for tab, (name, render) in zip(tabs, RENDERERS.items()):
        if tab.open:
            with tab:
                guarded(f"{name} view", render, selection)


main()
