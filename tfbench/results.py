"""results.json: aggregate per-image records into per-bucket metrics, stamped with provenance.

Schema ``tfbench.results/1`` (values are fractions in [0, 1] except PSNR in dB)::

    {"schema", "tfbench_version", "created", "git",
     "adapter": {"spec", "family", "kind", "bits_per_pixel", "tokens", "latent_shape", ...},
     "suite": {"name", "version", "resolution", "modality"},
     "backends": {"text": {...}, "face": {...}},
     "metrics": {"text": {"t_acc": {small, medium, large, mean}, "t_ned": {...}, "psnr": {...},
                          "ssim": {...}, "n": {small, medium, large}, "uncounted": int},
                 "face": {"f_sim": {...}, "f_kept": {...}, "psnr": {...}, "ssim": {...}, "n": {...},
                          "uncounted": int,
                          "groups": {label: {"values": {value: {f_sim, f_kept, psnr, ssim, n, uncounted}},
                                             "max_gap": {metric: max - min of the values' means}}}}},
                          # f_kept: share of faces at/above the backend's same-person threshold;
                          # groups: only when faces carry `groups` labels from the manifest
     "subsets": {name: {"text": ..., "face": ...}},      # when the suite has several subsets
     "failures": {"images": int, "words": int, "faces": int, "examples": [{image, stage, error}]},
     "counts": {"images", "words", "faces", "unreadable_words", "faces_without_landmarks"},
         # the last two: instances the suite's curation excluded from scoring (not in words/faces)
     "budget": {"wall_s", "peak_rss_mb", "device", "stages": {...}}}
"""
from __future__ import annotations

import datetime as _dt
import math
import subprocess
from pathlib import Path
from typing import Any, Iterable

from tfbench._version import __version__
from tfbench.buckets import BucketMean
from tfbench.errors import ResultsError
from tfbench.jsonfile import read_json

SCHEMA = "tfbench.results/1"
TEXT_METRICS = ("t_acc", "t_ned", "psnr", "ssim")
FACE_METRICS = ("f_sim", "f_kept", "psnr", "ssim")


def git_revision() -> str | None:
    """Commit of the tfbench checkout this code runs from (None when installed from a wheel)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _aggregate(instances: Iterable[dict[str, Any]], names: tuple[str, ...], edges: tuple[float, ...]) -> dict[str, Any]:
    means = {n: BucketMean(edges) for n in names}
    uncounted = 0
    for inst in instances:
        counted = False
        for n in names:
            v = inst.get(n)
            if v is not None:
                counted = means[n].update(v, inst["ratio"]) or counted
        if not counted:
            uncounted += 1
    first = names[0]
    out: dict[str, Any] = {n: means[n].compute() for n in names}
    out["n"] = means[first].count_dict()
    out["uncounted"] = uncounted
    return out


def _face_groups(faces: list[dict[str, Any]], edges: tuple[float, ...]) -> dict[str, Any]:
    """Group fairness: the face metrics per value of each ``groups`` label of the faces, and per metric the
    largest gap between two values' means: {label: {"values": {value: {f_sim, ..., n}}, "max_gap": {...}}}."""
    out: dict[str, Any] = {}
    for label in sorted({k for f in faces for k in (f.get("groups") or {})}):
        by_value: dict[str, list[dict[str, Any]]] = {}
        for f in faces:
            value = (f.get("groups") or {}).get(label)
            if value is not None:
                by_value.setdefault(str(value), []).append(f)
        values = {v: _aggregate(fs, FACE_METRICS, edges) for v, fs in sorted(by_value.items())}
        gaps = {}
        for m in FACE_METRICS:
            means = [agg[m]["mean"] for agg in values.values() if agg[m]["mean"] is not None]
            if len(means) >= 2:
                gaps[m] = max(means) - min(means)
        out[label] = {"values": values, "max_gap": gaps}
    return out


def _real(value: Any, finite: bool = True) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value)) or not finite
    except OverflowError:
        return False


def _record_problem(rec: dict[str, Any]) -> str | None:
    """What makes a journal record unusable for aggregation (None when it is well formed)."""
    if rec.get("status") != "ok":
        bad = [k for k in ("n_words", "n_faces") if k in rec and not (isinstance(rec[k], int) and rec[k] >= 0)]
        return f"`{bad[0]}` is not a count" if bad else None
    if rec.get("subset") is not None and not isinstance(rec["subset"], str):
        return "`subset` is not text"
    for kind, names in (("words", TEXT_METRICS), ("faces", FACE_METRICS)):
        items = rec.get(kind, [])
        if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
            return f"`{kind}` is not a list of objects"
        for x in items:
            if x.get("skipped"):
                continue
            if not _real(x.get("ratio"), finite=False):
                return f"a {kind[:-1]} has no numeric `ratio`"
            bad = [n for n in names if x.get(n) is not None and not _real(x[n])]
            if bad:
                return f"a {kind[:-1]}'s `{bad[0]}` is {x[bad[0]]!r}, not a finite number"
    comp = rec.get("compression")
    if comp is None:
        return None
    if not isinstance(comp, dict):
        return "`compression` is not an object"
    bad = [k for k in ("bits_per_pixel", "tokens") if comp.get(k) is not None and not _real(comp[k])]
    if bad:
        return f"`compression.{bad[0]}` is not a finite number"
    shape = comp.get("latent_shape")
    if shape is not None and not (isinstance(shape, (list, tuple)) and all(isinstance(d, int) for d in shape)):
        return "`compression.latent_shape` is not a list of integers"
    if comp.get("bpp_basis") is not None and not isinstance(comp["bpp_basis"], str):
        return "`compression.bpp_basis` is not text"
    return None


def _check_record(rec: dict[str, Any]) -> None:
    problem = _record_problem(rec)
    if problem:
        raise ResultsError(f"the record of image {rec.get('image')!r} is malformed: {problem}; delete its line "
                           f"from the run's records.jsonl and rerun the same command to redo that image")


def aggregate_records(records: Iterable[dict[str, Any]], text_edges: tuple[float, ...],
                      face_edges: tuple[float, ...]) -> dict[str, Any]:
    """Records (latest per image) -> {metrics, subsets, failures, counts, compression}.

    Records are taken in image-id order, so the sums (and every digit of the metrics) do not depend on
    the order they were computed in: one process, merged shards, a resumed run and Ray agree exactly.
    """
    records = sorted(records, key=lambda rec: str(rec.get("image")))
    words, faces = [], []
    by_subset: dict[str, tuple[list, list]] = {}
    failures = {"images": 0, "words": 0, "faces": 0, "examples": []}
    bpp, tokens = [], []
    excluded = {"unreadable": 0, "no_landmarks": 0}  # instances curation kept out of scoring
    shapes, bases = set(), set()  # reported when every image agrees (fixed-size protocol runs do)
    for rec in records:
        _check_record(rec)
        if rec.get("status") != "ok":
            failures["images"] += 1
            failures["words"] += int(rec.get("n_words", 0))
            failures["faces"] += int(rec.get("n_faces", 0))
            if len(failures["examples"]) < 20:
                failures["examples"].append({k: rec.get(k) for k in ("image", "stage", "error")})
            continue
        w = [x for x in rec.get("words", []) if not x.get("skipped")]
        f = [x for x in rec.get("faces", []) if not x.get("skipped")]
        for x in rec.get("words", []) + rec.get("faces", []):
            if x.get("excluded") in excluded:
                excluded[x["excluded"]] += 1
        words += w
        faces += f
        sub = by_subset.setdefault(rec.get("subset") or "", ([], []))
        sub[0].extend(w)
        sub[1].extend(f)
        comp = rec.get("compression") or {}
        if comp.get("bits_per_pixel") is not None:
            bpp.append(comp["bits_per_pixel"])
        if comp.get("tokens") is not None:
            tokens.append(comp["tokens"])
        shapes.add(tuple(comp["latent_shape"]) if comp.get("latent_shape") is not None else None)
        bases.add(comp.get("bpp_basis") or None)
    out: dict[str, Any] = {
        "metrics": {"text": _aggregate(words, TEXT_METRICS, text_edges),
                    "face": _aggregate(faces, FACE_METRICS, face_edges)},
        "failures": failures,
        "counts": {"images": len(records), "words": len(words), "faces": len(faces),
                   "unreadable_words": excluded["unreadable"], "faces_without_landmarks": excluded["no_landmarks"]},
        "compression": {"bits_per_pixel": sum(bpp) / len(bpp) if bpp else None,
                        "tokens": sum(tokens) / len(tokens) if tokens else None,
                        "latent_shape": list(next(iter(shapes))) if len(shapes) == 1 and None not in shapes else None,
                        "bpp_basis": next(iter(bases)) if len(bases) == 1 else None},
    }
    if any(f.get("groups") for f in faces):  # manifests with group labels (age band, skin tone, ...)
        out["metrics"]["face"]["groups"] = _face_groups(faces, face_edges)
    if len(by_subset) > 1:
        out["subsets"] = {name: {"text": _aggregate(w, TEXT_METRICS, text_edges),
                                 "face": _aggregate(f, FACE_METRICS, face_edges)}
                          for name, (w, f) in sorted(by_subset.items())}
    return out


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
    """Read and minimally validate a results.json (a folder means its results.json)."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    data = read_json(path, ResultsError, f"results file not found: {path}")
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ResultsError(f"{path}: not a tfbench results file (schema {data.get('schema') if isinstance(data, dict) else None!r}, expected {SCHEMA!r})")
    for key in ("adapter", "suite", "metrics"):
        if not isinstance(data.get(key), dict):
            raise ResultsError(f"{path}: missing or malformed `{key}`")
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
