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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tfbench.errors import ManifestError
from tfbench.images import sha256_of
from tfbench.jsonfile import read_json
from tfbench.manifest import (ExcludedFace, ImageRecord, SuiteHeader, edges_at, face_from_entry, suite_fields,
                              word_from_entry)
from tfbench.schemas.base import validate
from tfbench.schemas.video import DEFAULT_RESOLUTIONS, SCHEMA, ClipEntry, FrameEntry, VideoManifest

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


@dataclass(kw_only=True)
class VideoSuite(SuiteHeader):
    clips: list[VideoClip]
    modality: str = "video"
    resolutions: list[str] = field(default_factory=lambda: list(DEFAULT_RESOLUTIONS))
    text_edges: dict[str, tuple[float, ...]] = field(default_factory=lambda: dict(VIDEO_TEXT_EDGES))
    face_edges: dict[str, tuple[float, ...]] = field(default_factory=lambda: dict(VIDEO_FACE_EDGES))

    def edges(self, kind: str, resolution: str) -> tuple[float, ...]:
        return edges_at(self.text_edges if kind == "text" else self.face_edges, kind, resolution,
                        f"video suite {self.name!r}")

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "modality": "video", "clips": len(self.clips),
                "annotated_frames": sum(len(c.annotations) for c in self.clips),
                "words": sum(c.n_words for c in self.clips), "faces": sum(c.n_faces for c in self.clips),
                "resolutions": self.resolutions, "license": self.license, "description": self.description}


def _frame(clip: ClipEntry, ann: FrameEntry) -> FrameAnnotation:
    """One annotated frame as an :class:`ImageRecord` ``"<clip>@<frame>"`` with the tracks of its words and of
    its scorable faces (excluded faces have no track: they are not scored)."""
    words, faces = ann.words or [], ann.faces or []
    parsed = [face_from_entry(f, clip.width) for f in faces]
    usable = [k for k, f in enumerate(parsed) if not isinstance(f, ExcludedFace)]  # record.faces order
    record = ImageRecord(id=f"{clip.key}@{ann.frame}", file=clip.file, width=clip.width, height=clip.height,
                         words=tuple(word_from_entry(w, clip.width) for w in words),
                         faces=tuple(parsed[k] for k in usable),  # type: ignore[misc]
                         excluded_faces=tuple(f for f in parsed if isinstance(f, ExcludedFace)), subset=clip.subset)
    return FrameAnnotation(ann.frame, record, tuple(w.track for w in words), tuple(faces[k].track for k in usable))


def _clip(entry: ClipEntry) -> VideoClip:
    frames = sorted(entry.annotations or [], key=lambda a: a.frame)
    return VideoClip(id=entry.key, file=entry.file, width=entry.width, height=entry.height, frames=entry.frames,
                     annotations=tuple(_frame(entry, a) for a in frames), fps=float(entry.fps) if entry.fps else None,
                     subset=entry.subset, sha256=entry.sha256)


def parse_video_suite(data: Any, root: Path, source: str = "<manifest>") -> VideoSuite:
    """A video suite from a manifest's JSON, validated by :class:`tfbench.schemas.video.VideoManifest` (one error
    line naming ``source``, the JSON path and what was expected: the same line as `tfbench schemas validate`)."""
    manifest = validate(VideoManifest, data, source, ManifestError)
    return VideoSuite(clips=[_clip(c) for c in manifest.clips], root=root,
                      **suite_fields(manifest, data, VIDEO_TEXT_EDGES, VIDEO_FACE_EDGES))


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
