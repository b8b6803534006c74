"""Run a face check over pairs: load the recognizers, score every pair, never stop on one bad file."""
from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, Callable, Sequence

import cv2

from tfbench._version import __version__
from tfbench.errors import MissingWeightsError, TfbenchError
from tfbench.facecheck.expression import ExpressionBackend, create_expression_backend
from tfbench.facecheck.gates import check_gates, resolve_gates, track_verdict
from tfbench.facecheck.landmarks import LandmarkDrift
from tfbench.facecheck.pairs import Pair
from tfbench.facecheck.report import MODES, SCHEMA, problems, summarize
from tfbench.facecheck.score import FaceChecker, KnownFace, MediaError
from tfbench.facecheck.tracks import MIN_TRACK_FRAMES
from tfbench.facecheck.video import check_video
from tfbench.metrics.face import FACE_BACKENDS, FaceEmbedder, create_face_backend

DEFAULT_BACKENDS = ("sface", "arcface", "dlib")  # sface always; the others when their models are installed


def _weights_on_disk(name: str) -> str | None:
    """Why an optional default backend is not used, or None. A default run never downloads: the arcface
    backend (tfbench.metrics.face_arcface) is used by default only when its pack is already unpacked."""
    if name == "arcface":
        try:
            from tfbench.metrics.face_arcface import find_recognition_model, pack_dirs
        except ImportError as exc:
            return f"cannot import the arcface backend: {exc}"
        if find_recognition_model() is None:
            return (f"no insightface pack in {', '.join(map(str, pack_dirs()))}; name --backend arcface to let it "
                    f"download, or unpack it there")
    return None


def load_backends(names: Sequence[str] | None, threads: int = 2) -> tuple[list[FaceEmbedder], dict[str, str]]:
    """Named backends must load (a usage error otherwise); by default every available one is used."""
    if names:
        return [create_face_backend(n, threads=threads) for n in dict.fromkeys(names)], {}
    loaded, missing = [], {}
    for name in DEFAULT_BACKENDS:
        if name not in FACE_BACKENDS:
            continue
        if name != "sface" and (why := _weights_on_disk(name)):
            missing[name] = why
            continue
        try:
            loaded.append(create_face_backend(name, threads=threads))
        except MissingWeightsError as exc:
            if name == "sface":
                raise
            missing[name] = str(exc)
    return loaded, missing


def load_landmarks() -> tuple[LandmarkDrift | None, str | None]:
    try:
        return LandmarkDrift(), None
    except MissingWeightsError as exc:
        return None, str(exc)


def load_expression(spec: str | None, threads: int = 2) -> tuple[ExpressionBackend | None, str | None]:
    """The expression backend, or None and why. By default (``spec`` None) 'fer' when LiteRT is installed;
    a named backend must load (a usage error otherwise); 'none' turns expression scoring off."""
    if spec == "none":
        return None, "turned off (--expression-backend none)"
    if spec is not None:
        return create_expression_backend(spec, threads), None
    try:
        return create_expression_backend("fer", threads), None
    except MissingWeightsError as exc:
        return None, str(exc)


def manifest_faces(path: Path, data_root: Path | None) -> dict[str, list[KnownFace]]:
    """A tfbench suite manifest -> {relative file: faces with box, landmarks, groups}."""
    from tfbench.manifest import load_suite_file

    suite = load_suite_file(path, data_root)
    return {rec.file: [KnownFace(tuple(f.box), f.landmarks, dict(f.groups)) for f in rec.faces] for rec in suite.images}


def check_pair(checker: FaceChecker, pair: Pair, known: dict[str, list[KnownFace]] | None,
               frame_step: int, max_frames: int | None, min_track_frames: int = MIN_TRACK_FRAMES) -> dict[str, Any]:
    rec: dict[str, Any] = {"file": pair.key, "kind": pair.kind}
    if pair.groups:
        rec["groups"] = pair.groups
    if pair.unpaired:
        return {**rec, "status": "unpaired", "error": pair.unpaired}
    try:
        if pair.kind == "image":
            faces = None if known is None else known.get(pair.key)
            if known is not None and faces is None:
                raise MediaError("no_face", f"{pair.key} is not in the manifest")
            rec.update(checker.check_image(pair, faces))
        elif pair.kind == "video":
            rec.update(check_video(checker, pair, frame_step, max_frames, min_track_frames))
        else:
            return {**rec, "status": "unsupported", "error": f"{pair.key}: not an image or video file"}
    except MediaError as exc:
        return {**rec, "status": exc.status, "error": str(exc)}
    except TfbenchError as exc:  # ImageLoadError, VideoLoadError, ...
        return {**rec, "status": "error", "error": str(exc)}
    except (cv2.error, ValueError, OSError, MemoryError) as exc:  # a malformed file must not stop the run
        return {**rec, "status": "error", "error": f"{pair.key}: {type(exc).__name__}: {exc}"}
    return {**rec, "status": "ok"}


def run_face_check(pairs: Sequence[Pair], mode: str, *, backends: Sequence[str] | None = None,
                   target: Path | None = None, manifest: Path | None = None, data_root: Path | None = None,
                   frame_step: int = 1, max_frames: int | None = None, min_rate: float | None = None,
                   max_nme: float | None = None, min_expression_kept: float | None = None,
                   expression: str | None = None, min_track_frames: int = MIN_TRACK_FRAMES, threads: int = 2,
                   every_track: bool = False,
                   progress: Callable[[int, int, str], None] | None = None) -> dict[str, Any]:
    """Score every pair and build the report (schema tfbench.facecheck/2) with its verdict."""
    if mode not in MODES:
        raise TfbenchError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    if frame_step < 1:
        raise TfbenchError("--frame-step must be at least 1")
    if min_track_frames < 1:
        raise TfbenchError("--min-track-frames must be at least 1")
    gates = resolve_gates(mode, min_rate, min_expression_kept, max_nme, every_track)
    if expression == "none" and min_expression_kept is None:
        gates["min_expression_kept"] = None  # expression turned off: its default gate goes with it
    from tfbench.images import load_rgb

    target_image = load_rgb(target) if target is not None else None
    known = manifest_faces(manifest, data_root) if manifest is not None else None
    models, unavailable = load_backends(backends, threads)
    drift, drift_missing = load_landmarks()
    expr, expr_missing = load_expression(expression, threads)
    checker = FaceChecker(models, landmarks=drift, target=target_image, expression=expr)
    records = []
    for i, pair in enumerate(pairs):
        rec = check_pair(checker, pair, known, frame_step, max_frames, min_track_frames)
        if rec.get("kind") == "video" and rec["status"] == "ok":
            for unit in rec["faces"]:
                unit["verdict"] = track_verdict(unit, mode, gates)
        records.append(rec)
        if progress:
            progress(i + 1, len(pairs), pair.key)
    summary = summarize(records, checker.backends(), mode, expr.labels if expr else None)
    report: dict[str, Any] = {
        "schema": SCHEMA, "tfbench_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "mode": mode, "target": str(target) if target else None,
        "faces_from": "manifest" if known is not None else "YuNet on the original",
        "backends": checker.backends(),
        "landmarks": drift.description if drift else {"unavailable": drift_missing},
        "expression": expr.describe() if expr else {"unavailable": expr_missing},
        "summary": summary, "problems": problems(records),
        "gates": check_gates(summary, gates, expr_missing, records), "records": records,
    }
    if unavailable:
        report["unavailable_backends"] = unavailable
    return report
