"""The metric columns of the board, read from the metric registry (labels, ranges, directions, digits).

Every bucket metric with a ``leaderboard_label`` (:func:`tfbench.metrics.registry.metrics_for` with
``leaderboard=True``) is a group of columns: its mean (the label) and its buckets ("<label> s|m|l").
Registering a metric with a leaderboard label adds its columns to the table, its help, the About page
and the version differences; nothing here names a metric.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tfbench.metrics.registry import MetricSpec, metrics_for

BUCKET_SHORT = {"small": "s", "medium": "m", "large": "l", "mean": "mean"}


def dig(data: Any, *path: str) -> Any:
    """A nested value of a results dict (``dig(r, "adapter", "spec")``); None where any level is absent."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


@dataclass(frozen=True)
class MetricColumn:
    label: str  # column name of the mean; buckets read "<label> s|m|l"
    side: str  # "text" | "face": where the metric sits in results.json
    metric: str  # record key under results["metrics"][side]
    info: MetricSpec


def metric_columns() -> tuple[MetricColumn, ...]:
    """The board's metric columns, in registration order (read when called: plugins may add some)."""
    return tuple(MetricColumn(str(m.leaderboard_label), m.side, m.key, m)
                 for m in metrics_for(leaderboard=True, aggregation="bucket_mean"))


def rank_metrics() -> list[str]:
    """Columns a table can be ranked by: every leaderboard metric's mean."""
    return [c.label for c in metric_columns()]


def metric_column(label: str, bucket: str) -> str:
    return label if bucket == "mean" else f"{label} {BUCKET_SHORT[bucket]}"


def score_columns() -> list[str]:
    return [metric_column(c.label, b) for c in metric_columns() for b in BUCKET_SHORT]


def locate(column: str) -> tuple[MetricColumn, str] | None:
    """(metric column, bucket) of a table column (``T-ACC s`` -> T-ACC, small), or None (``bpp``, names)."""
    for c in metric_columns():
        for bucket in BUCKET_SHORT:
            if column == metric_column(c.label, bucket):
                return c, bucket
    return None


def metric_of(column: str) -> MetricSpec | None:
    found = locate(column)
    return None if found is None else found[0].info


def direction(column: str) -> str:
    """``higher`` or ``lower`` (is better); bits per pixel: lower."""
    info = metric_of(column)
    if info is None:
        return "lower" if column == "bpp" else "higher"
    return "lower" if info.lower_better else "higher"


def value_range(info: MetricSpec) -> str:
    lo, hi = info.score_range
    return f"{lo:g} to {hi:g}" + (f" {info.unit}" if info.unit != "fraction" else "")


def column_help(column: str, edges: dict[str, list[float]] | None = None) -> str:
    """Tooltip of a column: what it measures, its range and which way is better, and its bucket's scales."""
    if column == "bpp":
        return "bits per pixel of the adapter's latent (compression); lower is smaller"
    if column == "rank":
        return ("rank among the verified rows of this suite, resolution and backend set (ties share a rank); — when "
                "the ranking metric's mean is undefined (such rows come after every ranked row)")
    if column == "undefined":
        return ("why a mean reads — : TokBench's mean of the three bucket means is undefined when a bucket holds no "
                "instance at this resolution; gives the bucket counts n s/m/l and the mean over all instances")
    found = locate(column)
    if found is None:
        return ""
    info, bucket = found[0].info, found[1]
    which = "higher" if info.higher_better else "lower"
    text = f"{info.description}. Range {value_range(info)}; {which} is better."
    if bucket == "mean":
        return text + " Mean of the small, medium and large bucket means; — (undefined) when a bucket is empty."
    if edges and edges.get(info.side):
        e, k = edges[info.side], ("small", "medium", "large").index(bucket)
        text += f" Bucket {BUCKET_SHORT[bucket]}: instance scale in [{e[k]:g}, {e[k + 1]:g})."
    return text
