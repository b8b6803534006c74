"""Suite manifests: a versioned suite definition plus validated per-image records.

Format (JSON, ``schema: "tfbench.suite/1"``)::

    {"schema": "tfbench.suite/1", "name": "mini", "version": "1", "modality": "image",
     "license": "...", "citation": "...", "description": "...",
     "resolutions": ["256", "512", "1024", "native"],
     "buckets": {"text": {"256": [e0, e1, e2, e3], ...}, "face": {...}},   # optional overrides
     "curation": {"text": {"backend": "rapidocr", "version": "...", "words": N, "unreadable": K},
                  "face": {"detector": "...", "faces": N, "without_landmarks": K}},   # written by the importers
     "images": [{"id": "...", "file": "relative/path.png", "width": W, "height": H, "sha256": "...",
                 "subset": "...",
                 "words": [{"text": "Hello", "box": [x0, y0, x1, y1]} | {"text": ..., "polygon": [[x, y] x n]},
                           ... "unreadable": true, "reading": "He1lo"],       # curation mark (optional)
                 "faces": [{"box": [x0, y0, x1, y1], "landmarks": [[x, y] x5], "identity": "...",
                            "groups": {"age": "..."}},
                           {"box": [...], "excluded": "no landmarks: ..."}]}]}   # kept, marked, never scored

``polygon``: n >= 3 points (flat ``[x0, y0, x1, y1, ...]`` or pairs). A 4-point polygon is read
rectified (clockwise from top-left), any other polygon (curved Total-Text / CTW1500 words) as its
axis-aligned bounding box, as TokBench cuts them (:func:`tfbench.crops.crop_word`).

Curation (:mod:`tfbench.datasets.curation`): a word marked ``unreadable`` is one the curating OCR
(``curation.text``) does not read exactly on the original; ``reading`` is what it read. It stays in
the suite and is not scored unless a run asks for it (``tfbench run --keep-unreadable``). A face with
``excluded`` (a reason; landmarks are then optional) is kept in the manifest and never scored: F-Sim
needs its 5 landmarks. ``ratio`` may be given per word/face (TokBench ships its own); otherwise it
is computed with the TokBench definitions in :mod:`tfbench.buckets`. Image paths are relative to the
data root.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tfbench.buckets import FACE_EDGES, NATIVE_EDGES_FROM, TEXT_EDGES, face_ratio, text_ratio
from tfbench.errors import ManifestError
from tfbench.images import sha256_of
from tfbench.jsonfile import read_json
from tfbench.schemas.base import validate
from tfbench.schemas.suite import SCHEMA  # noqa: F401 (re-exported: the suite manifest's schema tag)
from tfbench.schemas.suite import DEFAULT_RESOLUTIONS, FaceEntry, ImageEntry, SuiteManifest, WordEntry


@dataclass(frozen=True)
class Word:
    text: str
    box: tuple[float, float, float, float]  # axis-aligned bounds (of the polygon when there is one)
    ratio: float
    polygon: tuple[tuple[float, float], ...] | None = None  # n >= 3 points
    unreadable: bool = False  # the curating OCR does not read it exactly on the original
    reading: str | None = None  # what the curating OCR read there (for unreadable words)


@dataclass(frozen=True)
class Face:
    box: tuple[float, float, float, float]
    landmarks: np.ndarray  # (5, 2): right eye, left eye, nose, right mouth, left mouth (image coords)
    ratio: float
    identity: str | None = None
    groups: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExcludedFace:
    """A labelled face that cannot be scored (no 5-point landmarks were found): kept, counted, not scored."""

    box: tuple[float, float, float, float]
    ratio: float
    reason: str


@dataclass(frozen=True)
class ImageRecord:
    id: str
    file: str
    width: int
    height: int
    words: tuple[Word, ...] = ()
    faces: tuple[Face, ...] = ()
    sha256: str | None = None
    subset: str = ""
    excluded_faces: tuple[ExcludedFace, ...] = ()


def edges_at(table: dict[str, tuple[float, ...]], kind: str, resolution: str, suite: str,
             key: str | None = None) -> tuple[float, ...]:
    """A suite's ``kind`` bucket edges at ``resolution`` (looked up as ``key``, default the resolution itself);
    a resolution the table lacks is one error naming ``suite`` and the resolutions it supports."""
    key = resolution if key is None else key
    if key not in table:
        raise ManifestError(f"{suite} defines no {kind} bucket edges for resolution {resolution}; "
                            f"it supports {sorted(table)}")
    return table[key]


def _edge_table(declared: dict[str, list[float]] | None, default: dict[str, tuple[float, ...]]) -> dict[str, tuple[float, ...]]:
    """A manifest's ``buckets.text`` or ``buckets.face`` (validated) as {resolution: edges}, or ``default``."""
    return {k: tuple(v) for k, v in declared.items()} if declared is not None else dict(default)


def suite_fields(manifest: Any, data: dict, text_default: dict[str, tuple[float, ...]],
                 face_default: dict[str, tuple[float, ...]]) -> dict[str, Any]:
    """The fields an image or video suite takes from its validated manifest's header (everything but the items):
    name, version, resolutions, bucket edges (``*_default`` where the manifest declares none), license, citation,
    description and curation (as written)."""
    buckets = manifest.buckets
    return dict(name=manifest.name, version=manifest.version, resolutions=list(manifest.resolutions),
                text_edges=_edge_table(buckets and buckets.text, text_default),
                face_edges=_edge_table(buckets and buckets.face, face_default),
                license=manifest.license, citation=manifest.citation, description=manifest.description,
                curation=data.get("curation"))


@dataclass(kw_only=True)
class SuiteHeader:
    """What every suite, of images or of video clips, carries besides its items."""
    name: str
    version: str
    root: Path  # item files resolve against it
    license: str = ""
    citation: str = ""
    description: str = ""
    source: Path | None = None
    manifest_sha256: str | None = None  # of the manifest file it was loaded from (results carry it)
    curation: dict[str, Any] | None = None  # the manifest's `curation` section (None: not curated)

    def path_of(self, item: Any) -> Path:
        """Where an item (an image record or a clip) of this suite is on disk."""
        return self.root / item.file


@dataclass(kw_only=True)
class Suite(SuiteHeader):
    modality: str
    images: list[ImageRecord]
    resolutions: list[str] = field(default_factory=lambda: list(DEFAULT_RESOLUTIONS))
    text_edges: dict[str, tuple[float, ...]] = field(default_factory=lambda: dict(TEXT_EDGES))
    face_edges: dict[str, tuple[float, ...]] = field(default_factory=lambda: dict(FACE_EDGES))

    def edges(self, kind: str, resolution: str) -> tuple[float, ...]:
        key = NATIVE_EDGES_FROM if resolution == "native" else resolution
        table = self.text_edges if kind == "text" else self.face_edges
        return edges_at(table, kind, resolution, f"suite {self.name!r}", key)

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "modality": self.modality,
                "images": len(self.images), "words": sum(len(r.words) for r in self.images),
                "faces": sum(len(r.faces) for r in self.images),
                "unreadable_words": sum(w.unreadable for r in self.images for w in r.words),
                "faces_without_landmarks": sum(len(r.excluded_faces) for r in self.images),
                "resolutions": self.resolutions,
                "license": self.license, "description": self.description}


def word_from_entry(entry: WordEntry, width: int) -> Word:
    """A validated manifest word (:class:`tfbench.schemas.suite.WordEntry`) as the scorers' :class:`Word` (its
    ratio computed from the box when the manifest gives none)."""
    box = entry.bounds()
    assert box is not None  # entry_in_image refused a word without geometry
    ratio = entry.ratio if entry.ratio is not None else text_ratio(box[2] - box[0], box[3] - box[1], len(entry.text), width)
    polygon = tuple((p[0], p[1]) for p in entry.polygon) if entry.polygon is not None else None
    return Word(text=entry.text, box=(box[0], box[1], box[2], box[3]), ratio=float(ratio), polygon=polygon,
                unreadable=entry.unreadable, reading=entry.reading)


def face_from_entry(entry: FaceEntry, width: int) -> Face | ExcludedFace:
    """A validated manifest face (:class:`tfbench.schemas.suite.FaceEntry`): a scorable :class:`Face`, or an
    :class:`ExcludedFace` when it is marked ``excluded``."""
    box = entry.bounds()
    assert box is not None  # FaceEntry has a box or landmarks
    ratio = entry.ratio if entry.ratio is not None else face_ratio(box[2] - box[0], box[3] - box[1], width)
    if entry.excluded is not None:
        return ExcludedFace(box=(box[0], box[1], box[2], box[3]), ratio=float(ratio), reason=entry.excluded)
    return Face(box=(box[0], box[1], box[2], box[3]), landmarks=np.array(entry.landmarks, dtype=np.float64),
                ratio=float(ratio), identity=entry.identity, groups=dict(entry.groups or {}))


def split_faces(faces: list[Face | ExcludedFace]) -> tuple[tuple[Face, ...], tuple[ExcludedFace, ...]]:
    """(scorable faces, excluded faces), each in manifest order."""
    return (tuple(f for f in faces if isinstance(f, Face)), tuple(f for f in faces if isinstance(f, ExcludedFace)))


def _image(entry: ImageEntry) -> ImageRecord:
    faces, excluded = split_faces([face_from_entry(f, entry.width) for f in entry.faces or ()])
    return ImageRecord(id=entry.key, file=entry.file, width=entry.width, height=entry.height,
                       words=tuple(word_from_entry(w, entry.width) for w in entry.words or ()), faces=faces,
                       sha256=entry.sha256, subset=entry.subset, excluded_faces=excluded)


def parse_suite(data: Any, root: Path, source: str = "<manifest>") -> Suite:
    """A suite from a manifest's JSON, validated by :class:`tfbench.schemas.suite.SuiteManifest` (one error line
    naming ``source``, the JSON path and what was expected)."""
    manifest = validate(SuiteManifest, data, source, ManifestError)
    return Suite(modality=manifest.modality, images=[_image(entry) for entry in manifest.images], root=root,
                 **suite_fields(manifest, data, TEXT_EDGES, FACE_EDGES))


def load_suite_file(path: Path, data_root: Path | None = None) -> Suite:
    """Load and validate a manifest; images resolve against ``data_root`` (default: the manifest's folder)."""
    path = Path(path)
    data = read_json(path, ManifestError, f"manifest not found: {path}")
    suite = parse_suite(data, Path(data_root) if data_root else path.parent, source=str(path))
    suite.source, suite.manifest_sha256 = path, sha256_of(path)
    return suite
