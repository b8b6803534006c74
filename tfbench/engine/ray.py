"""`tfbench run --engine ray`: the run engine with its reconstruct and score stages on Ray Data actor pools.

    todo batches -> [Reconstruct actors: load + protocol resize + adapter, GPU when the cluster has one]
                 -> [Ocr actors: TextScorer, score_words] -> [Face actors: FaceScorer, score_faces]
                 -> driver: append each record to records.jsonl as it arrives -> results.json

Each actor loads its model once. The per-image work is the engine's own (``load_image``,
``reconstruct``, ``score_words``, ``score_faces``), and so are the planning, the run folder, resume and
the finish (``plan_all``, ``finish_all``): records and results have exactly the single-process format
and the metrics are identical. Failures (unreadable image, adapter exception, NaN, wrong shape, OOM) travel as
error records; the driver stops at the first one (``on_error="stop"``) or journals it and goes on.
Without Ray installed, the engine says how to install it.
"""
from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
import json
import logging
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from tfbench.budget import StageTimer
from tfbench.errors import AdapterError, ImageLoadError, TfbenchError
from tfbench.manifest import ImageRecord, Suite
from tfbench.engine.core import RunOptions, finish_all, plan_all
from tfbench.engine.images import batches_of, error_record, load_image, reconstruct
from tfbench.engine.overlap import JournalWriter
from tfbench.pipeline import RunPlan, batch_size_for, score_faces, score_words
from tfbench.protocol import Adapter
from tfbench.resize import parse_resolution
from tfbench.scorers import scoring_plan
from tfbench.sharding import Shard


class RayNotInstalledError(TfbenchError):
    """--engine ray without the optional Ray dependency."""


@dataclass
class RayOptions:
    address: str | None = None  # None: start (or reuse) Ray on this machine
    workers: int = 2            # actors per OCR / face pool (and reconstruction pool without a GPU)
    ocr: str = "rapidocr"
    face: str = "sface"
    threads: int | None = None  # threads per scoring actor; default as in-process (F-Sim differs by 1e-7 otherwise)
    device: str = "cpu"
    actor_cpus: float = 0.25    # logical CPUs each actor reserves (small, so every pool fits a laptop)

    def __post_init__(self) -> None:
        if self.workers < 1 or (self.threads is not None and self.threads < 1) or not self.actor_cpus > 0:
            raise TfbenchError(f"--workers and --threads must be at least 1 (got {self.workers}, {self.threads})")


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise RayNotInstalledError(f"--engine ray needs Ray Data, which is not installed ({exc.name}): "
                                   f"pip install 'tfbench[ray]'") from None
    return ray


def _pack(image: np.ndarray) -> tuple[bytes, int, int]:
    return image.tobytes(), image.shape[0], image.shape[1]


def _unpack(data: bytes, h: int, w: int) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint8).reshape(int(h), int(w), 3)


def _columns(rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    keys = rows[0].keys()
    return {k: np.array([r[k] for r in rows], dtype=object) for k in keys}


def _rows(batch: dict[str, np.ndarray]) -> Iterator[dict[str, Any]]:
    keys = list(batch)
    for i in range(len(batch[keys[0]])):
        yield {k: batch[k][i] for k in keys}


class Reconstruct:
    """Actor: loads the adapter once; a row of image ids (one adapter batch) -> one row per image."""

    def __init__(self, spec: str, suite: Suite, resolution: str) -> None:
        from tfbench.registry import create_adapter

        self.adapter: Adapter = create_adapter(spec)
        self.records = {r.id: r for r in suite.images}
        self.suite, self.target = suite, parse_resolution(resolution)

    def __call__(self, batch: dict[str, np.ndarray]) -> Iterator[dict[str, np.ndarray]]:
        """Yields one single-image batch at a time, so the scoring pools can share out one adapter batch."""
        for row in _rows(batch):
            timer = StageTimer()
            with timer.stage("load"):
                loaded = [load_image(self.suite, self.records[i], self.target) for i in json.loads(row["ids"])]
            good = [it for it in loaded if it.error is None]
            rows = {it.record.id: _error_row(it.record, "load", it.error) for it in loaded if it.error is not None}
            if good:
                try:
                    recons, comps = reconstruct(np.stack([it.unit for it in good]), [it.placement for it in good],
                                                 self.adapter, timer)
                except AdapterError as exc:
                    rows.update({it.record.id: _error_row(it.record, "adapter", str(exc)) for it in good})
                else:
                    for it, rec, comp in zip(good, recons, comps):
                        orig, h, w = _pack(it.image)  # type: ignore[arg-type]
                        rows[it.record.id] = {"id": it.record.id, "error": "", "orig": orig, "recon": _pack(rec)[0],
                                              "h": h, "w": w, "compression": json.dumps(comp), "words": "[]",
                                              "stages": "{}"}
            ordered = [rows[it.record.id] for it in loaded]
            ordered[0]["stages"] = json.dumps(timer.as_dict())
            for one in ordered:
                yield _columns([one])

    def __del__(self) -> None:
        try:
            self.adapter.close()
        except Exception:  # noqa: BLE001 - best effort at actor exit
            pass


def _error_row(record: ImageRecord, stage: str, error: str | None) -> dict[str, Any]:
    return {"id": record.id, "error": json.dumps(error_record(record, stage, error or "")), "orig": b"", "recon": b"",
            "h": 0, "w": 0, "compression": "null", "words": "[]", "stages": "{}"}


class _Scoring(ABC):
    def __init__(self, suite: Suite, resolution: str, score_all: bool, keep_unreadable: bool = False) -> None:
        from tfbench.metrics.fidelity import CropFidelity

        self.records = {r.id: r for r in suite.images}
        self.fidelity = CropFidelity()
        self.edges = {kind: suite.edges(kind, resolution) for kind in ("text", "face")}
        self.score_all = score_all
        self.keep_unreadable = keep_unreadable

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = list(_rows(batch))
        for row in rows:
            if row["error"]:
                continue
            timer = StageTimer()
            record = self.records[row["id"]]
            original, recon = _unpack(row["orig"], row["h"], row["w"]), _unpack(row["recon"], row["h"], row["w"])
            self.score(row, record, original, recon, timer)
            row["stages"] = json.dumps(_add(json.loads(row["stages"]), timer.as_dict()))
        return self.finish(rows)

    @abstractmethod
    def score(self, row: dict[str, Any], record: ImageRecord, original: np.ndarray, recon: np.ndarray,
              timer: StageTimer) -> None:
        """Add this stage's scores for one image to ``row``."""

    def finish(self, rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
        return _columns(rows)


class Ocr(_Scoring):
    """Actor: loads the OCR model once and scores the words of each reconstruction."""

    def __init__(self, suite: Suite, resolution: str, score_all: bool, backend: str, threads: int,
                 keep_unreadable: bool = False) -> None:
        from tfbench.metrics.text import TextScorer

        super().__init__(suite, resolution, score_all, keep_unreadable)
        self.text = TextScorer(backend, threads=threads)
        self.described = json.dumps(self.text.describe())

    def score(self, row, record, original, recon, timer) -> None:
        row["words"] = json.dumps(score_words(record, original, recon, self.text, self.fidelity, self.edges["text"],
                                              timer, self.score_all, self.keep_unreadable))

    def finish(self, rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
        return _columns([{**r, "text_backend": self.described} for r in rows])


class Face(_Scoring):
    """Actor: loads the face model once, scores the faces and emits finished records (no pixels)."""

    def __init__(self, suite: Suite, resolution: str, score_all: bool, backend: str, threads: int,
                 keep_unreadable: bool = False) -> None:
        from tfbench.metrics.face import FaceScorer

        super().__init__(suite, resolution, score_all, keep_unreadable)
        self.face = FaceScorer(backend, threads=threads)
        self.described = self.face.describe()

    def score(self, row, record, original, recon, timer) -> None:
        faces = score_faces(record, original, recon, self.face, self.fidelity, self.edges["face"], timer, self.score_all)
        row["record"] = json.dumps({"image": record.id, "subset": record.subset, "status": "ok",
                                    "compression": json.loads(row["compression"]),
                                    "words": json.loads(row["words"]), "faces": faces})

    def finish(self, rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
        return _columns([{"record": r.get("record") or r["error"], "stages": r["stages"],
                          "backends": json.dumps({"text": json.loads(r["text_backend"]), "face": self.described})}
                         for r in rows])


def _add(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: round(a.get(k, 0.0) + b.get(k, 0.0), 4) for k in sorted(set(a) | set(b))}


def _start(ray, options: RayOptions) -> bool:
    """Connect to Ray (a cluster address, or a local instance); True when this call started it."""
    if ray.is_initialized():
        return False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    try:
        ray.init(address=options.address, **kwargs) if options.address else ray.init(**kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {options.address!r}" if options.address else "a local Ray instance"
        raise TfbenchError(f"could not start or join {where}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}; "
                           f"check --ray-address (e.g. ray://head:10001 or auto) or leave it out") from exc
    return True


class RayRun:
    """One adapter at one resolution of a Ray pass: its plan, the stage seconds its rows reported, its backends."""

    def __init__(self, plan: RunPlan, adapter: Adapter) -> None:
        self.plan, self.adapter = plan, adapter
        self.timer = StageTimer()
        self.described: dict[str, Any] | None = None

    def backends(self, options: RayOptions) -> dict[str, Any]:
        if self.described is None:  # nothing left to do: describe the backends from the previous results if any
            previous = self.plan.out / "results.json"
            self.described = json.loads(previous.read_text())["backends"] if previous.is_file() else {
                "text": {"backend": options.ocr}, "face": {"backend": options.face}}
        return self.described


def run_ray_pass(ray, suite: Suite, adapters: Sequence[Adapter], resolution: str, out_root: Path,
                 run_options: RunOptions, options: RayOptions) -> list[dict[str, Any]]:
    """The engine's pass at one resolution with the reconstruct and score stages on Ray actor pools.

    Planning, records (resume, ``on_error``) and the finish are the engine's own; adapters go through the
    pools one after the other."""
    plans = plan_all(suite, adapters, resolution, (options.ocr, options.face), out_root, run_options)
    runs = [RayRun(p, a) for p, a in zip(plans, adapters)]
    shared = StageTimer()
    with JournalWriter() as writer:
        for run in runs:
            writer.open(run.plan.journal)
            if run.plan.todo:
                _stream(ray, suite, run, resolution, run_options, options, writer)
    engine = {"name": "ray", "version": ray.__version__, "workers": options.workers, "address": options.address or "local"}
    return finish_all(suite, resolution, runs, lambda run: run.backends(options), run_options, shared, engine)


def _stream(ray, suite: Suite, run: RayRun, resolution: str, run_options: RunOptions, options: RayOptions,
            writer: JournalWriter) -> None:
    """Send one run's remaining images through the pools; journal each record as it streams back."""
    plan = run.plan
    size = batch_size_for(run.adapter, run_options.batch_size, plan.target)
    batches = [json.dumps([r.id for r in b]) for b in batches_of(plan.todo, size, plan.target)]
    ds = _dataset(ray, batches, suite, run.adapter, resolution, run_options.score_all, options,
                  run_options.keep_unreadable)
    stages: dict[str, float] = {}
    with _small_blocks(ray), _ray_failures(ray, plan.journal):
        for row in ds.iter_rows():
            record = json.loads(row["record"])
            stages = _add(stages, json.loads(row["stages"]))
            run.described = run.described or json.loads(row["backends"])
            if record.get("status") != "ok" and run_options.on_error == "stop":
                error = ImageLoadError if record.get("stage") == "load" else AdapterError
                raise error(f"{record.get('error')} (image: {record['image']}). Records so far are kept in "
                            f"{plan.journal}; rerun to resume, or use --on-error skip to record failures and go on.")
            writer.append(plan.journal, record)
    run.timer.seconds.update(stages)


def evaluate_ray(suite: Suite, adapter: Adapter, resolution: str, out_root: Path, options: RayOptions, *,
                 on_error: str = "stop", batch_size: int | None = None, score_all: bool = False,
                 shard: Shard | None = None, keep_unreadable: bool = False) -> dict[str, Any]:
    """Like :func:`tfbench.pipeline.evaluate`, on Ray Data; same folder, records, resume and results."""
    ray = _ray()
    options = _resolved(options)
    run_options = RunOptions(on_error=on_error, batch_size=batch_size, score_all=score_all, shard=shard,
                             keep_unreadable=keep_unreadable, device=options.device,
                             execution=_execution(options))
    return run_ray_pass(ray, suite, [adapter], resolution, out_root, run_options, options)[0]


def _resolved(options: RayOptions) -> RayOptions:
    """Threads resolved on the driver, like Scorers.create does in-process (F-Sim differs by 1e-7 otherwise)."""
    return options if options.threads is not None else dataclasses.replace(options, threads=min(2, os.cpu_count() or 1))


def _execution(options: RayOptions) -> dict[str, Any]:
    return {"device": options.device, "threads": options.threads, "engine": "ray", "workers": options.workers}


@contextmanager
def _ray_failures(ray, journal: Path) -> Iterator[None]:
    """A crashed Ray task or actor (not an adapter failure, which is a record) becomes one TfbenchError."""
    try:
        yield
    except ray.exceptions.RayError as exc:
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise TfbenchError(f"the Ray engine failed: {first[:300]}. Records so far are kept in {journal}; rerun to "
                           f"resume (details in the Ray logs under /tmp/ray/session_latest/logs)") from exc


@contextmanager
def _small_blocks(ray) -> Iterator[None]:
    """One image per block while this run executes, so every actor of a pool gets work."""
    ctx = ray.data.DataContext.get_current()
    saved = ctx.target_max_block_size
    ctx.target_max_block_size = 1024
    try:
        yield
    finally:
        ctx.target_max_block_size = saved


def _dataset(ray, batches: list[str], suite: Suite, adapter: Adapter, resolution: str, score_all: bool,
             options: RayOptions, keep_unreadable: bool = False):
    from ray.data import ActorPoolStrategy

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.execution_options.preserve_order = False
    gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 and adapter.info.kind not in ("codec", "reference") else 0
    common = {"suite": suite, "resolution": resolution}
    # threads per model call as in-process (tfbench.scorers.scoring_plan), so the numbers agree to every digit
    per_call = scoring_plan(options.ocr, options.face, options.threads)[1]
    scoring = {**common, "score_all": score_all, "threads": per_call, "keep_unreadable": keep_unreadable}
    ds = ray.data.from_items([{"ids": b} for b in batches], override_num_blocks=max(1, min(len(batches), 4 * options.workers)))
    ds = ds.map_batches(Reconstruct, batch_size=1, fn_constructor_kwargs={**common, "spec": adapter.source_spec or adapter.spec},
                        compute=ActorPoolStrategy(size=1 if gpus else options.workers), num_cpus=options.actor_cpus,
                        num_gpus=gpus)
    ds = ds.map_batches(Ocr, batch_size=1, fn_constructor_kwargs={**scoring, "backend": options.ocr},
                        compute=ActorPoolStrategy(size=options.workers), num_cpus=options.actor_cpus)
    return ds.map_batches(Face, batch_size=1, fn_constructor_kwargs={**scoring, "backend": options.face},
                          compute=ActorPoolStrategy(size=options.workers), num_cpus=options.actor_cpus)


def run_ray(suite_name: str, data_root: str | None, specs: Sequence[str], resolutions: Sequence[str], out_root: Path,
            options: RayOptions, *, on_error: str = "stop", batch_size: int | None = None, score_all: bool = False,
            shard: Shard | None = None, keep_unreadable: bool = False) -> list[dict[str, Any]]:
    """Every adapter at every resolution on Ray; shuts Ray down afterwards when it started it."""
    from tfbench.registry import create_adapter
    from tfbench.suites import load_suite

    ray = _ray()
    options = _resolved(options)
    adapters = [create_adapter(s) for s in specs]  # fail on a bad spec before starting Ray
    suite = load_suite(suite_name, data_root)
    if (suite.curation or {}).get("text"):  # curated by another OCR backend: re-curate (cached) on the driver
        from tfbench.datasets.curation import curate_for_backend
        from tfbench.metrics.text import TextScorer

        suite, note = curate_for_backend(suite, TextScorer(options.ocr, threads=options.threads or 1))
        if note:
            print(f"tfbench: {note}", file=sys.stderr)
    run_options = RunOptions(on_error=on_error, batch_size=batch_size, score_all=score_all, shard=shard,
                             keep_unreadable=keep_unreadable, device=options.device, execution=_execution(options))
    started = _start(ray, options)
    try:
        by_res = {res: run_ray_pass(ray, suite, adapters, res, Path(out_root), run_options, options) for res in resolutions}
        return [by_res[res][i] for i in range(len(adapters)) for res in resolutions]
    finally:
        for a in adapters:
            a.close()
        if started:
            ray.shutdown()
