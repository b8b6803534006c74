"""Streamlit entry point of the leaderboard: `tfbench leaderboard` serves this file."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).resolve().parent / "pages"

st.set_page_config(page_title="tfbench leaderboard", layout="wide")
navigation = st.navigation([
    st.Page(str(PAGES / "table.py"), title="Leaderboard", url_path="leaderboard", default=True),
    st.Page(str(PAGES / "model.py"), title="Model", url_path="model"),
    st.Page(str(PAGES / "compression.py"), title="Compression", url_path="compression"),
    st.Page(str(PAGES / "crops.py"), title="Crops viewer", url_path="crops"),
    st.Page(str(PAGES / "submit.py"), title="Submit", url_path="submit"),
])
navigation.run()
