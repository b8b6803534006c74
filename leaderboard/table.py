"""The leaderboard table: stored rows flattened to columns, filtered, sorted and exported (CSV, Markdown)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import pandas as pd

from tfbench.errors import TfbenchError
from tfbench.metrics.base import METRICS

BASELINE_FAMILIES = ("identity", "jpeg")
BUCKET_SHORT = {"small": "s", "medium": "m", "large": "l", "mean": "mean"}
# (column, metrics side, metric); per-bucket columns read "T-ACC s", "T-ACC m", "T-ACC l", "T-ACC"
METRIC_COLUMNS = (("T-ACC", "text", "t_acc"), ("T-NED", "text", "t_ned"), ("F-Sim", "face", "f_sim"))
ID_COLUMNS = ["id", "adapter", "family", "kind", "source", "res", "suite", "modality", "bpp"]
TAIL_COLUMNS = ["F-kept", "face preservation", "baseline", "text backend", "face backend", "label"]


def metric_column(name: str, bucket: str) -> str:
    return name if bucket == "mean" else f"{name} {BUCKET_SHORT[bucket]}"


def score_columns() -> list[str]:
    return [metric_column(n, b) for n, _, _ in METRIC_COLUMNS for b in ("small", "medium", "large", "mean")]


def _get(d: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


def _suite_label(r: dict[str, Any]) -> str:
    name, version = _get(r, "suite", "name"), str(_get(r, "suite", "version") or "")
    return f"{name} v{version}" if version[:1].isdigit() else f"{name} ({version})" if version else str(name)


def _preservation(f_sim: float | None, kept: float | None) -> str:
    if f_sim is None:
        return ""
    return f"{f_sim:.3f} sim, {kept:.0%} kept" if kept is not None else f"{f_sim:.3f} sim"


def flatten(results: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per stored result (as returned by ``Store.results()``)."""
    rows = []
    for r in results:
        meta = r.get("_row", {})
        row: dict[str, Any] = {
            "id": meta.get("id"), "adapter": _get(r, "adapter", "spec"), "family": _get(r, "adapter", "family") or "",
            "kind": _get(r, "adapter", "kind") or "", "source": meta.get("source", "run"),
            "res": str(_get(r, "suite", "resolution")), "suite": _suite_label(r),
            "modality": _get(r, "suite", "modality") or "image", "bpp": _get(r, "adapter", "bits_per_pixel"),
        }
        for name, side, metric in METRIC_COLUMNS:
            for bucket in ("small", "medium", "large", "mean"):
                row[metric_column(name, bucket)] = _get(r, "metrics", side, metric, bucket)
        row["F-kept"] = _get(r, "metrics", "face", "f_kept", "mean")
        row["face preservation"] = _preservation(row["F-Sim"], row["F-kept"])
        row["baseline"] = row["family"] in BASELINE_FAMILIES
        row["text backend"] = meta.get("text_backend", "")
        row["face backend"] = meta.get("face_backend", "")
        row["label"] = meta.get("label") or ""
        rows.append(row)
    frame = pd.DataFrame(rows, columns=ID_COLUMNS + score_columns() + TAIL_COLUMNS)
    numeric = ["bpp", *score_columns(), "F-kept"]
    frame[numeric] = frame[numeric].astype("float64")
    return frame


@dataclass
class Filters:
    """Empty lists mean "all"; baselines (identity, JPEG) stay visible unless ``pin_baselines`` is off."""

    modalities: Sequence[str] = ()
    resolutions: Sequence[str] = ()
    families: Sequence[str] = ()
    kinds: Sequence[str] = ()
    suites: Sequence[str] = ()
    sources: Sequence[str] = ()
    bpp: tuple[float, float] | None = None  # inclusive range; rows without a bpp drop out when it is set
    pin_baselines: bool = True
    face_only: bool = False  # keep rows that have face scores (face suites)
    extra: dict[str, Any] = field(default_factory=dict)


def apply_filters(frame: pd.DataFrame, f: Filters) -> pd.DataFrame:
    keep = pd.Series(True, index=frame.index)
    for col, wanted in (("modality", f.modalities), ("res", f.resolutions), ("suite", f.suites),
                        ("source", f.sources)):
        if wanted:
            keep &= frame[col].isin(list(wanted))
    narrow = pd.Series(True, index=frame.index)
    for col, wanted in (("family", f.families), ("kind", f.kinds)):
        if wanted:
            narrow &= frame[col].isin(list(wanted))
    if f.bpp is not None:
        lo, hi = f.bpp
        narrow &= frame["bpp"].between(lo, hi)
    if f.face_only:
        narrow &= frame["F-Sim"].notna()
    if f.pin_baselines:
        narrow |= frame["baseline"]
    return frame[keep & narrow]


def sort_table(frame: pd.DataFrame, column: str, ascending: bool | None = None) -> pd.DataFrame:
    """Sort by a column; by default better first (METRICS says which way is better; bpp: smaller first)."""
    if column not in frame.columns:
        raise TfbenchError(f"cannot sort by {column!r}; columns: {', '.join(frame.columns)}")
    if ascending is None:
        metric = {metric_column(n, b): m for n, _, m in METRIC_COLUMNS for b in BUCKET_SHORT}.get(column)
        ascending = METRICS[metric].lower_better if metric else column not in ("F-kept",)
    return frame.sort_values(column, ascending=ascending, na_position="last", kind="stable")


EXPORT_COLUMNS = ["adapter", "family", "kind", "source", "suite", "res", "bpp", *score_columns(), "F-kept",
                  "text backend", "face backend", "label"]


def to_csv(frame: pd.DataFrame) -> str:
    return frame[EXPORT_COLUMNS].to_csv(index=False, float_format="%.4f")


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value).replace("|", "\\|")


def to_markdown(frame: pd.DataFrame) -> str:
    cols = EXPORT_COLUMNS
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame[cols].itertuples(index=False)]
    return "\n".join(lines) + "\n"
