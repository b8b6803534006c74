"""Golden files: the results of a small suite (``mini`` by default) for one adapter, kept in a model's
repository so that its CI can run ``tfbench check --adapter SPEC --golden golden.json`` (the run itself is
:func:`tfbench.commands.check.run_adapter`: this module is in the results layer and never imports the pipeline).

Format (JSON)::

    {"schema": "tfbench.golden/1", "adapter": SPEC, "suite": "mini", "created": ...,
     "results": [<results.json of each resolution>, ...]}
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from tfbench.check import GOLDEN_SCHEMA
from tfbench.errors import ResultsError, TfbenchError
from tfbench.jsonfile import read_json
from tfbench.records import write_json_atomic
from tfbench.schemas.base import validate
from tfbench.schemas.results import Golden


def make_golden(spec: str, suite: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schema": GOLDEN_SCHEMA, "adapter": spec, "suite": suite,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), "results": results}


def write_golden(path: Path, golden: dict[str, Any]) -> None:
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True)
    write_json_atomic(path, golden)


def read_golden(path: Path) -> dict[str, Any]:
    """Read a golden file, validated by :class:`tfbench.schemas.results.Golden` (one error line naming the file,
    the JSON path and what was expected)."""
    path = Path(path)
    data = read_json(path, ResultsError,
                     f"golden file not found: {path}; create it with `tfbench golden --adapter SPEC --out {path}`")
    validate(Golden, data, str(path), ResultsError)
    for i, r in enumerate(data["results"]):
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
