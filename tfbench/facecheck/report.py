"""Face-check report: per-file records -> summary (overall, per group, largest gaps) -> JSON and Markdown.

A *unit* is one face of an image, or one face track of a clip (tfbench.facecheck.tracks). A face's
decisions are 0 or 1; a track's are the share of its face-frames. Rates are means over units:

- ``identity_kept_rate[backend]`` = mean f_kept: share of units whose similarity reaches the backend's
  same-person threshold (the ``f_kept`` of ``tfbench run``); for tracks, share of face-time kept;
- ``protection_rate[backend]`` = 1 - identity_kept_rate: share the recognizer no longer matches;
- ``impersonation_rate[backend]``: share whose similarity to the --target identity reaches the threshold;
- ``expression_kept_rate``: mean expression_kept (same top-1 expression class) over the units whose
  original expression is decided (tfbench.facecheck.expression); ``expression_js``: the Jensen-Shannon
  divergence of the expression distributions (bits), over all units;
- ``nme`` (68-point landmark drift), ``psnr``/``ssim`` (naturalness proxy): means over units.

Similarities are only ever summarised per recognizer: recognizers have different scales and thresholds.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

SCHEMA = "tfbench.facecheck/2"
MODES = ("preserve", "protect")
STATUSES = ("ok", "no_face", "unpaired", "size_mismatch", "unsupported", "error")


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return round(float(np.mean(vals)), 6) if vals else None


def _dist(values: Iterable[float | None]) -> dict[str, float | None]:
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return {"mean": None, "median": None, "min": None, "max": None}
    return {"mean": round(float(np.mean(vals)), 6), "median": round(float(np.median(vals)), 6),
            "min": round(min(vals), 6), "max": round(max(vals), 6)}


def unit_stats(units: Sequence[dict], backends: Sequence[str]) -> dict[str, Any]:
    """Scores of a set of units: per backend similarity and rates, landmark drift, PSNR/SSIM."""
    out: dict[str, Any] = {"n": len(units), "backends": {}}
    for name in backends:
        kept = _mean(u.get("f_kept", {}).get(name) for u in units)
        b: dict[str, Any] = {"f_sim": _dist(u.get("f_sim", {}).get(name) for u in units),
                             "identity_kept_rate": kept,
                             "protection_rate": None if kept is None else round(1.0 - kept, 6)}
        if any("target_sim" in u for u in units):
            b["target_sim"] = _dist(u.get("target_sim", {}).get(name) for u in units)
            b["impersonation_rate"] = _mean(u.get("impersonated", {}).get(name) for u in units)
        out["backends"][name] = b
    if any("expression_kept" in u for u in units):
        out["expression"] = {"kept_rate": _mean(u.get("expression_kept") for u in units),
                             "decided": sum(u.get("expression_kept") is not None for u in units),
                             "js": _dist(u.get("expression_js") for u in units)}
    out["nme"] = _dist(u.get("nme") for u in units)
    out["psnr"] = _mean(u.get("psnr") for u in units)
    out["ssim"] = _mean(u.get("ssim") for u in units)
    return out


def _flat(stats: dict[str, Any]) -> dict[str, float]:
    """The numbers compared across groups, as 'backend.metric' / 'nme' / 'psnr' / 'ssim'."""
    flat: dict[str, float] = {}
    for name, b in stats["backends"].items():
        for key in ("identity_kept_rate", "protection_rate", "impersonation_rate"):
            if b.get(key) is not None:
                flat[f"{name}.{key}"] = b[key]
        if b["f_sim"]["mean"] is not None:
            flat[f"{name}.f_sim"] = b["f_sim"]["mean"]
        if b.get("target_sim", {}).get("mean") is not None:
            flat[f"{name}.target_sim"] = b["target_sim"]["mean"]
    if stats.get("expression", {}).get("kept_rate") is not None:
        flat["expression_kept_rate"] = stats["expression"]["kept_rate"]
        flat["expression_js"] = stats["expression"]["js"]["mean"]
    for key in ("psnr", "ssim"):
        if stats[key] is not None:
            flat[key] = stats[key]
    if stats["nme"]["mean"] is not None:
        flat["nme"] = stats["nme"]["mean"]
    return flat


def group_breakdown(units: Sequence[dict], backends: Sequence[str]) -> dict[str, Any]:
    """{label: {"values": {value: stats}, "max_gap": {metric: {gap, lowest, highest}}}} for every label."""
    labels = sorted({k for u in units for k in (u.get("groups") or {})})
    out: dict[str, Any] = {}
    for label in labels:
        by_value: dict[str, list[dict]] = {}
        for u in units:
            value = (u.get("groups") or {}).get(label)
            if value is not None:
                by_value.setdefault(str(value), []).append(u)
        values = {v: unit_stats(us, backends) for v, us in sorted(by_value.items())}
        flats = {v: _flat(s) for v, s in values.items()}
        gaps: dict[str, Any] = {}
        for metric in sorted({m for f in flats.values() for m in f}):
            have = {v: f[metric] for v, f in flats.items() if metric in f}
            if len(have) < 2:
                continue
            lo, hi = min(have, key=have.get), max(have, key=have.get)
            gaps[metric] = {"gap": round(have[hi] - have[lo], 6), "lowest": lo, "highest": hi}
        out[label] = {"values": values, "max_gap": gaps}
    return out


def face_frames(records: Sequence[dict]) -> list[dict]:
    """Every scored face of an image, and every face-frame of a scored track of a clip."""
    out = []
    for r in records:
        if r.get("status") != "ok":
            continue
        if r.get("kind") == "video":
            scored = {u["i"] for u in r.get("faces", [])}
            out += [f for fr in r.get("frames", []) for f in fr["faces"] if f.get("track") in scored]
        else:
            out += r.get("faces", [])
    return out


def confusion(faces: Sequence[dict], labels: Sequence[str]) -> dict[str, Any] | None:
    """Counts of (original top-1 class, processed top-1 class) over the face-frames whose original expression
    is decided (those expression_kept counts); rows are the original."""
    pairs = [(f["expression"]["original"], f["expression"]["processed"]) for f in faces
             if f.get("expression_kept") is not None]
    if not pairs:
        return None
    index = {label: i for i, label in enumerate(labels)}
    counts = [[0] * len(labels) for _ in labels]
    for a, b in pairs:
        counts[index[a]][index[b]] += 1
    return {"labels": list(labels), "counts": counts, "face_frames": len(pairs)}


def summarize(records: Sequence[dict], backends: dict[str, dict], mode: str,
              expression_labels: Sequence[str] | None = None) -> dict[str, Any]:
    """Per-file records -> counts, overall scores, the mode's headline rates and the group breakdown."""
    names = list(backends)
    units = [u for r in records if r.get("status") == "ok" for u in r.get("faces", [])]
    counts = {"files": len(records), **{s: sum(r.get("status") == s for r in records) for s in STATUSES},
              "units": len(units), "tracks": sum(len(r.get("faces", [])) for r in records
                                                 if r.get("status") == "ok" and r.get("kind") == "video")}
    overall = unit_stats(units, names)
    key = "identity_kept_rate" if mode == "preserve" else "protection_rate"
    headline: dict[str, Any] = {key: {n: overall["backends"][n][key] for n in names}}
    if "expression" in overall:
        headline["expression_kept_rate"] = overall["expression"]["kept_rate"]
    if mode == "preserve":
        headline["expression_drift_nme"] = overall["nme"]["mean"]
    elif any("impersonation_rate" in b for b in overall["backends"].values()):
        headline["impersonation_rate"] = {n: overall["backends"][n].get("impersonation_rate") for n in names}
    out = {"mode": mode, "counts": counts, "headline": headline, "overall": overall,
           "groups": group_breakdown(units, names)}
    if expression_labels:
        out["expression_confusion"] = confusion(face_frames(records), expression_labels)
    return out


def problems(records: Sequence[dict]) -> list[dict]:
    return [{"file": r["file"], "status": r["status"], "error": r.get("error")} for r in records if r["status"] != "ok"]
