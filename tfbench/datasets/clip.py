"""A user's clip -> a video suite manifest, with faces found (or given landmarks) once, at import.

With an annotation file, each annotated frame's words are read on the decoded frame by the scoring
OCR (words it misreads are kept, marked ``unreadable``, not scored by default: see
:mod:`tfbench.datasets.curation`) and faces without 5-point landmarks get them from YuNet, matched to
the given box by IoU (a face with no detection is kept, marked ``excluded``, and counted). Without
one, faces are detected every ``every`` frames and linked into tracks across annotated frames by IoU,
so temporal stability can be measured. Frames are streamed: only the frame being read is decoded
into memory. The clip is copied beside the manifest, with its sha256 (verified before every run).
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tfbench.buckets import face_ratio
from tfbench.datasets.common import ImportReport, Where, box_or_polygon, clip_box, finite_numbers, pairs
from tfbench.datasets.curation import Curator, face_section
from tfbench.datasets.folder import iou, match_detections
from tfbench.errors import ManifestError
from tfbench.images import sha256_of
from tfbench.jsonfile import read_json
from tfbench.records import write_json_atomic
from tfbench.video.io import iter_frames, probe
from tfbench.video.manifest import SCHEMA, load_video_suite_file

TRACK_IOU = 0.2  # a detection continues a track when it overlaps the track's last box at least this much


def _read_annotations(path: Path, frames: int) -> dict[int, dict[str, Any]]:
    data = read_json(Path(path), ManifestError, f"annotation file not found: {path}")
    items = data.get("annotations") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ManifestError(f"{path}: expected {{\"annotations\": [{{\"frame\", \"words\", \"faces\"}}]}} or a list")
    out: dict[int, dict[str, Any]] = {}
    for i, a in enumerate(items):
        where = Where(path, f"annotations[{i}]")
        if not isinstance(a, dict):
            raise where.fail("", "expected an object with `frame`, `words`, `faces`")
        f = a.get("frame")
        if isinstance(f, bool) or not isinstance(f, int) or f < 0:
            raise where.fail("frame", f"expected a 0-based frame index, got {f!r}")
        if f >= frames:
            raise where.fail("frame", f"frame {f} does not exist: the clip has {frames} frames (0..{frames - 1}); "
                                      f"fix the index (annotations are 0-based)")
        if f in out:
            raise where.fail("frame", f"frame {f} is annotated twice; merge the two entries")
        for key in ("words", "faces"):
            if not isinstance(a.get(key) or [], list):
                raise where.fail(key, "expected a list")
        out[f] = {"words": [_word(where, k, w) for k, w in enumerate(a.get("words") or [])],
                  "faces": [dict(x) for x in a.get("faces") or []]}
    return out


def _word(where: Where, k: int, raw: Any) -> dict[str, Any]:
    """A word of the annotation file with its geometry as the manifest writes it (``box`` or ``polygon`` pairs)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
        raise where.fail(f"words[{k}]", "expected an object with `text` and `box` or `polygon`")
    item = {key: v for key, v in raw.items() if key not in ("box", "bbox", "polygon")}
    if raw.get("polygon") is not None:
        pts = box_or_polygon(where, f"words[{k}].polygon", raw["polygon"])
        if len(pts) < 6:
            raise where.fail(f"words[{k}].polygon", f"a polygon needs at least 3 [x, y] points, got {raw['polygon']!r:.80}")
        item["polygon"] = pairs(pts)
    elif raw.get("box", raw.get("bbox")) is not None:
        item["box"] = finite_numbers(where, f"words[{k}].box", raw.get("box", raw.get("bbox")), (4,))
    else:
        raise where.fail(f"words[{k}]", "needs `box` [x0, y0, x1, y1] or `polygon` [[x, y] x n, n >= 3]")
    return item


def _link_tracks(frames: dict[int, dict[str, Any]]) -> None:
    """Give each detected face a track id, continuing the best-overlapping face of the previous annotated frame."""
    prev: list[dict] = []
    next_id = 0
    for f in sorted(frames):
        faces = frames[f]["faces"]
        matches = match_detections([p["box"] for p in prev], [{"box": x["box"]} for x in faces], TRACK_IOU)
        taken = {j: prev[i]["track"] for i, j in enumerate(matches) if j is not None}
        for j, face in enumerate(faces):
            if j in taken:
                face["track"] = taken[j]
            else:
                face["track"] = f"t{next_id}"
                next_id += 1
        prev = faces


def import_clip(clip: Path, out: Path, annotations: Path | None = None, every: int = 5, min_face: float = 16.0,
                min_iou: float = 0.3, name: str | None = None, detector: Any | None = None,
                max_side: int = 1280, ocr: Any | None = None) -> tuple[Path, ImportReport]:
    """Write ``out/manifest.json`` (+ a copy of the clip); returns its path and the import report.

    ``ocr``: the TextScorer that curates the annotated words (default: RapidOCR, the scoring backend).
    """
    clip = Path(clip)
    if not isinstance(every, int) or every < 1:
        raise ManifestError(f"--every must be a positive integer, got {every!r}")
    info = probe(clip, count=True)  # exact frame count (decodes the clip once, frame by frame)
    frames = _read_annotations(annotations, info.frames) if annotations else {f: {"words": [], "faces": None}
                                                                                for f in range(0, info.frames, every)}
    need = {f for f, a in frames.items() if a["faces"] is None or any(x.get("landmarks", x.get("kps")) is None
                                                                      for x in a["faces"])}
    if need and detector is None:
        from tfbench.metrics.face import YuNetDetector

        detector = YuNetDetector(max_side=max_side)
    report = ImportReport()
    curator = Curator(ocr)
    with_words = {f for f, a in frames.items() if a["words"]}
    last = max(need | with_words) + 1 if need | with_words else 0
    for idx, frame in enumerate(iter_frames(clip, 0, last)):
        if idx in with_words:  # curation: the scoring OCR reads each word on the decoded original
            curator.mark(frame, frames[idx]["words"])
        if idx not in need:
            continue
        dets = detector.detect(frame)
        ann = frames[idx]
        if ann["faces"] is None:  # no annotation file: every detection big enough is a face
            ann["faces"] = []
            for d in dets:
                box, _ = clip_box([float(v) for v in d["box"]], info.width, info.height)
                lms = d["landmarks"]
                if min(box[2] - box[0], box[3] - box[1]) < min_face:
                    continue
                if (lms < 0).any() or (lms[:, 0] > info.width).any() or (lms[:, 1] > info.height).any():
                    report.drop("detected face with landmarks outside the frame", f"frame {idx}")
                    continue
                ann["faces"].append({"box": [round(v, 2) for v in box], "landmarks": lms.round(2).tolist()})
            report.landmarks_detected += len(ann["faces"])
            continue
        todo = [k for k, x in enumerate(ann["faces"]) if x.get("landmarks", x.get("kps")) is None]
        matches = match_detections([ann["faces"][k]["box"] for k in todo], dets, min_iou)
        for k, j in zip(todo, matches):
            if j is None:  # kept, marked, never scored
                best = max((iou(ann["faces"][k]["box"], d["box"]) for d in dets), default=0.0)
                ann["faces"][k]["excluded"] = (f"no landmarks: no YuNet detection at IoU >= {min_iou} with this box "
                                               f"(best IoU {best:.2f} of {len(dets)} detections)")
                report.exclude_face(f"frame {idx} face {k} (best IoU {best:.2f})")
            else:
                ann["faces"][k]["landmarks"] = dets[j]["landmarks"].round(2).tolist()
                report.landmarks_detected += 1
    if not annotations:
        _link_tracks(frames)
    for ann in frames.values():
        for face in ann["faces"] or []:
            if "box" in face and "ratio" not in face:
                face["ratio"] = round(face_ratio(face["box"][2] - face["box"][0], face["box"][3] - face["box"][1],
                                                 info.width), 6)
        report.count("clip", len(ann["words"]), len(ann["faces"] or []))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    dest = out / clip.name
    if not dest.exists() or not dest.samefile(clip):
        shutil.copyfile(clip, dest)
    clip_id = clip.stem
    report.curation = {"text": curator.section() if curator.words else None,
                       "face": face_section(report.faces, report.faces_without_landmarks,
                                            "given, or YuNet detections" + (f" matched by IoU >= {min_iou}" if annotations
                                                                             else f" every {every} frames"))}
    manifest = {
        "schema": SCHEMA, "name": name or clip_id, "version": "2", "modality": "video",
        "description": f"user clip {clip.name}" + ("" if annotations else f", faces detected every {every} frames"),
        "resolutions": ["256", "480"], "curation": report.curation,
        "import": {"importer": "tfbench.datasets.clip/2", "source": str(clip), "annotations": str(annotations) if annotations else None,
                   "every": every, "min_face": min_face, "min_iou": min_iou, "detector_max_side": max_side,
                   "report": report.to_dict()},
        "clips": [{"id": clip_id, "file": dest.name, "width": info.width, "height": info.height, "frames": info.frames,
                   "fps": info.fps or None, "subset": "clip", "sha256": sha256_of(dest),
                   "annotations": [{"frame": f, "words": frames[f]["words"], "faces": frames[f]["faces"] or []}
                                   for f in sorted(frames)]}],
    }
    path = out / "manifest.json"
    write_json_atomic(path, manifest)
    load_video_suite_file(path)  # validate what was written
    return path, report
