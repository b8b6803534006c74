"""What differs between two versions of a row (or a submission and the row it would add a version to)."""
from __future__ import annotations

from typing import Any

from tfbench.leaderboard.columns import dig, metric_columns

BUCKET_NAMES = ("small", "medium", "large", "mean")


def fields(data: dict[str, Any]) -> dict[str, Any]:
    """The values a person compares: every metric bucket and mean, bits per pixel, counts, backends, provenance."""
    out: dict[str, Any] = {}
    for col in metric_columns():
        for bucket in BUCKET_NAMES:
            out[col.label if bucket == "mean" else f"{col.label} {bucket}"] = dig(data, "metrics", col.side,
                                                                                    col.metric, bucket)
    out["bits per pixel"] = dig(data, "adapter", "bits_per_pixel")
    for key in ("images", "words", "faces"):
        out[f"{key} counted"] = dig(data, "counts", key)
    out["OCR"] = dig(data, "backends", "text", "version") or dig(data, "backends", "text", "backend")
    out["face model"] = dig(data, "backends", "face", "version") or dig(data, "backends", "face", "backend")
    out["tfbench"] = data.get("tfbench_version")
    out["created"] = data.get("created")
    return out


def differences(old: dict[str, Any] | None, new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, old value, new value) for every field that differs; all of them when there is no old row."""
    a, b = fields(old or {}), fields(new)
    return [(k, a.get(k), b[k]) for k in b if old is None and b[k] is not None or old is not None and a.get(k) != b[k]]


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def describe(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """Lines such as ``T-ACC: 0.8780 -> 0.9990 (+0.1210)``."""
    lines = []
    for name, a, b in differences(old, new):
        delta = (f" ({b - a:+.4f})" if isinstance(a, (int, float)) and isinstance(b, (int, float))
                 and not isinstance(a, bool) else "")
        lines.append(f"{name}: {_show(a)} -> {_show(b)}{delta}" if old is not None else f"{name}: {_show(b)}")
    return lines
