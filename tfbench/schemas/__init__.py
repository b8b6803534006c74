"""Declared schemas of every file tfbench reads or writes (pydantic v2 models), published as JSON Schema.

Each kind of file has one model here; readers validate with :func:`validate`, which raises one error line
naming the file, the JSON path and what was expected. ``tfbench schemas export`` writes the JSON Schemas
into ``schemas/`` (versioned like the files' ``schema`` field); a test keeps them equal to the models.
"""
from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from tfbench.schemas.base import describe_error, json_path, validate
from tfbench.schemas.facecheck import FaceCheckReport
from tfbench.schemas.inputs import ClipAnnotations, FolderAnnotations
from tfbench.schemas.results import Golden, Record, Results, Submission
from tfbench.schemas.suite import SuiteManifest
from tfbench.schemas.video import VideoManifest


@dataclass(frozen=True)
class FileKind:
    """One kind of file: its model, the ``schema`` tag it carries (if any) and its published file name."""

    name: str
    model: type[BaseModel]
    tag: str | None  # the `schema` field's value (None: the file has none)
    version: int
    title: str

    @property
    def filename(self) -> str:
        return f"{self.name}.v{self.version}.json"


KINDS: tuple[FileKind, ...] = (
    FileKind("suite", SuiteManifest, "tfbench.suite/1", 1, "tfbench suite manifest"),
    FileKind("video-suite", VideoManifest, "tfbench.video-suite/1", 1, "tfbench video suite manifest"),
    FileKind("record", Record, None, 1, "one line of a tfbench run's records.jsonl (tfbench.results/1 runs)"),
    FileKind("results", Results, "tfbench.results/1", 1, "tfbench results.json"),
    FileKind("golden", Golden, "tfbench.golden/1", 1, "tfbench golden file"),
    FileKind("submission", Submission, "tfbench.results/1", 1, "results.json submitted to a tfbench leaderboard"),
    FileKind("facecheck", FaceCheckReport, "tfbench.facecheck/2", 2, "tfbench face-check report"),
    FileKind("folder-annotations", FolderAnnotations, None, 1, "annotations of a folder of images (`tfbench data import folder`)"),
    FileKind("clip-annotations", ClipAnnotations, None, 1, "annotations of a clip (`tfbench data import clip`)"),
)


def kind(name: str) -> FileKind:
    return next(k for k in KINDS if k.name == name)


__all__ = ["KINDS", "FileKind", "describe_error", "json_path", "kind", "validate"]
