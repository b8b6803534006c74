"""Face-check reports (``tfbench.facecheck/2``), as ``tfbench face-check --json`` writes them."""
from __future__ import annotations

from typing import Annotated, Any, Optional

from pydantic import Field

from tfbench.schemas.base import SchemaModel, tag_type

FaceCheckTag = tag_type("facecheck", 2)
MODES = ("preserve", "protect")
STATUSES = ("ok", "no_face", "unpaired", "size_mismatch", "unsupported", "error")


class PairRecord(SchemaModel):
    """One original/processed pair (image or clip) and its faces (or tracks)."""

    status: Annotated[str, Field(pattern="^(" + "|".join(STATUSES) + ")$")]
    kind: Optional[str] = None
    faces: Optional[list[dict[str, Any]]] = None


class FaceCheckReport(SchemaModel):
    """What face-check measured, per backend and group, and the verdict of each gate."""

    schema_: FaceCheckTag = Field(alias="schema")  # type: ignore[valid-type]
    tfbench_version: Optional[str] = None
    created: Optional[str] = None
    mode: Annotated[str, Field(pattern="^(" + "|".join(MODES) + ")$")]
    target: Optional[str] = None
    faces_from: Optional[str] = None
    backends: dict[str, Any]
    summary: dict[str, Any]
    problems: list[dict[str, Any]] = Field(default_factory=list)
    gates: dict[str, Any]
    records: list[PairRecord]
