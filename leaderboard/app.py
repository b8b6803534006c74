"""Streamlit entry point of the leaderboard: `tfbench leaderboard` serves this file."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

VIEWS = Path(__file__).resolve().parent / "views"  # not `pages/`, which Streamlit would list on its own

st.set_page_config(page_title="tfbench leaderboard", layout="wide")
navigation = st.navigation([
    st.Page(str(VIEWS / "table.py"), title="Leaderboard", url_path="leaderboard", default=True),
    st.Page(str(VIEWS / "model.py"), title="Model", url_path="model"),
    st.Page(str(VIEWS / "compression.py"), title="Compression", url_path="compression"),
    st.Page(str(VIEWS / "crops.py"), title="Crops viewer", url_path="crops"),
    st.Page(str(VIEWS / "submit.py"), title="Submit", url_path="submit"),
    st.Page(str(VIEWS / "about.py"), title="About", url_path="about"),
    st.Page(str(VIEWS / "maintainer.py"), title="Maintainer", url_path="maintainer"),
])
navigation.run()
