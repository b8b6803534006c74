"""Compression plot: bits per pixel vs T-ACC / F-Sim / T-NED, with the Pareto front highlighted."""
from __future__ import annotations

import streamlit as st

from tfbench.leaderboard.context import open_store, store_path
from tfbench.leaderboard.plots import compression_chart, compression_data
from tfbench.leaderboard.table import flatten

st.title("Compression")
with open_store() as store:
    frame = flatten(store.results())
frame = frame[frame["bpp"].notna()]
if frame.empty:
    st.info(f"No row in {store_path()} records bits per pixel yet.")
    st.stop()

left, right = st.columns(2)
metric = left.radio("Score", ["T-ACC", "F-Sim", "T-NED"], horizontal=True, key="metric")
resolutions = sorted(frame["res"].unique().tolist())
chosen = right.multiselect("Resolution", resolutions, default=resolutions, key="res")
frame = frame[frame["res"].isin(chosen)]
data = compression_data(frame, metric)
if data.empty:
    st.info(f"No row has both bits per pixel and {metric} for this selection.")
    st.stop()
st.altair_chart(compression_chart(frame, metric))
front = data[data["pareto"]].sort_values("bpp")
st.markdown(f"**Pareto front** ({len(front)} of {len(data)} points): no other row reaches a higher {metric} "
            f"with as few bits per pixel.")
st.dataframe(front[["adapter", "res", "source", "bpp", "score"]], hide_index=True, key="front")
