"""Recompute results.json from a run's per-instance records (records.jsonl) without re-running models.

The adapter, suite and backend descriptions come from the run folder (``results.json`` /
``run.json``); bucket edges default to the run's own and can be replaced. Instances the run did not
score (below its smallest bucket, unless it ran with ``--score-all``) cannot count under lower
edges; they are counted in ``rescore.unscored_*`` instead of being dropped silently.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tfbench.buckets import FACE_EDGES, NATIVE_EDGES_FROM, TEXT_EDGES, bucket_of
from tfbench.errors import ResultsError, TfbenchError
from tfbench.jsonfile import read_json
from tfbench.records import latest_by_image, read_records
from tfbench.resize import parse_resolution, resolution_label
from tfbench.results import build_results


def parse_edges(value: str | None, flag: str) -> tuple[float, ...] | None:
    """``"0.02,0.03,0.04,1"`` -> four increasing finite edges."""
    if value is None:
        return None
    try:
        edges = tuple(float(v) for v in value.split(","))
    except ValueError:
        raise TfbenchError(f"{flag} {value!r}: expected four comma-separated numbers, e.g. 0.02,0.03,0.04,1") from None
    if len(edges) != 4 or not all(math.isfinite(e) for e in edges) or list(edges) != sorted(set(edges)):
        raise TfbenchError(f"{flag} {value!r}: expected four strictly increasing finite numbers")
    return edges


def _read_object(path: Path) -> dict[str, Any]:
    """A run's JSON object beside its records ({} when absent)."""
    data = read_json(path, ResultsError) if path.is_file() else {}
    return data if isinstance(data, dict) else {}


def rescore(path: Path, resolution: str, text_edges: tuple[float, ...] | None = None,
            face_edges: tuple[float, ...] | None = None) -> dict[str, Any]:
    path = Path(path)
    journal = path / "records.jsonl" if path.is_dir() else path
    if not journal.is_file():
        raise ResultsError(f"no records at {journal} (give a run's records.jsonl or its folder)")
    try:
        res = resolution_label(parse_resolution(resolution))
    except ValueError:
        raise TfbenchError(f"--resolution {resolution!r}: expected 256, 512, 1024 or native") from None
    old = _read_object(journal.parent / "results.json")
    config = _read_object(journal.parent / "run.json") or old.get("config", {})
    ran_at = config.get("resolution") or (old.get("suite") or {}).get("resolution")
    if ran_at and str(ran_at) != res:
        raise TfbenchError(f"{journal} holds records computed at resolution {ran_at}, not {res}; the reconstruction "
                           f"depends on the resolution, so rescoring cannot change it (use --resolution {ran_at})")
    key = NATIVE_EDGES_FROM if res == "native" else res
    same = (old.get("suite") or {}).get("resolution") == res and isinstance(old.get("buckets"), dict)
    text_edges = text_edges or (tuple(old["buckets"]["text"]) if same else TEXT_EDGES[key])
    face_edges = face_edges or (tuple(old["buckets"]["face"]) if same else FACE_EDGES[key])
    records = list(latest_by_image(read_records(journal)).values())
    if not records:
        raise ResultsError(f"{journal} holds no records")
    unscored = {"words": 0, "faces": 0}
    for rec in records:
        for kind, edges in (("words", text_edges), ("faces", face_edges)):
            unscored[kind] += sum(1 for x in rec.get(kind, [])
                                  if x.get("skipped") and not x.get("excluded")
                                  and bucket_of(x.get("ratio", math.nan), edges) is not None)
    suite = old.get("suite") or {"name": config.get("suite"), "version": config.get("suite_version"),
                                 "modality": "image"}
    results = build_results(
        adapter=old.get("adapter") or {"spec": config.get("adapter")},
        suite={**suite, "resolution": res},
        backends=old.get("backends") or {"text": {"backend": config.get("text_backend")},
                                         "face": {"backend": config.get("face_backend")}},
        records=records, text_edges=tuple(text_edges), face_edges=tuple(face_edges),
        budget=old.get("budget") or {}, config=config,
    )
    results["rescore"] = {"from": str(journal.resolve()), "unscored_words": unscored["words"],
                          "unscored_faces": unscored["faces"]}
    return results
