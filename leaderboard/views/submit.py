"""Submit a results.json and the zip of its run's records and crops (or results only, listed unverified)."""
from __future__ import annotations

import streamlit as st

from tfbench.errors import TfbenchError
from tfbench.leaderboard.limits import MIB, MAX_BUNDLE_BYTES, MAX_RESULTS_BYTES, limit_text
from tfbench.leaderboard.context import attempt_limiter, client_id, open_store
from tfbench.leaderboard.queue import per_hour
from tfbench.leaderboard.submissions import submit

st.title("Submit results")
st.markdown(
    f"Upload the `results.json` a `tfbench run --keep-crops` wrote (at most {limit_text('results.json')}) and a zip "
    f"of the same run folder's `records.jsonl` and `crops/` (at most {limit_text('bundle zip')}). A maintainer "
    f"approves it after checking every number against the records and re-reading the crops with the declared OCR "
    f"and face models; it is then ranked. Results without the zip can be listed as **unverified** (never ranked). "
    f"One client may submit {per_hour()} times per hour. The same submission twice is queued once.")
results_file = st.file_uploader("results.json", type=["json"], key="results", max_upload_size=MAX_RESULTS_BYTES // MIB)
bundle_file = st.file_uploader("records and crops (zip)", type=["zip"], key="bundle",
                               max_upload_size=MAX_BUNDLE_BYTES // MIB)
results_only = st.checkbox("Results only, without records and crops: list it as unverified (never ranked)",
                           key="results_only")
note = st.text_input("Note for the maintainer (who you are, how you ran it; only the maintainer sees it)", key="note",
                     max_chars=500)

if st.button("Submit", key="submit", disabled=results_file is None):
    try:
        if not attempt_limiter("submit").allow(client_id()):
            raise TfbenchError("too many attempts from your address in the last minute; wait a minute and retry")
        if bundle_file is None and not results_only:
            raise TfbenchError(f"no records zip was received (none attached, or it is larger than the "
                               f"{limit_text('bundle zip')} limit and the browser refused it). Nothing was "
                               f"submitted: attach the zip, or tick \"Results only\" to be listed unverified")
        if bundle_file is not None and results_only:
            raise TfbenchError("\"Results only\" is ticked but a zip is attached; remove one of them")
        with open_store() as store:
            queued = submit(store, results_file.getvalue(), bundle_file.getvalue() if bundle_file else None, note,
                            client_id())
        if queued.duplicate:
            st.success(f"Already pending as submission #{queued.id} (identical content); nothing new was queued.")
        else:
            st.success(f"Accepted as submission #{queued.id}; it is pending a maintainer's approval.")
    except TfbenchError as exc:
        st.error(f"Refused: {exc}")
