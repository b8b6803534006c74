"""Original vs reconstruction crops, worst first, with the OCR reading or the face similarity."""
from __future__ import annotations

import streamlit as st

from tfbench.leaderboard.context import open_store, row_label

st.title("Crops viewer")
with open_store() as store:
    rows = [r for r in store.results() if r["_row"]["n_crops"]]  # every version: earlier ones keep their crops
    if not rows:
        st.info("No row on this board has crops: run with `tfbench run --keep-crops` and import the run folder.")
        st.stop()
    labels = {row_label(r): r for r in rows}
    t_acc = [((r["metrics"].get("text") or {}).get("t_acc") or {}).get("mean") for r in rows]
    worst = min(range(len(rows)), key=lambda k: 2.0 if t_acc[k] is None else t_acc[k])  # most misreads first
    chosen = labels[st.selectbox("Row", list(labels), index=worst, key="row")]
    left, right = st.columns(2)
    kind = left.radio("Instances", ["text", "face"], horizontal=True, key="kind")
    count = right.slider("How many (worst first)", 1, 60, 12, key="count")
    instances = store.instances(chosen["_row"]["id"], kind=kind, with_crops=True, worst_first=True, limit=count)

if not instances:
    st.info(f"This row has no {kind} crops.")
    st.stop()
order = "T-ACC, then T-NED" if kind == "text" else "F-Sim"
st.caption(f"{len(instances)} {kind} instances of {row_label(chosen)}, lowest {order} first.")
for inst in instances:
    a, b, c = st.columns([2, 2, 3])
    a.image(inst.orig_png, caption="original", width="stretch", output_format="PNG")
    b.image(inst.recon_png, caption="reconstruction", width="stretch", output_format="PNG")
    if kind == "text":
        verdict = "read correctly" if inst.t_acc == 1 else "misread"
        c.markdown(f"`{inst.where}` · scale {inst.ratio:.4f}  \n"
                   f"ground truth **{inst.gt}** · OCR reads **{inst.pred or '∅'}** ({verdict})  \n"
                   f"T-NED {inst.t_ned:.3f}")
    else:
        kept = "identity kept" if inst.f_kept == 1 else "identity lost"
        c.markdown(f"`{inst.where}` · scale {inst.ratio:.4f}  \n"
                   f"F-Sim **{inst.f_sim:.3f}** ({kept})")
