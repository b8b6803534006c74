"""Maintainer mode (unlocked by the server's secret): the pending queue with what each approval would change."""
from __future__ import annotations

import streamlit as st

from tfbench.errors import TfbenchError
from tfbench.leaderboard import queue
from tfbench.leaderboard.context import (attempt_limiter, client_id, is_maintainer, maintainer_secret, open_store,
                                         store_path)
from tfbench.leaderboard.reread import MIN_SAMPLE
from tfbench.leaderboard.submissions import approve, preview, reject

st.title("Maintainer")
if maintainer_secret() is None:
    st.info("Maintainer mode is off on this server (no secret configured). Maintainers approve submissions with "
            "`tfbench leaderboard pending` and `tfbench leaderboard approve ID`.")
    st.stop()
if not is_maintainer():
    key = st.text_input("Maintainer secret", type="password", key="maintainer_entry")
    if st.button("Unlock", key="unlock"):
        if not attempt_limiter("unlock").allow(client_id()):
            st.error("Too many tries from your address in the last minute; wait a minute.")
            st.stop()
        st.session_state["maintainer_key"] = key
        st.rerun()
    if st.session_state.get("maintainer_key"):
        st.error("That is not the secret configured on this server.")
    st.stop()

st.caption(f"Store: {store_path()}")
flash = st.session_state.pop("maintainer_flash", None)  # the outcome of the last decision, shown after the rerun
if flash:
    getattr(st, flash[0])(flash[1])
with open_store() as store:
    pending = queue.listing(store, "pending")
    st.subheader(f"Pending submissions ({len(pending)})")
    if not pending:
        st.write("The queue is empty.")
    sample = st.number_input("Crops to re-read per approval (at least 200; more checks more)", min_value=MIN_SAMPLE,
                             value=MIN_SAMPLE, step=100, key="sample")
    for sub in pending:
        with st.container(border=True):
            try:
                lines = preview(store, sub.id).lines()
            except TfbenchError as exc:
                lines = [f"#{sub.id}: cannot be read ({exc})"]
            st.markdown(f"**#{sub.id}** {sub.spec} @ {sub.resolution} on {sub.suite} · submitted {sub.submitted_at} "
                        f"from {sub.client or '?'} · zip {sub.bundle_bytes:,} bytes")
            if sub.note:
                st.markdown(f"Note: {sub.note}")
            st.code("\n".join(lines), language=None)
            left, right = st.columns(2)
            if left.button("Approve", key=f"approve_{sub.id}"):
                try:
                    with st.spinner("Verifying: records, aggregates, crops re-read with the declared models"):
                        done = approve(store, sub.id, sample=int(sample))
                except TfbenchError as exc:
                    st.error(f"Refused #{sub.id}: {exc}")  # nothing changed: it stays in the queue
                else:
                    st.session_state["maintainer_flash"] = (
                        "success", f"Approved #{sub.id}: {done.outcome.status} row #{done.outcome.result_id} "
                                   f"(version {done.outcome.version}, "
                                   f"{'verified' if 'aggregates' in done.report else 'unverified'})")
                    st.rerun()
            reason = right.text_input("Reason to reject", key=f"reason_{sub.id}")
            if right.button("Reject", key=f"reject_{sub.id}"):
                reject(store, sub.id, reason)
                st.session_state["maintainer_flash"] = ("warning", f"Rejected #{sub.id}.")
                st.rerun()
