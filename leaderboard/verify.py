"""Verification of a result against its own records and its suite, with the code of `tfbench score`.

Nothing here runs a model (that is :mod:`tfbench.leaderboard.reread`). A result that wants a ranked row
must pass, in this order:

1. suite identity (:func:`tfbench.leaderboard.suitedefs.check_identity`): a known suite, same manifest
   sha256, a resolution the suite defines, the suite's bucket edges;
2. coverage: one ``ok`` record for every image (clip) of the suite that has instances, nothing else;
   every word's ground truth and scale and every face's scale equal to the suite's; every instance
   inside a bucket at this resolution scored (a skipped or failed instance would drop out of the means),
   except what the suite's curation excludes (unreadable words, faces without landmarks), which must not be;
3. per instance: every metric the registry derives from a reading (T-ACC, T-NED) or a similarity (F-kept,
   with the face backend's threshold) recomputed from the record's own values;
4. aggregation: :func:`tfbench.results.build_results` (what `tfbench score` runs, through
   :func:`tfbench.aggregation.aggregate_records`) over the records, with the suite's edges; every bucket,
   mean, ``instance_mean``, count and bits per pixel must equal the submitted one exactly (the aggregation
   sums in image order with exactly rounded sums, so the same records give the same digits on any machine),
   and a mean the records leave undefined (an empty bucket: None) must be undefined in results.json too.
"""
from __future__ import annotations

from typing import Any, Iterable

from tfbench.buckets import bucket_of
from tfbench.errors import ResultsError, TfbenchError
from tfbench.leaderboard.instances import latest_records
from tfbench.leaderboard.suitedefs import SuiteDef, check_identity, lookup, register
from tfbench.results import build_results


class VerificationError(TfbenchError, ValueError):
    """A result does not follow from its records (or its records from the suite); the message says where."""


def _num(value: Any) -> float | None:
    return None if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) else float(value)


def _same(a: float | None, b: float | None) -> bool:
    """Exactly equal numbers, or both undefined (an empty bucket's mean is None; NaN never equals anything)."""
    return a is None and b is None or a is not None and b is not None and a == b


def _compare(stated: Any, recomputed: Any, path: str) -> None:
    """Every number of ``recomputed`` must be in ``stated`` with the same value, and ``stated`` holds nothing more."""
    if isinstance(recomputed, dict) or isinstance(stated, dict):
        if not isinstance(recomputed, dict) or not isinstance(stated, dict):
            raise VerificationError(f"{path}: results.json has {str(stated)[:60]}, its records give {str(recomputed)[:60]}")
        for key in sorted(set(recomputed) | set(stated)):
            if key not in stated and recomputed[key] in (None, {}, []):
                continue
            if key not in recomputed:
                raise VerificationError(f"{path}.{key} is in results.json but does not follow from its records")
            _compare(stated.get(key), recomputed[key], f"{path}.{key}")
        return
    if isinstance(recomputed, list) or isinstance(stated, list):
        if not (isinstance(recomputed, list) and isinstance(stated, list) and len(recomputed) == len(stated)):
            raise VerificationError(f"{path}: results.json has {str(stated)[:60]}, its records give {str(recomputed)[:60]}")
        for k, (s, r) in enumerate(zip(stated, recomputed)):
            _compare(s, r, f"{path}[{k}]")
        return
    if isinstance(recomputed, str) or isinstance(stated, str):
        if stated != recomputed:
            raise VerificationError(f"{path}: results.json says {stated!r}, its records give {recomputed!r}")
        return
    a, b = _num(stated), _num(recomputed)
    if not _same(a, b):
        raise VerificationError(f"{path}: results.json says {stated!r}, but its records give {recomputed!r} "
                                f"(recomputed with tfbench's aggregation, the code of `tfbench score`)")


def check_aggregates(data: dict[str, Any], records: list[dict[str, Any]], definition: SuiteDef) -> None:
    res = str(data["suite"]["resolution"])
    try:
        again = build_results(adapter={"spec": data["adapter"]["spec"]}, suite=data["suite"],
                              backends=data.get("backends") or {}, records=records,
                              text_edges=tuple(definition.edges("text", res)),
                              face_edges=tuple(definition.edges("face", res)), budget={}, config={})
    except ResultsError as exc:
        raise VerificationError(f"records.jsonl: {exc}") from exc
    _compare(data["metrics"], again["metrics"], "metrics")
    _compare(data.get("subsets"), again.get("subsets"), "subsets")
    for key, value in again["counts"].items():
        _compare((data.get("counts") or {}).get(key), value, f"counts.{key}")
    for key in ("images", "words", "faces"):
        _compare((data.get("failures") or {}).get(key), again["failures"][key], f"failures.{key}")
    for key in ("bits_per_pixel", "tokens"):
        _compare(data["adapter"].get(key), again["adapter"].get(key), f"adapter.{key}")


def _items(rec: dict[str, Any], kind: str) -> dict[str, list[dict[str, Any]]]:
    """A record's words or faces grouped by frame ("-1" for an image). Faces the suite excludes (no landmarks)
    carry no index and are grouped under "<frame>/excluded"."""
    out: dict[str, list[dict[str, Any]]] = {}
    items = rec.get(kind)
    if not isinstance(items, list):
        raise VerificationError(f"records.jsonl: image {rec.get('image')!r}: `{kind}` is not a list")
    for item in items:
        if not isinstance(item, dict):
            raise VerificationError(f"records.jsonl: image {rec.get('image')!r}: a {kind[:-1]} is not an object")
        frame = str(item.get("frame", -1))
        if kind == "faces" and "i" not in item and item.get("excluded") == "no_landmarks" and item.get("skipped"):
            out.setdefault(f"{frame}/excluded", []).append(item)
        elif isinstance(item.get("i"), int):
            out.setdefault(frame, []).append(item)
        else:
            raise VerificationError(f"records.jsonl: image {rec.get('image')!r}: a {kind[:-1]} has no index `i`")
    return out


def _check_item(where: str, item: dict[str, Any], truth: Any, edges: list[float]) -> None:
    text, ratio, unreadable = (truth[0], float(truth[1]), bool(truth[2])) if isinstance(truth, list) else \
        (None, float(truth), False)
    if text is not None and item.get("gt") != text:
        raise VerificationError(f"{where}: the record's ground truth is {item.get('gt')!r}, the suite's is {text!r}")
    if _num(item.get("ratio")) != ratio:
        raise VerificationError(f"{where}: the record's scale is {item.get('ratio')!r}, the suite's is {ratio!r}")
    if unreadable:
        if not item.get("skipped"):
            raise VerificationError(f"{where} is marked unreadable by the suite's curation but was scored "
                                    f"(--keep-unreadable); a ranked row scores the suite's curated instances only")
    elif bucket_of(ratio, edges) is not None and item.get("skipped"):
        raise VerificationError(f"{where} is inside the buckets at this resolution (scale {ratio}) but was not "
                                f"scored ({item.get('skipped')}); a ranked row scores every such instance")


def _check_frame(where: str, got: dict[str, list[dict[str, Any]]], frame: str, truth: dict[str, list[Any]],
                 kind: str, edges: list[float]) -> None:
    items = got.get(frame, [])
    if [it["i"] for it in items] != list(range(len(truth[kind]))):
        raise VerificationError(f"{where}: the record holds {kind} {[it['i'] for it in items][:8]}, the suite has "
                                f"{len(truth[kind])} {kind} there")
    for item, t in zip(items, truth[kind]):
        _check_item(f"{where} {kind[:-1]} {item['i']}", item, t, edges)
    if kind == "faces":
        excluded = sorted(_num(it.get("ratio")) or 0.0 for it in got.get(f"{frame}/excluded", []))
        if excluded != sorted(float(r) for r in truth.get("excluded_faces", [])):
            raise VerificationError(f"{where}: the record lists {len(excluded)} faces without landmarks, the suite "
                                    f"excludes {len(truth.get('excluded_faces', []))} there")


def check_coverage(data: dict[str, Any], records: list[dict[str, Any]], definition: SuiteDef) -> None:
    """Records cover exactly the suite's images, every one scored, with the suite's ground truth and scales."""
    res = str(data["suite"]["resolution"])
    edges = {"words": definition.edges("text", res), "faces": definition.edges("face", res)}
    by_id = {str(r["image"]): r for r in records}
    extra = sorted(set(by_id) - set(definition.truth))
    if extra:
        raise VerificationError(f"records.jsonl holds image {extra[0]!r}, which suite {definition.name} "
                                f"v{definition.version} does not have")
    missing = sorted(set(definition.truth) - set(by_id))
    if missing:
        raise VerificationError(f"records.jsonl covers {len(by_id)} of the suite's {len(definition.truth)} images; "
                                f"missing: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}. A ranked row "
                                f"needs the whole suite")
    for image, frames in sorted(definition.truth.items()):
        rec = by_id[image]
        if rec.get("status") != "ok":
            raise VerificationError(f"image {image!r} failed at stage {rec.get('stage')!r} ({str(rec.get('error'))[:120]}); "
                                    f"a ranked row needs every image scored: rerun to finish it")
        for kind in ("words", "faces"):
            got = _items(rec, kind)
            extra_frames = sorted({k.split("/")[0] for k in got} - set(frames))
            if extra_frames:
                raise VerificationError(f"image {image!r} has {kind} at frame {extra_frames[0]}, which the suite "
                                        f"does not annotate")
            for frame, truth in frames.items():
                at = "" if frame == "-1" else f" frame {frame}"
                _check_frame(f"image {image!r}{at}", got, frame, truth, kind, edges[kind])


def check_instances(data: dict[str, Any], records: list[dict[str, Any]]) -> None:
    """Every per-instance metric the registry derives from a reading (T-ACC, T-NED) or from a similarity and the
    declared threshold (F-kept) equals what its ``compute`` gives from the record's own values."""
    from tfbench.metrics.registry import metrics_for

    from_reading = [(m.key, m.compute_fn()) for m in metrics_for("text", inputs="reading")]
    from_similarity = [(m.key, m.compute_fn()) for m in metrics_for("face", inputs="similarity")]
    threshold = _num(((data.get("backends") or {}).get("face") or {}).get("threshold"))
    for rec in records:
        if rec.get("status") != "ok":
            continue
        for w in rec.get("words") or []:
            if w.get("skipped") or w.get("t_acc") is None:
                continue
            gt, pred = w.get("gt"), w.get("pred")
            if not isinstance(gt, str) or not isinstance(pred, str):
                raise VerificationError(f"image {rec['image']!r} word {w.get('i')}: no ground truth or reading")
            for key, compute in from_reading:
                value = compute(gt, pred)
                if not _same(_num(w.get(key)), value):
                    raise VerificationError(f"image {rec['image']!r} word {w['i']}: {key} is {w.get(key)!r}, but "
                                            f"ground truth {gt!r} read as {pred!r} gives {value!r}")
        for f in rec.get("faces") or []:
            if f.get("skipped") or not isinstance(_num(f.get("f_sim")), float):
                continue
            if threshold is None:
                raise VerificationError("results.json declares no face threshold (backends.face.threshold)")
            for key, compute in from_similarity:
                value = compute(float(f["f_sim"]), threshold)
                if not _same(_num(f.get(key)), value):
                    raise VerificationError(f"image {rec['image']!r} face {f.get('i')}: {key} is {f.get(key)!r}, but "
                                            f"F-Sim {f['f_sim']!r} with threshold {threshold} gives {value!r}")


def verify_records(data: dict[str, Any], records: Iterable[Any], definition: SuiteDef) -> dict[str, Any]:
    """All record checks (identity, coverage, instances, aggregation); returns what was checked."""
    check_identity(definition, data)
    latest = latest_records(records)
    if not latest:
        raise VerificationError("records.jsonl holds no records")
    check_coverage(data, latest, definition)
    check_instances(data, latest)
    check_aggregates(data, latest, definition)
    words = sum(1 for r in latest for w in r.get("words") or [] if w.get("t_acc") is not None)
    faces = sum(1 for r in latest for f in r.get("faces") or [] if f.get("f_sim") is not None)
    return {"suite": f"{definition.name} v{definition.version}", "manifest_sha256": definition.manifest_sha256,
            "images": len(latest), "words": words, "faces": faces, "aggregates": "recomputed, equal"}


def verify_row(store: Any, data: dict[str, Any], records: list[dict[str, Any]], instances: list[Any], *,
               sample: int | None = 0, require_crops: bool = False, load_suites: bool = False) -> dict[str, Any]:
    """Everything a ranked row needs; returns the report stored with the row, or raises one clear error.

    ``sample``: crops to re-read with the declared backends (0: none, None: all, else at least 200);
    ``require_crops``: submissions must carry the crops of every scored instance; ``load_suites``: a suite
    this board does not know yet may be loaded by name and registered (imports of local runs).
    """
    import datetime as _dt

    from tfbench._version import __version__

    definition = lookup(store, data["suite"], load=load_suites)
    report = verify_records(data, records, definition)
    if require_crops or sample != 0:
        if data["suite"].get("modality") == "video":
            raise VerificationError("video runs keep no crops, so their readings cannot be re-read here; a video "
                                    "result is ranked when a maintainer imports its run folder, or listed unverified")
        from tfbench.leaderboard.reread import MIN_SAMPLE, reread

        report["crops"] = reread(data, instances, MIN_SAMPLE if sample == 0 else sample)
    if load_suites:
        register(store, definition, origin=str(data["suite"]["name"]))  # a no-op when it is known already
    report["checked_at"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    report["checked_by"] = f"tfbench {__version__}"
    return report
