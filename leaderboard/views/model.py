"""One model: bucket bars, metric-vs-scale curves, its versions with their differences, reproduce command."""
from __future__ import annotations

import shlex

import streamlit as st

from tfbench.leaderboard.changes import describe
from tfbench.leaderboard.columns import metric_columns
from tfbench.leaderboard.context import is_maintainer, open_store, row_label
from tfbench.leaderboard.plots import bucket_bars, scale_curves, scale_data
from tfbench.leaderboard.schema import row_key
from tfbench.leaderboard.table import UNDEFINED, undefined_note

st.title("Model")
with open_store() as store, store.snapshot():
    results = store.results(latest=True)
    if not results:
        st.info("This board holds no results yet.")
        st.stop()
    labels = {row_label(r): r for r in results}
    wanted = st.query_params.get("id")
    names = list(labels)
    start = next((k for k, name in enumerate(names) if str(labels[name]["_row"]["id"]) == wanted), 0)
    chosen = labels[st.selectbox("Row", names, index=start, key="row")]
    row = chosen["_row"]
    history = store.history(row_key(chosen, row["grp"]))
    same = [r for r in results if r["adapter"]["spec"] == chosen["adapter"]["spec"]
            and r["suite"]["name"] == chosen["suite"]["name"] and r["suite"]["version"] == chosen["suite"]["version"]
            and r["_row"]["text_backend"] == row["text_backend"] and r["_row"]["face_backend"] == row["face_backend"]
            and r["_row"]["status"] == row["status"] and r["_row"]["grp"] == row["grp"]]
    runs = [(r, store.instances(r["_row"]["id"])) for r in same]

adapter, suite, metrics = chosen["adapter"], chosen["suite"], chosen["metrics"]
st.subheader(f"{adapter['spec']} @ {suite['resolution']}")
status = {"verified": "verified against its records and crops", "unverified": "unverified: never ranked",
          "reference": f"published numbers ({row['grp']}); tfbench did not compute them"}[row["status"]]
st.caption(f"Version {row['version']} of this row, {status}.")
tiles = [(c.label, c.info.value(chosen), UNDEFINED if c.info.block(chosen) else "-") for c in metric_columns()]
tiles.append(("bits per pixel", adapter.get("bits_per_pixel"), "-"))
for col, (label, value, missing) in zip(st.columns(len(tiles)), tiles, strict=True):
    col.metric(label, missing if value is None else f"{value:.3f}")
if undefined_note(chosen):
    st.caption(f"{UNDEFINED}: mean of bucket means undefined (TokBench's rule: a bucket holds no instance): "
               f"{undefined_note(chosen)}.")

st.altair_chart(bucket_bars(chosen))
if scale_data(runs).empty:
    st.info("No per-scale data: this row has neither stored instances nor bucket edges.")
else:
    st.altair_chart(scale_curves(runs))
st.caption(f"Curves: every resolution stored for {adapter['spec']} on {suite['name']} v{suite['version']} with the "
           f"same backends ({len(runs)} row(s)); from {sum(len(i) for _, i in runs)} stored instances where the run's "
           f"records were imported, else from the bucket means.")

st.subheader(f"History ({len(history)} version{'s' if len(history) != 1 else ''})")
previous = None
for version in history:
    meta = version["_row"]
    changes = describe(previous, version) if previous is not None else ["first version"]
    with st.expander(f"version {meta['version']} · {meta['status']} · {meta['source']} · imported {meta['imported_at']} "
                     f"· {meta['n_instances']} instances, {meta['n_crops']} crop pairs · row #{meta['id']}",
                     expanded=meta["id"] == row["id"]):
        st.code("\n".join(changes), language=None)
    previous = version

st.subheader("Reproduce")
if row["status"] == "reference":
    st.info(f"Published numbers ({(chosen.get('reference') or {}).get('source', row['grp'])}).")
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

st.subheader("Run metadata and verification")
left, right = st.columns(2)
left.markdown("**Adapter**")
left.json(adapter, expanded=False)
left.markdown("**Suite and backends**")
left.json({"suite": suite, "backends": chosen.get("backends", {}), "counts": chosen.get("counts", {}),
           "failures": chosen.get("failures", {})}, expanded=False)
right.markdown("**Verification**")
right.json(row.get("verification") or {}, expanded=False)
budget = chosen.get("budget") or {}
right.markdown("**Budget**")
if budget:
    right.table({"wall s": [budget.get("wall_s")], "peak RSS MB": [budget.get("peak_rss_mb")],
                 "device": [budget.get("device")]})
else:
    right.write("No budget recorded.")
if is_maintainer():
    right.caption(f"Imported from {row.get('origin') or '?'}")
