"""TokBench video sets -> a video suite manifest (``tokbench-video``).

Layout read::

    ROOT/video_annotations/text_ch3.json, text_ds.json
        [{file_name: "<clip>-frame<N>.<ext>" (N is 1-based), video_name, height, width,
          annotations: [{rec, bbox (x0,y0,x1,y1 | 4x2 polygon), ratio}]}]
    ROOT/video_annotations/videoface_meta.json
        [{video_name, video_height, video_width, frame_anns: [[{kps (5x2), ratio}, ...], ...]}]
        (frame_anns[i] holds the faces of frame i, 0-based)
    ROOT/videos/**/<video_name>            (or --videos DIR, searched by file name, extension optional)

Shipped ratios are kept. Each set is a subset (``text_ch3``, ``text_ds``, ``face``); a clip is
``<subset>/<video stem>``. Frame numbers are checked against the real frame count of each video, and
the annotation size against the video's size, with one clear error naming the file and entry. Every
word is read on its decoded frame by the scoring OCR and marked ``unreadable`` when misread
(:mod:`tfbench.datasets.curation`); every clip gets its sha256 (verified before each run).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

from tfbench.datasets.common import ImportReport, Where, box_of, box_or_polygon, finite_numbers, pairs, positive_int
from tfbench.datasets.curation import Curator, face_section
from tfbench.datasets.tokbench import read_annotation
from tfbench.errors import ManifestError
from tfbench.images import sha256_of
from tfbench.records import write_json_atomic
from tfbench.video.io import VideoInfo, iter_frames, probe
from tfbench.video.manifest import SCHEMA, load_video_suite_file

TEXT_SETS: tuple[str, ...] = ("ch3", "ds")
FRAME_RE = re.compile(r"-frame(\d+)(?:\.[A-Za-z0-9]+)?$")
VIDEO_EXTS = (".mp4", ".mkv", ".webm", ".mov", ".avi")


class _Videos:
    """Finds clips by name under the videos folder and probes each once."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise ManifestError(f"videos folder not found: {folder} (pass --videos DIR)")
        self.by_name: dict[str, Path] = {}
        for p in sorted(folder.rglob("*")):
            if p.is_file() and p.suffix.lower() in VIDEO_EXTS:
                self.by_name.setdefault(p.name, p)
                self.by_name.setdefault(p.stem, p)
        self.folder = folder
        self.info: dict[Path, VideoInfo] = {}

    def find(self, where: Where, name: Any) -> tuple[Path, VideoInfo]:
        if not isinstance(name, str) or not name:
            raise where.fail("video_name", f"expected a file name, got {name!r}")
        path = self.by_name.get(name) or self.by_name.get(Path(name).name) or self.by_name.get(Path(name).stem)
        if path is None:
            raise where.fail("video_name", f"video {name!r} not found under {self.folder}")
        if path not in self.info:
            self.info[path] = probe(path)
        return path, self.info[path]


def _check_size(where: Where, info: VideoInfo, width: int, height: int) -> None:
    if (width, height) != (info.width, info.height):
        raise where.fail("width/height", f"annotations are for {width}x{height} but {info.path} is "
                                         f"{info.width}x{info.height}; use the videos the annotations were made on")


def _frame_of(where: Where, file_name: Any, info: VideoInfo) -> int:
    m = FRAME_RE.search(str(file_name))
    if not m:
        raise where.fail("file_name", f"{file_name!r} does not end in -frame<N> (1-based frame number)")
    n = int(m.group(1))
    if n < 1:
        raise where.fail("file_name", f"{file_name!r}: frame numbers are 1-based, got {n}")
    if n > info.frames:
        raise where.fail("file_name", f"{file_name!r} annotates frame {n} (1-based) but {info.path} has only "
                                      f"{info.frames} frames: the annotation is for a frame that does not exist")
    return n - 1


def _entries(path: Path, what: str, fields: str, size: tuple[str, str],
             videos: _Videos) -> Iterator[tuple[int, Where, dict, Path, VideoInfo]]:
    """Each entry of a video annotation file with its video, whose size must be the one ``size`` fields give:
    (index, where, entry, video path, video info)."""
    data = read_annotation(path, what)
    if not isinstance(data, list):
        raise ManifestError(f"{path}: expected a list of {{{fields}}}")
    for i, entry in enumerate(data):
        where = Where(path, f"[{i}]")
        if not isinstance(entry, dict):
            raise where.fail("", "expected an object")
        vpath, info = videos.find(where, entry.get("video_name"))
        _check_size(where, info, positive_int(where, size[0], entry.get(size[0])),
                    positive_int(where, size[1], entry.get(size[1])))
        yield i, where, entry, vpath, info


def _text(path: Path, subset: str, videos: _Videos, clips: dict, report: ImportReport) -> None:
    for i, where, entry, vpath, info in _entries(path, f"TokBench video text annotations ({subset})",
                                                 "file_name, video_name, height, width, annotations",
                                                 ("width", "height"), videos):
        frame = _frame_of(where, entry.get("file_name"), info)
        words = []
        for j, a in enumerate(entry.get("annotations") or []):
            w = Where(path, f"[{i}].annotations[{j}]")
            text = a.get("rec") if isinstance(a, dict) else None
            if not isinstance(text, str) or not text.strip():
                raise w.fail("rec", f"empty or missing transcription: {text!r}")
            pts = box_or_polygon(w, "bbox", a.get("bbox"))
            item: dict[str, Any] = {"text": text, "ratio": float(a["ratio"])} if isinstance(a.get("ratio"), (int, float)) \
                else {"text": text}
            if len(pts) > 4:
                item["polygon"] = pairs(pts)
            else:
                item["box"] = pts if pts[2] > pts[0] else box_of(pts)
            words.append(item)
        clip = clips.setdefault((subset, vpath), {"info": info, "frames": {}})
        clip["frames"].setdefault(frame, {"words": [], "faces": []})["words"] += words


def _faces(path: Path, videos: _Videos, clips: dict) -> None:
    for i, where, entry, vpath, info in _entries(path, "TokBench video face annotations",
                                                 "video_name, video_height, video_width, frame_anns",
                                                 ("video_width", "video_height"), videos):
        anns = entry.get("frame_anns")
        if not isinstance(anns, list):
            raise where.fail("frame_anns", "expected a list (one list of faces per frame)")
        if len(anns) > info.frames and any(anns[info.frames:]):
            raise where.fail("frame_anns", f"faces are annotated up to frame {len(anns) - 1} (0-based) but "
                                           f"{info.path} has only {info.frames} frames: the annotation is for a frame "
                                           f"that does not exist")
        clip = clips.setdefault(("face", vpath), {"info": info, "frames": {}})
        for f, faces in enumerate(anns):
            if not faces:
                continue
            items = []
            for k, face in enumerate(faces):
                w = Where(path, f"[{i}].frame_anns[{f}][{k}]")
                kps = finite_numbers(w, "kps", face.get("kps") if isinstance(face, dict) else None, (10,))
                item: dict[str, Any] = {"landmarks": [kps[m:m + 2] for m in range(0, 10, 2)]}
                if isinstance(face.get("ratio"), (int, float)):
                    item["ratio"] = float(face["ratio"])
                if "track" in face or "id" in face:
                    item["track"] = str(face.get("track", face.get("id")))
                items.append(item)
            clip["frames"].setdefault(f, {"words": [], "faces": []})["faces"] += items


def _curate(clips: dict, curator: Curator) -> None:
    """Read every word on its decoded frame (the scoring OCR on the original) and mark the misread ones."""
    for (_, vpath), clip in sorted(clips.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        with_words = {f: a["words"] for f, a in clip["frames"].items() if a["words"]}
        if with_words:
            for idx, frame in enumerate(iter_frames(vpath, 0, max(with_words) + 1)):
                if idx in with_words:
                    curator.mark(frame, with_words[idx])


def import_tokbench_video(root: Path, videos: Path | None = None, out: Path | None = None,
                          ocr: Any | None = None) -> tuple[Path, ImportReport]:
    """Write the ``tokbench-video`` manifest; returns its path and the import report.

    ``ocr``: the TextScorer that curates the words (default: RapidOCR, the scoring backend).
    """
    root = Path(root)
    ann = root / "video_annotations"
    if not ann.is_dir():
        raise ManifestError(f"{ann} not found: expected TokBench's video_annotations/ folder in {root}")
    out = Path(out) if out else root / "tokbench-video.json"
    finder = _Videos(Path(videos) if videos else root / "videos")
    clips: dict[tuple[str, Path], dict] = {}
    report = ImportReport()
    found = False
    for name in TEXT_SETS:
        path = ann / f"text_{name}.json"
        if path.is_file():
            found = True
            _text(path, f"text_{name}", finder, clips, report)
    face = ann / "videoface_meta.json"
    if face.is_file():
        found = True
        _faces(face, finder, clips)
    if not found:
        raise ManifestError(f"{ann} holds none of text_ch3.json, text_ds.json, videoface_meta.json")
    curator = Curator(ocr)
    _curate(clips, curator)
    base = out.parent.resolve()
    records = []
    for (subset, vpath), clip in sorted(clips.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        try:
            rel = vpath.resolve().relative_to(base)
        except ValueError:
            raise ManifestError(f"{vpath} is not inside {base}, where the manifest goes; put the videos under it or "
                                f"pass --out inside the folder that holds them") from None
        info = clip["info"]
        frames = clip["frames"]
        for f in frames.values():
            report.count(subset, len(f["words"]), len(f["faces"]))
        records.append({"id": f"{subset}/{vpath.stem}", "file": rel.as_posix(), "width": info.width,
                        "height": info.height, "frames": info.frames, "fps": info.fps or None, "subset": subset,
                        "sha256": sha256_of(vpath),
                        "annotations": [{"frame": k, **frames[k]} for k in sorted(frames)]})
    report.curation = {"text": curator.section() if curator.words else None,
                       "face": face_section(report.faces, 0, "shipped with TokBench") if face.is_file() else None}
    manifest = {"schema": SCHEMA, "name": "tokbench-video", "version": "2", "modality": "video",
                "license": "CC-BY-4.0",
                "citation": "Junfeng Wu et al., TokBench: Evaluating Your Visual Tokenizer before Visual Generation, "
                            "arXiv:2505.18142, 2025",
                "description": "TokBench video text (ch3, ds) and face sets, shipped ratios kept",
                "resolutions": ["256", "480"], "curation": report.curation,
                "import": {"importer": "tfbench.datasets.tokbench_video/2",
                                                          "report": report.to_dict()},
                "clips": records}
    write_json_atomic(out, manifest)
    load_video_suite_file(out)  # validate what was written
    return out, report
