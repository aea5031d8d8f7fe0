"""The Streamlit dashboard: layout and widgets only; every number comes from `analysis` or `srn_core`.

Run it with `streamlit run dashboard/app.py`.
"""
