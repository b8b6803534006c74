"""The image pipeline: manifest -> batch -> protocol resize -> adapter -> crops -> scores -> records -> results."""
from __future__ import annotations

import json
import os
import re
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from tfbench.budget import StageTimer, resumed_budget, session_budget
from tfbench.buckets import bucket_of
from tfbench.crops import crop_box, crop_word
from tfbench.errors import AdapterError, ImageLoadError, ResultsError, TfbenchError
from tfbench.images import load_rgb
from tfbench.manifest import ImageRecord, Suite
from tfbench.metrics.face import FaceScorer
from tfbench.metrics.fidelity import CropFidelity
from tfbench.metrics.text import TextScorer
from tfbench.protocol import Adapter, check_batch, check_reconstruction
from tfbench.records import RecordWriter, latest_by_image, read_records, write_json_atomic
from tfbench.resize import Placement, from_canvas, parse_resolution, plan, to_canvas, to_u8, to_unit
from tfbench.results import build_results
from tfbench.sharding import Shard

ON_ERROR = ("stop", "skip")
MODEL_STAGES = ("reconstruct", "ocr", "face")  # model inference (adapter, OCR, face); the rest is overhead
BATCH_BUDGET_MB = 64  # the float32 canvases of one adapter batch stay under this (peak memory flat in batch size)


@dataclass
class Scorers:
    """Metric models, loaded once per process and shared by every adapter and resolution of a run."""

    text: TextScorer
    face: FaceScorer
    fidelity: CropFidelity = field(default_factory=CropFidelity)
    original_faces: dict[tuple, np.ndarray] = field(default_factory=dict)  # original face embeddings (F, D)

    @classmethod
    def create(cls, text_backend: str = "rapidocr", face_backend: str = "sface", threads: int | None = None) -> "Scorers":
        threads = threads or min(2, os.cpu_count() or 1)
        return cls(text=TextScorer(text_backend, threads=threads), face=FaceScorer(face_backend, threads=threads))

    def backends(self) -> dict[str, Any]:
        return {"text": self.text.describe(), "face": self.face.describe()}

    def original_embeddings(self, record: ImageRecord, image: np.ndarray) -> np.ndarray:
        # keyed by what determines the embeddings, so suites that reuse ids or file names never collide
        key = (record.id, record.file, record.sha256, record.width, record.height,
               tuple(f.landmarks.tobytes() for f in record.faces))
        emb = self.original_faces.get(key)
        if emb is None:
            emb = self.face.embed(image, [f.landmarks for f in record.faces])
            self.original_faces[key] = emb
        return emb


def slug(spec: str) -> str:
    """A folder-safe name for an adapter spec (``jpeg:quality=30`` -> ``jpeg_quality=30``)."""
    return re.sub(r"[^A-Za-z0-9=.,+-]+", "_", spec).strip("_") or "adapter"


def run_dir(out_root: Path, suite: str, spec: str, resolution: str) -> Path:
    return Path(out_root) / suite / f"{slug(spec)}@{resolution}"


@dataclass
class Loaded:
    record: ImageRecord
    image: np.ndarray | None
    canvas: np.ndarray | None
    placement: Placement | None
    error: str | None = None


def _load(suite: Suite, record: ImageRecord, target: int | None) -> Loaded:
    try:
        image = load_rgb(suite.path_of(record))
        h, w = image.shape[:2]
        if (w, h) != (record.width, record.height):
            raise ImageLoadError(f"{suite.path_of(record)} is {w}x{h} but the manifest says "
                                 f"{record.width}x{record.height}; fix the record's width/height")
        placement = plan(w, h, target)
        return Loaded(record, image, to_canvas(image, placement), placement)
    except ImageLoadError as exc:
        return Loaded(record, None, None, None, str(exc))


def _batches(items: Sequence[ImageRecord], size: int, target: int | None) -> Iterator[list[ImageRecord]]:
    """Fixed-size batches; at native resolution only images of the same size share a batch."""
    batch: list[ImageRecord] = []
    for rec in items:
        if batch and (len(batch) >= size or (target is None and (rec.width, rec.height) != (batch[0].width, batch[0].height))):
            yield batch
            batch = []
        batch.append(rec)
    if batch:
        yield batch


def _counted(ratio: float, edges: tuple[float, ...], score_all: bool) -> bool:
    return score_all or bucket_of(ratio, edges) is not None


def score_image(record: ImageRecord, original: np.ndarray, recon: np.ndarray, scorers: Scorers,
                text_edges: tuple[float, ...], face_edges: tuple[float, ...], timer: StageTimer,
                score_all: bool = False, keep_unreadable: bool = False) -> tuple[list[dict], list[dict]]:
    """Per-instance scores of one reconstructed image (both uint8 RGB at the original size)."""
    words = score_words(record, original, recon, scorers.text, scorers.fidelity, text_edges, timer, score_all,
                        keep_unreadable)
    faces = score_faces(record, original, recon, scorers.face, scorers.fidelity, face_edges, timer, score_all,
                        lambda: scorers.original_embeddings(record, original))
    return words, faces


def score_words(record: ImageRecord, original: np.ndarray, recon: np.ndarray, text: TextScorer,
                fidelity: CropFidelity, text_edges: tuple[float, ...], timer: StageTimer,
                score_all: bool = False, keep_unreadable: bool = False) -> list[dict]:
    """Text half of :func:`score_image`: OCR and crop fidelity of every counted word.

    Words the suite's curation marked unreadable on the original are not scored (``excluded``)
    unless ``keep_unreadable``.
    """
    words: list[dict] = []
    todo = [i for i, w in enumerate(record.words)
            if (keep_unreadable or not w.unreadable) and _counted(w.ratio, text_edges, score_all)]
    crops = [crop_word(recon, record.words[i].box, record.words[i].polygon) for i in todo]
    with timer.stage("ocr"):
        text_scores = text.score(crops, [record.words[i].text for i in todo])
    scored = dict(zip(todo, text_scores))
    for i, w in enumerate(record.words):
        item: dict[str, Any] = {"i": i, "gt": w.text, "ratio": round(w.ratio, 6)}
        if w.unreadable:
            item["unreadable"] = True
        if w.unreadable and not keep_unreadable:
            item["skipped"] = f"unreadable on the original (the curating OCR read {w.reading!r})"
            item["excluded"] = "unreadable"
        elif i in scored:
            item.update(scored[i])
            with timer.stage("fidelity"):
                item.update(fidelity.score(crop_word(original, w.box, w.polygon), crops[todo.index(i)]))
        else:
            item["skipped"] = "below the smallest bucket at this resolution"
        words.append(item)
    return words


def score_faces(record: ImageRecord, original: np.ndarray, recon: np.ndarray, face: FaceScorer,
                fidelity: CropFidelity, face_edges: tuple[float, ...], timer: StageTimer, score_all: bool = False,
                original_embeddings: Callable[[], np.ndarray] | None = None) -> list[dict]:
    """Face half of :func:`score_image`: F-Sim and crop fidelity of every counted face.

    ``original_embeddings`` returns the (F, D) embeddings of the original's faces (a cache); by default
    they are computed here.
    """
    faces: list[dict] = []
    ftodo = [i for i, f in enumerate(record.faces) if _counted(f.ratio, face_edges, score_all)]
    if ftodo:
        with timer.stage("face"):
            emb = original_embeddings() if original_embeddings else face.embed(original, [f.landmarks for f in record.faces])
            sims = face.score(emb[ftodo], recon, [record.faces[i].landmarks for i in ftodo])
        fsims = dict(zip(ftodo, sims))
    else:
        fsims = {}
    for i, f in enumerate(record.faces):
        item: dict[str, Any] = {"i": i, "ratio": round(f.ratio, 6)}
        if f.identity:
            item["identity"] = f.identity
        if f.groups:
            item["groups"] = f.groups
        if i in fsims:
            item["f_sim"] = fsims[i]
            item.update(face.derived(fsims[i]))  # f_kept and any other registered similarity metric
            with timer.stage("fidelity"):
                item.update(fidelity.score(crop_box(original, f.box), crop_box(recon, f.box)))
        else:
            item["skipped"] = "below the smallest bucket at this resolution"
        faces.append(item)
    for ex in record.excluded_faces:  # kept in the manifest, counted, never scored
        faces.append({"ratio": round(ex.ratio, 6), "skipped": f"not scorable: {ex.reason}", "excluded": "no_landmarks"})
    return faces


def save_crops(crops_dir: Path, record: ImageRecord, original: np.ndarray, recon: np.ndarray,
               words: list[dict], faces: list[dict]) -> None:
    """Save original/reconstructed PNG crops of scored instances; items get ``crop`` (path prefix)."""
    from PIL import Image

    folder = crops_dir / slug(record.id)
    folder.mkdir(parents=True, exist_ok=True)
    for kind, items, cut in (("w", words, lambda img, i: crop_word(img, record.words[i].box, record.words[i].polygon)),
                             ("f", faces, lambda img, i: crop_box(img, record.faces[i].box))):
        for item in items:
            if item.get("skipped"):
                continue
            stem = f"{kind}{item['i']}"
            Image.fromarray(np.ascontiguousarray(cut(original, item["i"]))).save(folder / f"{stem}.orig.png")
            Image.fromarray(np.ascontiguousarray(cut(recon, item["i"]))).save(folder / f"{stem}.recon.png")
            item["crop"] = f"crops/{folder.name}/{stem}"


def _check_config(path: Path, config: dict[str, Any]) -> None:
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except json.JSONDecodeError:
            old = {}
        for key, value in config.items():
            if key in old and old[key] != value:
                raise ResultsError(
                    f"{path.parent} already holds records of a run with {key}={old[key]!r} (this run: {value!r}); "
                    f"use another --out or delete that folder")
    write_json_atomic(path, config)


@dataclass
class RunPlan:
    """Where one (suite, adapter, resolution[, shard]) run writes and which of its images are left to do."""

    out: Path
    journal: Path
    config: dict[str, Any]
    target: int | None
    text_edges: tuple[float, ...]
    face_edges: tuple[float, ...]
    selected: list[ImageRecord]
    todo: list[ImageRecord]
    done: set[str]


def plan_run(suite: Suite, adapter: Adapter, resolution: str, backends: tuple[str, str], out_root: Path, *,
             on_error: str = "stop", score_all: bool = False, select: Callable[[ImageRecord], bool] | None = None,
             shard: Shard | None = None, keep_unreadable: bool = False) -> RunPlan:
    """Check the settings, claim the run folder (run.json) and find the images a rerun still has to do.

    ``backends`` are the (text, face) backend names; a ``shard`` runs in its own ``shard-K-of-N`` subfolder.
    """
    if on_error not in ON_ERROR:
        raise TfbenchError(f"--on-error must be one of {ON_ERROR}, got {on_error!r}")
    if suite.modality != "image":
        raise TfbenchError(f"suite {suite.name!r} is a {suite.modality} suite; the image pipeline cannot run it")
    if adapter.info.modality != "image":
        raise TfbenchError(f"adapter {adapter.spec!r} is a {adapter.info.modality} adapter; suite {suite.name!r} holds images")
    target = parse_resolution(resolution)
    text_edges, face_edges = suite.edges("text", resolution), suite.edges("face", resolution)
    out = run_dir(out_root, suite.name, adapter.spec, resolution)
    config = {"suite": suite.name, "suite_version": suite.version, "adapter": adapter.spec,
              "resolution": resolution, "text_backend": backends[0],
              "face_backend": backends[1], "score_all": score_all, "keep_unreadable": keep_unreadable}
    if shard is not None:
        out, config["shard"] = out / shard.folder, shard.label
    out.mkdir(parents=True, exist_ok=True)
    _check_config(out / "run.json", config)
    journal = out / "records.jsonl"
    done = {k for k, r in latest_by_image(read_records(journal, repair=True)).items() if r.get("status") == "ok"}
    selected = [r for r in suite.images if (select is None or select(r)) and (shard is None or shard.contains(r.id))]
    todo = [r for r in selected if r.id not in done and (r.words or r.faces or r.excluded_faces)]
    return RunPlan(out, journal, config, target, text_edges, face_edges, selected, todo, done)


def finish_run(plan: RunPlan, suite: Suite, resolution: str, adapter: dict[str, Any], backends: dict[str, Any],
               timer: StageTimer, device: str) -> dict[str, Any]:
    """Aggregate the journal's latest record of every selected image into results.json (written atomically)."""
    latest = latest_by_image(read_records(plan.journal))
    wanted = {r.id for r in plan.selected}
    results = build_results(
        adapter={**adapter},
        suite={"name": suite.name, "version": suite.version, "resolution": resolution, "modality": suite.modality},
        backends=backends,
        records=[latest[k] for k in latest if k in wanted],
        text_edges=plan.text_edges, face_edges=plan.face_edges,
        budget=resumed_budget(plan.out / "results.json", session_budget(
            timer, MODEL_STAGES, device=device, images_evaluated=len(plan.todo),
            images_resumed=len(plan.done & wanted))),
        config=plan.config,
    )
    write_json_atomic(plan.out / "results.json", results)
    return results


def batch_size_for(adapter: Adapter, batch_size: int | None, target: int | None) -> int:
    """Images per adapter call: the requested/declared size, capped so one float32 batch fits BATCH_BUDGET_MB."""
    size = max(1, min(batch_size or adapter.max_batch_size, adapter.max_batch_size))
    if target is not None and batch_size is None:
        size = min(size, max(1, int(BATCH_BUDGET_MB * 2**20 // (target * target * 3 * 4))))
    return size


def evaluate(suite: Suite, adapter: Adapter, resolution: str, scorers: Scorers, out_root: Path, *,
             on_error: str = "stop", batch_size: int | None = None, progress: bool = False,
             score_all: bool = False, select: Callable[[ImageRecord], bool] | None = None,
             device: str = "cpu", keep_crops: bool = False, shard: Shard | None = None,
             keep_unreadable: bool = False) -> dict[str, Any]:
    """Evaluate one adapter at one resolution; records are appended as computed, a rerun resumes.

    Returns the results dict that is also written to ``run_dir/results.json``. With ``keep_crops`` the
    original and reconstructed crop of every scored instance is saved under ``run_dir/crops/`` (PNG)
    and each record item names its crop prefix in ``crop``. A ``shard`` evaluates only its images, in
    ``run_dir/shard-K-of-N/`` (combine shards with ``tfbench merge``). Words the suite's curation
    marked unreadable are not scored unless ``keep_unreadable``.
    """
    plan = plan_run(suite, adapter, resolution, (scorers.text.backend.name, scorers.face.backend.name), out_root,
                    on_error=on_error, score_all=score_all, select=select, shard=shard,
                    keep_unreadable=keep_unreadable)
    out, journal, target, todo = plan.out, plan.journal, plan.target, plan.todo
    text_edges, face_edges = plan.text_edges, plan.face_edges
    size = batch_size_for(adapter, batch_size, target)
    timer = StageTimer()
    bar = _progress(len(todo), f"{adapter.spec} @ {resolution}", progress)
    batches = list(_batches(todo, size, target))
    with RecordWriter(journal) as writer, ThreadPoolExecutor(max_workers=1, thread_name_prefix="tfbench-load") as pool:
        def submit(b: list[ImageRecord]) -> Future:
            return pool.submit(_load_batch, suite, b, target)

        pending = submit(batches[0]) if batches else None
        for bi in range(len(batches)):
            with timer.stage("load"):
                loaded, unit = pending.result()  # type: ignore[union-attr]
            pending = submit(batches[bi + 1]) if bi + 1 < len(batches) else None  # decode next while the model runs
            good = []
            for item in loaded:
                if item.error is None:
                    good.append(item)
                    continue
                if on_error == "stop":
                    raise ImageLoadError(f"{item.error}. Records so far are kept in {journal}; rerun to resume.")
                writer.append(_error_record(item.record, "load", item.error))
            if good:
                _run_batch(good, adapter, scorers, writer, timer, text_edges, face_edges, on_error, score_all, journal,
                           out / "crops" if keep_crops else None, unit if len(good) == len(loaded) else None,
                           keep_unreadable)
            bar.update(len(loaded))
    bar.close()
    with timer.stage("write"):
        results = finish_run(plan, suite, resolution, adapter.describe(), scorers.backends(), timer, device)
    results["_path"] = str(out / "results.json")
    return results


def _error_record(record: ImageRecord, stage: str, error: str) -> dict[str, Any]:
    return {"image": record.id, "subset": record.subset, "status": "error", "stage": stage, "error": error,
            "n_words": len(record.words), "n_faces": len(record.faces)}


def _load_batch(suite: Suite, records: list[ImageRecord], target: int | None) -> tuple[list[Loaded], np.ndarray | None]:
    """Worker side: decode and place a batch, and build its float32 adapter input when every image loaded."""
    loaded = [_load(suite, r, target) for r in records]
    if any(it.error for it in loaded):
        return loaded, None
    return loaded, np.stack([to_unit(it.canvas) for it in loaded])  # type: ignore[arg-type]


def reconstruct(items: list[Loaded], adapter: Adapter, timer: StageTimer,
                batch: np.ndarray | None = None) -> tuple[list[np.ndarray], list[dict | None]]:
    """One batch through the adapter: (reconstructions as uint8 RGB at each original size, compression dicts).

    An adapter may fail in any way (an exception, OOM, NaN/Inf, wrong shape or range, a malformed
    compression list): every failure is raised as one AdapterError naming the adapter.
    """
    if batch is None:  # ``batch``: the float32 input already built by the loader thread
        batch = np.stack([to_unit(it.canvas) for it in items])  # type: ignore[arg-type]
    try:
        check_batch(batch)
        with timer.stage("reconstruct"):
            latent = adapter.encode(batch)
            compression = [c.to_dict() if c is not None else None for c in adapter.compression(latent, batch.shape)]
            recon = check_reconstruction(adapter.spec, batch, adapter.decode(latent), adapter.info.value_range)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # an adapter may fail in any way (OOM included): report it per image
        msg = str(exc) if isinstance(exc, TfbenchError) else f"{adapter.spec}: {type(exc).__name__}: {exc}"
        raise AdapterError(msg) from exc
    images = [from_canvas(to_u8(recon[k]), it.placement) for k, it in enumerate(items)]  # type: ignore[arg-type]
    return images, [compression[k] if k < len(compression) else None for k in range(len(items))]


def _run_batch(items: list[Loaded], adapter: Adapter, scorers: Scorers, writer: RecordWriter, timer: StageTimer,
               text_edges: tuple[float, ...], face_edges: tuple[float, ...], on_error: str, score_all: bool,
               journal: Path, crops_dir: Path | None = None, batch: np.ndarray | None = None,
               keep_unreadable: bool = False) -> None:
    try:
        recons, compression = reconstruct(items, adapter, timer, batch)
    except AdapterError as exc:
        if on_error == "stop":
            ids = ", ".join(it.record.id for it in items[:3])
            raise AdapterError(f"{exc} (images: {ids}). Records so far are kept in {journal}; rerun to resume, "
                               f"or use --on-error skip to record failures and go on.") from exc.__cause__
        for it in items:
            writer.append(_error_record(it.record, "adapter", str(exc)))
        return
    for it, rec_img, comp in zip(items, recons, compression):
        words, faces = score_image(it.record, it.image, rec_img, scorers, text_edges, face_edges, timer,  # type: ignore[arg-type]
                                   score_all, keep_unreadable)
        with timer.stage("write"):
            if crops_dir is not None:
                save_crops(crops_dir, it.record, it.image, rec_img, words, faces)  # type: ignore[arg-type]
            writer.append({"image": it.record.id, "subset": it.record.subset, "status": "ok",
                           "compression": comp, "words": words, "faces": faces})


class _NullBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, desc: str, enabled: bool):
    if not enabled or os.environ.get("CI") or not sys.stderr.isatty():
        return _NullBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="img", leave=False)
