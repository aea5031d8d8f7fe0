"""Placeholder page until the dashboard lands (issue 6): `streamlit run dashboard/app.py`."""

import streamlit as st

st.set_page_config(page_title="SRN Insight", layout="wide")
st.title("SRN Insight")
st.info("The interactive dashboard is being built. Until then use the command line: "
        "`python -m srn_core predict --weights FILE IMAGE...`.")
