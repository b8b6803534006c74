"""Published numbers: read-only rows of their own group, shown beside but never ranked with measured rows.

tfbench ships the TokBench authors' published leaderboard (``data/tokbench-paper-leaderboard.csv``; its
provenance is in ``data/README.md``): 76 rows, image 256/512/1024 and video 256/480, scored on the full
TokBench data with the paper's own backends (docTR PARSeq, insightface antelopev2). They are imported as
the group ``PAPER_GROUP``, suite ``tokbench`` / ``tokbench-video`` version ``paper``, status ``reference``.

CSV format (UTF-8, header row; the paper's own units)::

    set,res,method,tacc_s,tacc_m,tacc_l,tacc_mean,tned_s,tned_m,tned_l,tned_mean,fsim_s,fsim_m,fsim_l,fsim_mean[,note]

``set`` is ``image`` or ``video``; T-ACC and T-NED in percent (0-100), F-Sim a cosine (0-1); ``_mean`` is
the published mean of the bucket means (kept as published, never recomputed).
"""
from __future__ import annotations

import csv
import io
from importlib import resources
from pathlib import Path
from typing import Any

from tfbench.errors import TfbenchError
from tfbench.leaderboard.schema import validate_results
from tfbench.leaderboard.store import ImportOutcome, Store
from tfbench.results import SCHEMA

PAPER_GROUP = "paper-reported: TokBench data, PARSeq + antelopev2"
PAPER_CSV = "tokbench-paper-leaderboard.csv"
PAPER_SOURCE = ("Wu et al. 2025, TokBench: Evaluating Your Visual Tokenizer before Visual Generation, "
                "arXiv 2505.18142 (leaderboard of the project page, transcribed by hand)")
PAPER_BACKENDS = {"text": {"backend": "PARSeq", "version": "docTR, as published"},
                  "face": {"backend": "antelopev2", "version": "insightface recognition, as published"}}
SUITE_OF_SET = {"image": "tokbench", "video": "tokbench-video"}
BUCKETS = {"s": "small", "m": "medium", "l": "large", "mean": "mean"}
METRICS = {"tacc": ("text", "t_acc", 100.0), "tned": ("text", "t_ned", 100.0), "fsim": ("face", "f_sim", 1.0)}
REQUIRED = ("set", "res", "method", *(f"{m}_{b}" for m in METRICS for b in BUCKETS))
COLUMNS = (*REQUIRED, "note")
MAX_CSV_BYTES = 1024 * 1024


def paper_csv() -> bytes:
    """The shipped TokBench paper leaderboard (bytes of the CSV inside the package)."""
    return resources.files("tfbench.leaderboard").joinpath("data", PAPER_CSV).read_bytes()


def _float(value: str | None, where: str, scale: float) -> float | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError as exc:
        raise TfbenchError(f"{where}: {value!r} is not a number") from exc
    if scale == 100.0 and not 0.0 <= number <= 100.0:
        raise TfbenchError(f"{where}: {number} is outside 0-100; T-ACC and T-NED are given in percent")
    if scale == 1.0 and not -1.0 <= number <= 1.0:
        raise TfbenchError(f"{where}: {number} is outside -1..1; F-Sim is given as a cosine similarity")
    return number / scale


def row_to_results(row: dict[str, str], where: str, source: str) -> dict[str, Any]:
    """One CSV row -> a validated results dict (fractions, as tfbench stores them)."""
    for col in ("set", "res", "method"):
        if not (row.get(col) or "").strip():
            raise TfbenchError(f"{where}: column `{col}` is empty")
    modality = row["set"].strip()
    if modality not in SUITE_OF_SET:
        raise TfbenchError(f"{where}: set {modality!r} must be image or video")
    metrics: dict[str, Any] = {"text": {}, "face": {}}
    for prefix, (side, name, scale) in METRICS.items():
        metrics[side][name] = {bucket: _float(row.get(f"{prefix}_{short}"), f"{where} {prefix}_{short}", scale)
                               for short, bucket in BUCKETS.items()}
    data = {
        "schema": SCHEMA,
        "adapter": {"spec": row["method"].strip(), "family": "reference", "kind": "published"},
        "suite": {"name": SUITE_OF_SET[modality], "version": "paper", "resolution": row["res"].strip(),
                  "modality": modality},
        "backends": PAPER_BACKENDS,
        "metrics": metrics,
        "reference": {"source": source, "note": (row.get("note") or "").strip()},
    }
    return validate_results(data, where)


def read_reference_csv(raw: bytes, name: str = "reference.csv", source: str = "") -> list[dict[str, Any]]:
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
        rows = [row_to_results(row, f"{name} line {n}", source or name) for n, row in enumerate(reader, 2)]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise TfbenchError(f"{name} is not a UTF-8 CSV file ({exc})") from exc
    if not rows:
        raise TfbenchError(f"{name} has no rows")
    return rows


def import_reference(store: Store, path: str | Path | None = None, group: str | None = None,
                     source: str | None = None) -> list[ImportOutcome]:
    """Import published numbers as read-only rows of ``group`` (default: the shipped TokBench paper CSV)."""
    if path is None:
        raw, name, group, source = paper_csv(), PAPER_CSV, group or PAPER_GROUP, source or PAPER_SOURCE
    else:
        path = Path(path)
        if not path.is_file():
            raise TfbenchError(f"reference CSV not found: {path}")
        if not group:
            raise TfbenchError("a reference CSV other than the shipped paper leaderboard needs --group NAME "
                               "(where its numbers come from; shown as their own group)")
        raw, name = path.read_bytes(), path.name
    rows = read_reference_csv(raw, name, source or "")
    return [store.import_results(data, source="reference", status="reference", label=group, group=group,
                                 origin=name, verification={"reference": data["reference"]["source"]})
            for data in rows]
