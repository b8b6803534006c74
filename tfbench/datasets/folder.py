"""A user's folder of images + one JSON of words and faces -> a suite manifest, in one command.

Input (``DIR/manifest.json`` by default; a list, or ``{"images": [...]}``)::

    [{"file": "a.jpg", "width": 640, "height": 480,            # width/height optional (read from the file)
      "subset": "receipts", "identity": "alice",                # optional
      "words": [{"text": "TOTAL", "bbox": [x0, y0, x1, y1]}],   # or "polygon": n >= 3 [x, y] points (flat or pairs)
      "faces": [{"bbox": [x0, y0, x1, y1]}]}]                   # "landmarks" (5 points) optional

Faces without landmarks get them from the YuNet detector once, here: detections are matched to the
given boxes by IoU (greedy, best first); a face with no detection at IoU >= ``min_iou`` is kept in
the manifest marked ``excluded`` (never scored) and counted. Each image record is validated by
:class:`tfbench.schemas.inputs.AnnotatedImage` (published as ``schemas/folder-annotations.v1.json``); what
needs the image itself (it exists, its size, boxes inside it) is checked here. Every word is then read on its original
by the scoring OCR (:mod:`tfbench.datasets.curation`): words it does not read exactly are kept,
marked ``unreadable``, and not scored by default. Ratios follow the TokBench definitions
(:mod:`tfbench.buckets`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tfbench.datasets.checksums import ChecksumCache
from tfbench.datasets.common import ImportReport, Where, box_of, image_size, write_manifest
from tfbench.datasets.curation import Curator, face_section, progress
from tfbench.datasets.tokbench import read_annotation
from tfbench.errors import ManifestError
from tfbench.images import load_rgb
from tfbench.schemas.base import validate
from tfbench.schemas.inputs import AnnotatedFace, AnnotatedImage
from tfbench.schemas.suite import WordEntry

DEFAULT_ANNOTATIONS = "manifest.json"
DEFAULT_OUT = "tfbench-suite.json"
MIN_IOU = 0.3
FOLDER_SUITE_VERSION = "2"  # 2: curated (unreadable words and faces without landmarks kept, marked, not scored)


def iou(a: list[float], b: list[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match_detections(boxes: list[list[float]], detections: list[dict], min_iou: float) -> list[int | None]:
    """Greedy one-to-one matching by IoU, best pair first: index of the detection per box, or None."""
    pairs = sorted(((iou(b, d["box"]), i, j) for i, b in enumerate(boxes) for j, d in enumerate(detections)),
                   reverse=True)
    out: list[int | None] = [None] * len(boxes)
    used: set[int] = set()
    for score, i, j in pairs:
        if score < min_iou:
            break
        if out[i] is None and j not in used:
            out[i] = j
            used.add(j)
    return out


def _box(where: Where, fld: str, box: list[float], width: int, height: int, tol: float = 1.0) -> list[float]:
    """A validated box that has an area and lies in the image read from disk."""
    if box[2] <= box[0] or box[3] <= box[1]:
        raise where.fail(fld, f"box {box} has no area (need x0 < x1 and y0 < y1; boxes are [x0, y0, x1, y1])")
    if box[0] < -tol or box[1] < -tol or box[2] > width + tol or box[3] > height + tol:
        raise where.fail(fld, f"box {box} lies outside the {width}x{height} image")
    return box


def _words(where: Where, entries: list[WordEntry], width: int, height: int) -> list[dict]:
    out = []
    for j, w in enumerate(entries):
        at = f"words[{j}]"
        item: dict[str, Any] = {"text": w.text}
        if w.polygon is not None:
            _box(where, f"{at}.polygon", box_of([v for p in w.polygon for v in p]), width, height)
            item["polygon"] = [list(p) for p in w.polygon]
        elif w.box is not None:
            item["box"] = _box(where, f"{at}.bbox", list(w.box), width, height)
        else:
            raise where.fail(at, "needs `bbox` [x0, y0, x1, y1] or `polygon` [[x, y] x n, n >= 3]")
        out.append(item)
    return out


class _Landmarks:
    """Runs the detector at most once per image, only when a face lacks landmarks."""

    def __init__(self, detector: Any | None) -> None:
        self._detector = detector

    def detect(self, path: Path) -> list[dict]:
        from tfbench.images import load_rgb

        if self._detector is None:
            from tfbench.metrics.face import YuNetDetector

            self._detector = YuNetDetector()
        return self._detector.detect(load_rgb(path))


def _faces(where: Where, entries: list[AnnotatedFace], width: int, height: int, identity: str | None, path: Path,
           lm: _Landmarks, min_iou: float, report: ImportReport) -> list[dict]:
    faces: list[dict] = []
    for j, f in enumerate(entries):
        item: dict[str, Any] = {"box": _box(where, f"faces[{j}].bbox", list(f.box), width, height)}
        if f.landmarks is not None:
            item["landmarks"] = [list(p) for p in f.landmarks]
        ident = f.identity if f.identity is not None else identity
        if ident is not None:
            item["identity"] = ident
        if f.groups is not None:
            item["groups"] = dict(f.groups)
        faces.append(item)
    need = [k for k, f in enumerate(faces) if "landmarks" not in f]
    if need:
        detections = lm.detect(path)
        matches = match_detections([faces[k]["box"] for k in need], detections, min_iou)
        for k, m in zip(need, matches):
            if m is None:
                best = max((iou(faces[k]["box"], d["box"]) for d in detections), default=0.0)
                faces[k]["excluded"] = (f"no landmarks: no YuNet detection at IoU >= {min_iou} with this box "
                                        f"(best IoU {best:.2f} of {len(detections)} detections)")
                report.exclude_face(f"{where.at(f'faces[{k}].bbox')} (best IoU {best:.2f} of {len(detections)} detections)")
            else:
                faces[k]["landmarks"] = np.round(detections[m]["landmarks"], 2).tolist()
                report.landmarks_detected += 1
    return faces


def import_folder(folder: Path, annotations: Path | None = None, out: Path | None = None, name: str | None = None,
                  min_iou: float = MIN_IOU, detector: Any | None = None, cache: ChecksumCache | None = None,
                  ocr: Any | None = None) -> tuple[Path, ImportReport]:
    """Validate the folder's JSON, detect missing landmarks once, hash the images, curate, write the manifest.

    ``ocr``: the TextScorer that curates (default: RapidOCR, the default scoring backend).
    """
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise ManifestError(f"{folder} is not a folder of images")
    src = Path(annotations) if annotations else folder / DEFAULT_ANNOTATIONS
    data = read_annotation(src, f"give the JSON of words/faces with --annotations (format: see `tfbench data import folder -h`)")
    records = data.get("images") if isinstance(data, dict) else data
    if not isinstance(records, list):
        raise ManifestError(f"{src}: top level: expected a list of image records (or {{\"images\": [...]}})")
    report, lm = ImportReport(), _Landmarks(detector)
    own = cache is None
    cache = cache or ChecksumCache()
    images, seen = [], set()
    try:
        for i, raw in enumerate(records):
            file = raw.get("file") if isinstance(raw, dict) else None
            label = f"[{i}] ({file})" if isinstance(file, str) and file else f"[{i}]"
            entry = validate(AnnotatedImage, raw, str(src), ManifestError, at=label)
            file = entry.file
            where = Where(src, label)
            path = folder / file
            real = image_size(where, "file", path)
            for key, value in zip(("width", "height"), real):
                given = raw.get(key)
                if given is not None and given != value:
                    raise where.fail(key, f"the JSON says {given} but {path} is {real[0]}x{real[1]}")
            width, height = real
            words = _words(where, entry.words or [], width, height)
            faces = _faces(where, entry.faces or [], width, height, entry.identity, path, lm, min_iou, report)
            if not words and not faces:
                report.drop("image without words or faces", where.at("file"))
                continue
            rid = entry.id or file
            if rid in seen:
                raise where.fail("id" if entry.id else "file", f"duplicate image {rid!r}")
            seen.add(rid)
            subset = entry.subset
            images.append({"id": rid, "file": file, "width": width, "height": height, "subset": subset,
                           "sha256": cache.sha256(path), "words": words, "faces": faces})
            report.count(subset, len(words), len(faces))
    finally:
        if own:
            cache.save()
    curator = Curator(ocr)
    for img in progress(images, len(images), "curating"):
        if img["words"]:
            curator.mark(load_rgb(folder / img["file"]), img["words"])
    report.curation = {"text": curator.section() if report.words else None,
                       "face": face_section(report.faces, report.faces_without_landmarks,
                                            f"given, or YuNet detections matched by IoU >= {min_iou}")}
    out = Path(out) if out else folder / DEFAULT_OUT
    manifest = {"name": name or folder.name, "version": FOLDER_SUITE_VERSION, "modality": "image",
                "description": f"imported from {src.name} by `tfbench data import folder`",
                "source": {"annotations": str(src), "annotations_sha256": cache.sha256(src),
                           "importer": f"tfbench.datasets.folder/{FOLDER_SUITE_VERSION}", "min_iou": min_iou},
                "curation": report.curation, "import": report.to_dict(), "images": images}
    return write_manifest(out, manifest, folder), report
