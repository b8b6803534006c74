"""Main leaderboard table: filters, sorting, per-bucket scores, face preservation, CSV/Markdown export."""
from __future__ import annotations

import streamlit as st

from tfbench.leaderboard.context import open_store, store_path
from tfbench.leaderboard.table import (EXPORT_COLUMNS, Filters, apply_filters, flatten, score_columns, sort_table,
                                       to_csv, to_markdown)

st.title("tfbench leaderboard")
st.caption("How much readable text and recognisable faces survive a visual tokenizer (TokBench protocol). "
           "Scores are means of the small/medium/large scale-bucket means; rows never mix suites or metric backends.")

with open_store() as store:
    frame = flatten(store.results())

if frame.empty:
    st.info(f"The store {store_path()} holds no results yet: `tfbench leaderboard import RUN_DIR...` adds runs.")
    st.stop()

side = st.sidebar
side.header("Filters")
options = lambda col: sorted(frame[col].dropna().unique().tolist())  # noqa: E731
modalities = side.multiselect("Image / video", options("modality"), key="modality")
resolutions = side.multiselect("Resolution", options("res"), key="res")
families = side.multiselect("Family", options("family"), key="family")
kinds = side.multiselect("Kind", options("kind"), key="kind")
suites = side.multiselect("Suite", options("suite"), key="suite")
sources = side.multiselect("Source (run, submission, reference)", options("source"), key="source")
bpp_values = frame["bpp"].dropna()
bpp_range = None
if len(bpp_values) and bpp_values.min() < bpp_values.max():
    lo, hi = float(bpp_values.min()), float(bpp_values.max())
    chosen = side.slider("Compression: bits per pixel", lo, hi, (lo, hi), key="bpp")
    bpp_range = None if tuple(chosen) == (lo, hi) else (float(chosen[0]), float(chosen[1]))
pin = side.checkbox("Always show baselines (identity, JPEG)", value=True, key="pin")
face_only = side.checkbox("Face suites only (rows with F-Sim)", value=False, key="face_only")

view = apply_filters(frame, Filters(modalities, resolutions, families, kinds, suites, sources, bpp_range, pin, face_only))
sort_cols = ["T-ACC", "T-NED", "F-Sim", "F-kept", "bpp", *[c for c in score_columns() if c not in ("T-ACC", "T-NED", "F-Sim")],
             "adapter", "res"]
left, right = st.columns([3, 1])
sort_by = left.selectbox("Sort by", sort_cols, key="sort")
reverse = right.toggle("Reverse order", value=False, key="reverse")
view = sort_table(view, sort_by)
if reverse:
    view = view.iloc[::-1]

st.caption(f"{len(view)} of {len(frame)} rows; baseline rows (identity, JPEG) are marked in the `baseline` column. "
           f"Click a header to re-sort in the browser.")
shown = ["adapter", "res", "bpp", *score_columns(), "F-kept", "face preservation", "baseline", "source", "family",
         "kind", "suite", "modality", "text backend", "face backend", "label", "id"]
st.dataframe(view[shown], hide_index=True, width="stretch", key="leaderboard",
             column_config={c: st.column_config.NumberColumn(c, format="%.3f") for c in [*score_columns(), "F-kept", "bpp"]})

left, right = st.columns(2)
left.download_button("Export CSV", to_csv(view), file_name="tfbench-leaderboard.csv", mime="text/csv", key="csv")
right.download_button("Export Markdown", to_markdown(view), file_name="tfbench-leaderboard.md", mime="text/markdown",
                      key="md")
with st.expander("Markdown of this table"):
    st.code(to_markdown(view), language="markdown")
st.caption(f"Export columns: {', '.join(EXPORT_COLUMNS)}. Store: {store_path()}")
