"""Compression: bits per pixel vs a score, per suite, resolution and backend set, with its Pareto front."""
from __future__ import annotations

import streamlit as st

from tfbench.leaderboard.columns import rank_metrics
from tfbench.leaderboard.context import open_store
from tfbench.leaderboard.plots import compression_chart, compression_data
from tfbench.leaderboard.table import default_selection, flatten, in_selection, measured, selections

st.title("Compression")
with open_store() as store:
    frame = flatten(store.results(latest=True, statuses=["verified"]))
rows = measured(frame)
rows = rows[rows["bpp"].notna()]
if rows.empty:
    st.info("No verified row records bits per pixel yet.")
    st.stop()

choices = [s for s, _ in selections(rows)]
default = default_selection(rows)
labels = [s.label() for s in choices]
left, right = st.columns([3, 2])
chosen = choices[labels.index(left.selectbox("Suite @ resolution [backends]", labels,
                                             index=choices.index(default) if default in choices else 0, key="sel"))]
metric = right.radio("Score", rank_metrics(), horizontal=True, key="metric")
view = in_selection(rows, chosen)
data = compression_data(view, metric)
undefined = len(view) - len(data)  # rows whose mean is undefined (an empty bucket) stand on no front
if data.empty:
    st.info(f"No row of {chosen.label()} has both bits per pixel and a defined {metric} mean.")
    st.stop()
st.altair_chart(compression_chart(view, metric, f"{metric} vs bits per pixel: {chosen.label()}"))
front = data[data["pareto"]].sort_values("bpp")
st.markdown(f"**Pareto front** ({len(front)} of {len(data)} verified rows of {chosen.suite} @ {chosen.res}): no other "
            f"row reaches a higher {metric} with as few bits per pixel. Unverified and published rows are not plotted"
            + (f", nor {undefined} row(s) whose {metric} mean is undefined (an empty bucket)." if undefined else "."))
st.dataframe(front[["adapter", "family", "bpp", "score"]], hide_index=True, key="front")
