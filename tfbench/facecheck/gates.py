"""Pass/fail gates for CI on a face-check summary.

- ``min_rate``: every recognizer's headline rate (identity-kept rate in ``preserve`` mode, protection
  rate in ``protect`` mode) must be at least this fraction;
- ``max_nme``: the mean 68-point landmark drift must be at most this (both modes: preservation needs the
  expression kept, protection needs the face's structure and expression kept).

A gate that cannot be evaluated (no face scored, no landmark model) fails: CI must not pass on nothing.
"""
from __future__ import annotations

from typing import Any


def check_gates(summary: dict[str, Any], min_rate: float | None = None, max_nme: float | None = None) -> dict[str, Any]:
    failures: list[str] = []
    if min_rate is not None:
        key = "identity_kept_rate" if summary["mode"] == "preserve" else "protection_rate"
        for name, rate in summary["headline"][key].items():
            if rate is None:
                failures.append(f"{name} {key}: no face was scored (needs >= {min_rate:g})")
            elif rate < min_rate:
                failures.append(f"{name} {key} {rate:.3f} < --min-rate {min_rate:g}")
    if max_nme is not None:
        nme = summary["overall"]["nme"]["mean"]
        if nme is None:
            failures.append(f"landmark drift (NME) not measured (no face scored or no landmark model); needs <= {max_nme:g}")
        elif nme > max_nme:
            failures.append(f"mean landmark NME {nme:.4f} > --max-nme {max_nme:g}")
    return {"checked": min_rate is not None or max_nme is not None, "min_rate": min_rate, "max_nme": max_nme,
            "passed": not failures, "failures": failures}
