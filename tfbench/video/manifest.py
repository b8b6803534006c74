"""Video suite manifests: clips with per-frame ground truth (words, faces with 5-point landmarks).

Format (JSON, ``schema: "tfbench.video-suite/1"``)::

    {"schema": "tfbench.video-suite/1", "name": "...", "version": "1", "modality": "video",
     "resolutions": ["256", "480"], "buckets": {"text": {"256": [e0, e1, e2, e3]}, "face": {...}},  # optional
     "clips": [{"id": "...", "file": "relative/clip.mp4", "width": W, "height": H, "frames": N,
                "fps": 25.0, "subset": "...", "sha256": "...",
                "annotations": [{"frame": 0,                      # 0-based index in decode order
                                 "words": [{"text", "box" | "polygon", "ratio"?, "track"?, "unreadable"?, "reading"?}],
                                 "faces": [{"landmarks", "box"?, "ratio"?, "identity"?, "track"?} |
                                           {"box", "excluded"}]}]}],
     "curation": {...}}                                   # as in image manifests, optional

Words and faces follow the image manifest (:mod:`tfbench.manifest`: polygons of n >= 3 points,
curation marks, excluded faces); ``track`` links the same word or face across frames (used for
temporal stability). ``sha256`` of a clip is verified before a run, as for images
(:func:`tfbench.datasets.checksums.verify_suite`). Each annotated frame becomes an
:class:`~tfbench.manifest.ImageRecord` with id ``"<clip>@<frame>"`` so the image scorers apply as-is.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tfbench.errors import ManifestError
from tfbench.images import sha256_of
from tfbench.jsonfile import read_json
from tfbench.manifest import (ExcludedFace, ImageRecord, ManifestContext, edges_at, parse_curation, parse_edges, parse_face,
                              parse_records, parse_word)

SCHEMA = "tfbench.video-suite/1"

VIDEO_TEXT_EDGES: dict[str, tuple[float, ...]] = {"256": (0.01, 0.02, 0.03, 1.0), "480": (0.005, 0.01, 0.02, 1.0)}
VIDEO_FACE_EDGES: dict[str, tuple[float, ...]] = {"256": (0.05, 0.1, 0.2, 1.0), "480": (0.02, 0.05, 0.1, 1.0)}


@dataclass(frozen=True)
class FrameAnnotation:
    frame: int  # 0-based
    record: ImageRecord  # the frame's words and faces, at the clip's size
    word_tracks: tuple[str | None, ...] = ()
    face_tracks: tuple[str | None, ...] = ()


@dataclass(frozen=True)
class VideoClip:
    id: str
    file: str
    width: int
    height: int
    frames: int
    annotations: tuple[FrameAnnotation, ...]
    fps: float | None = None
    subset: str = ""
    sha256: str | None = None

    @property
    def n_words(self) -> int:
        return sum(len(a.record.words) for a in self.annotations)

    @property
    def n_faces(self) -> int:
        return sum(len(a.record.faces) for a in self.annotations)


@dataclass
class VideoSuite:
    name: str
    version: str
    clips: list[VideoClip]
    root: Path
    modality: str = "video"
    resolutions: list[str] = field(default_factory=lambda: ["256", "480"])
    text_edges: dict[str, tuple[float, ...]] = field(default_factory=lambda: dict(VIDEO_TEXT_EDGES))
    face_edges: dict[str, tuple[float, ...]] = field(default_factory=lambda: dict(VIDEO_FACE_EDGES))
    license: str = ""
    citation: str = ""
    description: str = ""
    source: Path | None = None
    manifest_sha256: str | None = None  # of the manifest file it was loaded from (results carry it)
    curation: dict[str, Any] | None = None  # the manifest's `curation` section (None: not curated)

    def path_of(self, clip: VideoClip) -> Path:
        return self.root / clip.file

    def edges(self, kind: str, resolution: str) -> tuple[float, ...]:
        return edges_at(self.text_edges if kind == "text" else self.face_edges, kind, resolution,
                        f"video suite {self.name!r}")

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "modality": "video", "clips": len(self.clips),
                "annotated_frames": sum(len(c.annotations) for c in self.clips),
                "words": sum(c.n_words for c in self.clips), "faces": sum(c.n_faces for c in self.clips),
                "resolutions": self.resolutions, "license": self.license, "description": self.description}


def _track(ctx: ManifestContext, where: str, raw: Any) -> str | None:
    t = raw.get("track") if isinstance(raw, dict) else None
    if t is not None and not isinstance(t, (str, int)):
        raise ctx.fail(f"{where}.track", f"expected a string or integer, got {t!r}")
    return None if t is None else str(t)


def _positive_int(ctx: ManifestContext, where: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise ctx.fail(where, f"expected a positive integer, got {v!r}")
    return v


def _clip(ctx: ManifestContext, i: int, raw: Any) -> VideoClip:
    where = f"clips[{i}]"
    if not isinstance(raw, dict):
        raise ctx.fail(where, "expected an object")
    file = raw.get("file")
    if not isinstance(file, str) or not file:
        raise ctx.fail(f"{where}.file", "missing video path")
    if Path(file).is_absolute() or ".." in Path(file).parts:
        raise ctx.fail(f"{where}.file", f"{file!r} must be relative to the data root, without '..'")
    w = _positive_int(ctx, f"{where}.width", raw.get("width"))
    h = _positive_int(ctx, f"{where}.height", raw.get("height"))
    n = _positive_int(ctx, f"{where}.frames", raw.get("frames"))
    clip_id = str(raw.get("id") or file)
    fps = raw.get("fps")
    if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps) or fps <= 0):
        raise ctx.fail(f"{where}.fps", f"expected a positive number, got {fps!r}")
    anns_raw = raw.get("annotations") or []
    if not isinstance(anns_raw, list):
        raise ctx.fail(f"{where}.annotations", "expected a list of {frame, words, faces}")
    anns: dict[int, FrameAnnotation] = {}
    for j, a in enumerate(anns_raw):
        aw = f"{where}.annotations[{j}]"
        if not isinstance(a, dict):
            raise ctx.fail(aw, "expected an object with `frame`, `words`, `faces`")
        frame = a.get("frame")
        if isinstance(frame, bool) or not isinstance(frame, int) or frame < 0:
            raise ctx.fail(f"{aw}.frame", f"expected a 0-based frame index, got {frame!r}")
        if frame >= n:
            raise ctx.fail(f"{aw}.frame", f"frame {frame} does not exist: clip {clip_id!r} has {n} frames "
                                          f"(0..{n - 1}); fix the index (0-based) or the clip's `frames`")
        if frame in anns:
            raise ctx.fail(f"{aw}.frame", f"frame {frame} is annotated twice; merge the two entries")
        words_raw, faces_raw = a.get("words") or [], a.get("faces") or []
        words = tuple(parse_word(ctx, f"{aw}.words[{k}]", x, w, h) for k, x in enumerate(words_raw))
        parsed = [parse_face(ctx, f"{aw}.faces[{k}]", x, w, h) for k, x in enumerate(faces_raw)]
        usable = [k for k, f in enumerate(parsed) if not isinstance(f, ExcludedFace)]  # record.faces order
        record = ImageRecord(id=f"{clip_id}@{frame}", file=file, width=w, height=h, words=words,
                             faces=tuple(parsed[k] for k in usable),  # type: ignore[misc]
                             excluded_faces=tuple(f for f in parsed if isinstance(f, ExcludedFace)),
                             subset=str(raw.get("subset") or ""))
        anns[frame] = FrameAnnotation(frame, record,
                                      tuple(_track(ctx, f"{aw}.words[{k}]", x) for k, x in enumerate(words_raw)),
                                      tuple(_track(ctx, f"{aw}.faces[{k}]", faces_raw[k]) for k in usable))
    sha = raw.get("sha256")
    if sha is not None and (not isinstance(sha, str) or len(sha) != 64):
        raise ctx.fail(f"{where}.sha256", f"expected 64 hex characters, got {sha!r}")
    return VideoClip(id=clip_id, file=file, width=w, height=h, frames=n,
                     annotations=tuple(anns[k] for k in sorted(anns)), fps=float(fps) if fps else None,
                     subset=str(raw.get("subset") or ""), sha256=sha)


def parse_video_suite(data: Any, root: Path, source: str = "<manifest>") -> VideoSuite:
    ctx = ManifestContext(source)
    clips = parse_records(ctx, data, SCHEMA, "clips", _clip)
    buckets = data.get("buckets") or {}
    return VideoSuite(
        name=str(data["name"]), version=str(data["version"]), clips=clips, root=root,
        resolutions=[str(r) for r in data.get("resolutions", ["256", "480"])],
        text_edges=parse_edges(ctx, buckets.get("text"), VIDEO_TEXT_EDGES, "text"),
        face_edges=parse_edges(ctx, buckets.get("face"), VIDEO_FACE_EDGES, "face"),
        license=str(data.get("license", "")), citation=str(data.get("citation", "")),
        description=str(data.get("description", "")), curation=parse_curation(ctx, data.get("curation")),
    )


def load_video_suite_file(path: Path, data_root: Path | None = None) -> VideoSuite:
    path = Path(path)
    data = read_json(path, ManifestError, f"video manifest not found: {path}")
    suite = parse_video_suite(data, Path(data_root) if data_root else path.parent, source=str(path))
    suite.source, suite.manifest_sha256 = path, sha256_of(path)
    return suite


def video_manifest_path(name: str | Path) -> Path | None:
    """The manifest a suite argument points to when it is a *video* manifest (file or folder), else None."""
    path = Path(name)
    if path.is_dir():
        path = path / "manifest.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None  # not readable as a video manifest: the image loader reports the problem
    return path if isinstance(data, dict) and data.get("schema") == SCHEMA else None
