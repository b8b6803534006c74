"""The published JSON Schemas (``schemas/*.json``): generated from the models, never edited by hand."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tfbench.schemas import KINDS, FileKind

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema(kind: FileKind) -> dict[str, Any]:
    """The JSON Schema of one file kind, as published."""
    schema = kind.model.model_json_schema(by_alias=True, mode="validation")
    head: dict[str, Any] = {"$schema": DIALECT, "title": kind.title}
    if kind.tag:
        head["x-tfbench-schema"] = kind.tag
    return {**head, **{k: v for k, v in schema.items() if k != "title"}}


def render(kind: FileKind) -> str:
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def export(folder: Path) -> list[Path]:
    """Write every schema into ``folder``; returns the files written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in KINDS:
        path = folder / kind.filename
        path.write_text(render(kind), encoding="utf-8")
        written.append(path)
    return written


def stale(folder: Path) -> list[str]:
    """Schema files in ``folder`` that differ from what the models generate (or are missing / unknown)."""
    folder = Path(folder)
    out = [k.filename for k in KINDS if not (folder / k.filename).is_file()
           or (folder / k.filename).read_text(encoding="utf-8") != render(k)]
    known = {k.filename for k in KINDS}
    out += sorted(p.name for p in folder.glob("*.json") if p.name not in known)
    return out
