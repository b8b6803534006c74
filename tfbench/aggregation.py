"""One aggregation of per-instance records into metrics, used by every path that reports numbers.

``tfbench run``, video runs, ``score``, ``merge``, the Ray engine and ``import-tokbench-results`` all call
:func:`aggregate_records`, so the same records give byte-identical aggregates whichever path made them.

The rule is TokBench's (``compute_all_metrics.py``): instances are put in half-open scale buckets; each
bucket's mean is the mean of its instances; the reported ``mean`` is the mean of the three bucket means,
and an empty bucket leaves its own mean and ``mean`` undefined (None). Every block also carries
``instance_mean``, the mean over every counted instance, defined whenever one was counted (a folder whose
instances all fall in one bucket still gets a number), and its bucket counts ``n``. Which fields are
aggregated comes from the metric registry (:func:`tfbench.metrics.registry.record_keys`).
"""
from __future__ import annotations

import math
from typing import Any, Iterable

from tfbench.buckets import BUCKETS, BucketMean
from tfbench.errors import ResultsError
from tfbench.metrics.registry import record_keys

SIDES: tuple[tuple[str, str], ...] = (("words", "text"), ("faces", "face"))  # record field -> metrics side


def aggregate_instances(instances: Iterable[dict[str, Any]], keys: tuple[str, ...],
                        edges: tuple[float, ...]) -> dict[str, Any]:
    """Instances of one side -> {key: {small, medium, large, mean, instance_mean}, n, n_counted, uncounted}.

    ``n`` counts the instances holding the first key (T-ACC / F-Sim); ``uncounted`` those whose ratio
    falls outside every bucket.
    """
    means = {k: BucketMean(edges) for k in keys}
    uncounted = 0
    for inst in instances:
        counted = [means[k].update(inst[k], inst["ratio"]) for k in keys if inst.get(k) is not None]
        if not any(counted):
            uncounted += 1
    out: dict[str, Any] = {k: means[k].compute() for k in keys}
    n = means[keys[0]].count_dict() if keys else dict.fromkeys(BUCKETS, 0)
    out["n"] = n
    out["n_counted"] = sum(n.values())
    out["uncounted"] = uncounted
    return out


def undefined_reason(block: dict[str, Any], counts: Any) -> str | None:
    """Why a metric block's mean of bucket means is undefined ("empty bucket: medium (n s/m/l 29/0/2)"), given
    its side's bucket counts ``n``; None when it is defined."""
    if block.get("mean") is not None:
        return None
    counts = counts if isinstance(counts, dict) else {}
    empty = [b for b in BUCKETS if block.get(b) is None]
    if not empty:
        return "no value"
    listing = "/".join(str(counts.get(b, 0)) for b in BUCKETS)
    return f"empty bucket{'s' if len(empty) > 1 else ''}: {', '.join(empty)} (n s/m/l {listing})"


def face_groups(faces: list[dict[str, Any]], edges: tuple[float, ...]) -> dict[str, Any]:
    """Group fairness: the face metrics per value of each ``groups`` label of the faces, and per metric the
    largest gap between two values: {label: {"values": {value: {f_sim, ..., n}}, "max_gap": {...}}}.

    Groups split a suite thin, so a group often misses a bucket: gaps compare ``instance_mean`` (always
    defined), not the mean of bucket means.
    """
    keys = record_keys("face")
    out: dict[str, Any] = {}
    for label in sorted({k for f in faces for k in (f.get("groups") or {})}):
        by_value: dict[str, list[dict[str, Any]]] = {}
        for f in faces:
            value = (f.get("groups") or {}).get(label)
            if value is not None:
                by_value.setdefault(str(value), []).append(f)
        values = {v: aggregate_instances(fs, keys, edges) for v, fs in sorted(by_value.items())}
        gaps = {}
        for k in keys:
            means = [agg[k]["instance_mean"] for agg in values.values() if agg[k]["instance_mean"] is not None]
            if len(means) >= 2:
                gaps[k] = max(means) - min(means)
        out[label] = {"values": values, "max_gap": gaps, "gap_of": "instance_mean"}
    return out


def _number(value: Any) -> bool:
    """An int or float (not a bool): what a record may hold where a number belongs."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    """A number that is neither NaN nor infinite (an int too large for a float is not)."""
    try:
        return _number(value) and math.isfinite(float(value))
    except OverflowError:
        return False


def record_problem(rec: dict[str, Any]) -> str | None:
    """What makes a journal record unusable for aggregation (None when it is well formed)."""
    if rec.get("status") != "ok":
        bad = [k for k in ("n_words", "n_faces") if k in rec and not (isinstance(rec[k], int) and rec[k] >= 0)]
        return f"`{bad[0]}` is not a count" if bad else None
    if rec.get("subset") is not None and not isinstance(rec["subset"], str):
        return "`subset` is not text"
    for kind, side in SIDES:
        items = rec.get(kind, [])
        if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
            return f"`{kind}` is not a list of objects"
        names = record_keys(side)
        for x in items:
            if x.get("skipped"):
                continue
            if not _number(x.get("ratio")):
                return f"a {kind[:-1]} has no numeric `ratio`"
            bad = [n for n in names if x.get(n) is not None and not _finite(x[n])]
            if bad:
                return f"a {kind[:-1]}'s `{bad[0]}` is {x[bad[0]]!r}, not a finite number"
    return _compression_problem(rec.get("compression"))


def _compression_problem(comp: Any) -> str | None:
    if comp is None:
        return None
    if not isinstance(comp, dict):
        return "`compression` is not an object"
    bad = [k for k in ("bits_per_pixel", "tokens") if comp.get(k) is not None and not _finite(comp[k])]
    if bad:
        return f"`compression.{bad[0]}` is not a finite number"
    shape = comp.get("latent_shape")
    if shape is not None and not (isinstance(shape, (list, tuple)) and all(isinstance(d, int) for d in shape)):
        return "`compression.latent_shape` is not a list of integers"
    if comp.get("bpp_basis") is not None and not isinstance(comp["bpp_basis"], str):
        return "`compression.bpp_basis` is not text"
    return None


def check_record(rec: dict[str, Any]) -> None:
    """Raise one ResultsError naming the image and the fix when a record cannot be aggregated."""
    problem = record_problem(rec)
    if problem:
        raise ResultsError(f"the record of image {rec.get('image')!r} is malformed: {problem}; delete its line "
                           f"from the run's records.jsonl and rerun the same command to redo that image")


def _sides(words: list[dict[str, Any]], faces: list[dict[str, Any]], text_edges: tuple[float, ...],
           face_edges: tuple[float, ...]) -> dict[str, Any]:
    return {"text": aggregate_instances(words, record_keys("text"), text_edges),
            "face": aggregate_instances(faces, record_keys("face"), face_edges)}


def _mean_or_none(values: list[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def aggregate_records(records: Iterable[dict[str, Any]], text_edges: tuple[float, ...],
                      face_edges: tuple[float, ...]) -> dict[str, Any]:
    """Records (latest per image) -> {metrics, subsets, failures, counts, compression}.

    Records are taken in image-id order and sums are exactly rounded, so the result does not depend
    on the order records were computed in: one process, merged shards, a resumed run, Ray and the
    TokBench importer agree to every digit.
    """
    records = sorted(records, key=lambda rec: str(rec.get("image")))
    words, faces = [], []
    by_subset: dict[str, tuple[list, list]] = {}
    failures: dict[str, Any] = {"images": 0, "words": 0, "faces": 0, "examples": []}
    bpp, tokens = [], []
    excluded = {"unreadable": 0, "no_landmarks": 0}  # instances the suite's curation kept out of scoring
    shapes, bases = set(), set()  # reported when every image agrees (fixed-size protocol runs do)
    for rec in records:
        check_record(rec)
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
        "metrics": _sides(words, faces, text_edges, face_edges),
        "failures": failures,
        "counts": {"images": len(records), "words": len(words), "faces": len(faces),
                   "unreadable_words": excluded["unreadable"], "faces_without_landmarks": excluded["no_landmarks"]},
        "compression": {"bits_per_pixel": _mean_or_none(bpp), "tokens": _mean_or_none(tokens),
                        "latent_shape": list(next(iter(shapes))) if len(shapes) == 1 and None not in shapes else None,
                        "bpp_basis": next(iter(bases)) if len(bases) == 1 else None},
    }
    if any(f.get("groups") for f in faces):  # manifests with group labels (age band, skin tone, ...)
        out["metrics"]["face"]["groups"] = face_groups(faces, face_edges)
    if len(by_subset) > 1:
        out["subsets"] = {name: _sides(w, f, text_edges, face_edges) for name, (w, f) in sorted(by_subset.items())}
    return out
