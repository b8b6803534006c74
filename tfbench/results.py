"""results.json: per-image records aggregated (:mod:`tfbench.aggregation`), stamped with provenance.

Schema ``tfbench.results/1`` (values are fractions in [0, 1] except PSNR in dB; which metrics appear is
declared by :mod:`tfbench.metrics.registry`)::

    {"schema", "tfbench_version", "created", "git",
     "adapter": {"spec", "family", "kind", "bits_per_pixel", "tokens", "latent_shape", ...},
     "suite": {"name", "version", "resolution", "modality"},
     "backends": {"text": {...}, "face": {...}},
     "buckets": {"text": [e0, e1, e2, e3], "face": [...]},
     "metrics": {"text": {"t_acc": {small, medium, large, mean, instance_mean}, "t_ned": {...},
                          "psnr": {...}, "ssim": {...},
                          "n": {small, medium, large}, "n_counted": int, "uncounted": int},
                 "face": {"f_sim": {...}, "f_kept": {...}, "psnr": {...}, "ssim": {...}, "n": {...},
                          "n_counted": int, "uncounted": int,
                          "groups": {label: {"values": {value: {f_sim, f_kept, psnr, ssim, n, ...}},
                                             "max_gap": {metric: max - min of the values' instance means},
                                             "gap_of": "instance_mean"}}}},
                          # mean: mean of the three bucket means, None when a bucket is empty (TokBench);
                          # instance_mean: mean over every counted instance (always defined when n > 0);
                          # f_kept: share of faces at/above the backend's same-person threshold;
                          # groups: only when faces carry `groups` labels from the manifest
     "subsets": {name: {"text": ..., "face": ...}},      # when the suite has several subsets
     "failures": {"images": int, "words": int, "faces": int, "examples": [{image, stage, error}]},
     "counts": {"images", "words", "faces", "unreadable_words", "faces_without_landmarks"},
         # the last two: instances the suite's curation excluded from scoring (not in words/faces)
     "budget": {"wall_s", "peak_rss_mb", "device", "stages": {...}, "images_evaluated", "images_resumed", ...}}
"""
from __future__ import annotations

import datetime as _dt
import subprocess
from pathlib import Path
from typing import Any, Iterable

from tfbench._version import __version__
from tfbench.aggregation import aggregate_records
from tfbench.errors import ResultsError
from tfbench.jsonfile import read_json
from tfbench.schemas.base import validate
from tfbench.schemas.results import SCHEMA, Results

__all__ = ["SCHEMA", "aggregate_records", "build_results", "find_results", "git_revision", "load_results"]


def git_revision() -> str | None:
    """Commit of the tfbench checkout this code runs from (None when installed from a wheel)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def build_results(*, adapter: dict[str, Any], suite: dict[str, Any], backends: dict[str, Any],
                  records: Iterable[dict[str, Any]], text_edges: tuple[float, ...], face_edges: tuple[float, ...],
                  budget: dict[str, Any], config: dict[str, Any] | None = None) -> dict[str, Any]:
    agg = aggregate_records(records, text_edges, face_edges)
    adapter = {**adapter, **{k: v for k, v in agg.pop("compression").items() if v is not None}}
    return {
        "schema": SCHEMA,
        "tfbench_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "git": git_revision(),
        "adapter": adapter,
        "suite": suite,
        "backends": backends,
        "buckets": {"text": list(text_edges), "face": list(face_edges)},
        **agg,
        "budget": budget,
        "config": config or {},
    }


def load_results(path: Path) -> dict[str, Any]:
    """Read a results.json (a folder means its results.json), validated by :class:`tfbench.schemas.results.Results`
    (one error line naming the file, the JSON path and what was expected; another format version is refused
    naming it)."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    data = read_json(path, ResultsError, f"results file not found: {path}")
    validate(Results, data, str(path), ResultsError)
    data["_path"] = str(path)
    return data


def find_results(paths: Iterable[Path]) -> list[Path]:
    """Every results.json at or below the given files/folders, sorted."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_file():
            found.append(p)
        elif p.is_dir():
            found += sorted(p.rglob("results.json"))
        else:
            raise ResultsError(f"no such file or folder: {p}")
    return found
