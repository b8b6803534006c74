"""Video suite manifests (``tfbench.video-suite/1``): clips with per-frame ground truth.

Each annotated frame holds words and faces as in a suite manifest (:mod:`tfbench.schemas.suite`), plus an
optional ``track`` linking the same word or face across frames. Frames are 0-based indices below the clip's
``frames``, each annotated once.
"""
from __future__ import annotations

from typing import Annotated, Any, ClassVar, Optional

from pydantic import BeforeValidator, Field, Strict, WithJsonSchema, model_validator

from tfbench.schemas.base import Name, PositiveFloat, SchemaModel, Sha256, fail, schema_tag, tag_type
from tfbench.schemas.suite import (BucketEdges, Curation, FaceEntry, Label, OptionalId, RelativePath, Resolution,
                                   WordEntry, check_in_image, unique_ids)

SCHEMA = schema_tag("video-suite", 1)
DEFAULT_RESOLUTIONS = ("256", "480")


def _track(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise fail("track", f"expected a string or integer, got {value!r:.40}")
    return str(value)


Track = Annotated[Optional[str], BeforeValidator(_track), WithJsonSchema({"type": ["string", "integer", "null"]})]
Count = Annotated[int, Strict(), Field(gt=0)]


class VideoWord(WordEntry):
    track: Track = Field(None, description="links the same word across frames (temporal stability)")


class VideoFace(FaceEntry):
    track: Track = Field(None, description="links the same face across frames")


class FrameEntry(SchemaModel):
    """The ground truth of one decoded frame."""

    messages: ClassVar[dict[str, str]] = {"frame": "expected a 0-based frame index, got {got}"}
    frame: Annotated[int, Strict(), Field(ge=0)]
    words: Optional[list[VideoWord]] = None
    faces: Optional[list[VideoFace]] = None


class ClipEntry(SchemaModel):
    """One clip and its annotated frames."""

    messages: ClassVar[dict[str, str]] = {
        "width": "expected a positive integer, got {got}", "height": "expected a positive integer, got {got}",
        "frames": "expected a positive integer, got {got}", "fps": "expected a positive number, got {got}",
        "annotations": "expected a list of {frame, words, faces}",
    }
    id: OptionalId = None
    file: RelativePath
    width: Count
    height: Count
    frames: Count
    fps: Optional[PositiveFloat] = None
    subset: Label = ""
    sha256: Optional[Sha256] = None
    annotations: Optional[list[FrameEntry]] = None

    @property
    def key(self) -> str:
        return self.id or self.file

    @model_validator(mode="after")
    def _frames_exist_once(self) -> "ClipEntry":
        seen: set[int] = set()
        for j, ann in enumerate(self.annotations or []):
            at = f"annotations[{j}]"
            if ann.frame >= self.frames:
                raise fail("frame", f"frame {ann.frame} does not exist: clip {self.key!r} has {self.frames} frames "
                                    f"(0..{self.frames - 1}); fix the index (0-based) or the clip's `frames`", at=f"{at}.frame")
            if ann.frame in seen:
                raise fail("frame", f"frame {ann.frame} is annotated twice; merge the two entries", at=f"{at}.frame")
            seen.add(ann.frame)
            check_in_image(ann.words or [], ann.faces or [], self.width, self.height, prefix=f"{at}.")
        return self


VideoTag = tag_type("video-suite", 1)


class VideoManifest(SchemaModel):
    """A video suite manifest (``tfbench.video-suite/1``)."""

    messages: ClassVar[dict[str, str]] = {"name": "missing", "version": "missing"}
    schema_: VideoTag = Field(alias="schema")  # type: ignore[valid-type]
    name: Name
    version: Name
    modality: str = "video"
    license: str = ""
    citation: str = ""
    description: str = ""
    resolutions: list[Resolution] = Field(default_factory=lambda: list(DEFAULT_RESOLUTIONS))
    buckets: Optional[BucketEdges] = None
    curation: Optional[Curation] = None
    clips: list[ClipEntry]

    @model_validator(mode="after")
    def _unique(self) -> "VideoManifest":
        unique_ids(self.clips, "clips")
        return self
