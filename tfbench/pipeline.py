"""The stages the run engine (:mod:`tfbench.engine`) is made of: the per-image
scoring of a reconstruction (crops -> OCR / face / fidelity scores), the run plan (folder, run.json, what a
rerun still has to do) and the finish (journal -> results.json). Local, video and Ray runs all use them."""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from tfbench.budget import StageTimer, resumed_budget, session_budget
from tfbench.buckets import bucket_of
from tfbench.crops import crop_box, crop_word, face_region
from tfbench.errors import ResultsError, TfbenchError
from tfbench.manifest import ImageRecord, Suite
from tfbench.protocol import Adapter
from tfbench.records import latest_by_image, read_records, write_json_atomic
from tfbench.resize import parse_resolution
from tfbench.results import build_results
from tfbench.run_identity import run_dir, slug  # noqa: F401  (run folders; re-exported for callers of the pipeline)
from tfbench.scorers import Scorers  # noqa: F401  (the metric models; re-exported for callers of the pipeline)
from tfbench.sharding import Shard

if TYPE_CHECKING:  # the metric models' modules import onnxruntime, OpenCV and SciPy: loaded when used
    from tfbench.metrics.face import FaceScorer
    from tfbench.metrics.fidelity import CropFidelity
    from tfbench.metrics.text import TextScorer

ON_ERROR = ("stop", "skip")
MODEL_STAGES = ("reconstruct", "ocr", "face")  # model inference (adapter, OCR, face); the rest is overhead
BATCH_BUDGET_MB = 64  # the float32 canvases of one adapter batch stay under this (peak memory flat in batch size)
PER_IMAGE_KINDS = ("codec", "reference")  # adapters whose output for an image does not depend on its batch


def _counted(ratio: float, edges: tuple[float, ...], score_all: bool) -> bool:
    return score_all or bucket_of(ratio, edges) is not None


def score_image(record: ImageRecord, original: np.ndarray, recon: np.ndarray, scorers: Scorers,
                text_edges: tuple[float, ...], face_edges: tuple[float, ...], timer: StageTimer,
                score_all: bool = False, keep_unreadable: bool = False, *,
                fidelities: tuple[dict, dict] | None = None) -> tuple[list[dict], list[dict]]:
    """Per-instance scores of one reconstructed image (both uint8 RGB at the original size).

    ``fidelities``: the (words, faces) PSNR/SSIM of :func:`crop_fidelities`, when computed elsewhere already."""
    words = score_words(record, original, recon, scorers.text, scorers.fidelity, text_edges, timer, score_all,
                        keep_unreadable, fidelities=fidelities[0] if fidelities else None)
    faces = score_faces(record, original, recon, scorers.face, scorers.fidelity, face_edges, timer, score_all,
                        lambda: scorers.original_embeddings(record, original),
                        fidelities=fidelities[1] if fidelities else None)
    return words, faces


def words_to_score(record: ImageRecord, text_edges: tuple[float, ...], score_all: bool = False,
                   keep_unreadable: bool = False) -> list[int]:
    """Indices of the words that are scored at these bucket edges (not those curation marked unreadable,
    unless ``keep_unreadable``)."""
    return [i for i, w in enumerate(record.words)
            if (keep_unreadable or not w.unreadable) and _counted(w.ratio, text_edges, score_all)]


def faces_to_score(record: ImageRecord, face_edges: tuple[float, ...], score_all: bool = False) -> list[int]:
    """Indices of the faces that are scored at these bucket edges."""
    return [i for i, f in enumerate(record.faces) if _counted(f.ratio, face_edges, score_all)]


def crop_fidelities(record: ImageRecord, original: np.ndarray, recon: np.ndarray, fidelity: "CropFidelity",
                    text_edges: tuple[float, ...], face_edges: tuple[float, ...], timer: StageTimer,
                    score_all: bool = False, keep_unreadable: bool = False) -> tuple[dict[int, dict], dict[int, dict]]:
    """PSNR/SSIM of every scored word crop and face crop: ({word index: scores}, {face index: scores})."""
    with timer.stage("fidelity"):
        words = {i: fidelity.score(crop_word(original, record.words[i].box, record.words[i].polygon),
                                   crop_word(recon, record.words[i].box, record.words[i].polygon))
                 for i in words_to_score(record, text_edges, score_all, keep_unreadable)}
        faces = {i: fidelity.score(crop_box(original, record.faces[i].box), crop_box(recon, record.faces[i].box))
                 for i in faces_to_score(record, face_edges, score_all)}
    return words, faces


def score_words(record: ImageRecord, original: np.ndarray, recon: np.ndarray, text: "TextScorer",
                fidelity: "CropFidelity", text_edges: tuple[float, ...], timer: StageTimer,
                score_all: bool = False, keep_unreadable: bool = False, *,
                fidelities: dict[int, dict] | None = None) -> list[dict]:
    """Text half of :func:`score_image`: OCR and crop fidelity of every counted word.

    Words the suite's curation marked unreadable on the original are not scored (``excluded``)
    unless ``keep_unreadable``.
    """
    words: list[dict] = []
    todo = words_to_score(record, text_edges, score_all, keep_unreadable)
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
            if fidelities is not None:
                item.update(fidelities[i])
            else:
                with timer.stage("fidelity"):
                    item.update(fidelity.score(crop_word(original, w.box, w.polygon), crops[todo.index(i)]))
        else:
            item["skipped"] = "below the smallest bucket at this resolution"
        words.append(item)
    return words


def score_faces(record: ImageRecord, original: np.ndarray, recon: np.ndarray, face: "FaceScorer",
                fidelity: "CropFidelity", face_edges: tuple[float, ...], timer: StageTimer, score_all: bool = False,
                original_embeddings: Callable[[], np.ndarray] | None = None, *,
                fidelities: dict[int, dict] | None = None) -> list[dict]:
    """Face half of :func:`score_image`: F-Sim and crop fidelity of every counted face.

    ``original_embeddings`` returns the (F, D) embeddings of the original's faces (a cache); by default
    they are computed here.
    """
    faces: list[dict] = []
    ftodo = faces_to_score(record, face_edges, score_all)
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
            if fidelities is not None:
                item.update(fidelities[i])
            else:
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
    """Save original/reconstructed PNG crops of scored instances; items get ``crop`` (path prefix).

    A word's crop is exactly what the OCR read. A face's crop is the region its alignment reads
    (:func:`tfbench.crops.face_region`) and the item gets ``crop_landmarks`` relative to it, so the
    leaderboard can re-embed both crops and check ``f_sim``.
    """
    from PIL import Image

    folder = crops_dir / slug(record.id)
    folder.mkdir(parents=True, exist_ok=True)
    h, w = original.shape[:2]
    regions = [face_region(f.landmarks, w, h) for f in record.faces]
    for kind, items, cut in (("w", words, lambda img, i: crop_word(img, record.words[i].box, record.words[i].polygon)),
                             ("f", faces, lambda img, i: crop_box(img, regions[i]))):
        for item in items:
            if item.get("skipped"):
                continue
            stem = f"{kind}{item['i']}"
            Image.fromarray(np.ascontiguousarray(cut(original, item["i"]))).save(folder / f"{stem}.orig.png")
            Image.fromarray(np.ascontiguousarray(cut(recon, item["i"]))).save(folder / f"{stem}.recon.png")
            item["crop"] = f"crops/{folder.name}/{stem}"
            if kind == "f":
                x0, y0 = regions[item["i"]][:2]
                lms = np.asarray(record.faces[item["i"]].landmarks, dtype=np.float64).reshape(-1, 2)
                item["crop_landmarks"] = (lms - np.array([x0, y0], dtype=np.float64)).tolist()


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


def adopt_legacy_folder(out: Path, legacy: Path, adapter: Adapter) -> None:
    """Run folders used to be named by the spec as typed (device, local paths); move such a folder of the
    same run to its identity name, so that a rerun resumes it."""
    if out.exists() or legacy == out or not (legacy / "run.json").is_file():
        return
    try:
        old = json.loads((legacy / "run.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return
    if not isinstance(old, dict) or old.get("adapter") != adapter.source_spec:
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    legacy.rename(out)
    for run_json in out.rglob("run.json"):  # the run's own and its shards'
        try:
            config = json.loads(run_json.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(config, dict):
            write_json_atomic(run_json, {**config, "adapter": adapter.spec})
    print(f"tfbench: moved the run folder {legacy} to {out}: run folders are named by the adapter's identity "
          f"({adapter.spec}); device, dtype and local file locations are recorded in the budget", file=sys.stderr)


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


def plan_run(suite: Any, adapter: Adapter, resolution: str, backends: tuple[str, str], out_root: Path, *,
             on_error: str = "stop", score_all: bool = False, select: Callable[[Any], bool] | None = None,
             shard: Shard | None = None, extra_config: dict[str, Any] | None = None,
             keep_unreadable: bool = False) -> RunPlan:
    """Check the settings, claim the run folder (run.json) and find the items a rerun still has to do.

    Items are a suite's images, or a video suite's clips. ``backends`` are the (text, face) backend names;
    a ``shard`` runs in its own ``shard-K-of-N`` subfolder; ``extra_config`` joins the checked settings.
    """
    if on_error not in ON_ERROR:
        raise TfbenchError(f"--on-error must be one of {ON_ERROR}, got {on_error!r}")
    video = suite.modality == "video"
    if suite.modality not in ("image", "video"):
        raise TfbenchError(f"suite {suite.name!r} is a {suite.modality} suite; tfbench runs image and video suites")
    if adapter.info.modality != "image" and not video:
        raise TfbenchError(f"adapter {adapter.spec!r} is a {adapter.info.modality} adapter; suite {suite.name!r} holds images")
    if video:
        from tfbench.video.resize import parse_video_resolution

        target: int | None = parse_video_resolution(resolution)
    else:
        target = parse_resolution(resolution)
    text_edges, face_edges = suite.edges("text", resolution), suite.edges("face", resolution)
    out = run_dir(out_root, suite.name, adapter.spec, resolution)
    if adapter.source_spec and adapter.source_spec != adapter.spec:
        adopt_legacy_folder(out, run_dir(out_root, suite.name, adapter.source_spec, resolution), adapter)
    config = {"suite": suite.name, "suite_version": suite.version, "adapter": adapter.spec,
              "resolution": resolution, **({"modality": "video"} if video else {}), **(extra_config or {}),
              "text_backend": backends[0], "face_backend": backends[1], "score_all": score_all,
              "keep_unreadable": keep_unreadable}
    if shard is not None:
        out, config["shard"] = out / shard.folder, shard.label
    out.mkdir(parents=True, exist_ok=True)
    _check_config(out / "run.json", config)
    journal = out / "records.jsonl"
    done = {k for k, r in latest_by_image(read_records(journal, repair=True)).items() if r.get("status") == "ok"}
    items = suite.clips if video else suite.images
    selected = [r for r in items if (select is None or select(r)) and (shard is None or shard.contains(r.id))]
    todo = [r for r in selected if r.id not in done and (r.annotations if video else (r.words or r.faces or r.excluded_faces))]
    return RunPlan(out, journal, config, target, text_edges, face_edges, selected, todo, done)


def finish_run(plan: RunPlan, suite: Any, resolution: str, adapter: dict[str, Any], backends: dict[str, Any],
               timer: StageTimer, device: str, budget_extra: dict[str, Any] | None = None,
               decorate: Callable[[dict[str, Any], list[dict[str, Any]]], None] | None = None) -> dict[str, Any]:
    """Aggregate the journal's latest record of every selected item into results.json (written atomically).

    ``budget_extra`` joins the budget (summed with an earlier invocation's by :func:`resumed_budget`; an
    ``overhead`` there replaces the run's own wall / model time); ``decorate(results, records)`` adds modality extras (video) before writing.
    """
    latest = latest_by_image(read_records(plan.journal))
    wanted = {r.id for r in plan.selected}
    records = [latest[k] for k in latest if k in wanted]
    unit = "clips" if suite.modality == "video" else "images"
    extra = dict(budget_extra or {})
    pass_overhead = extra.pop("overhead", None)  # several adapters shared the pass: the pass's overhead
    budget = resumed_budget(plan.out / "results.json", session_budget(
        timer, MODEL_STAGES, device=device, **{f"{unit}_evaluated": len(plan.todo),
                                               f"{unit}_resumed": len(plan.done & wanted)}, **extra), unit=unit)
    if pass_overhead is not None:
        budget["overhead"] = pass_overhead
    results = build_results(
        adapter={**adapter},
        suite={"name": suite.name, "version": suite.version, "resolution": resolution, "modality": suite.modality,
               "manifest_sha256": suite.manifest_sha256},
        backends=backends,
        records=records,
        text_edges=plan.text_edges, face_edges=plan.face_edges,
        budget=budget,
        config=plan.config,
    )
    if decorate is not None:
        decorate(results, records)
    write_json_atomic(plan.out / "results.json", results)
    results["_path"] = str(plan.out / "results.json")
    return results


def batch_size_for(adapter: Adapter, batch_size: int | None, target: int | None) -> int:
    """Images per adapter call: the requested/declared size, capped so one float32 batch fits BATCH_BUDGET_MB.

    Codecs and references work image by image whatever the batch: they get one image per call unless a
    batch size is asked for, so the engine can hand each image on to the scoring at once."""
    if batch_size is None and adapter.info.kind in PER_IMAGE_KINDS:
        return 1
    size = max(1, min(batch_size or adapter.max_batch_size, adapter.max_batch_size))
    if target is not None and batch_size is None:
        size = min(size, max(1, int(BATCH_BUDGET_MB * 2**20 // (target * target * 3 * 4))))
    return size


def evaluate(suite: Suite, adapter: Adapter, resolution: str, scorers: Scorers, out_root: Path, **options: Any) -> dict[str, Any]:
    """Evaluate one adapter at one resolution with the run engine (see :func:`tfbench.engine.run_suite`).

    Returns the results dict that is also written to ``run_dir/results.json``; records are appended as
    computed and a rerun resumes. Options: ``on_error``, ``batch_size``, ``progress``, ``score_all``,
    ``select``, ``device``, ``keep_crops``, ``shard``, ``keep_unreadable``.
    """
    from tfbench.engine import RunOptions, run_suite

    return run_suite(suite, [adapter], [resolution], scorers, out_root, RunOptions(**options))[0]
