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

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from tfbench.buckets import FACE_EDGES, NATIVE_EDGES_FROM, TEXT_EDGES, face_ratio, text_ratio
from tfbench.errors import ManifestError
from tfbench.images import sha256_of
from tfbench.jsonfile import read_json

SCHEMA = "tfbench.suite/1"
MAX_SIDE = 1 << 20  # pixels; larger sides are a typo, not an image


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


@dataclass
class Suite:
    name: str
    version: str
    modality: str
    images: list[ImageRecord]
    root: Path
    resolutions: list[str] = field(default_factory=lambda: ["256", "512", "1024", "native"])
    text_edges: dict[str, tuple[float, ...]] = field(default_factory=lambda: dict(TEXT_EDGES))
    face_edges: dict[str, tuple[float, ...]] = field(default_factory=lambda: dict(FACE_EDGES))
    license: str = ""
    citation: str = ""
    description: str = ""
    source: Path | None = None
    manifest_sha256: str | None = None  # of the manifest file it was loaded from (results carry it)
    curation: dict[str, Any] | None = None  # the manifest's `curation` section (None: not curated)

    def path_of(self, record: ImageRecord) -> Path:
        return self.root / record.file

    def edges(self, kind: str, resolution: str) -> tuple[float, ...]:
        table = self.text_edges if kind == "text" else self.face_edges
        key = NATIVE_EDGES_FROM if resolution == "native" else resolution
        if key not in table:
            raise ManifestError(f"suite {self.name!r} defines no {kind} bucket edges for resolution {resolution}; "
                                f"it supports {sorted(table)}")
        return table[key]

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "modality": self.modality,
                "images": len(self.images), "words": sum(len(r.words) for r in self.images),
                "faces": sum(len(r.faces) for r in self.images),
                "unreadable_words": sum(w.unreadable for r in self.images for w in r.words),
                "faces_without_landmarks": sum(len(r.excluded_faces) for r in self.images),
                "resolutions": self.resolutions,
                "license": self.license, "description": self.description}


class ManifestContext:
    """Builds error messages that name the file, the record and the field."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, what: str) -> ManifestError:
        return ManifestError(f"{self.source}: {where}: {what}")


def _finite(v: int | float) -> bool:
    try:
        return math.isfinite(v)
    except OverflowError:  # an integer beyond float range
        return False


def _list(ctx: ManifestContext, where: str, value: Any) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ctx.fail(where, f"expected a list, got {type(value).__name__}")
    return value


def _number_list(ctx: ManifestContext, where: str, value: Any, n: int) -> list[float]:
    if not isinstance(value, (list, tuple)) or len(value) != n:
        raise ctx.fail(where, f"expected a list of {n} numbers, got {value!r:.80}")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not _finite(v):
            raise ctx.fail(where, f"expected finite numbers, got {v!r}")
        out.append(float(v))
    return out


def _points(ctx: ManifestContext, where: str, value: Any, n: int) -> np.ndarray:
    if isinstance(value, (list, tuple)) and len(value) == 2 * n and all(isinstance(v, (int, float)) for v in value):
        value = [value[i:i + 2] for i in range(0, 2 * n, 2)]
    if not isinstance(value, (list, tuple)) or len(value) != n:
        raise ctx.fail(where, f"expected {n} [x, y] points, got {value!r:.80}")
    return np.array([_number_list(ctx, f"{where}[{i}]", p, 2) for i, p in enumerate(value)], dtype=np.float64)


MIN_POLYGON_POINTS = 3


def parse_polygon(ctx: ManifestContext, where: str, value: Any) -> np.ndarray:
    """A polygon of n >= 3 points, flat ``[x0, y0, x1, y1, ...]`` or ``[[x, y], ...]`` -> (n, 2) array."""
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (int, float)) for v in value):
        if len(value) % 2:
            raise ctx.fail(where, f"expected x, y pairs, got an odd count of {len(value)} numbers")
        value = [value[i:i + 2] for i in range(0, len(value), 2)]
    if not isinstance(value, (list, tuple)) or len(value) < MIN_POLYGON_POINTS:
        raise ctx.fail(where, f"expected a polygon of at least {MIN_POLYGON_POINTS} [x, y] points, got {value!r:.80}")
    return np.array([_number_list(ctx, f"{where}[{i}]", p, 2) for i, p in enumerate(value)], dtype=np.float64)


def _check_box(ctx: ManifestContext, where: str, box: list[float], width: int, height: int, tol: float = 1.0) -> None:
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        raise ctx.fail(where, f"box {box} has no area (need x0 < x1 and y0 < y1)")
    if x0 < -tol or y0 < -tol or x1 > width + tol or y1 > height + tol:
        raise ctx.fail(where, f"box {box} lies outside the {width}x{height} image")


def parse_word(ctx: ManifestContext, where: str, raw: Any, width: int, height: int) -> Word:
    """One word of a manifest (``text`` + ``box`` or ``polygon``, optional ``ratio`` and curation mark)."""
    if not isinstance(raw, dict):
        raise ctx.fail(where, "expected an object with `text` and `box` or `polygon`")
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ctx.fail(f"{where}.text", "empty or missing transcription")
    polygon = None
    if raw.get("polygon") is not None:
        pts = parse_polygon(ctx, f"{where}.polygon", raw["polygon"])
        polygon = tuple(map(tuple, pts.tolist()))
        box = [float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max())]
    elif raw.get("box", raw.get("bbox")) is not None:
        box = _number_list(ctx, f"{where}.box", raw.get("box", raw.get("bbox")), 4)
    else:
        raise ctx.fail(where, "needs `box` [x0, y0, x1, y1] or `polygon` [[x, y] x n, n >= 3]")
    _check_box(ctx, f"{where}.box", box, width, height)
    ratio = raw.get("ratio")
    if ratio is None:
        ratio = text_ratio(box[2] - box[0], box[3] - box[1], len(text), width)
    elif isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not _finite(ratio) or not ratio > 0:
        raise ctx.fail(f"{where}.ratio", f"expected a positive number, got {ratio!r}")
    unreadable = raw.get("unreadable", False)
    if not isinstance(unreadable, bool):
        raise ctx.fail(f"{where}.unreadable", f"expected true or false, got {unreadable!r}")
    reading = raw.get("reading")
    if reading is not None and not isinstance(reading, str):
        raise ctx.fail(f"{where}.reading", f"expected the OCR's reading as text, got {reading!r:.40}")
    return Word(text=text, box=tuple(box), ratio=float(ratio), polygon=polygon, unreadable=unreadable, reading=reading)


def parse_face(ctx: ManifestContext, where: str, raw: Any, width: int, height: int) -> Face | ExcludedFace:
    """One face of a manifest: a scorable :class:`Face`, or an :class:`ExcludedFace` when it is marked ``excluded``."""
    if not isinstance(raw, dict):
        raise ctx.fail(where, "expected an object with `box` and `landmarks`")
    if raw.get("excluded") is not None:
        return _excluded_face(ctx, where, raw, width, height)
    if raw.get("landmarks", raw.get("kps")) is None:
        raise ctx.fail(f"{where}.landmarks", "missing 5-point landmarks (import the data with "
                                             "`tfbench data import folder`, which detects them once)")
    lms = _points(ctx, f"{where}.landmarks", raw.get("landmarks", raw.get("kps")), 5)
    if raw.get("box", raw.get("bbox")) is not None:
        box = _number_list(ctx, f"{where}.box", raw.get("box", raw.get("bbox")), 4)
        _check_box(ctx, f"{where}.box", box, width, height)
    else:  # TokBench faces have landmarks only: bound them
        box = [float(lms[:, 0].min()), float(lms[:, 1].min()), float(lms[:, 0].max()), float(lms[:, 1].max())]
    if (lms[:, 0] < -1).any() or (lms[:, 1] < -1).any() or (lms[:, 0] > width + 1).any() or (lms[:, 1] > height + 1).any():
        raise ctx.fail(f"{where}.landmarks", f"points lie outside the {width}x{height} image")
    ratio = raw.get("ratio")
    if ratio is None:
        ratio = face_ratio(box[2] - box[0], box[3] - box[1], width)
    elif isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not _finite(ratio) or not ratio > 0:
        raise ctx.fail(f"{where}.ratio", f"expected a positive number, got {ratio!r}")
    groups = raw.get("groups") or {}
    if not isinstance(groups, dict):
        raise ctx.fail(f"{where}.groups", "expected an object of label -> value")
    return Face(box=tuple(box), landmarks=lms, ratio=float(ratio), identity=raw.get("identity"),
                groups={str(k): str(v) for k, v in groups.items()})


def _excluded_face(ctx: ManifestContext, where: str, raw: dict, width: int, height: int) -> ExcludedFace:
    reason = raw["excluded"]
    if not isinstance(reason, str) or not reason.strip():
        raise ctx.fail(f"{where}.excluded", f"expected the reason the face is not scored, got {reason!r:.40}")
    if raw.get("box", raw.get("bbox")) is None:
        raise ctx.fail(f"{where}.box", "an excluded face needs its box [x0, y0, x1, y1]")
    box = _number_list(ctx, f"{where}.box", raw.get("box", raw.get("bbox")), 4)
    _check_box(ctx, f"{where}.box", box, width, height)
    ratio = raw.get("ratio")
    if ratio is None:
        ratio = face_ratio(box[2] - box[0], box[3] - box[1], width)
    elif isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not _finite(ratio) or not ratio > 0:
        raise ctx.fail(f"{where}.ratio", f"expected a positive number, got {ratio!r}")
    return ExcludedFace(box=tuple(box), ratio=float(ratio), reason=reason)


def split_faces(faces: list[Face | ExcludedFace]) -> tuple[tuple[Face, ...], tuple[ExcludedFace, ...]]:
    """(scorable faces, excluded faces), each in manifest order."""
    return (tuple(f for f in faces if isinstance(f, Face)), tuple(f for f in faces if isinstance(f, ExcludedFace)))


def _image(ctx: ManifestContext, i: int, raw: Any) -> ImageRecord:
    where = f"images[{i}]"
    if not isinstance(raw, dict):
        raise ctx.fail(where, "expected an object")
    file = raw.get("file")
    if not isinstance(file, str) or not file:
        raise ctx.fail(f"{where}.file", "missing image path")
    if "\x00" in file or Path(file).is_absolute() or ".." in Path(file).parts:
        raise ctx.fail(f"{where}.file", f"{file!r} must be relative to the data root, without '..'")
    for key in ("width", "height"):
        v = raw.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 < v <= MAX_SIDE:
            raise ctx.fail(f"{where}.{key}", f"expected a positive integer up to {MAX_SIDE}, got {v!r:.40}")
    w, h = raw["width"], raw["height"]
    words = tuple(parse_word(ctx, f"{where}.words[{j}]", x, w, h) for j, x in enumerate(_list(ctx, f"{where}.words", raw.get("words"))))
    faces, excluded = split_faces([parse_face(ctx, f"{where}.faces[{j}]", x, w, h)
                                   for j, x in enumerate(_list(ctx, f"{where}.faces", raw.get("faces")))])
    sha = raw.get("sha256")
    if sha is not None and (not isinstance(sha, str) or len(sha) != 64):
        raise ctx.fail(f"{where}.sha256", f"expected 64 hex characters, got {sha!r}")
    return ImageRecord(id=str(raw.get("id") or file), file=file, width=w, height=h, words=words, faces=faces,
                       sha256=sha, subset=str(raw.get("subset") or ""), excluded_faces=excluded)


def parse_edges(ctx: ManifestContext, raw: Any, default: dict[str, tuple[float, ...]], kind: str) -> dict[str, tuple[float, ...]]:
    if raw is None:
        return dict(default)
    if not isinstance(raw, dict):
        raise ctx.fail(f"buckets.{kind}", "expected {resolution: [e0, e1, e2, e3]}")
    out = {}
    for res, edges in raw.items():
        vals = _number_list(ctx, f"buckets.{kind}.{res}", edges, 4)
        if vals != sorted(vals):
            raise ctx.fail(f"buckets.{kind}.{res}", f"edges must increase, got {vals}")
        out[str(res)] = tuple(vals)
    return out


def parse_records(ctx: ManifestContext, data: Any, schema: str, key: str, parse: Callable[[ManifestContext, int, Any], Any],
                  schema_default: str | None = None) -> list[Any]:
    """Check a manifest's header (object, schema, name, version) and parse ``data[key]`` with unique ids."""
    if not isinstance(data, dict):
        raise ctx.fail("top level", "expected a JSON object")
    if data.get("schema", schema_default) != schema:
        raise ctx.fail("schema", f"unsupported {data.get('schema')!r}; this tfbench reads {schema!r}")
    for field_name in ("name", "version"):
        if not isinstance(data.get(field_name), (str, int)) or str(data.get(field_name)) == "":
            raise ctx.fail(field_name, "missing")
    raw = data.get(key)
    if not isinstance(raw, list):
        raise ctx.fail(key, f"expected a list of {key}")
    records = [parse(ctx, i, r) for i, r in enumerate(raw)]
    seen: set[str] = set()
    for i, rec in enumerate(records):
        if rec.id in seen:
            raise ctx.fail(f"{key}[{i}].id", f"duplicate id {rec.id!r}")
        seen.add(rec.id)
    return records


def parse_suite(data: Any, root: Path, source: str = "<manifest>") -> Suite:
    ctx = ManifestContext(source)
    images = parse_records(ctx, data, SCHEMA, "images", _image, schema_default=SCHEMA)
    buckets = data.get("buckets") or {}
    if not isinstance(buckets, dict):
        raise ctx.fail("buckets", "expected {\"text\": {resolution: [e0, e1, e2, e3]}, \"face\": {...}}")
    resolutions = _list(ctx, "resolutions", data.get("resolutions", ["256", "512", "1024", "native"]))
    if not all(isinstance(r, (str, int)) and not isinstance(r, bool) for r in resolutions):
        raise ctx.fail("resolutions", f"expected resolution names such as \"256\" or \"native\", got {resolutions!r:.80}")
    return Suite(
        name=str(data["name"]), version=str(data["version"]), modality=str(data.get("modality", "image")),
        images=images, root=root,
        resolutions=[str(r) for r in resolutions],
        text_edges=parse_edges(ctx, buckets.get("text"), TEXT_EDGES, "text"),
        face_edges=parse_edges(ctx, buckets.get("face"), FACE_EDGES, "face"),
        license=str(data.get("license", "")), citation=str(data.get("citation", "")),
        description=str(data.get("description", "")), curation=parse_curation(ctx, data.get("curation")),
    )


def parse_curation(ctx: ManifestContext, raw: Any) -> dict[str, Any] | None:
    """The manifest's ``curation`` section: which OCR backend (name, version) marked its words."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ctx.fail("curation", "expected {\"text\": {\"backend\", \"version\"}, \"face\": {...}}")
    text = raw.get("text")
    if text is not None and not (isinstance(text, dict) and isinstance(text.get("backend"), str)
                                 and isinstance(text.get("version"), str)):
        raise ctx.fail("curation.text", f"expected {{\"backend\": name, \"version\": text}}, got {text!r:.80}")
    return raw


def load_suite_file(path: Path, data_root: Path | None = None) -> Suite:
    """Load and validate a manifest; images resolve against ``data_root`` (default: the manifest's folder)."""
    path = Path(path)
    data = read_json(path, ManifestError, f"manifest not found: {path}")
    suite = parse_suite(data, Path(data_root) if data_root else path.parent, source=str(path))
    suite.source, suite.manifest_sha256 = path, sha256_of(path)
    return suite
