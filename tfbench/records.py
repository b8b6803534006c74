"""Per-image records: an append-only JSONL journal that survives kills and lets a rerun resume.

Each line is one complete JSON object written with a single ``write`` and flushed; a line cut short
by a crash (no trailing newline or invalid JSON) is dropped when the journal is reopened. When an
image appears several times (an error retried later), the last line wins.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

from tfbench.errors import ResultsError


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a record (tfbench writes strict JSON)")


def read_records(path: Path, repair: bool = False) -> list[dict[str, Any]]:
    """All complete records of a journal, in order; ``repair`` truncates a torn last line."""
    path = Path(path)
    if not path.exists():
        return []
    raw = path.read_bytes()
    records: list[dict[str, Any]] = []
    good_end = 0
    pos = 0
    for line in raw.splitlines(keepends=True):
        end = pos + len(line)
        pos = end
        if not line.endswith(b"\n"):
            break  # torn write
        text = line.strip()
        if not text:
            good_end = end
            continue
        try:
            rec = json.loads(text, parse_constant=_no_constant)
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, NaN/Infinity
            if end == len(raw):
                break
            why = exc.msg if isinstance(exc, json.JSONDecodeError) else (
                f"not UTF-8: {exc.reason}" if isinstance(exc, UnicodeDecodeError) else str(exc))
            raise ResultsError(f"{path}: line {len(records) + 1} is not valid JSON ({why}); "
                               f"the journal is damaged in the middle: delete that line or the file") from exc
        if not isinstance(rec, dict) or "image" not in rec:
            raise ResultsError(f"{path}: line {len(records) + 1} is not a tfbench record (no `image` field)")
        records.append(rec)
        good_end = end
    if repair and good_end < len(raw):
        with open(path, "r+b") as f:
            f.truncate(good_end)
    return records


def latest_by_image(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Last record of each image (a retried image supersedes its earlier error)."""
    out: dict[str, dict[str, Any]] = {}
    for rec in records:
        out[str(rec["image"])] = rec
    return out


class RecordWriter:
    """Appends records to a journal, one flushed line each."""

    def __init__(self, path: Path, fsync: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        read_records(self.path, repair=True)
        self._f = open(self.path, "ab")
        self.fsync = fsync

    def append(self, record: dict[str, Any]) -> None:
        self._f.write((json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8"))
        self._f.flush()
        if self.fsync:
            os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> "RecordWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON through a temporary file and rename, so readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, ensure_ascii=False, allow_nan=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    yield from read_records(path)
