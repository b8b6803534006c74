"""A user's folder of images + one JSON of words and faces -> a suite manifest, in one command.

Input (``DIR/manifest.json`` by default; a list, or ``{"images": [...]}``)::

    [{"file": "a.jpg", "width": 640, "height": 480,            # width/height optional (read from the file)
      "subset": "receipts", "identity": "alice",                # optional
      "words": [{"text": "TOTAL", "bbox": [x0, y0, x1, y1]}],   # or "polygon": [x, y] x4 (flat or pairs)
      "faces": [{"bbox": [x0, y0, x1, y1]}]}]                   # "landmarks" (5 points) optional

Faces without landmarks get them from the YuNet detector once, here: detections are matched to the
given boxes by IoU (greedy, best first); a face with no detection at IoU >= ``min_iou`` is left out
of the suite and counted in the report and in the manifest's ``import`` section. Ratios follow the
TokBench definitions (:mod:`tfbench.buckets`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tfbench.datasets.checksums import ChecksumCache
from tfbench.datasets.common import ImportReport, Where, box_of, finite_numbers, image_size, write_manifest
from tfbench.datasets.tokbench import read_json
from tfbench.errors import ManifestError

DEFAULT_ANNOTATIONS = "manifest.json"
DEFAULT_OUT = "tfbench-suite.json"
MIN_IOU = 0.3


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


def _box(where: Where, fld: str, raw: Any, width: int, height: int, tol: float = 1.0) -> list[float]:
    box = finite_numbers(where, fld, raw, (4,))
    if box[2] <= box[0] or box[3] <= box[1]:
        raise where.fail(fld, f"box {box} has no area (need x0 < x1 and y0 < y1; boxes are [x0, y0, x1, y1])")
    if box[0] < -tol or box[1] < -tol or box[2] > width + tol or box[3] > height + tol:
        raise where.fail(fld, f"box {box} lies outside the {width}x{height} image")
    return box


def _words(where: Where, raw: Any, width: int, height: int) -> list[dict]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise where.fail("words", "expected a list of {text, bbox}")
    out = []
    for j, w in enumerate(raw):
        at = f"words[{j}]"
        if not isinstance(w, dict):
            raise where.fail(at, "expected an object with `text` and `bbox` or `polygon`")
        text = w.get("text")
        if not isinstance(text, str) or not text.strip():
            raise where.fail(f"{at}.text", f"empty or missing transcription ({text!r})")
        item: dict[str, Any] = {"text": text}
        if w.get("polygon") is not None:
            pts = finite_numbers(where, f"{at}.polygon", w["polygon"], (8,))
            _box(where, f"{at}.polygon", box_of(pts), width, height)
            item["polygon"] = [pts[k:k + 2] for k in range(0, 8, 2)]
        elif w.get("bbox", w.get("box")) is not None:
            item["box"] = _box(where, f"{at}.bbox", w.get("bbox", w.get("box")), width, height)
        else:
            raise where.fail(at, "needs `bbox` [x0, y0, x1, y1] or `polygon` [[x, y] x4]")
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


def _faces(where: Where, raw: Any, width: int, height: int, identity: Any, path: Path, lm: _Landmarks,
           min_iou: float, report: ImportReport) -> list[dict]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise where.fail("faces", "expected a list of {bbox}")
    faces: list[dict] = []
    for j, f in enumerate(raw):
        at = f"faces[{j}]"
        if not isinstance(f, dict):
            raise where.fail(at, "expected an object with `bbox`")
        item: dict[str, Any] = {"box": _box(where, f"{at}.bbox", f.get("bbox", f.get("box")), width, height)}
        lms = f.get("landmarks", f.get("kps"))
        if lms is not None:
            pts = finite_numbers(where, f"{at}.landmarks", lms, (10,))
            item["landmarks"] = [pts[k:k + 2] for k in range(0, 10, 2)]
        ident = f.get("identity", identity)
        if ident is not None:
            item["identity"] = str(ident)
        if isinstance(f.get("groups"), dict):
            item["groups"] = {str(k): str(v) for k, v in f["groups"].items()}
        faces.append(item)
    need = [k for k, f in enumerate(faces) if "landmarks" not in f]
    if need:
        detections = lm.detect(path)
        matches = match_detections([faces[k]["box"] for k in need], detections, min_iou)
        for k, m in zip(need, matches):
            if m is None:
                best = max((iou(faces[k]["box"], d["box"]) for d in detections), default=0.0)
                report.drop(f"face without landmarks and no detection at IoU >= {min_iou}",
                            f"{where.at(f'faces[{k}].bbox')} (best IoU {best:.2f} of {len(detections)} detections)")
                faces[k] = {}
            else:
                faces[k]["landmarks"] = np.round(detections[m]["landmarks"], 2).tolist()
                report.landmarks_detected += 1
    return [f for f in faces if f]


def import_folder(folder: Path, annotations: Path | None = None, out: Path | None = None, name: str | None = None,
                  min_iou: float = MIN_IOU, detector: Any | None = None,
                  cache: ChecksumCache | None = None) -> tuple[Path, ImportReport]:
    """Validate the folder's JSON, detect missing landmarks once, hash the images, write the manifest."""
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise ManifestError(f"{folder} is not a folder of images")
    src = Path(annotations) if annotations else folder / DEFAULT_ANNOTATIONS
    data = read_json(src, f"give the JSON of words/faces with --annotations (format: see `tfbench data import folder -h`)")
    records = data.get("images") if isinstance(data, dict) else data
    if not isinstance(records, list):
        raise ManifestError(f"{src}: top level: expected a list of image records (or {{\"images\": [...]}})")
    report, lm = ImportReport(), _Landmarks(detector)
    own = cache is None
    cache = cache or ChecksumCache()
    images, seen = [], set()
    try:
        for i, raw in enumerate(records):
            where = Where(src, f"[{i}]")
            if not isinstance(raw, dict):
                raise where.fail("", "expected an object with `file`, `words` and/or `faces`")
            file = raw.get("file")
            if not isinstance(file, str) or not file:
                raise where.fail("file", "missing image path (relative to the folder)")
            where = Where(src, f"[{i}] ({file})")
            if Path(file).is_absolute() or ".." in Path(file).parts:
                raise where.fail("file", "must be relative to the folder, without '..'")
            path = folder / file
            real = image_size(where, "file", path)
            for key, value in zip(("width", "height"), real):
                given = raw.get(key)
                if given is not None and given != value:
                    raise where.fail(key, f"the JSON says {given} but {path} is {real[0]}x{real[1]}")
            width, height = real
            words = _words(where, raw.get("words"), width, height)
            faces = _faces(where, raw.get("faces"), width, height, raw.get("identity"), path, lm, min_iou, report)
            if not words and not faces:
                report.drop("image without words or usable faces", where.at("file"))
                continue
            rid = str(raw.get("id") or file)
            if rid in seen:
                raise where.fail("id" if raw.get("id") else "file", f"duplicate image {rid!r}")
            seen.add(rid)
            subset = str(raw.get("subset") or "")
            images.append({"id": rid, "file": file, "width": width, "height": height, "subset": subset,
                           "sha256": cache.sha256(path), "words": words, "faces": faces})
            report.count(subset, len(words), len(faces))
    finally:
        if own:
            cache.save()
    out = Path(out) if out else folder / DEFAULT_OUT
    manifest = {"name": name or folder.name, "version": "1", "modality": "image",
                "description": f"imported from {src.name} by `tfbench data import folder`",
                "source": {"annotations": str(src), "annotations_sha256": cache.sha256(src),
                           "importer": "tfbench.datasets.folder/1", "min_iou": min_iou},
                "import": report.to_dict(), "images": images}
    return write_manifest(out, manifest, folder), report
