"""Curation: which ground-truth words the OCR can read on the original, for every imported suite.

TokBench (and tfbench's ``mini``) only score words their OCR reads exactly on the *original* image:
otherwise a score mixes OCR failures with tokenizer failures. The importers do the same: the OCR
that scores (default RapidOCR, :class:`tfbench.metrics.text.TextScorer`) reads every ground-truth
word on the original, cut with the scoring crop (:func:`tfbench.crops.crop_word`); a word it does not
read exactly (case-sensitive) stays in the manifest marked ``"unreadable": true`` with its
``"reading"``, and runs do not score it unless asked (``tfbench run --keep-unreadable``). The
manifest's ``curation`` section names the curating backend and version.

A run with another OCR backend (``--ocr parseq``, a newer RapidOCR) re-curates for that backend
(:func:`curate_for_backend`): the same reading of every word on its original, once, cached under
``$TFBENCH_CACHE/curation/`` keyed by the manifest's sha256, the backend name and its version.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from tfbench.cache import cache_dir
from tfbench.crops import crop_word
from tfbench.images import load_rgb, sha256_of
from tfbench.manifest import ImageRecord
from tfbench.metrics.text import word_accuracy
from tfbench.records import write_json_atomic

RULE = "exact, case-sensitive OCR reading of the word crop (tfbench.crops.crop_word) on the original"
CACHE_SCHEMA = "tfbench.curation/1"


def word_geometry(item: dict[str, Any]) -> tuple[list[float], list[list[float]] | None]:
    """(box, polygon or None) of a manifest word item (``box`` or ``polygon`` of [x, y] pairs)."""
    poly = item.get("polygon")
    if poly is not None:
        xs, ys = [p[0] for p in poly], [p[1] for p in poly]
        return [min(xs), min(ys), max(xs), max(ys)], poly
    return list(item["box"]), None


class Curator:
    """Marks the words an OCR backend cannot read on their original; counts what it read and marked.

    ``ocr`` is a :class:`~tfbench.metrics.text.TextScorer` (the default RapidOCR one is loaded on first use).
    """

    def __init__(self, ocr: Any | None = None) -> None:
        self._ocr = ocr
        self.words = 0
        self.unreadable = 0

    @property
    def ocr(self) -> Any:
        if self._ocr is None:
            from tfbench.metrics.text import TextScorer

            self._ocr = TextScorer("rapidocr")
        return self._ocr

    def readings(self, image: np.ndarray, geometry: Sequence[tuple[Sequence[float], Any]]) -> list[str]:
        """What the OCR reads in each (box, polygon) of ``image`` (uint8 RGB), cut as scoring cuts it."""
        if not geometry:
            return []
        return self.ocr.backend.recognize([crop_word(image, box, poly) for box, poly in geometry])

    def mark(self, image: np.ndarray, words: list[dict[str, Any]]) -> int:
        """Set (or clear) the ``unreadable``/``reading`` marks of manifest word items in place; returns how many are unreadable."""
        reads = self.readings(image, [word_geometry(w) for w in words])
        bad = 0
        for w, pred in zip(words, reads):
            w.pop("unreadable", None)
            w.pop("reading", None)
            if word_accuracy(w["text"], pred) != 1.0:
                w["unreadable"], w["reading"] = True, pred
                bad += 1
        self.words += len(words)
        self.unreadable += bad
        return bad

    def section(self) -> dict[str, Any]:
        """The manifest's ``curation.text``."""
        described = self.ocr.describe()
        return {"backend": described["backend"], "version": described["version"], "rule": RULE,
                "words": self.words, "unreadable": self.unreadable}


def face_section(faces: int, without_landmarks: int, landmarks_from: str) -> dict[str, Any]:
    """The manifest's ``curation.face``: faces kept, and how many have no landmarks (kept, marked, not scored)."""
    return {"landmarks": landmarks_from, "faces": faces, "without_landmarks": without_landmarks}


def progress(items: Iterable, total: int, desc: str) -> Iterable:
    """A progress bar on an interactive terminal (long imports), else the items as they are."""
    if not sys.stderr.isatty():
        return items
    from tqdm import tqdm

    return tqdm(items, total=total, desc=desc, unit="img", leave=False)


# ------------------------------------------------------------------ re-curation for another backend


def _same_backend(curation: dict[str, Any] | None, described: dict[str, str]) -> bool:
    text = (curation or {}).get("text") or {}
    return text.get("backend") == described["backend"] and text.get("version") == described["version"]


def _cache_path(manifest_sha: str, described: dict[str, str]) -> Path:
    version = hashlib.sha256(described["version"].encode()).hexdigest()[:12]
    return cache_dir() / "curation" / f"{manifest_sha[:20]}-{described['backend']}-{version}.json"


def _read_cache(path: Path, manifest_sha: str, described: dict[str, str]) -> dict[str, list[str]] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None  # missing or damaged: computed again
    ok = (isinstance(data, dict) and data.get("schema") == CACHE_SCHEMA and data.get("manifest_sha256") == manifest_sha
          and data.get("backend") == described["backend"] and data.get("version") == described["version"]
          and isinstance(data.get("readings"), dict))
    return data["readings"] if ok else None


def _frames(suite: Any) -> Iterable[tuple[ImageRecord, np.ndarray]]:
    """(record, original image) of every record with words: images of an image suite, annotated frames of a video suite."""
    if hasattr(suite, "images"):
        for rec in suite.images:
            if rec.words:
                yield rec, load_rgb(suite.path_of(rec))
        return
    from tfbench.video.io import iter_frames

    for clip in suite.clips:
        wanted = {a.frame: a.record for a in clip.annotations if a.record.words}
        if wanted:
            for idx, frame in enumerate(iter_frames(suite.path_of(clip), 0, max(wanted) + 1)):
                if idx in wanted:
                    yield wanted[idx], frame


def _remark(record: ImageRecord, reads: list[str]) -> ImageRecord:
    words = []
    for w, pred in zip(record.words, reads):
        bad = word_accuracy(w.text, pred) != 1.0
        words.append(dataclasses.replace(w, unreadable=bad, reading=pred if bad else None))
    return dataclasses.replace(record, words=tuple(words))


def _apply(suite: Any, readings: dict[str, list[str]]) -> Any:
    if hasattr(suite, "images"):
        return dataclasses.replace(suite, images=[_remark(r, readings[r.id]) if r.words else r for r in suite.images])
    clips = []
    for clip in suite.clips:
        anns = tuple(dataclasses.replace(a, record=_remark(a.record, readings[a.record.id])) if a.record.words else a
                     for a in clip.annotations)
        clips.append(dataclasses.replace(clip, annotations=anns))
    return dataclasses.replace(suite, clips=clips)


def _records(suite: Any) -> list[ImageRecord]:
    if hasattr(suite, "images"):
        return [r for r in suite.images if r.words]
    return [a.record for c in suite.clips for a in c.annotations if a.record.words]


def curate_for_backend(suite: Any, ocr: Any) -> tuple[Any, str | None]:
    """The suite with its words' curation marks for the run's OCR (a TextScorer), and a note for the user.

    A suite curated with the same backend and version, or not curated at all (no ``curation.text``),
    is returned as it is. Otherwise every word is read on its original with ``ocr`` (once: the
    readings are cached by manifest sha256 + backend + version) and the marks are replaced.
    """
    text = (suite.curation or {}).get("text")
    if not text:
        return suite, None
    described = ocr.describe()
    if _same_backend(suite.curation, described):
        return suite, None
    records = _records(suite)
    manifest_sha = sha256_of(suite.source) if suite.source and Path(suite.source).is_file() else None
    cache = _cache_path(manifest_sha, described) if manifest_sha else None
    readings = _read_cache(cache, manifest_sha, described) if cache else None  # type: ignore[arg-type]
    if readings is None or any(len(readings.get(r.id, ())) != len(r.words) for r in records):
        curator = Curator(ocr)
        readings = {rec.id: curator.readings(image, [(w.box, w.polygon) for w in rec.words])
                    for rec, image in progress(_frames(suite), len(records), f"curating for {described['backend']}")}
        if cache is not None:
            try:
                write_json_atomic(cache, {"schema": CACHE_SCHEMA, "manifest": str(suite.source),
                                          "manifest_sha256": manifest_sha, **described, "readings": readings})
            except OSError:
                pass  # an unwritable cache only costs curating again next time
        how = f"read every word on its original (cached in {cache})" if cache else "read every word on its original"
    else:
        how = f"cached readings from {cache}"
    curated = _apply(suite, readings)
    unreadable = sum(w.unreadable for r in _records(curated) for w in r.words)
    total = sum(len(r.words) for r in records)
    curated.curation = {**suite.curation, "text": {"backend": described["backend"], "version": described["version"],
                                                   "rule": RULE, "words": total, "unreadable": unreadable,
                                                   "recurated_from": {k: text.get(k) for k in ("backend", "version")}}}
    note = (f"suite {suite.name!r} was curated with {text.get('backend')} ({text.get('version')}); re-curated for "
            f"{described['backend']} ({described['version']}): {how}; {unreadable} of {total} words unreadable on the "
            f"original with it are not scored")
    return curated, note


def excluded_summary(results: list[dict[str, Any]]) -> str | None:
    """One line for the user: how many instances curation kept out of scoring (None when there are none)."""
    counts = [r.get("counts") or {} for r in results]
    words = max((c.get("unreadable_words", 0) for c in counts), default=0)
    faces = max((c.get("faces_without_landmarks", 0) for c in counts), default=0)
    if not words and not faces:
        return None
    parts = []
    if words:
        parts.append(f"{words} words unreadable on the original (--keep-unreadable scores them)")
    if faces:
        parts.append(f"{faces} faces without landmarks")
    return "not scored (curation, counted in results.json `counts`): " + "; ".join(parts)
