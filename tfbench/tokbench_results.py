"""Official TokBench evaluation outputs -> a tfbench results.json, so results computed elsewhere can
go on the same leaderboard.

The official scripts (``eval_text.py`` / ``eval_face.py``, github.com/wjf5203/TokBench) write one
JSON per text set (``ic13.json`` ... ``docvqa.json``) and ``face.json``::

    {method: {setting: {"results": {...}, "details": {file: {"results": [
        {"gt", "pred", "ratio", "accuracy", "ned"}            # text; ned is already 1 - NED
        | {"ratio", "similarity", "box", "gt"}]}}}}}          # face

``compute_all_metrics.py`` pools the instances of every file whose setting ends in ``_<resolution>``
(or equals it), drops instances outside ``[e0, e3)``, buckets them half-open and prints the mean of
the bucket means; an empty bucket makes its mean NaN and so the overall mean NaN. That is the rule of
:mod:`tfbench.aggregation`, which every tfbench path uses (None stands for NaN): the pooled numbers and
the per-set breakdown (``subsets``) are aggregated exactly like a ``tfbench run``.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tfbench.buckets import FACE_EDGES, TEXT_EDGES
from tfbench.datasets.checksums import ChecksumCache
from tfbench.datasets.tokbench import FACE_SET, IMPORTER_VERSION, SUITE_SETS, read_annotation
from tfbench.errors import ResultsError, TfbenchError
from tfbench.results import build_results

SOURCE = "official TokBench evaluation scripts (github.com/wjf5203/TokBench: eval_text.py, eval_face.py)"
BACKENDS = {
    "text": {"backend": "tokbench-official", "model": "docTR PARSeq (vocab french, input 32x128)",
             "source": SOURCE},
    "face": {"backend": "tokbench-official", "model": "insightface antelopev2 recognition (glintr100)",
             "source": SOURCE},
}


def _number(value: Any, where: str, allow_bool: bool = False) -> float:
    if isinstance(value, bool) and allow_bool:
        return float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ResultsError(f"{where}: expected a finite number, got {value!r:.60}")
    return float(value)


def _instances(path: Path, method: str, resolution: str, kind: str) -> tuple[list[tuple[str, list[dict]]], list[str]]:
    """[(file, [instance])] of ``method`` at ``resolution`` in one official JSON, and the settings used."""
    data = read_annotation(path, "the official scripts write one JSON per set into their --save_dir; pass that folder "
                           "(or restrict the import with --sets)")
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: top level: expected {{method: {{setting: ...}}}}, got {type(data).__name__}")
    if method not in data:
        raise ResultsError(f"{path}: no method {method!r} (methods in this file: {', '.join(map(str, data)) or 'none'})")
    settings = data[method]
    if not isinstance(settings, dict):
        raise ResultsError(f"{path}: {method}: expected {{setting: {{results, details}}}}")
    keys = [k for k in settings if str(k).split("_")[-1] == resolution]  # as compute_all_metrics.py
    if not keys:
        raise ResultsError(f"{path}: {method}: no setting for resolution {resolution} (settings: {', '.join(settings)})")
    out = []
    for key in keys:
        block = settings[key]
        details = block.get("details") if isinstance(block, dict) else None
        if not isinstance(details, dict):
            raise ResultsError(f"{path}: {method}.{key}.details: missing or not an object of file -> results")
        for file, entry in details.items():
            where = f"{path}: {method}.{key}.details[{file!r}]"
            results = entry.get("results") if isinstance(entry, dict) else None
            if not isinstance(results, list):
                raise ResultsError(f"{where}.results: missing or not a list of per-instance results")
            items = []
            for k, r in enumerate(results):
                at = f"{where}.results[{k}]"
                if not isinstance(r, dict):
                    raise ResultsError(f"{at}: expected an object")
                ratio = _number(r.get("ratio"), f"{at}.ratio")
                if kind == "text":  # only what is aggregated: the readings (gt, pred) stay in the official files
                    items.append({"ratio": ratio, "t_acc": _number(r.get("accuracy"), f"{at}.accuracy", allow_bool=True),
                                  "t_ned": _number(r.get("ned"), f"{at}.ned")})
                else:
                    items.append({"ratio": ratio, "f_sim": _number(r.get("similarity"), f"{at}.similarity")})
            out.append((str(file), items))
    return out, [str(k) for k in keys]


def suite_name(sets: tuple[str, ...]) -> str:
    for name, members in SUITE_SETS.items():
        if set(members) == set(sets):
            return name
    return "tokbench[" + "+".join(sets) + "]"


def import_official(directory: Path, method: str, resolution: str,
                    sets: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Read the official per-instance JSONs of one method and resolution into a results dict."""
    directory = Path(directory)
    if resolution not in TEXT_EDGES:
        raise TfbenchError(f"--resolution {resolution!r}: TokBench images are evaluated at {', '.join(TEXT_EDGES)}")
    if not directory.is_dir():
        raise ResultsError(f"{directory} is not a folder (give the official scripts' --save_dir)")
    sets = tuple(sets or SUITE_SETS["tokbench"])
    unknown = [s for s in sets if s not in SUITE_SETS["tokbench"]]
    if unknown:
        raise TfbenchError(f"unknown TokBench set(s) {unknown}; known: {', '.join(SUITE_SETS['tokbench'])}")
    records, files, used = [], {}, {}
    cache = ChecksumCache()
    for s in sets:
        path = directory / f"{s}.json"
        kind = "face" if s == FACE_SET else "text"
        per_file, keys = _instances(path, method, resolution, kind)
        used[s] = keys
        files[path.name] = cache.sha256(path)
        for file, items in per_file:
            records.append({"image": f"{s}/{file}", "subset": s, "status": "ok",
                            "words": items if kind == "text" else [], "faces": items if kind == "face" else []})
    cache.save()
    results = build_results(
        adapter={"spec": method, "family": method, "kind": "imported",
                 "description": f"imported from official TokBench outputs in {directory}"},
        suite={"name": suite_name(sets), "version": IMPORTER_VERSION, "resolution": resolution, "modality": "image"},
        backends=BACKENDS, records=records, text_edges=TEXT_EDGES[resolution], face_edges=FACE_EDGES[resolution],
        budget={}, config={"imported_from": str(directory.resolve()), "method": method, "settings": used,
                           "files_sha256": files, "sets": list(sets)},
    )
    return results
