"""The metric columns of the board, with each metric's range and direction read from its declaration."""
from __future__ import annotations

from dataclasses import dataclass

from tfbench.metrics.base import METRICS, MetricInfo

BUCKET_SHORT = {"small": "s", "medium": "m", "large": "l", "mean": "mean"}


@dataclass(frozen=True)
class MetricColumn:
    label: str  # column name of the mean; buckets read "<label> s|m|l"
    side: str  # "text" | "face": where the metric sits in results.json
    metric: str  # name in METRICS

    @property
    def info(self) -> MetricInfo:
        return METRICS[self.metric]


METRIC_COLUMNS = (MetricColumn("T-ACC", "text", "t_acc"), MetricColumn("T-NED", "text", "t_ned"),
                  MetricColumn("F-Sim", "face", "f_sim"))
EXTRA_COLUMNS = {"F-kept": "f_kept"}  # mean only


def metric_column(label: str, bucket: str) -> str:
    return label if bucket == "mean" else f"{label} {BUCKET_SHORT[bucket]}"


def score_columns() -> list[str]:
    return [metric_column(c.label, b) for c in METRIC_COLUMNS for b in BUCKET_SHORT]


def metric_of(column: str) -> MetricInfo | None:
    """The metric behind a table column (``T-ACC s``, ``F-Sim``, ``F-kept``), or None (``bpp``, names)."""
    for c in METRIC_COLUMNS:
        if column == c.label or column.startswith(f"{c.label} "):
            return c.info
    name = EXTRA_COLUMNS.get(column)
    return METRICS[name] if name else None


def direction(column: str) -> str:
    """``higher`` or ``lower`` (is better); bits per pixel: lower."""
    info = metric_of(column)
    if info is None:
        return "lower" if column == "bpp" else "higher"
    return "lower" if info.lower_better else "higher"


def _range(info: MetricInfo) -> str:
    lo, hi = info.score_range
    return f"{lo:g} to {hi:g}" + (f" {info.unit}" if info.unit != "fraction" else "")


def column_help(column: str, edges: dict[str, list[float]] | None = None) -> str:
    """Tooltip of a column: what it measures, its range and which way is better, and its bucket's scales."""
    if column == "bpp":
        return "bits per pixel of the adapter's latent (compression); lower is smaller"
    if column == "rank":
        return "rank among the verified rows of this suite, resolution and backend set (ties share a rank)"
    info = metric_of(column)
    if info is None:
        return ""
    which = "higher" if info.higher_better else "lower"
    text = f"{info.description}. Range {_range(info)}; {which} is better."
    parts = column.split(" ")
    if len(parts) == 2 and parts[1] in ("s", "m", "l") and edges:
        side = "face" if info.name.startswith("f_") else "text"
        e = edges.get(side)
        k = ("s", "m", "l").index(parts[1])
        if e:
            text += f" Bucket {parts[1]}: instance scale in [{e[k]:g}, {e[k + 1]:g})."
    elif len(parts) == 1 and column in [c.label for c in METRIC_COLUMNS]:
        text += " Mean of the small, medium and large bucket means."
    return text
