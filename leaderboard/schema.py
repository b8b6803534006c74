"""Checks a results dict (schema ``tfbench.results/1``) before it enters the store, and names its row key.

The leaderboard trusts nothing it imports: every number must be finite (PSNR may be +inf) and inside its
metric's range (the metric registry, by side and record key), every identifying string short and printable, the
suite's manifest checksum 64 hex digits and the bucket edges four increasing numbers.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from tfbench.errors import ResultsError
from tfbench.metrics.registry import MetricSpec, metric_for_key
from tfbench.results import SCHEMA

SIDES = ("text", "face")
MEASURED = "measured"  # the group of rows scored by tfbench itself (runs and submissions)
_RESOLUTION = re.compile(r"^(\d{1,5}|native)$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MAX_NAME = 200


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


def _name(value: Any, what: str, where: str, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ResultsError(f"{where}: `{what}` must be a string, got {type(value).__name__}")
    text = str(value)
    if (required and not text.strip()) or len(text) > _MAX_NAME or not text.isprintable():
        raise ResultsError(f"{where}: `{what}` must be 1-{_MAX_NAME} printable characters, got {text[:60]!r}")
    return text


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


def check_number(value: Any, info: MetricSpec | None, path: str, where: str) -> None:
    """A finite number (or null; +inf only for a metric whose range is unbounded above) inside ``info``'s range."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ResultsError(f"{where}: {path} must be a number or null, got {value!r}")
    if math.isnan(value) or (math.isinf(value) and not (info and info.score_range[1] == math.inf and value > 0)):
        raise ResultsError(f"{where}: {path} is {value!r}; only finite numbers are accepted")
    if info is not None and not info.in_range(value):
        lo, hi = info.score_range
        raise ResultsError(f"{where}: {path} = {value!r} is outside its range [{lo}, {hi}]")


def _check_suite(suite: dict[str, Any], where: str) -> None:
    _name(suite.get("name"), "suite.name", where)
    _name(suite.get("version"), "suite.version", where)
    resolution = _name(suite.get("resolution"), "suite.resolution", where)
    if not _RESOLUTION.match(resolution):
        raise ResultsError(f"{where}: suite.resolution must be a number of pixels or 'native', got {resolution!r}")
    if suite.get("modality", "image") not in ("image", "video"):
        raise ResultsError(f"{where}: suite.modality must be 'image' or 'video', got {suite.get('modality')!r}")
    sha = suite.get("manifest_sha256")
    if sha is not None and not (isinstance(sha, str) and _SHA256.match(sha)):
        raise ResultsError(f"{where}: suite.manifest_sha256 must be 64 lowercase hex digits, got {str(sha)[:70]!r}")


def _check_buckets(buckets: Any, where: str) -> None:
    if buckets is None:
        return
    if not isinstance(buckets, dict):
        raise ResultsError(f"{where}: `buckets` must be an object {{\"text\": [e0..e3], \"face\": [e0..e3]}}")
    for side in ("text", "face"):
        edges = buckets.get(side)
        if edges is None:
            continue
        if (not isinstance(edges, list) or len(edges) != 4
                or not all(isinstance(e, (int, float)) and not isinstance(e, bool) and math.isfinite(e) for e in edges)
                or edges != sorted(edges)):
            raise ResultsError(f"{where}: buckets.{side} must be four increasing finite numbers, got {str(edges)[:80]}")


def _check_metrics(metrics: dict[str, Any], where: str) -> None:
    """Every block of a registered bucket metric: numbers in the metric's declared range."""
    for side in SIDES:
        block = metrics.get(side)
        if block is None:
            continue
        if not isinstance(block, dict):
            raise ResultsError(f"{where}: metrics.{side} must be an object")
        for key, buckets in block.items():
            info = metric_for_key(side, key)
            if info is None or buckets is None:
                continue  # counts (n, uncounted), groups, metrics this tfbench does not know
            if not isinstance(buckets, dict):
                raise ResultsError(f"{where}: metrics.{side}.{key} must be an object of buckets")
            for bucket, value in buckets.items():
                check_number(value, info, f"metrics.{side}.{key}.{bucket}", where)
        counts = block.get("n")
        if counts is not None and (not isinstance(counts, dict) or any(
                not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in counts.values())):
            raise ResultsError(f"{where}: metrics.{side}.n must map buckets to non-negative integers")


def validate_results(data: Any, where: str = "results") -> dict[str, Any]:
    """Return ``data`` if it is a well-formed results dict, else raise one clear ResultsError."""
    if not isinstance(data, dict):
        raise ResultsError(f"{where}: expected a JSON object, got {type(data).__name__}")
    if data.get("schema") != SCHEMA:
        raise ResultsError(f"{where}: not a tfbench results file (schema {data.get('schema')!r}, expected {SCHEMA!r})")
    for key in ("adapter", "suite", "metrics"):
        if not isinstance(data.get(key), dict):
            raise ResultsError(f"{where}: missing or malformed `{key}`")
    adapter = data["adapter"]
    _name(adapter.get("spec"), "adapter.spec", where)
    for key in ("family", "kind"):
        _name(adapter.get(key), f"adapter.{key}", where, required=False)
    _check_suite(data["suite"], where)
    for key in ("bits_per_pixel", "tokens"):
        value = adapter.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not math.isfinite(value) or value < 0):
            raise ResultsError(f"{where}: adapter.{key} must be a non-negative number, got {value!r}")
    if data.get("backends") is not None and not isinstance(data["backends"], dict):
        raise ResultsError(f"{where}: `backends` must be an object")
    _check_buckets(data.get("buckets"), where)
    _check_metrics(data["metrics"], where)
    return data
