"""Pair original and processed media: two folders matched by relative path, or a CSV of pairs.

A pairs CSV has a header with ``original`` and ``processed`` columns (paths relative to the CSV's
folder, or absolute); every other non-empty column is a group label (e.g. ``age``, ``gender``,
``skin_tone``) attached to the faces of that pair. Files present on one side only are returned as
unpaired, never dropped silently.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from tfbench.errors import TfbenchError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v"})
MEDIA_EXTENSIONS = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS


def media_kind(path: Path) -> str | None:
    ext = Path(path).suffix.lower()
    return "image" if ext in IMAGE_EXTENSIONS else "video" if ext in VIDEO_EXTENSIONS else None


@dataclass(frozen=True)
class Pair:
    """One original/processed pair; ``key`` names it in reports (relative path or CSV row)."""

    key: str
    original: Path | None
    processed: Path | None
    groups: dict[str, str] = field(default_factory=dict)
    missing: str | None = None  # a pairs-CSV row naming a file that does not exist

    @property
    def kind(self) -> str | None:
        return media_kind(self.original or self.processed or Path(self.key))

    @property
    def unpaired(self) -> str | None:
        if self.missing:
            return self.missing
        if self.original is None:
            return "processed file has no original"
        if self.processed is None:
            return "original has no processed counterpart"
        return None


def _media(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*"))
            if p.is_file() and p.suffix.lower() in MEDIA_EXTENSIONS}


def pair_folders(original: Path, processed: Path) -> list[Pair]:
    """Every media file under either folder, matched by relative path (sorted by key)."""
    a, b = _media(original), _media(processed)
    return [Pair(key, a.get(key), b.get(key)) for key in sorted(set(a) | set(b))]


def _resolve(base: Path, text: str) -> Path | None:
    return None if not text else Path(text) if Path(text).is_absolute() else base / text


def read_pairs_csv(path: Path) -> list[Pair]:
    base = path.parent
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            columns = [c.strip() for c in (reader.fieldnames or [])]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TfbenchError(f"cannot read pairs file {path}: {exc}") from exc
    if "original" not in columns or "processed" not in columns:
        raise TfbenchError(f"{path}: a pairs CSV needs a header with `original` and `processed` columns "
                           f"(found: {', '.join(columns) or 'none'}); other columns are group labels")
    pairs = []
    for n, row in enumerate(rows, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        orig, proc = row.pop("original"), row.pop("processed")
        o, p = _resolve(base, orig), _resolve(base, proc)
        key = orig or proc or f"row {n}"
        absent = [f"{side} {fp} not found" for side, fp in (("original", o), ("processed", p))
                  if fp is not None and not fp.is_file()]
        pairs.append(Pair(key, o if o is None or o.is_file() else None, p if p is None or p.is_file() else None,
                          {k: v for k, v in row.items() if k and v}, f"{path.name} line {n}: {'; '.join(absent)}"
                          if absent else None))
    return pairs


def collect_pairs(original: Path, processed: Path | None) -> list[Pair]:
    """CLI inputs -> pairs: two folders, two files, or one pairs CSV (processed then omitted)."""
    original = Path(original)
    if original.suffix.lower() == ".csv":
        if processed is not None:
            raise TfbenchError("give either a pairs CSV or two folders, not a CSV and a PROCESSED path")
        if not original.is_file():
            raise TfbenchError(f"pairs file not found: {original}")
        return read_pairs_csv(original)
    if processed is None:
        raise TfbenchError("PROCESSED is missing: give ORIGINAL and PROCESSED folders (or files), or one pairs CSV")
    processed = Path(processed)
    for p in (original, processed):
        if not p.exists():
            raise TfbenchError(f"no such file or folder: {p}")
    if original.is_dir() != processed.is_dir():
        raise TfbenchError(f"{original} and {processed} must both be folders or both be files")
    if original.is_dir():
        return pair_folders(original, processed)
    return [Pair(original.name, original, processed)]
