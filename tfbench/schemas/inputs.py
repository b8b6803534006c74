"""Files users write for the importers: a folder's annotations (``tfbench data import folder``) and a clip's
annotations (``tfbench data import clip``). They carry no ``schema`` field; the importers turn them into
suite manifests (:mod:`tfbench.schemas.suite`, :mod:`tfbench.schemas.video`).
"""
from __future__ import annotations

from typing import Annotated, Any, ClassVar, Optional

from pydantic import AliasChoices, Field, RootModel, Strict, model_validator

from tfbench.schemas.base import Box, Landmarks, SchemaModel
from tfbench.schemas.suite import Label, OptionalId, RelativePath, WordEntry


class AnnotatedFace(SchemaModel):
    """A labelled face: its box; landmarks are detected at import when absent."""

    box: Box = Field(validation_alias=AliasChoices("bbox", "box"), description="[x0, y0, x1, y1] (`bbox` or `box`)")
    landmarks: Optional[Landmarks] = Field(None, validation_alias=AliasChoices("landmarks", "kps"))
    identity: Optional[Label] = None
    groups: Optional[dict[str, Label]] = None


class AnnotatedImage(SchemaModel):
    """One image of the folder: its file and ground truth (sizes are read from the file when absent)."""

    messages: ClassVar[dict[str, str]] = {"file": "missing image path (relative to the folder)"}
    id: OptionalId = None
    file: RelativePath
    width: Optional[int] = None
    height: Optional[int] = None
    subset: Label = ""
    identity: Optional[Label] = Field(None, description="the identity of every face of the image")
    words: Optional[list[WordEntry]] = None
    faces: Optional[list[AnnotatedFace]] = None


class FolderAnnotations(RootModel[list[AnnotatedImage]]):
    """A folder's ``manifest.json``: a list of images (``{"images": [...]}`` is read as well)."""

    @model_validator(mode="before")
    @classmethod
    def _images(cls, data: Any) -> Any:
        return data["images"] if isinstance(data, dict) and "images" in data else data


class AnnotatedFrame(SchemaModel):
    """The ground truth of one frame of a clip (0-based, in decode order)."""

    messages: ClassVar[dict[str, str]] = {"frame": "expected a 0-based frame index, got {got}"}
    frame: Annotated[int, Strict(), Field(ge=0)]
    words: Optional[list[WordEntry]] = None
    faces: Optional[list[AnnotatedFace]] = None


class ClipAnnotations(SchemaModel):
    """A clip's annotation file: ``{"annotations": [{frame, words, faces}]}`` (a bare list is read as well)."""

    annotations: list[AnnotatedFrame]

    @model_validator(mode="before")
    @classmethod
    def _listed(cls, data: Any) -> Any:
        return {"annotations": data} if isinstance(data, list) else data
