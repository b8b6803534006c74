"""Verdicts: every face-check run ends PASS or FAIL against its mode's gates (defaults below).

| mode | gate | default | meaning |
|---|---|---|---|
| preserve | ``min_rate`` | 0.95 | every recognizer's identity-kept rate >= this |
| preserve | ``min_expression_kept`` | 0.90 | expression-kept rate (same top-1 class) >= this |
| protect | ``min_rate`` | 0.90 | every recognizer's protection rate (1 - identity kept) >= this |
| protect | ``min_expression_kept`` | off | set it for "protect identity, keep expression" models |
| both | ``max_nme`` | off | mean 68-point landmark drift <= this |

A gate that cannot be evaluated fails: nothing scored is a FAIL with one reason (how many files, and
why none was scored), and a gate whose score was not measured (no expression model, no landmark model)
fails naming what is missing. The same gates give each video track its own verdict, on the track's
shares of face-frames; the run's verdict is on the overall rates (one unit per face or track), and with
``every_track`` (``--every-track``) also on each track's own verdict: one person whose identity leaks
(protect) or is lost (preserve) fails the run, however many others pass.
"""
from __future__ import annotations

from typing import Any

DEFAULT_GATES: dict[str, dict[str, float | None]] = {
    "preserve": {"min_rate": 0.95, "min_expression_kept": 0.90, "max_nme": None},
    "protect": {"min_rate": 0.90, "min_expression_kept": None, "max_nme": None},
}
RATE_KEY = {"preserve": "identity_kept_rate", "protect": "protection_rate"}
UNDECIDED = "no original expression is decided: every top-1 lead is under the model's decided_margin"


def resolve_gates(mode: str, min_rate: float | None = None, min_expression_kept: float | None = None,
                  max_nme: float | None = None, every_track: bool = False) -> dict[str, Any]:
    """The mode's default gates with the given ones in their place (None keeps the default); ``every_track``
    adds the gate that every scored video track passes on its own."""
    gates: dict[str, Any] = dict(DEFAULT_GATES[mode])
    for key, value in (("min_rate", min_rate), ("min_expression_kept", min_expression_kept), ("max_nme", max_nme)):
        if value is not None:
            gates[key] = value
    if every_track:
        gates["every_track"] = True
    return gates


def _pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def rate_failures(mode: str, rates: dict[str, float | None], expression_kept: float | None, nme: float | None,
                  gates: dict[str, Any], expression_missing: str | None = None) -> list[str]:
    """Failed gates for one set of rates (the whole run, or one track)."""
    key, failures = RATE_KEY[mode], []
    what = "identity kept" if mode == "preserve" else "protected"
    for name, rate in rates.items():
        if rate is None:
            failures.append(f"{name} {what}: not measured")
        elif rate < gates["min_rate"]:
            failures.append(f"{name} {what} {_pct(rate)} < {_pct(gates['min_rate'])} ({key})")
    if gates.get("min_expression_kept") is not None:
        if expression_kept is None:
            failures.append(f"expression kept: not measured ({expression_missing or 'no expression model'})")
        elif expression_kept < gates["min_expression_kept"]:
            failures.append(f"expression kept {_pct(expression_kept)} < {_pct(gates['min_expression_kept'])}")
    if gates.get("max_nme") is not None:
        if nme is None:
            failures.append("landmark drift (NME): not measured (no landmark model: pip install 'tfbench[facecheck]')")
        elif nme > gates["max_nme"]:
            failures.append(f"mean landmark NME {nme:.4f} > {gates['max_nme']:g}")
    return failures


def nothing_scored(counts: dict[str, int]) -> str:
    """The one-line reason of a run that scored no face."""
    why = ", ".join(f"{counts[k]} {label}" for k, label in (
        ("unpaired", "unpaired"), ("no_face", "without a detectable face"), ("size_mismatch", "of different sizes"),
        ("unsupported", "not images or videos"), ("error", "unreadable")) if counts.get(k))
    return f"nothing scored: no face in {counts['files']} files could be compared ({why or 'no files'})"


def track_verdict(unit: dict[str, Any], mode: str, gates: dict[str, Any]) -> dict[str, Any]:
    """A video track's verdict on its own shares of face-frames."""
    kept = unit.get("f_kept", {})
    rates = {n: (v if mode == "preserve" else round(1.0 - v, 6)) for n, v in kept.items()}
    failures = rate_failures(mode, rates, unit.get("expression_kept"), unit.get("nme"), gates,
                             UNDECIDED if unit.get("expression_decided") == 0 else None)
    return {"verdict": "FAIL" if failures else "PASS", "failures": failures}


def failed_tracks(records: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """(how many video tracks have a verdict, one line per track that FAILs: clip, track, frames, failures)."""
    judged, failed = 0, []
    for rec in records:
        if rec.get("kind") != "video" or rec.get("status") != "ok":
            continue
        for unit in rec.get("faces", []):
            verdict = unit.get("verdict")
            if verdict is None:
                continue
            judged += 1
            if verdict["verdict"] == "FAIL":
                t = unit["track"]
                failed.append(f"{rec['file']} track {unit['i']} (frames {t['first_frame']}-{t['last_frame']}): "
                              + ", ".join(verdict["failures"]))
    return judged, failed


def check_gates(summary: dict[str, Any], gates: dict[str, Any], expression_missing: str | None = None,
                records: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The run's verdict: PASS, or FAIL with every failed gate (or the one reason nothing was scored).

    With ``gates["every_track"]``, each video track of ``records`` that fails on its own is one more failure."""
    mode = summary["mode"]
    if summary["counts"]["units"] == 0:
        failures = [nothing_scored(summary["counts"])]
    else:
        overall = summary["overall"]
        expression = overall.get("expression") or {}
        failures = rate_failures(mode, summary["headline"][RATE_KEY[mode]], expression.get("kept_rate"),
                                 overall["nme"]["mean"], gates, UNDECIDED if expression else expression_missing)
        if gates.get("every_track"):
            judged, failed = failed_tracks(records or [])
            if failed:
                failures.append(f"{len(failed)} of {judged} tracks fail on their own (every_track): " + "; ".join(failed))
    return {**gates, "passed": not failures, "verdict": "FAIL" if failures else "PASS", "failures": failures}


def verdict_line(gate: dict[str, Any]) -> str:
    """One line: PASS, or FAIL: every failed gate."""
    return "PASS" if gate["passed"] else "FAIL: " + "; ".join(gate["failures"])
