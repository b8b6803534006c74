"""Shared pieces of the importers: the import report, source-located errors, box checks, writing."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from tfbench.errors import ManifestError
from tfbench.manifest import SCHEMA, load_suite_file
from tfbench.records import write_json_atomic


@dataclass
class ImportReport:
    """What an import kept, changed and dropped; nothing is dropped without being counted here."""

    images: int = 0
    words: int = 0
    faces: int = 0
    clipped: int = 0  # boxes that overshot the image and were clipped to it
    landmarks_detected: int = 0  # faces whose 5 landmarks came from the detector at import
    faces_without_landmarks: int = 0  # labelled faces the detector did not find: kept, marked `excluded`, not scored
    curation: dict[str, Any] = field(default_factory=dict)  # the manifest's `curation` section
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> count
    examples: list[str] = field(default_factory=list)  # first few dropped/changed items, for the user
    per_subset: dict[str, dict[str, int]] = field(default_factory=dict)

    def drop(self, reason: str, where: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1
        if len(self.examples) < 20:
            self.examples.append(f"{where}: {reason}")

    def count(self, subset: str, words: int, faces: int) -> None:
        self.images += 1
        self.words += words
        self.faces += faces
        s = self.per_subset.setdefault(subset, {"images": 0, "words": 0, "faces": 0})
        s["images"] += 1
        s["words"] += words
        s["faces"] += faces

    def to_dict(self) -> dict[str, Any]:
        return {"images": self.images, "words": self.words, "faces": self.faces, "clipped": self.clipped,
                "landmarks_detected": self.landmarks_detected, "faces_without_landmarks": self.faces_without_landmarks,
                "unreadable_words": self.unreadable_words,
                "dropped": dict(self.dropped), "examples": list(self.examples), "per_subset": self.per_subset}

    def exclude_face(self, where: str) -> None:
        self.faces_without_landmarks += 1
        if len(self.examples) < 20:
            self.examples.append(f"{where}: no landmarks (kept, marked `excluded`, not scored)")

    @property
    def unreadable_words(self) -> int:
        return int((self.curation.get("text") or {}).get("unreadable", 0))

    def summary(self) -> str:
        lines = [f"{self.images} images, {self.words} words, {self.faces} faces"]
        for name, s in sorted(self.per_subset.items()):
            lines.append(f"  {name or '(no subset)'}: {s['images']} images, {s['words']} words, {s['faces']} faces")
        if self.clipped:
            lines.append(f"  {self.clipped} boxes overshooting the image were clipped to it")
        if self.landmarks_detected:
            lines.append(f"  {self.landmarks_detected} faces got their 5 landmarks from the YuNet detector (IoU match)")
        text = self.curation.get("text")
        if text:
            lines.append(f"  curation: {text['unreadable']} of {text['words']} words are unreadable on the original with "
                         f"{text['backend']} ({text['version']}): kept in the manifest, marked, not scored "
                         f"(`tfbench run --keep-unreadable` scores them)")
        if self.faces_without_landmarks:
            lines.append(f"  curation: {self.faces_without_landmarks} faces have no landmarks (no detection matched "
                         f"their box): kept in the manifest, marked `excluded`, never scored")
        for reason, n in sorted(self.dropped.items()):
            lines.append(f"  dropped {n}: {reason}")
        lines += [f"    e.g. {e}" for e in self.examples[:5]]
        return "\n".join(lines)


class Where:
    """Names a place in a source file for error messages: ``file: [i] (name).field``."""

    def __init__(self, source: Path | str, record: str) -> None:
        self.source, self.record = str(source), record

    def at(self, fld: str) -> str:
        return f"{self.source}: {self.record}.{fld}" if fld else f"{self.source}: {self.record}"

    def fail(self, fld: str, what: str) -> ManifestError:
        return ManifestError(f"{self.at(fld)}: {what}")


def finite_numbers(where: Where, fld: str, value: Any, sizes: tuple[int, ...]) -> list[float]:
    """A flat list of finite numbers of one of the given lengths (nested pairs are flattened)."""
    flat = value
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (list, tuple)) for v in value):
        flat = [x for v in value for x in v]
    if not isinstance(flat, (list, tuple)) or len(flat) not in sizes:
        raise where.fail(fld, f"expected {' or '.join(map(str, sizes))} numbers, got {value!r:.80}")
    out = []
    for v in flat:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise where.fail(fld, f"expected finite numbers, got {v!r}")
        out.append(float(v))
    return out


def box_or_polygon(where: Where, fld: str, value: Any) -> list[float]:
    """A word's geometry, flattened: a box (4 numbers, or 2 corner pairs), or a polygon of n >= 3 points (flat or pairs)."""
    nested = isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, (list, tuple)) for v in value)
    if nested and any(len(v) != 2 for v in value):
        raise where.fail(fld, f"expected [x, y] points, got {value!r:.80}")
    flat = [x for v in value for x in v] if nested else value
    if not isinstance(flat, (list, tuple)) or len(flat) % 2 or len(flat) < 4:
        raise where.fail(fld, f"expected a box [x0, y0, x1, y1] or a polygon of at least 3 [x, y] points, "
                              f"got {value!r:.80}")
    return finite_numbers(where, fld, flat, (len(flat),))


def pairs(flat: list[float]) -> list[list[float]]:
    return [flat[k:k + 2] for k in range(0, len(flat), 2)]


def positive_int(where: Where, fld: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise where.fail(fld, f"expected a positive integer, got {value!r}")
    return value


def image_size(where: Where, fld: str, path: Path) -> tuple[int, int]:
    """(width, height) read from the file header; a missing or unreadable file is an error here."""
    if not path.is_file():
        raise where.fail(fld, f"image not found: {path}")
    try:
        with Image.open(path) as im:
            return im.size
    except (UnidentifiedImageError, OSError) as exc:
        raise where.fail(fld, f"cannot read image {path}: {exc}") from exc


def clip_box(box: list[float], width: int, height: int) -> tuple[list[float], bool]:
    """Box clipped to the image, and whether it changed."""
    c = [min(max(box[0], 0.0), width), min(max(box[1], 0.0), height),
         min(max(box[2], 0.0), width), min(max(box[3], 0.0), height)]
    return c, c != box


def box_of(points: list[float]) -> list[float]:
    xs, ys = points[0::2], points[1::2]
    return [min(xs), min(ys), max(xs), max(ys)]


def write_manifest(path: Path, manifest: dict[str, Any], data_root: Path) -> Path:
    """Write a manifest atomically, then read it back through the validator (a last safety net)."""
    manifest = {"schema": SCHEMA, **manifest}
    write_json_atomic(path, manifest)
    load_suite_file(path, data_root)
    return path
