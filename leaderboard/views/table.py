"""Main leaderboard: one suite, resolution and backend set at a time, ranked; unverified and published rows apart."""
from __future__ import annotations

import streamlit as st

from tfbench.leaderboard.columns import column_help, direction, rank_metrics, score_columns
from tfbench.leaderboard.context import open_store
from tfbench.leaderboard.suitedefs import listing as suite_listing
from tfbench.leaderboard.table import (UNDEFINED, Selection, default_selection, flatten, in_selection, measured,
                                       ranked, references, selections, for_display, suite_text, to_csv, to_markdown)

st.title("tfbench leaderboard")
st.caption("How much readable text and recognisable faces survive a visual tokenizer (TokBench protocol). "
           "Rows are ranked only against rows of the same suite, resolution and OCR/face backends, and only when "
           "their numbers were verified against their own records (see About).")

with open_store() as store, store.snapshot():
    frame = flatten(store.results(latest=True))
    suites = {suite_text(s["name"], s["version"]): s for s in suite_listing(store)}

if frame.empty:
    st.info("This board holds no results yet.")
    st.stop()

choices = selections(frame)
default = default_selection(frame)
side = st.sidebar
side.header("Comparable rows")
if default is None:
    st.info("No verified row yet: the board ranks only rows whose numbers were checked against their records.")
    sel = None
else:
    suite_names = list(dict.fromkeys(s.suite for s, _ in choices))
    suite = side.selectbox("Suite", suite_names, index=suite_names.index(default.suite), key="suite",
                           help="default: the suite with the most verified rows")
    in_suite = [(s, n) for s, n in choices if s.suite == suite]
    res_names = list(dict.fromkeys(s.res for s, _ in in_suite))
    res = side.selectbox("Resolution", res_names, index=res_names.index(default.res) if default.res in res_names else 0,
                         key="res")
    backend_names = [s.backends for s, _ in in_suite if s.res == res]
    backends = side.selectbox("OCR + face backends", backend_names, key="backends")
    sel = Selection(suite, res, backends)
show_unverified = side.checkbox("Show unverified rows (not ranked)", value=False, key="unverified")
show_papers = side.checkbox("Show published numbers (paper-reported, not ranked)", value=True, key="papers")

edges: dict[str, list[float]] = {}
if sel is not None:
    definition = suites.get(sel.suite)
    if definition and sel.res in definition["resolutions"]:
        edges = {side_: definition["buckets"][side_][sel.res] for side_ in ("text", "face")}
    metric = side.selectbox("Rank by", rank_metrics(), key="rank_by")
    view = ranked(frame, sel, metric)
    st.subheader(f"{sel.suite} @ {sel.res}")
    st.caption(f"{len(view)} verified rows, ranked by {metric} ({direction(metric)} is better); backends {sel.backends}. "
               + (f"Buckets at {sel.res}: text s/m/l = [{edges['text'][0]:g}, {edges['text'][1]:g}) / "
                  f"[{edges['text'][1]:g}, {edges['text'][2]:g}) / [{edges['text'][2]:g}, {edges['text'][3]:g}), "
                  f"face s/m/l = [{edges['face'][0]:g}, {edges['face'][1]:g}) / [{edges['face'][1]:g}, "
                  f"{edges['face'][2]:g}) / [{edges['face'][2]:g}, {edges['face'][3]:g}) of the instance's scale "
                  f"(size / image width)." if edges else ""))
    shown = ["rank", "adapter", "bpp", *score_columns(), "face preservation", "baseline", "family", "kind",
             "version", "undefined", "id"]
    config = {c: st.column_config.TextColumn(c, help=column_help(c, edges)) for c in ["rank", *score_columns(), "undefined"]}
    config["bpp"] = st.column_config.NumberColumn("bpp", format="%.3f", help=column_help("bpp"))
    unranked = int(view["rank"].isna().sum())
    if unranked:
        st.warning(f"{unranked} of {len(view)} rows have no rank: their {metric} mean is undefined ({UNDEFINED}), "
                   f"because a bucket of the suite is empty at {sel.res} (TokBench's rule: the mean of the three bucket "
                   f"means needs all three). They are listed after the ranked rows; the `undefined` column says which "
                   f"bucket and gives the mean over all instances.")
    st.dataframe(for_display(view[shown]), hide_index=True, width="stretch", key="leaderboard", column_config=config)
    notes = list(dict.fromkeys(n for n in view["undefined"] if n))
    if notes:
        st.caption(f"{UNDEFINED} = undefined: TokBench's mean of the three bucket means needs every bucket, and at "
                   f"{sel.res} this suite leaves one empty (the `undefined` column of each row): "
                   + " | ".join(notes[:3]) + (" | ..." if len(notes) > 3 else ""))
    left, right = st.columns(2)
    left.download_button("Export CSV", to_csv(view), file_name="tfbench-leaderboard.csv", mime="text/csv", key="csv")
    right.download_button("Export Markdown", to_markdown(view), file_name="tfbench-leaderboard.md",
                          mime="text/markdown", key="md")
    with st.expander("Markdown of this table"):
        st.code(to_markdown(view), language="markdown")

if show_unverified:
    rows = measured(frame, "unverified")
    if sel is not None:
        rows = in_selection(rows, sel)
    st.subheader("Unverified rows (not ranked)")
    st.caption("Results submitted without their records, or imported with --unverified: their numbers were not "
               "checked, so they are never ranked and never on a Pareto front.")
    st.dataframe(for_display(rows[["adapter", "res", "suite", "backends", "bpp", *score_columns(), "version",
                                   "undefined", "id"]]), hide_index=True, width="stretch", key="unverified_rows",
                 column_config={"bpp": st.column_config.NumberColumn("bpp", format="%.3f")})

if show_papers:
    modality = str(in_selection(frame, sel)["modality"].iloc[0]) if sel is not None else None
    papers = references(frame, res=sel.res if sel is not None else None, modality=modality)
    if not papers.empty:
        for group, rows in papers.groupby("group", sort=True):
            st.subheader(f"Published: {group}")
            st.caption("Numbers as their authors published them, on their own data with their own backends: not "
                       "comparable with the rows above and never ranked with them.")
            published = [c for c in score_columns() if rows[c].notna().any()]  # what the source gives
            st.dataframe(for_display(rows[["adapter", "res", "suite", *published]]), hide_index=True, width="stretch",
                         key=f"papers_{group}")
