"""Reference rows: published numbers (e.g. the TokBench paper's tables) imported from a CSV as a labelled set.

CSV format (UTF-8, header row, one row per adapter and resolution; empty cell = not reported):

=================  ========  =================================================================
column             required  meaning
=================  ========  =================================================================
label              yes       name of the reference set, e.g. ``TokBench paper, Table 2``
adapter            yes       the model as the source names it, e.g. ``FLUX.1-dev VAE``
resolution         yes       ``256``, ``512``, ``1024`` or ``native``
suite              no        default ``tokbench``
suite_version      no        default ``paper``
family, kind       no        default ``reference`` / ``reference``
text_backend       no        default ``as published`` (never mixed with rows scored by tfbench)
face_backend       no        default ``as published``
bits_per_pixel     no        compression, if the source gives it
t_acc_small ...    no        ``t_acc``, ``t_ned``, ``f_sim``, ``f_kept`` each with ``_small``,
                             ``_medium``, ``_large``, ``_mean``; fractions (divide percentages
                             by 100); a missing ``_mean`` is the mean of the given buckets
note               no        where the numbers come from (table, page)
=================  ========  =================================================================

Each row becomes a ``tfbench.results/1`` dict and is imported with ``source = reference``.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from tfbench.errors import TfbenchError
from tfbench.leaderboard.schema import validate_results
from tfbench.leaderboard.store import ImportOutcome, Store
from tfbench.results import SCHEMA

METRIC_COLUMNS = {"text": ("t_acc", "t_ned"), "face": ("f_sim", "f_kept")}
BUCKETS = ("small", "medium", "large")
REQUIRED = ("label", "adapter", "resolution")
OPTIONAL = ("suite", "suite_version", "family", "kind", "text_backend", "face_backend", "bits_per_pixel", "note")
COLUMNS = REQUIRED + OPTIONAL + tuple(f"{m}_{b}" for ms in METRIC_COLUMNS.values() for m in ms
                                      for b in (*BUCKETS, "mean"))
MAX_CSV_BYTES = 1024 * 1024


def _float(value: str, where: str) -> float | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise TfbenchError(f"{where}: {value!r} is not a number") from exc


def row_to_results(row: dict[str, str], where: str) -> dict[str, Any]:
    """One CSV row -> a validated results dict."""
    for col in REQUIRED:
        if not (row.get(col) or "").strip():
            raise TfbenchError(f"{where}: column `{col}` is empty")
    metrics: dict[str, Any] = {}
    for side, names in METRIC_COLUMNS.items():
        block: dict[str, Any] = {}
        for m in names:
            buckets = {b: _float(row.get(f"{m}_{b}", ""), f"{where} {m}_{b}") for b in (*BUCKETS, "mean")}
            given = [buckets[b] for b in BUCKETS if buckets[b] is not None]
            if buckets["mean"] is None and given:
                buckets["mean"] = sum(given) / len(given)
            for b, v in buckets.items():
                if v is not None and m != "f_sim" and v > 1:
                    raise TfbenchError(f"{where}: {m}_{b} = {v} is above 1; the CSV holds fractions, "
                                       f"divide percentages by 100")
            block[m] = buckets
        metrics[side] = block
    text = lambda col, default: (row.get(col) or "").strip() or default  # noqa: E731
    data = {
        "schema": SCHEMA,
        "adapter": {"spec": text("adapter", ""), "family": text("family", "reference"),
                    "kind": text("kind", "reference"), "bits_per_pixel": _float(row.get("bits_per_pixel", ""), where)},
        "suite": {"name": text("suite", "tokbench"), "version": text("suite_version", "paper"),
                  "resolution": text("resolution", ""), "modality": "image"},
        "backends": {"text": {"backend": text("text_backend", "as published")},
                     "face": {"backend": text("face_backend", "as published")}},
        "metrics": metrics,
        "reference": {"label": text("label", ""), "note": text("note", "")},
    }
    return validate_results(data, where)


def read_reference_csv(raw: bytes, name: str = "reference.csv") -> list[dict[str, Any]]:
    if len(raw) > MAX_CSV_BYTES:
        raise TfbenchError(f"{name} is {len(raw):,} bytes; the limit is {MAX_CSV_BYTES:,}")
    try:
        reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
        header = reader.fieldnames or []
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise TfbenchError(f"{name}: missing column(s) {', '.join(missing)}; the columns are {', '.join(COLUMNS)}")
        unknown = [c for c in header if c not in COLUMNS]
        if unknown:
            raise TfbenchError(f"{name}: unknown column(s) {', '.join(unknown)}; the columns are {', '.join(COLUMNS)}")
        rows = [row_to_results(row, f"{name} line {n}") for n, row in enumerate(reader, 2)]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise TfbenchError(f"{name} is not a UTF-8 CSV file ({exc})") from exc
    if not rows:
        raise TfbenchError(f"{name} has no rows")
    return rows


def import_reference(store: Store, path: str | Path) -> list[ImportOutcome]:
    path = Path(path)
    if not path.is_file():
        raise TfbenchError(f"reference CSV not found: {path}")
    return [store.import_results(data, source="reference", label=data["reference"]["label"], origin=str(path))
            for data in read_reference_csv(path.read_bytes(), path.name)]
