"""The leaderboard table: stored rows flattened to columns, one comparable selection ranked, exports.

Rows are comparable only within one suite (name, version), one resolution and one backend set (OCR and
face model, with their versions): :func:`selections` lists those, :func:`ranked` ranks the verified rows
of one of them. Unverified rows are listed apart (never ranked); published (reference) rows are their own
groups and never ranked with rows measured by tfbench.

Undefined means: a mean is TokBench's mean of the three bucket means, undefined (None) when a bucket of
the suite is empty at that resolution (:mod:`tfbench.aggregation`). Such a cell shows ``—``, the row's
``undefined`` column says which bucket is empty (with the counts and the instance mean), and a row whose
ranking metric is undefined gets no rank and is listed after every ranked row: an undefined mean is never
ranked above (or below) a defined one, and never stands on a Pareto front.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

import pandas as pd

from tfbench.aggregation import undefined_reason
from tfbench.errors import TfbenchError
from tfbench.leaderboard.columns import BUCKET_SHORT, dig, direction, metric_column, metric_columns, score_columns

BASELINE_FAMILIES = ("identity", "jpeg")
ID_COLUMNS = ["id", "adapter", "family", "kind", "status", "group", "version", "source", "res", "suite", "modality",
              "backends", "bpp"]
TAIL_COLUMNS = ["face preservation", "baseline", "text backend", "face backend", "label", "undefined"]
UNDEFINED = "—"  # how a mean TokBench's rule leaves undefined (an empty bucket) is shown


def suite_text(name: Any, version: Any) -> str:
    """``mini v1``; ``tokbench (paper)`` for a version that is not a number."""
    version = str(version or "")
    return f"{name} v{version}" if version[:1].isdigit() else f"{name} ({version})" if version else str(name)


def suite_label(r: dict[str, Any]) -> str:
    return suite_text(dig(r, "suite", "name"), dig(r, "suite", "version"))


def _preservation(f_sim: float | None, kept: float | None) -> str:
    if f_sim is None or (isinstance(f_sim, float) and math.isnan(f_sim)):
        return ""
    return f"{f_sim:.3f} sim, {kept:.0%} kept" if kept is not None and not math.isnan(kept) else f"{f_sim:.3f} sim"


def undefined_note(result: dict[str, Any]) -> str:
    """Why the row's undefined means are undefined, one clause per reason: ``T-ACC, T-NED: empty bucket: medium
    (n s/m/l 2/0/3); instance means 0.912, 0.950``; empty when every mean it carries is defined."""
    by_reason: dict[str, list[tuple[str, Any]]] = {}
    for col in metric_columns():
        block, counts = col.info.block(result), col.info.counts(result)
        if not isinstance(block, dict) or block.get("mean") is not None or counts is None:
            continue  # defined, absent, or published without counts (a number not published is no rule's doing)
        why = (undefined_reason(block, counts) or "no value") if any(counts.values()) else "no instance counted"
        by_reason.setdefault(why, []).append((col.label, col.info.format(block.get("instance_mean"))))
    clauses = []
    for why, cols in by_reason.items():
        means = [v for _, v in cols if v != "-"]
        clauses.append(f"{', '.join(c for c, _ in cols)}: {why}" + (
            f"; instance mean{'s' if len(cols) > 1 else ''} {', '.join(v for _, v in cols)}" if means else ""))
    return "; ".join(clauses)


def flatten(results: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per stored result (as returned by ``Store.results()``)."""
    rows = []
    for r in results:
        meta = r.get("_row", {})
        row: dict[str, Any] = {
            "id": meta.get("id"), "adapter": dig(r, "adapter", "spec"), "family": dig(r, "adapter", "family") or "",
            "kind": dig(r, "adapter", "kind") or "", "status": meta.get("status", "unverified"),
            "group": meta.get("grp", "measured"), "version": meta.get("version", 1),
            "source": meta.get("source", "run"), "res": str(dig(r, "suite", "resolution")), "suite": suite_label(r),
            "modality": dig(r, "suite", "modality") or "image",
            "backends": f"{meta.get('text_backend', '')} + {meta.get('face_backend', '')}",
            "bpp": dig(r, "adapter", "bits_per_pixel"),
        }
        for col in metric_columns():
            for bucket in BUCKET_SHORT:
                row[metric_column(col.label, bucket)] = dig(r, "metrics", col.side, col.metric, bucket)
        row["face preservation"] = _preservation(dig(r, "metrics", "face", "f_sim", "mean"),
                                                 dig(r, "metrics", "face", "f_kept", "mean"))
        row["baseline"] = row["family"] in BASELINE_FAMILIES
        row["text backend"] = meta.get("text_backend", "")
        row["face backend"] = meta.get("face_backend", "")
        row["label"] = meta.get("label") or ""
        row["undefined"] = undefined_note(r)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=ID_COLUMNS + score_columns() + TAIL_COLUMNS)
    numeric = ["bpp", *score_columns()]
    frame[numeric] = frame[numeric].astype("float64")
    frame["version"] = frame["version"].astype("int64")
    return frame


@dataclass(frozen=True)
class Selection:
    """One comparable slice of the board: a suite, a resolution and a backend set."""

    suite: str
    res: str
    backends: str

    def label(self) -> str:
        return f"{self.suite} @ {self.res} [{self.backends}]"


def measured(frame: pd.DataFrame, status: str = "verified") -> pd.DataFrame:
    return frame[(frame["group"] == "measured") & (frame["status"] == status)]


def selections(frame: pd.DataFrame) -> list[tuple[Selection, int]]:
    """Every (suite, resolution, backends) with verified rows, most rows first (then by name)."""
    counts = measured(frame).groupby(["suite", "res", "backends"]).size()
    out = [(Selection(s, r, b), int(n)) for (s, r, b), n in counts.items()]
    return sorted(out, key=lambda x: (-x[1], x[0].suite, _res_order(x[0].res), x[0].backends))


def _res_order(res: str) -> tuple[int, str]:
    return (int(res), "") if res.isdigit() else (10**9, res)


def default_selection(frame: pd.DataFrame) -> Selection | None:
    """The suite with the most verified rows, then its resolution and backend set with the most rows."""
    rows = measured(frame)
    if rows.empty:
        return None
    suite = rows.groupby("suite").size().sort_values(ascending=False, kind="stable")
    top = rows[rows["suite"] == suite.index[0]]
    best = top.groupby(["res", "backends"]).size().sort_values(ascending=False, kind="stable").index[0]
    return Selection(str(suite.index[0]), str(best[0]), str(best[1]))


def in_selection(frame: pd.DataFrame, sel: Selection) -> pd.DataFrame:
    return frame[(frame["suite"] == sel.suite) & (frame["res"] == sel.res) & (frame["backends"] == sel.backends)]


def sort_table(frame: pd.DataFrame, column: str, ascending: bool | None = None) -> pd.DataFrame:
    """Sort by a column; by default better first (each metric declares its direction; bpp: smaller first)."""
    if column not in frame.columns:
        raise TfbenchError(f"cannot sort by {column!r}; columns: {', '.join(frame.columns)}")
    if ascending is None:
        ascending = direction(column) == "lower"
    return frame.sort_values(column, ascending=ascending, na_position="last", kind="stable")


def ranked(frame: pd.DataFrame, sel: Selection, by: str | None = None) -> pd.DataFrame:
    """The verified measured rows of one selection, best first, with a ``rank`` column (ties share a rank).

    A row whose ``by`` mean is undefined gets no rank (``<NA>``) and comes after every ranked row."""
    by = by or metric_columns()[0].label
    rows = sort_table(in_selection(measured(frame), sel), by)
    ascending = direction(by) == "lower"
    out = rows.copy()
    out.insert(0, "rank", rows[by].rank(method="min", ascending=ascending, na_option="keep").astype("Int64"))
    return out


def references(frame: pd.DataFrame, res: str | None = None, modality: str | None = None) -> pd.DataFrame:
    """Published rows (their own groups), optionally of one resolution and modality, never ranked."""
    rows = frame[frame["status"] == "reference"]
    if res is not None:
        rows = rows[rows["res"] == res]
    if modality is not None:
        rows = rows[rows["modality"] == modality]
    return sort_table(rows, metric_columns()[0].label)


def for_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as the app shows it: metric values as text with their registry digits and ``—`` where the mean
    is undefined, the rank as text (``—`` when unranked). Streamlit draws a missing number as "None", whatever a
    Styler says; its "smart" column sort still orders these texts as numbers."""
    out = frame.copy()
    for c in metric_columns():
        for bucket in BUCKET_SHORT:
            col = metric_column(c.label, bucket)
            if col in out.columns:
                out[col] = [UNDEFINED if pd.isna(v) else f"{v:.{c.info.digits}f}" for v in out[col]]
    if "rank" in out.columns:
        out["rank"] = [UNDEFINED if pd.isna(v) else str(int(v)) for v in out["rank"]]
    return out


def export_columns() -> list[str]:
    return ["rank", "adapter", "family", "kind", "status", "version", "suite", "res", "bpp", *score_columns(),
            "text backend", "face backend", "group", "undefined"]


def _export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if "rank" not in out.columns:
        out.insert(0, "rank", pd.array([pd.NA] * len(out), dtype="Int64"))
    return out[export_columns()]


def to_csv(frame: pd.DataFrame) -> str:
    """CSV of the table: an undefined mean is an empty field, its reason in the ``undefined`` column."""
    return _export_frame(frame).to_csv(index=False, float_format="%.4f")


def _cell(value: Any, missing: str = "-") -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return missing
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value).replace("|", "\\|")


def to_markdown(frame: pd.DataFrame) -> str:
    """Markdown of the table: an undefined mean (and the rank it cannot have) reads ``—``."""
    cols = export_columns()
    missing = [UNDEFINED if c in ("rank", *score_columns()) else "-" for c in cols]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(_cell(v, m) for v, m in zip(row, missing)) + " |"
              for row in _export_frame(frame).itertuples(index=False)]
    return "\n".join(lines) + "\n"
