"""About: the protocol, the metrics, the buckets, the backends, how to submit, and how to cite."""
from __future__ import annotations

import streamlit as st

from tfbench._version import __version__
from tfbench.leaderboard.about import BIBTEX, PROTOCOL, SUBMIT, metric_rows
from tfbench.leaderboard.limits import limit_text
from tfbench.leaderboard.context import open_store
from tfbench.leaderboard.reference import PAPER_GROUP
from tfbench.leaderboard.reread import FACE_TOLERANCE, MIN_SAMPLE
from tfbench.leaderboard.suitedefs import listing

st.title("About this leaderboard")
st.markdown(PROTOCOL)

st.subheader("Metrics")
st.table(metric_rows())

st.subheader("Suites, resolutions and buckets")
st.markdown("An instance counts in a bucket when its scale (a word's character size, or a face box's longer side, "
            "divided by the image width) lies in [lower edge, upper edge). Scores are means of the three bucket means.")
with open_store() as store:
    suites = listing(store)
if suites:
    st.table([{"suite": f"{s['name']} v{s['version']}", "modality": s["modality"], "resolution": res,
               "text edges": ", ".join(f"{e:g}" for e in s["buckets"]["text"][res]),
               "face edges": ", ".join(f"{e:g}" for e in s["buckets"]["face"][res]),
               "instances": s["instances"], "manifest sha256": s["manifest_sha256"][:16] + "…"}
              for s in suites for res in s["resolutions"]])
else:
    st.write("No suite is registered on this board yet.")

st.subheader("Backends")
st.markdown(
    "Rows name their OCR and face backends with versions (e.g. RapidOCR PP-OCRv6 and SFace); rows of different "
    "backends are never ranked together. A submission is verified by re-reading its crops with the backends it "
    f"declares, on this server: readings must match exactly, face similarities within {FACE_TOLERANCE:g} "
    "(measured noise of re-embedding saved crops: at most 3.0e-4 for SFace, 0 for dlib). "
    f"The published group \"{PAPER_GROUP}\" used docTR PARSeq and insightface antelopev2 on the full TokBench data.")

st.subheader("How to submit")
st.markdown(SUBMIT.format(results_limit=limit_text("results.json"), zip_limit=limit_text("bundle zip"),
                          sample=MIN_SAMPLE))

st.subheader("Cite")
st.markdown(f"If you use these numbers, cite TokBench (the protocol and the published rows) and tfbench {__version__} "
            f"(the implementation that measured the verified rows).")
st.code(BIBTEX.format(version=__version__), language="bibtex")
