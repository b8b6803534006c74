"""One model: bucket bars, metric-vs-scale curves over its resolutions, run metadata, budget, reproduce command."""
from __future__ import annotations

import shlex

import streamlit as st

from tfbench.leaderboard.context import open_store, row_label, store_path
from tfbench.leaderboard.plots import bucket_bars, scale_curves, scale_data

st.title("Model")
with open_store() as store, store.snapshot():
    results = store.results()
    if not results:
        st.info(f"The store {store_path()} holds no results yet.")
        st.stop()
    labels = {row_label(r): r for r in results}
    wanted = st.query_params.get("id")
    names = list(labels)
    start = next((k for k, name in enumerate(names) if str(labels[name]["_row"]["id"]) == wanted), 0)
    chosen = labels[st.selectbox("Row", names, index=start, key="row")]
    row = chosen["_row"]
    same = [r for r in results if r["adapter"]["spec"] == chosen["adapter"]["spec"]
            and r["suite"]["name"] == chosen["suite"]["name"] and r["suite"]["version"] == chosen["suite"]["version"]
            and r["_row"]["text_backend"] == row["text_backend"] and r["_row"]["face_backend"] == row["face_backend"]]
    runs = [(r, store.instances(r["_row"]["id"])) for r in same]

adapter, suite, metrics = chosen["adapter"], chosen["suite"], chosen["metrics"]
st.subheader(f"{adapter['spec']} @ {suite['resolution']}")
mean = lambda side, m: (metrics.get(side, {}).get(m) or {}).get("mean")  # noqa: E731
cols = st.columns(5)
for col, (label, value) in zip(cols, (("T-ACC", mean("text", "t_acc")), ("T-NED", mean("text", "t_ned")),
                                       ("F-Sim", mean("face", "f_sim")), ("F-kept", mean("face", "f_kept")),
                                       ("bits per pixel", adapter.get("bits_per_pixel"))), strict=True):
    col.metric(label, "-" if value is None else f"{value:.3f}")

st.altair_chart(bucket_bars(chosen))
if scale_data(runs).empty:
    st.info("No per-scale data: this row has neither stored instances nor bucket edges.")
else:
    st.altair_chart(scale_curves(runs))
st.caption(f"Curves: every resolution stored for {adapter['spec']} on {suite['name']} v{suite['version']} with the "
           f"same backends ({len(runs)} row(s)); from {sum(len(i) for _, i in runs)} stored instances where the run's "
           f"records were imported, else from the bucket means.")

st.subheader("Reproduce")
if row["source"] == "reference":
    ref = chosen.get("reference", {})
    st.info(f"Published numbers ({ref.get('label', row.get('label'))}; {ref.get('note') or 'no note'}); "
            f"tfbench did not compute them.")
else:
    config = chosen.get("config") or {}
    command = ["tfbench", "run", "--suite", str(suite["name"]), "-a", str(adapter["spec"]), "-r", str(suite["resolution"]),
               "--ocr", str(config.get("text_backend") or chosen.get("backends", {}).get("text", {}).get("backend", "rapidocr")),
               "--face", str(config.get("face_backend") or chosen.get("backends", {}).get("face", {}).get("backend", "sface"))]
    if config.get("score_all"):
        command.append("--score-all")
    st.code(shlex.join(command), language="bash")
    st.caption(f"tfbench {chosen.get('tfbench_version', '?')}, commit {chosen.get('git') or 'unknown'}, "
               f"created {chosen.get('created', '?')}.")

st.subheader("Run metadata and budget")
left, right = st.columns(2)
left.markdown("**Adapter**")
left.json(adapter, expanded=False)
left.markdown("**Suite and backends**")
left.json({"suite": suite, "backends": chosen.get("backends", {}), "counts": chosen.get("counts", {}),
           "failures": chosen.get("failures", {})}, expanded=False)
budget = chosen.get("budget") or {}
right.markdown("**Budget**")
if budget:
    right.table({"wall s": [budget.get("wall_s")], "peak RSS MB": [budget.get("peak_rss_mb")],
                 "device": [budget.get("device")], "images evaluated": [budget.get("images_evaluated")]})
    if budget.get("stages"):
        right.bar_chart(budget["stages"], horizontal=True, x_label="seconds")
else:
    right.write("No budget recorded.")
right.caption(f"Row #{row['id']}, source {row['source']}, imported {row['imported_at']} from {row.get('origin') or '?'}; "
              f"{row['n_instances']} instances, {row['n_crops']} crop pairs stored.")
