"""Face-check report: per-file records -> summary (overall, per group, largest gaps) -> JSON and Markdown.

A *unit* is one face of an image, or one clip (its face-frames averaged, see tfbench.facecheck.score).
Rates are means of the per-unit 0/1 decisions:

- ``identity_kept_rate[backend]`` = mean f_kept: share of units whose similarity reaches the backend's
  same-person threshold (the ``f_kept`` of ``tfbench run``);
- ``protection_rate[backend]`` = 1 - identity_kept_rate: share the recognizer no longer matches;
- ``impersonation_rate[backend]``: share whose similarity to the --target identity reaches the threshold;
- ``nme`` (expression/structure drift), ``psnr``/``ssim`` (naturalness proxy): means over units.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

SCHEMA = "tfbench.facecheck/1"
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


def summarize(records: Sequence[dict], backends: dict[str, dict], mode: str) -> dict[str, Any]:
    """Per-file records -> counts, overall scores, the mode's headline rates and the group breakdown."""
    names = list(backends)
    units = [u for r in records if r.get("status") == "ok" for u in r.get("faces", [])]
    counts = {"files": len(records), **{s: sum(r.get("status") == s for r in records) for s in STATUSES},
              "units": len(units)}
    overall = unit_stats(units, names)
    key = "identity_kept_rate" if mode == "preserve" else "protection_rate"
    headline: dict[str, Any] = {key: {n: overall["backends"][n][key] for n in names}}
    if mode == "preserve":
        headline["expression_drift_nme"] = overall["nme"]["mean"]
    elif any("impersonation_rate" in b for b in overall["backends"].values()):
        headline["impersonation_rate"] = {n: overall["backends"][n].get("impersonation_rate") for n in names}
    return {"mode": mode, "counts": counts, "headline": headline, "overall": overall,
            "groups": group_breakdown(units, names)}


def problems(records: Sequence[dict]) -> list[dict]:
    return [{"file": r["file"], "status": r["status"], "error": r.get("error")} for r in records if r["status"] != "ok"]


def _fmt(v: float | None, pct: bool = False) -> str:
    if v is None:
        return "–"
    return f"{100 * v:.1f}%" if pct else f"{v:.3f}"


def markdown(report: dict[str, Any]) -> str:
    """Readable summary of a face-check report."""
    s, mode = report["summary"], report["mode"]
    rate = "identity_kept_rate" if mode == "preserve" else "protection_rate"
    title = "identity kept" if mode == "preserve" else "protected"
    c = s["counts"]
    lines = [f"## Face check ({mode})", "",
             f"{c['files']} files: {c['ok']} scored ({c['units']} faces/clips), {c['no_face']} without a face, "
             f"{c['unpaired']} unpaired, {c['size_mismatch']} size mismatches, {c['unsupported']} unsupported, "
             f"{c['error']} unreadable.", ""]
    has_target = any("impersonation_rate" in b for b in s["overall"]["backends"].values())
    head = ["recognizer", "threshold", "mean sim", "min sim", title]
    if has_target:
        head += ["impersonated"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, b in s["overall"]["backends"].items():
        row = [name, f"{report['backends'][name]['threshold']:.3f}", _fmt(b["f_sim"]["mean"]), _fmt(b["f_sim"]["min"]),
               _fmt(b[rate], pct=True)]
        if has_target:
            row.append(_fmt(b.get("impersonation_rate"), pct=True))
        lines.append("| " + " | ".join(row) + " |")
    o = s["overall"]
    lines += ["", f"Landmark drift (NME, 68 points / inter-ocular): mean {_fmt(o['nme']['mean'])}, "
                  f"max {_fmt(o['nme']['max'])} · face PSNR {_fmt(o['psnr'])} dB · SSIM {_fmt(o['ssim'])}"]
    for label, g in s["groups"].items():
        lines += ["", f"### By {label}", "", f"| {label} | n | " + " | ".join(f"{n} {title}" for n in o["backends"]) + " | NME |",
                  "|" + "---|" * (len(o["backends"]) + 3)]
        for value, st in g["values"].items():
            lines.append(f"| {value} | {st['n']} | " + " | ".join(_fmt(b[rate], pct=True) for b in st["backends"].values())
                         + f" | {_fmt(st['nme']['mean'])} |")
        gaps = [f"{m} {v['gap']:.3f} ({v['lowest']} < {v['highest']})" for m, v in g["max_gap"].items()]
        if gaps:
            lines += ["", "Largest gaps: " + "; ".join(gaps)]
    if report.get("unavailable_backends"):
        lines += ["", "Not run: " + "; ".join(f"{k} ({v})" for k, v in report["unavailable_backends"].items())]
    probs = report.get("problems") or []
    if probs:
        lines += ["", f"### Files not scored ({len(probs)})", ""]
        lines += [f"- `{p['file']}`: {p['status']}: {p['error']}" for p in probs[:50]]
        if len(probs) > 50:
            lines.append(f"- ... and {len(probs) - 50} more (see the JSON report)")
    gate = report.get("gates")
    if gate and gate.get("checked"):
        lines += ["", "**Gates: PASS**" if gate["passed"] else "**Gates: FAIL**"]
        lines += [f"- {f}" for f in gate["failures"]]
    return "\n".join(lines) + "\n"
