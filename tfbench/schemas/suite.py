"""Suite manifests (``tfbench.suite/1``): a versioned suite definition and its images' ground truth.

Words carry ``text`` and a ``box`` or a ``polygon`` (n >= 3 points), faces a ``box`` and 5 ``landmarks``;
the curation marks (``unreadable``/``reading`` on words, ``excluded`` on faces) and the top-level
``curation`` section are written by the importers. Boxes and landmarks must lie in their image (1 px
tolerance); image ids are unique. Unknown keys (provenance such as ``source`` or ``import``) are kept.
"""
from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Optional

from pydantic import AliasChoices, BeforeValidator, Field, Strict, WithJsonSchema, model_validator

from tfbench.schemas.base import (RESOLUTION, Box, InstanceModel, Landmarks, Name, Polygon, PositiveFloat, SchemaModel, Sha256, fail,
                                  finite, schema_tag, tag_type)

SCHEMA = schema_tag("suite", 1)
MAX_SIDE = 1 << 20  # pixels; larger sides are a typo, not an image
BOX_TOLERANCE = 1.0  # pixels a box or landmark may overshoot its image
DEFAULT_RESOLUTIONS = ("256", "512", "1024", "native")


def _label(value: Any) -> str:
    """A free label (subset, identity): text or a number; absent or null is ''."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise fail("label", f"expected a string, got {type(value).__name__}")
    return str(value)


def _optional_id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise fail("id", f"expected a string, got {type(value).__name__}")
    return str(value)


_UNSAFE_PATH = re.compile(r"^([/\\]|[A-Za-z]:)|(^|[/\\])\.\.([/\\]|$)|\x00")


def relative_path(value: Any) -> str:
    """A path relative to the data root, without ``..`` (an image or clip file)."""
    if not isinstance(value, str) or not value:
        raise fail("file", "missing file path")
    if _UNSAFE_PATH.search(value):
        raise fail("file", f"{value!r} must be relative to the data root, without '..'")
    return value


def _edges(value: Any) -> list[float]:
    if not isinstance(value, (list, tuple)) or len(value) != 4 or not all(finite(v) for v in value):
        raise fail("edges", f"expected a list of 4 numbers, got {value!r:.80}")
    vals = [float(v) for v in value]
    if vals != sorted(vals):
        raise fail("edges", f"edges must increase, got {vals}")
    return vals


def _resolution(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not RESOLUTION.match(str(value)):
        raise fail("resolution", f"expected a resolution name such as \"256\" or \"native\", got {value!r:.40}")
    return str(value)


Label = Annotated[str, BeforeValidator(_label), WithJsonSchema({"type": ["string", "number", "null"]})]
OptionalId = Annotated[Optional[str], BeforeValidator(_optional_id), WithJsonSchema({"type": ["string", "integer", "null"]})]
RelativePath = Annotated[str, BeforeValidator(relative_path),
                         WithJsonSchema({"type": "string", "minLength": 1, "pattern": "^(?![/\\\\])(?!.*(^|[/\\\\])\\.\\.([/\\\\]|$))",
                                         "description": "relative to the data root, without '..'"})]
Edges = Annotated[list[float], BeforeValidator(_edges),
                  WithJsonSchema({"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4,
                                  "description": "bucket edges e0 <= e1 <= e2 <= e3: buckets [e0,e1) [e1,e2) [e2,e3)"})]
Resolution = Annotated[str, BeforeValidator(_resolution),
                      WithJsonSchema({"type": ["string", "integer"], "pattern": RESOLUTION.pattern})]
Side = Annotated[int, Strict(), Field(gt=0, le=MAX_SIDE)]


class WordEntry(InstanceModel):
    """One ground-truth word: its transcription and where it is."""

    messages: ClassVar[dict[str, str]] = {
        "text": "empty or missing transcription",
        "ratio": "expected a positive number, got {got}",
        "unreadable": "expected true or false, got {got}",
        "reading": "expected the OCR's reading as text, got {got}",
    }
    text: Annotated[str, Strict(), Field(pattern=r"\S", description="the transcription (case-sensitive)")]
    box: Optional[Box] = Field(None, validation_alias=AliasChoices("box", "bbox"),
                               description="[x0, y0, x1, y1]; `bbox` is read as well")
    polygon: Optional[Polygon] = Field(None, description="n >= 3 points; 4 are read rectified, more as their bounding box")
    ratio: Optional[PositiveFloat] = Field(None, description="TokBench scale ratio; computed from the box when absent")
    unreadable: Annotated[bool, Strict()] = Field(False, description="curation: the curating OCR does not read it on the original")
    reading: Optional[Annotated[str, Strict()]] = Field(None, description="curation: what the curating OCR read")

    def bounds(self) -> list[float] | None:
        """The axis-aligned box (of the polygon when there is one); None without geometry."""
        if self.polygon is not None:
            xs, ys = [p[0] for p in self.polygon], [p[1] for p in self.polygon]
            return [min(xs), min(ys), max(xs), max(ys)]
        return self.box


class FaceEntry(InstanceModel):
    """One labelled face: box and 5-point landmarks, or ``excluded`` (kept, never scored) with its reason."""

    messages: ClassVar[dict[str, str]] = {
        "ratio": "expected a positive number, got {got}",
        "groups": "expected an object of label -> value",
        "excluded": "expected the reason the face is not scored, got {got}",
    }
    box: Optional[Box] = Field(None, validation_alias=AliasChoices("box", "bbox"),
                               description="[x0, y0, x1, y1]; the landmarks' bounds when absent")
    landmarks: Optional[Landmarks] = Field(None, validation_alias=AliasChoices("landmarks", "kps"),
                                           description="right eye, left eye, nose, right mouth, left mouth")
    ratio: Optional[PositiveFloat] = None
    identity: Optional[Label] = None
    groups: Optional[dict[str, Label]] = Field(None, description="fairness labels (age, ...): label -> value")
    excluded: Optional[Annotated[str, Strict(), Field(pattern=r"\S")]] = Field(
        None, description="curation: why the face cannot be scored (no landmarks were found)")

    @model_validator(mode="after")
    def _scorable_or_excluded(self) -> "FaceEntry":
        if self.excluded is not None:
            if self.box is None:
                raise fail("box", "an excluded face needs its box [x0, y0, x1, y1]", at="box")
        elif self.landmarks is None:
            raise fail("landmarks", "missing 5-point landmarks (import the data with `tfbench data import folder`, "
                                    "which detects them once)", at="landmarks")
        return self

    def bounds(self) -> list[float] | None:
        if self.box is not None:
            return self.box
        pts = self.landmarks or []
        return [min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts), max(p[1] for p in pts)]


def entry_in_image(item: "WordEntry | FaceEntry", width: int, height: int) -> tuple[str, str] | None:
    """(field, what is wrong) when a word or face has no geometry, a box without area, or a box or landmarks
    outside the ``width`` x ``height`` image (``BOX_TOLERANCE`` px); None when it is fine."""
    lo_x, lo_y, hi_x, hi_y = -BOX_TOLERANCE, -BOX_TOLERANCE, width + BOX_TOLERANCE, height + BOX_TOLERANCE
    box = item.bounds()
    if box is None:
        return "", "needs `box` [x0, y0, x1, y1] or `polygon` [[x, y] x n, n >= 3]"
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        return "box", f"box {box} has no area (need x0 < x1 and y0 < y1)"
    if x0 < lo_x or y0 < lo_y or x1 > hi_x or y1 > hi_y:
        return "box", f"box {box} lies outside the {width}x{height} image"
    lms = getattr(item, "landmarks", None)
    if lms is not None and any(x < lo_x or y < lo_y or x > hi_x or y > hi_y for x, y in lms):
        return "landmarks", f"points lie outside the {width}x{height} image"
    return None


def check_in_image(words: list[WordEntry], faces: list[FaceEntry], width: int, height: int, prefix: str = "") -> None:
    """Every word has a box or polygon; every box has an area and lies in the ``width`` x ``height`` image, as
    do the landmarks (``BOX_TOLERANCE`` px)."""
    for kind, items in (("words", words), ("faces", faces)):
        for j, item in enumerate(items):
            wrong = entry_in_image(item, width, height)
            if wrong is not None:
                fld, what = wrong
                raise fail(fld or "geometry", what, at=f"{prefix}{kind}[{j}]" + (f".{fld}" if fld else ""))


class ImageEntry(InstanceModel):
    """One image of a suite and its ground truth."""

    messages: ClassVar[dict[str, str]] = {
        "width": f"expected a positive integer up to {MAX_SIDE}, got {{got}}",
        "height": f"expected a positive integer up to {MAX_SIDE}, got {{got}}",
    }
    id: OptionalId = Field(None, description="unique in the suite; the file path when absent")
    file: RelativePath
    width: Side
    height: Side
    sha256: Optional[Sha256] = Field(None, description="of the file, written at import and verified before a run")
    subset: Label = ""
    words: Optional[list[WordEntry]] = None
    faces: Optional[list[FaceEntry]] = None

    @model_validator(mode="after")
    def _in_image(self) -> "ImageEntry":
        check_in_image(self.words or [], self.faces or [], self.width, self.height)
        return self

    @property
    def key(self) -> str:
        return self.id or self.file


class BucketEdges(SchemaModel):
    text: Optional[dict[str, Edges]] = None
    face: Optional[dict[str, Edges]] = None


class TextCuration(SchemaModel):
    backend: Annotated[str, Strict()]
    version: Annotated[str, Strict()]
    words: Optional[int] = None
    unreadable: Optional[int] = None


class Curation(SchemaModel):
    """Which OCR marked the words (and how faces were checked): the importers write it; runs re-curate for
    another backend or version."""

    text: Optional[TextCuration] = None
    face: Optional[dict[str, Any]] = None


def unique_ids(items: list[Any], key: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.key in seen:
            raise fail("duplicate", f"duplicate id {item.key!r}", at=f"{key}[{i}].id")
        seen.add(item.key)


SuiteTag = tag_type("suite", 1)


class SuiteManifest(SchemaModel):
    """A suite manifest (``tfbench.suite/1``)."""

    messages: ClassVar[dict[str, str]] = {"name": "missing", "version": "missing",
                                          "buckets": "expected {\"text\": {resolution: [e0, e1, e2, e3]}, \"face\": {...}}"}
    schema_: SuiteTag = Field(SCHEMA, alias="schema")  # type: ignore[valid-type]
    name: Name
    version: Name
    modality: str = "image"
    license: str = ""
    citation: str = ""
    description: str = ""
    resolutions: list[Resolution] = Field(default_factory=lambda: list(DEFAULT_RESOLUTIONS))
    buckets: Optional[BucketEdges] = Field(None, description="bucket edges per resolution, overriding TokBench's")
    curation: Optional[Curation] = None
    images: list[ImageEntry]

    @model_validator(mode="after")
    def _unique(self) -> "SuiteManifest":
        unique_ids(self.images, "images")
        return self
