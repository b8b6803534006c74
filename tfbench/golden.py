"""Golden files: the results of a small suite (``mini`` by default) for one adapter, kept in a model's
repository so that its CI can run ``tfbench check --adapter SPEC --golden golden.json``.

Format (JSON)::

    {"schema": "tfbench.golden/1", "adapter": SPEC, "suite": "mini", "created": ...,
     "results": [<results.json of each resolution>, ...]}
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, Sequence

from tfbench.check import GOLDEN_SCHEMA
from tfbench.errors import ResultsError, TfbenchError
from tfbench.jsonfile import read_json
from tfbench.records import write_json_atomic


def run_adapter(spec: str, resolutions: Sequence[str], out: Path, *, suite: str = "mini",
                data_root: str | None = None, ocr: str = "rapidocr", face: str = "sface",
                threads: int | None = None, progress: bool = False) -> list[dict[str, Any]]:
    """Evaluate one adapter on a suite at each resolution (metric models loaded once)."""
    from tfbench.pipeline import Scorers, evaluate
    from tfbench.registry import create_adapter
    from tfbench.suites import load_suite

    adapter = create_adapter(spec)
    try:
        loaded = load_suite(suite, data_root)
        scorers = Scorers.create(ocr, face, threads)
        results = [evaluate(loaded, adapter, res, scorers, out, progress=progress) for res in resolutions]
    finally:
        adapter.close()
    return [{k: v for k, v in r.items() if k != "_path"} for r in results]


def make_golden(spec: str, suite: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schema": GOLDEN_SCHEMA, "adapter": spec, "suite": suite,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), "results": results}


def write_golden(path: Path, golden: dict[str, Any]) -> None:
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True)
    write_json_atomic(path, golden)


def read_golden(path: Path) -> dict[str, Any]:
    path = Path(path)
    data = read_json(path, ResultsError,
                     f"golden file not found: {path}; create it with `tfbench golden --adapter SPEC --out {path}`")
    if not isinstance(data, dict) or data.get("schema") != GOLDEN_SCHEMA or not data.get("results"):
        raise ResultsError(f"{path}: not a tfbench golden file (expected schema {GOLDEN_SCHEMA!r} with results); "
                           f"create it with `tfbench golden --adapter SPEC --out {path}`")
    for i, r in enumerate(data["results"]):
        if not isinstance(r, dict) or not all(isinstance(r.get(k), dict) for k in ("adapter", "suite", "metrics")):
            raise ResultsError(f"{path}: results[{i}] is not a tfbench results object; recreate the golden file")
        r["_path"] = f"{path}#{i}"
    return data


def golden_settings(golden: dict[str, Any]) -> dict[str, Any]:
    """The suite, resolutions and backends to rerun so that new results are comparable with the golden."""
    from tfbench.suites import versioned_name

    results = golden["results"]
    backends = results[0].get("backends") or {}
    suite = str(golden.get("suite") or results[0]["suite"].get("name"))
    return {
        "suite": versioned_name(suite, results[0]["suite"].get("version")),  # a golden of mini v1 reruns v1
        "resolutions": [str(r["suite"].get("resolution")) for r in results],
        "ocr": (backends.get("text") or {}).get("backend") or "rapidocr",
        "face": (backends.get("face") or {}).get("backend") or "sface",
    }


def fresh_out(out: Path) -> Path:
    """An output folder for a check run: it must not hold earlier records (a run would resume them)."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise TfbenchError(f"--out {out} is not empty; a check needs fresh records (earlier ones would be "
                           f"resumed, not recomputed): give an empty or new folder")
    return out
