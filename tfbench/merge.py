"""Combine the records of shard runs (``tfbench run --shard K/N``) into the results of one run.

Every ``shard-K-of-N`` folder holds a run.json (with ``shard``), its own records.jsonl and, once the
shard finished, a results.json. Merging checks that all N shards of the same settings are present and
finished, that every record belongs to its shard and no image appears twice, then writes into the
folder a single-process run would use (the shards' parent, or ``run_dir(--out, ...)``):
records.jsonl (one line per image, in id order), run.json and results.json, all atomically. The
metrics equal those of a single-process run exactly (aggregation is order independent).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from tfbench.errors import ResultsError
from tfbench.run_identity import run_dir
from tfbench.records import RecordWriter, latest_by_image, read_records, write_json_atomic
from tfbench.results import build_results, load_results
from tfbench.sharding import Shard, ShardError, parse_shard


class MergeError(ResultsError):
    """Shard runs that cannot be merged (missing, unfinished, from different settings, overlapping)."""


@dataclass
class ShardRun:
    path: Path
    shard: Shard
    config: dict[str, Any]

    @property
    def key(self) -> str:
        """Settings shared by all shards of one run (everything but the shard)."""
        return json.dumps({k: v for k, v in self.config.items() if k != "shard"}, sort_keys=True)


def _read_run_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MergeError(f"{path}: unreadable run.json ({exc}); delete the shard folder and rerun that shard") from exc
    return data if isinstance(data, dict) else None


def find_shard_runs(paths: Iterable[Path]) -> list[ShardRun]:
    """Every shard run folder at or below the given folders, sorted by path."""
    runs: list[ShardRun] = []
    for root in map(Path, paths):
        if not root.is_dir():
            raise MergeError(f"no such folder: {root}")
        for rj in sorted(root.rglob("run.json")):
            config = _read_run_json(rj)
            if not config or "shard" not in config:
                continue
            try:
                shard = parse_shard(str(config["shard"]))
            except ShardError as exc:
                raise MergeError(f"{rj}: {exc}") from None
            if shard is None:
                continue
            runs.append(ShardRun(rj.parent, shard, config))
    return runs


def _check_complete(runs: list[ShardRun]) -> int:
    counts = {r.shard.count for r in runs}
    name = f"{runs[0].config.get('adapter')} @ {runs[0].config.get('resolution')}"
    if len(counts) != 1:
        raise MergeError(f"{name}: shards of different counts {sorted(counts)} in {', '.join(str(r.path) for r in runs)}; "
                         f"merge the folders of one sharding only")
    n = counts.pop()
    seen: dict[int, Path] = {}
    for r in runs:
        if r.shard.index in seen:
            raise MergeError(f"{name}: shard {r.shard.label} appears twice ({seen[r.shard.index]} and {r.path}); "
                             f"pass only one output folder per shard")
        seen[r.shard.index] = r.path
    missing = [f"{k}/{n}" for k in range(n) if k not in seen]
    if missing:
        raise MergeError(f"{name}: shard(s) {', '.join(missing)} missing; run `tfbench run ... --shard K/{n}` for "
                         f"each of them (same settings) and pass every shard's output folder")
    return n


def _shard_records(run: ShardRun, results: dict[str, Any]) -> list[dict[str, Any]]:
    latest = latest_by_image(read_records(run.path / "records.jsonl"))
    foreign = [k for k in latest if not run.shard.contains(k)]
    if foreign:
        raise MergeError(f"{run.path}: image {foreign[0]!r} does not belong to shard {run.shard.label}; "
                         f"this folder holds records of another sharding: delete it and rerun the shard")
    counted = results.get("counts", {}).get("images") if isinstance(results.get("counts"), dict) else None
    if counted != len(latest):
        raise MergeError(f"{run.path}: records.jsonl has {len(latest)} images but results.json counted "
                         f"{counted!r}; the shard is being (re)run (let it finish) or its files were edited")
    return list(latest.values())


def _same(runs: list[ShardRun], results: list[dict[str, Any]], key: str) -> Any:
    first = results[0].get(key)
    for run, res in zip(runs[1:], results[1:]):
        if res.get(key) != first:
            raise MergeError(f"{run.path}: `{key}` differs from {runs[0].path} ({res.get(key)!r} vs {first!r}); "
                             f"shards must run with the same tfbench, backends and suite")
    return first


def _number(value: Any) -> float:
    """A budget figure, or 0 when a shard's results.json holds something else there (budgets are informative)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    try:
        return float(value) if math.isfinite(value) else 0.0
    except OverflowError:
        return 0.0


def _budget(results: list[dict[str, Any]]) -> dict[str, Any]:
    budgets = [r["budget"] if isinstance(r.get("budget"), dict) else {} for r in results]
    stages: dict[str, float] = {}
    for b in budgets:
        for k, v in (b["stages"] if isinstance(b.get("stages"), dict) else {}).items():
            stages[k] = round(stages.get(k, 0.0) + _number(v), 4)
    num = lambda key: [_number(b.get(key)) for b in budgets]  # noqa: E731
    return {"wall_s": max(num("wall_s")), "wall_s_sum": round(sum(num("wall_s")), 3),
            "peak_rss_mb": max(num("peak_rss_mb")), "device": budgets[0].get("device"),
            "images_evaluated": int(sum(num("images_evaluated"))), "images_resumed": int(sum(num("images_resumed"))),
            "shards": len(budgets), "stages": dict(sorted(stages.items()))}


def _target(runs: list[ShardRun], results: dict[str, Any], out_root: Path | None) -> Path:
    if out_root is not None:
        cfg = runs[0].config
        return run_dir(out_root, str(cfg.get("suite")), str(cfg.get("adapter")), str(cfg.get("resolution")))
    parents = {r.path.resolve().parent for r in runs}
    if len(parents) != 1:
        raise MergeError(f"{results['adapter'].get('spec')}: the shards live in different folders; "
                         f"give --out ROOT to choose where the merged run goes")
    return parents.pop()


def _write_records(path: Path, records: list[dict[str, Any]]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    with RecordWriter(tmp, fsync=False) as writer:
        for rec in records:
            writer.append(rec)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def merge_runs(runs: list[ShardRun], out_root: Path | None = None) -> dict[str, Any]:
    """Merge all N shards of one run; returns the results dict (also written to the merged folder)."""
    _check_complete(runs)
    runs = sorted(runs, key=lambda r: r.shard.index)
    results = []
    for r in runs:
        if not (r.path / "results.json").is_file():
            raise MergeError(f"shard {r.shard.label} in {r.path} has no results.json: it has not finished; rerun its "
                             f"`tfbench run ... --shard {r.shard.label}` command (it resumes) and merge again")
        results.append(load_results(r.path))
    records: dict[str, dict[str, Any]] = {}
    for r, res in zip(runs, results):
        for rec in _shard_records(r, res):
            records[str(rec["image"])] = rec
    buckets = _same(runs, results, "buckets")
    if not isinstance(buckets, dict) or not all(isinstance(buckets.get(k), list) for k in ("text", "face")):
        raise MergeError(f"{runs[0].path}/results.json has no bucket edges (`buckets`); rerun that shard")
    merged = build_results(
        adapter=dict(results[0]["adapter"]), suite=_same(runs, results, "suite"),
        backends=_same(runs, results, "backends"), records=records.values(),
        text_edges=tuple(buckets["text"]), face_edges=tuple(buckets["face"]),
        budget=_budget(results), config=json.loads(runs[0].key))
    out = _target(runs, merged, out_root)
    out.mkdir(parents=True, exist_ok=True)
    previous = _read_run_json(out / "run.json") if (out / "run.json").exists() else None
    if (out / "records.jsonl").exists() and not (previous or {}).get("merged_from"):
        raise MergeError(f"{out} already holds an unsharded run's records; merge elsewhere with --out ROOT "
                         f"or delete {out / 'records.jsonl'}")
    _write_records(out / "records.jsonl", [records[k] for k in sorted(records)])
    write_json_atomic(out / "run.json", {**merged["config"], "merged_from": [str(r.path) for r in runs]})
    write_json_atomic(out / "results.json", merged)
    merged["_path"] = str(out / "results.json")
    return merged


def merge_paths(paths: Iterable[Path], out_root: Path | None = None) -> list[dict[str, Any]]:
    """Find shard runs under ``paths``, group them by settings and merge each group."""
    paths = list(paths)
    runs = find_shard_runs(paths)
    if not runs:
        raise MergeError(f"no shard runs (folders shard-K-of-N with a run.json) under {' '.join(map(str, paths))}; "
                         f"create them with `tfbench run ... --shard K/N`")
    groups: dict[str, list[ShardRun]] = {}
    for r in runs:
        groups.setdefault(r.key, []).append(r)
    return [merge_runs(group, out_root) for _, group in sorted(groups.items())]
