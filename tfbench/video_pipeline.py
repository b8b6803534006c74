"""The video pipeline: clip -> streamed frames -> TokBench video protocol -> adapter in temporal chunks
-> frame-level text/face scores on the annotated frames -> per-clip records -> results.

Frames are decoded one at a time and sent to the adapter in chunks of ``chunk`` frames (the largest
count <= ``max_frames`` that the adapter's frame rule allows); a short last chunk is padded with its
last frame to the rule and trimmed after decoding. Only the current chunk (canvases, reconstructions
and the originals of its annotated frames) is in memory, so memory does not grow with clip length.

Image adapters run frame by frame (a per-frame baseline); video adapters get ``(1, T, H, W, 3)``.
Scoring reuses :func:`tfbench.pipeline.score_image` on each annotated frame at the original size;
records (one per clip), resume and results.json are the image pipeline's, with video extras.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from tfbench.budget import StageTimer, resumed_budget, session_budget
from tfbench.errors import AdapterError, TfbenchError
from tfbench.metrics.registry import metrics_for
from tfbench.pipeline import MODEL_STAGES, ON_ERROR, Scorers, _check_config, _progress, run_dir, score_image
from tfbench.protocol import Adapter, check_batch, check_reconstruction
from tfbench.records import RecordWriter, latest_by_image, read_records, write_json_atomic
from tfbench.resize import to_u8
from tfbench.results import aggregate_records, build_results
from tfbench.video_io import VideoLoadError, iter_frames
from tfbench.video_manifest import FrameAnnotation, VideoClip, VideoSuite
from tfbench.video_resize import (VideoPlacement, canvas_to_frame, chunk_length, frame_to_canvas, frames_for_rule,
                                  pad_frames, parse_video_resolution, plan_video)

DEFAULT_MAX_FRAMES = 33  # 4n+1 and 8n+1 both allow 33; codecs get 33 frames per stream


def chunk_for(adapter: Adapter, max_frames: int | None = None) -> int:
    """Frames per adapter call: the largest count <= max_frames its frame rule allows."""
    limit = max_frames or getattr(adapter, "max_frames", None) or DEFAULT_MAX_FRAMES
    return chunk_length(adapter.info.frame_rule if adapter.info.modality == "video" else None, int(limit))


def reconstruct_chunk(adapter: Adapter, canvases: np.ndarray) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """uint8 (t, H, W, 3) canvases -> uint8 reconstructions of the same shape, and per-call compression.

    A video adapter gets one clip padded to its frame rule (last frame repeated); the reconstruction
    must have exactly the padded frame count, and is trimmed back to t. An image adapter gets the
    frames as image batches of at most ``max_batch_size``.
    """
    t = canvases.shape[0]
    frames = np.multiply(canvases, np.float32(1.0 / 255.0), dtype=np.float32)  # one float copy of the chunk
    if adapter.info.modality == "video":
        padded = pad_frames(frames, frames_for_rule(t, adapter.info.frame_rule))[None]
        check_batch(padded, "video")
        latent = adapter.encode(padded)
        comp = adapter.compression(latent, padded.shape)
        recon = adapter.decode(latent)
        shape = getattr(recon, "shape", None)
        if shape is not None and len(shape) == 5 and shape[1] != padded.shape[1]:
            raise AdapterError(
                f"{adapter.spec}: decode() returned {shape[1]} frames for a chunk of {padded.shape[1]} frames "
                f"(frame rule {adapter.info.frame_rule or 'any'}); a video adapter must return as many frames "
                f"as it was given (trim its own temporal padding)")
        recon = check_reconstruction(adapter.spec, padded, recon, adapter.info.value_range)[0, :t]
        per_frame = [c.to_dict() | {"frames": int(padded.shape[1])} for c in comp]
        return _frames_to_u8(recon), per_frame
    out, comps = [], []
    size = max(1, int(adapter.max_batch_size))
    for i in range(0, t, size):
        batch = frames[i:i + size]
        check_batch(batch)
        latent = adapter.encode(batch)
        comps += [c.to_dict() | {"frames": 1} for c in adapter.compression(latent, batch.shape)]
        out.append(_frames_to_u8(check_reconstruction(adapter.spec, batch, adapter.decode(latent),
                                                       adapter.info.value_range)))
    return np.concatenate(out), comps


def _frames_to_u8(frames: np.ndarray) -> np.ndarray:
    """[0, 1] float frames -> uint8, one frame at a time (no chunk-sized float temporaries)."""
    out = np.empty(frames.shape, dtype=np.uint8)
    for i in range(frames.shape[0]):
        out[i] = to_u8(frames[i])
    return out


@dataclass
class _Flicker:
    """Frame-to-frame change of the original and of the reconstruction (canvas, padding excluded)."""

    orig: float = 0.0  # sum over frame pairs of mean |O_t - O_t-1| (8-bit levels)
    rec: float = 0.0  # same for the reconstruction
    excess: float = 0.0  # sum of mean |(R_t - R_t-1) - (O_t - O_t-1)|: change the original does not have
    pairs: int = 0
    prev: tuple[np.ndarray, np.ndarray] | None = None

    def update(self, orig: np.ndarray, rec: np.ndarray) -> None:
        o, r = orig.astype(np.int16), rec.astype(np.int16)
        if self.prev is not None:
            do, dr = o - self.prev[0], r - self.prev[1]
            self.orig += float(np.abs(do).mean())
            self.rec += float(np.abs(dr).mean())
            self.excess += float(np.abs(dr - do).mean())
            self.pairs += 1
        self.prev = (o, r)

    def as_dict(self) -> dict[str, Any]:
        n = max(self.pairs, 1)
        return {"pairs": self.pairs, "orig_mean_abs_diff": self.orig / n, "rec_mean_abs_diff": self.rec / n,
                "excess_mean_abs_diff": self.excess / n}


@dataclass
class _ClipRun:
    clip: VideoClip
    placement: VideoPlacement
    anns: dict[int, FrameAnnotation]
    words: list[dict] = field(default_factory=list)
    faces: list[dict] = field(default_factory=list)
    bits: float = 0.0
    pixels: float = 0.0
    bpp_basis: str = ""
    latent_shape: list | None = None
    flicker: _Flicker = field(default_factory=_Flicker)
    frames: int = 0


def _score_chunk(run: _ClipRun, start: int, canvases: np.ndarray, recon: np.ndarray, originals: dict[int, np.ndarray],
                 scorers: Scorers, text_edges: tuple[float, ...], face_edges: tuple[float, ...], timer: StageTimer,
                 score_all: bool, keep_unreadable: bool = False) -> None:
    p = run.placement
    for k in range(canvases.shape[0]):
        idx = start + k
        with timer.stage("flicker"):
            run.flicker.update(canvases[k, :p.new_h, :p.new_w], recon[k, :p.new_h, :p.new_w])
        ann = run.anns.get(idx)
        if ann is None:
            continue
        rec_frame = canvas_to_frame(recon[k], p)
        words, faces = score_image(ann.record, originals.pop(idx), rec_frame, scorers, text_edges, face_edges,
                                   timer, score_all, keep_unreadable)
        for items, tracks in ((words, ann.word_tracks), (faces, ann.face_tracks)):
            for item in items:
                item["frame"] = idx
                if "i" in item and item["i"] < len(tracks) and tracks[item["i"]] is not None:
                    item["track"] = tracks[item["i"]]
        run.words += words
        run.faces += faces


def _add_compression(run: _ClipRun, comps: list[dict[str, Any]], canvas_pixels: int) -> None:
    for c in comps:
        if c.get("bits_per_pixel") is None:
            continue
        px = canvas_pixels * c["frames"]
        run.bits += c["bits_per_pixel"] * px
        run.pixels += px
        run.bpp_basis = c.get("bpp_basis") or run.bpp_basis
        run.latent_shape = run.latent_shape or c.get("latent_shape")


def evaluate_clip(suite: VideoSuite, clip: VideoClip, adapter: Adapter, target: int, scorers: Scorers,
                  text_edges: tuple[float, ...], face_edges: tuple[float, ...], timer: StageTimer,
                  chunk: int, score_all: bool = False, keep_unreadable: bool = False) -> dict[str, Any]:
    """Stream one clip through the adapter and score its annotated frames; returns its record."""
    path = suite.path_of(clip)
    run = _ClipRun(clip, plan_video(clip.width, clip.height, target), {a.frame: a for a in clip.annotations})
    canvas_pixels = run.placement.canvas_w * run.placement.canvas_h
    buffer = np.empty((chunk, *run.placement.canvas_shape), dtype=np.uint8)  # the one chunk held in memory
    filled = 0
    originals: dict[int, np.ndarray] = {}
    start = 0

    def flush() -> None:
        nonlocal start, filled
        if not filled:
            return
        stack = buffer[:filled]
        with timer.stage("reconstruct"):
            try:
                recon, comps = reconstruct_chunk(adapter, stack)
            except (KeyboardInterrupt, SystemExit):
                raise
            except TfbenchError:
                raise
            except BaseException as exc:  # any adapter failure (OOM included) becomes one clear error
                raise AdapterError(f"{adapter.spec}: {type(exc).__name__}: {exc}") from exc
        _add_compression(run, comps, canvas_pixels)
        _score_chunk(run, start, stack, recon, originals, scorers, text_edges, face_edges, timer, score_all,
                     keep_unreadable)
        start += filled
        filled = 0

    frames = iter_frames(path)
    while True:
        with timer.stage("load"):
            frame = next(frames, None)
            if frame is None:
                break
            if run.frames == 0 and frame.shape[:2] != (clip.height, clip.width):
                raise VideoLoadError(f"{path} is {frame.shape[1]}x{frame.shape[0]} but the manifest says "
                                     f"{clip.width}x{clip.height}; fix the clip's width/height")
            if run.frames in run.anns:
                originals[run.frames] = frame
            buffer[filled] = frame_to_canvas(frame, run.placement)
            filled += 1
            run.frames += 1
        if filled == chunk:
            flush()
    flush()
    missing = [f for f in run.anns if f >= run.frames]
    if missing:
        raise VideoLoadError(f"{path} has {run.frames} frames but clip {clip.id!r} is annotated at frame "
                             f"{min(missing)} (0-based); the annotation is for a frame that does not exist: fix "
                             f"the manifest (or the importer's frame numbering) or replace the video")
    return {"image": clip.id, "subset": clip.subset, "status": "ok", "frames": run.frames,
            "annotated_frames": len(run.anns), "chunk_frames": chunk,
            "compression": {"bits_per_pixel": run.bits / run.pixels if run.pixels else None,
                            "bpp_basis": f"{run.bpp_basis}, per frame pixel of the padded canvas".lstrip(", "),
                            "latent_shape": run.latent_shape, "tokens": None},
            "flicker": run.flicker.as_dict(), "words": run.words, "faces": run.faces}


def _error_record(clip: VideoClip, stage: str, error: str) -> dict[str, Any]:
    return {"image": clip.id, "subset": clip.subset, "status": "error", "stage": stage, "error": error,
            "n_words": clip.n_words, "n_faces": clip.n_faces}


def _spread(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=np.float64)
    return float(arr.std()), float(arr.max() - arr.min())


def temporal_summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Stability over frames: per-face-track F-Sim spread, per-word-track T-ACC flips, pooled flicker."""
    face_tracks: dict[tuple[str, str], list[tuple[int, float]]] = {}
    word_tracks: dict[tuple[str, str], list[tuple[int, float]]] = {}
    flick = _Flicker()
    for rec in records:
        if rec.get("status") != "ok":
            continue
        for f in rec.get("faces", []):
            if f.get("track") is not None and f.get("f_sim") is not None:
                face_tracks.setdefault((rec["image"], f["track"]), []).append((f["frame"], f["f_sim"]))
        for w in rec.get("words", []):
            if w.get("track") is not None and w.get("t_acc") is not None:
                word_tracks.setdefault((rec["image"], w["track"]), []).append((w["frame"], w["t_acc"]))
        fl = rec.get("flicker") or {}
        n = fl.get("pairs", 0)
        flick.pairs += n
        flick.orig += fl.get("orig_mean_abs_diff", 0.0) * n
        flick.rec += fl.get("rec_mean_abs_diff", 0.0) * n
        flick.excess += fl.get("excess_mean_abs_diff", 0.0) * n
    spreads = [_spread([v for _, v in sorted(vals)]) for vals in face_tracks.values() if len(vals) >= 2]
    flips = []
    for vals in word_tracks.values():
        seq = [v for _, v in sorted(vals)]
        if len(seq) >= 2:
            flips.append(sum(a != b for a, b in zip(seq, seq[1:])) / (len(seq) - 1))
    fl = flick.as_dict()
    fl["rec_over_orig"] = fl["rec_mean_abs_diff"] / fl["orig_mean_abs_diff"] if fl["orig_mean_abs_diff"] > 0 else None
    return {
        "face": {"tracks": len(spreads),
                 "f_sim_std": float(np.mean([s for s, _ in spreads])) if spreads else None,
                 "f_sim_range": float(np.mean([r for _, r in spreads])) if spreads else None},
        "text": {"tracks": len(flips), "t_acc_flip_rate": float(np.mean(flips)) if flips else None},
        "flicker": fl,
    }


def _per_clip(records: list[dict[str, Any]], text_edges: tuple[float, ...], face_edges: tuple[float, ...]) -> dict:
    out = {}
    for rec in records:
        if rec.get("status") != "ok":
            out[rec["image"]] = {"status": "error", "error": rec.get("error")}
            continue
        m = aggregate_records([rec], text_edges, face_edges)
        headline = metrics_for(headline=True, aggregation="bucket_mean")
        out[rec["image"]] = {
            "frames": rec.get("frames"), "annotated_frames": rec.get("annotated_frames"),
            "bits_per_pixel": (rec.get("compression") or {}).get("bits_per_pixel"),
            **{spec.key: spec.value(m) for spec in headline},
            "instance_mean": {spec.key: spec.value(m, "instance_mean") for spec in headline},
            "n_words": m["metrics"]["text"]["n_counted"], "n_faces": m["metrics"]["face"]["n_counted"],
            **temporal_summary([rec]),
        }
    return out


def evaluate_video(suite: VideoSuite, adapter: Adapter, resolution: str, scorers: Scorers, out_root: Path, *,
                   on_error: str = "stop", progress: bool = False, score_all: bool = False,
                   max_frames: int | None = None, select: Callable[[VideoClip], bool] | None = None,
                   device: str = "cpu", keep_unreadable: bool = False) -> dict[str, Any]:
    """Evaluate one adapter on a video suite at 256 or 480; one record per clip, a rerun resumes.

    Words the suite's curation marked unreadable on the original are not scored unless ``keep_unreadable``.
    """
    if on_error not in ON_ERROR:
        raise TfbenchError(f"--on-error must be one of {ON_ERROR}, got {on_error!r}")
    if suite.modality != "video":
        raise TfbenchError(f"suite {suite.name!r} is a {suite.modality} suite; the video pipeline cannot run it")
    target = parse_video_resolution(resolution)
    text_edges, face_edges = suite.edges("text", resolution), suite.edges("face", resolution)
    chunk = chunk_for(adapter, max_frames)
    out = run_dir(out_root, suite.name, adapter.spec, resolution)
    config = {"suite": suite.name, "suite_version": suite.version, "adapter": adapter.spec, "resolution": resolution,
              "modality": "video", "chunk_frames": chunk, "text_backend": scorers.text.backend.name,
              "face_backend": scorers.face.backend.name, "score_all": score_all, "keep_unreadable": keep_unreadable}
    out.mkdir(parents=True, exist_ok=True)
    _check_config(out / "run.json", config)
    journal = out / "records.jsonl"
    done = {k for k, r in latest_by_image(read_records(journal, repair=True)).items() if r.get("status") == "ok"}
    selected = [c for c in suite.clips if select is None or select(c)]
    todo = [c for c in selected if c.id not in done and c.annotations]
    timer = StageTimer()
    bar = _progress(len(todo), f"{adapter.spec} @ {resolution}", progress)
    with RecordWriter(journal) as writer:
        for clip in todo:
            try:
                record = evaluate_clip(suite, clip, adapter, target, scorers, text_edges, face_edges, timer, chunk,
                                       score_all, keep_unreadable)
            except (VideoLoadError, AdapterError) as exc:
                stage = "load" if isinstance(exc, VideoLoadError) else "adapter"
                if on_error == "stop":
                    raise type(exc)(f"clip {clip.id!r}: {exc}. Records so far are kept in {journal}; rerun to "
                                    f"resume, or use --on-error skip to record failures and go on.") from exc
                record = _error_record(clip, stage, str(exc))
            with timer.stage("write"):
                writer.append(record)
            bar.update(1)
    bar.close()
    with timer.stage("write"):
        latest = latest_by_image(read_records(journal))
        wanted = {c.id for c in selected}
        records = [latest[k] for k in latest if k in wanted]
        results = build_results(
            adapter={**adapter.describe()},
            suite={"name": suite.name, "version": suite.version, "resolution": resolution, "modality": "video"},
            backends=scorers.backends(), records=records, text_edges=text_edges, face_edges=face_edges,
            budget=resumed_budget(out / "results.json", session_budget(
                timer, MODEL_STAGES, device=device, clips_evaluated=len(todo), clips_resumed=len(done & wanted)),
                unit="clips"),
            config=config,
        )
        results["counts"]["clips"] = len(records)
        results["counts"]["annotated_frames"] = sum(r.get("annotated_frames", 0) for r in records if r.get("status") == "ok")
        results["video"] = {"chunk_frames": chunk, "frame_rule": adapter.info.frame_rule,
                            "temporal": temporal_summary(records), "clips": _per_clip(records, text_edges, face_edges)}
        write_json_atomic(out / "results.json", _finite(results))
    results["_path"] = str(out / "results.json")
    return results


def _finite(obj: Any) -> Any:
    """JSON has no NaN/Inf: replace them with None (e.g. a spread over an all-NaN track)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj
