"""Checks a results dict (schema ``tfbench.results/1``) before it enters the store, and names its row key.

The leaderboard trusts nothing it imports. The shape is the published results model
(:class:`tfbench.schemas.results.Results`: every number finite, identifying strings 1-200 printable
characters, the manifest checksum 64 lowercase hex digits, bucket edges four increasing numbers), so the
leaderboard refuses exactly what `tfbench schemas validate results` refuses, with the same line; on top of it
every metric value must lie inside its metric's range (the metric registry, by side and record key).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tfbench.errors import ResultsError
from tfbench.metrics.registry import metric_for_key
from tfbench.schemas.base import validate
from tfbench.schemas.results import Results

SIDES = ("text", "face")
MEASURED = "measured"  # the group of rows scored by tfbench itself (runs and submissions)


@dataclass(frozen=True)
class RowKey:
    """What makes two results the same leaderboard row: never mixes suites, versions or metric backends."""

    spec: str
    suite: str
    suite_version: str
    resolution: str
    text_backend: str
    face_backend: str
    group: str = MEASURED

    def label(self) -> str:
        where = "" if self.group == MEASURED else f" ({self.group})"
        version = f"v{self.suite_version}" if self.suite_version[:1].isdigit() else f"({self.suite_version})"
        return (f"{self.spec} @ {self.resolution} on {self.suite} {version} "
                f"[{self.text_backend} / {self.face_backend}]{where}")

    def as_tuple(self) -> tuple[str, ...]:
        return (self.group, self.spec, self.suite, self.suite_version, self.resolution, self.text_backend,
                self.face_backend)


def backend_label(backends: Any, side: str) -> str:
    """``name (version)`` of the text or face backend a result declares (``unknown`` when absent)."""
    info = backends.get(side) if isinstance(backends, dict) else None
    if not isinstance(info, dict) or not info.get("backend"):
        return "unknown"
    name = str(info["backend"])
    return f"{name} ({info['version']})" if info.get("version") else name


def row_key(data: dict[str, Any], group: str = MEASURED) -> RowKey:
    suite = data["suite"]
    backends = data.get("backends") or {}
    return RowKey(str(data["adapter"]["spec"]), str(suite["name"]), str(suite.get("version", "")),
                  str(suite["resolution"]), backend_label(backends, "text"), backend_label(backends, "face"), group)


def _check_ranges(metrics: dict[str, Any], where: str) -> None:
    """Every value of a registered metric inside the metric's declared range (the model has checked that each
    is a finite number or null)."""
    for side in SIDES:
        for key, block in (metrics.get(side) or {}).items():
            info = metric_for_key(side, key)
            if info is None or not isinstance(block, dict):
                continue  # counts (n, uncounted), groups, metrics this tfbench does not know
            for bucket, value in block.items():
                if value is not None and not info.in_range(value):
                    lo, hi = info.score_range
                    raise ResultsError(f"{where}: metrics.{side}.{key}.{bucket} = {value!r} is outside its range "
                                       f"[{lo}, {hi}]")


def validate_results(data: Any, where: str = "results") -> dict[str, Any]:
    """Return ``data`` if it is a well-formed results dict whose metrics lie in their ranges, else raise one
    clear ResultsError naming ``where`` and the JSON path."""
    validate(Results, data, where, ResultsError)
    _check_ranges(data["metrics"], where)
    return data
