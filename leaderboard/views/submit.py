"""Submit a results.json (and optionally a zip of its records and crops) to the pending queue."""
from __future__ import annotations

import streamlit as st

from tfbench.errors import TfbenchError
from tfbench.leaderboard.context import open_store
from tfbench.leaderboard.submissions import MAX_BUNDLE_BYTES, MAX_RESULTS_BYTES, submit

st.title("Submit results")
st.markdown(f"Upload the `results.json` a `tfbench run` wrote (at most {MAX_RESULTS_BYTES // 2**20} MiB) and, to "
            f"enable the per-instance views, a zip of the same run folder's `records.jsonl` and `crops/` "
            f"(at most {MAX_BUNDLE_BYTES // 2**20} MiB). A maintainer approves submissions with "
            f"`tfbench leaderboard approve ID`.")
results_file = st.file_uploader("results.json", type=["json"], key="results")
bundle_file = st.file_uploader("records and crops (zip, optional)", type=["zip"], key="bundle")
note = st.text_input("Note for the maintainer (who you are, how you ran it)", key="note", max_chars=500)
if st.button("Submit", key="submit", disabled=results_file is None):
    try:
        with open_store() as store:
            sid = submit(store, results_file.getvalue(), bundle_file.getvalue() if bundle_file else None, note)
        st.success(f"Accepted as submission #{sid}; it is pending a maintainer's approval.")
    except TfbenchError as exc:
        st.error(f"Rejected: {exc}")

with open_store() as store:
    pending = store.submissions("pending")
st.subheader(f"Pending queue ({len(pending)})")
if pending:
    st.dataframe([{"id": s.id, "adapter": s.spec, "suite": s.suite, "res": s.resolution, "submitted": s.submitted_at,
                   "bundle bytes": s.bundle_bytes, "note": s.note} for s in pending], hide_index=True, key="pending")
