"""Per-face scores of a processed image or clip against its original.

Faces (box + 5 landmarks) come from the original: from a manifest when given, else from YuNet. Every
score uses those same landmarks on both sides, exactly as ``tfbench run`` scores a reconstruction:

- ``f_sim[backend]``: the backend's similarity of the two embeddings (cosine; dlib: 1 - d^2/2), as
  tfbench.metrics.face.FaceScorer.score computes F-Sim;
- ``f_kept[backend]``: 1 when f_sim reaches the backend's documented same-person threshold, else 0
  (the definition of ``f_kept`` in ``tfbench run`` results);
- ``target_sim`` / ``impersonated`` (with a target): the same against the target identity's face;
- ``nme``: 68-point landmark drift (tfbench.facecheck.landmarks);
- ``psnr`` / ``ssim`` of the face box (tfbench.metrics.fidelity.CropFidelity), a naturalness proxy.

A clip is scored frame by frame (every ``frame_step``-th frame, faces detected in each original frame)
and aggregated into one unit per clip: the mean of each score over its face-frames, with ``f_kept``
decided on the mean similarity. Faces are not tracked across frames.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from tfbench.crops import crop_box
from tfbench.errors import TfbenchError
from tfbench.facecheck.landmarks import LandmarkDrift
from tfbench.facecheck.pairs import Pair
from tfbench.images import load_rgb
from tfbench.metrics.face import FaceEmbedder, FaceScorer, YuNetDetector
from tfbench.metrics.fidelity import CropFidelity

UNIT_SCORES = ("nme", "psnr", "ssim")


@dataclass(frozen=True)
class KnownFace:
    """A face given by a manifest: box [x0, y0, x1, y1], 5 landmarks and group labels."""

    box: tuple[float, float, float, float]
    landmarks: np.ndarray
    groups: dict[str, str]


class MediaError(TfbenchError):
    """One pair cannot be scored (unreadable, sizes differ); reported for that file, the run goes on."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


def _r(v: float | None, nd: int = 6) -> float | None:
    return None if v is None else round(float(v), nd)


class FaceChecker:
    def __init__(self, backends: Sequence[FaceEmbedder], detector: YuNetDetector | None = None,
                 landmarks: LandmarkDrift | None = None, target: np.ndarray | None = None) -> None:
        if not backends:
            raise TfbenchError("face-check needs at least one face-recognition backend")
        self.scorers = [FaceScorer(b) for b in backends]
        self.detector = detector or YuNetDetector()
        self.landmarks = landmarks
        self.fidelity = CropFidelity()
        self.targets: dict[str, np.ndarray] = {}
        if target is not None:
            faces = self.detector.detect(target)
            if not faces:
                raise TfbenchError("no face found in the --target image; give a clear photo of the target identity")
            big = max(faces, key=lambda f: (f["box"][2] - f["box"][0]) * (f["box"][3] - f["box"][1]))
            self.targets = {s.backend.name: s.embed(target, [big["landmarks"]]) for s in self.scorers}

    def backends(self) -> dict[str, dict[str, Any]]:
        return {s.backend.name: s.describe() for s in self.scorers}

    # -- faces --------------------------------------------------------------------------------------
    def faces_of(self, image: np.ndarray, known: Sequence[KnownFace] | None, groups: dict[str, str]) -> list[dict]:
        if known is not None:
            return [{"box": list(f.box), "landmarks": np.asarray(f.landmarks, dtype=np.float64), "score": None,
                     "groups": {**groups, **f.groups}} for f in known]
        return [{**f, "groups": dict(groups)} for f in self.detector.detect(image)]

    def score_faces(self, original: np.ndarray, processed: np.ndarray, faces: Sequence[dict]) -> list[dict]:
        """Scores of each face of ``original`` (with its landmarks) in ``processed`` (same size)."""
        lms = [f["landmarks"] for f in faces]
        items: list[dict] = []
        sims: dict[str, list[float]] = {}
        tsims: dict[str, list[float]] = {}
        for s in self.scorers:
            name = s.backend.name
            orig_emb = s.embed(original, lms)
            proc_emb = s.embed(processed, lms)
            sims[name] = [float(v) for v in s.backend.similarity(orig_emb, proc_emb)]
            if name in self.targets:
                tsims[name] = [float(v) for v in s.backend.similarity(np.repeat(self.targets[name], len(lms), axis=0), proc_emb)]
        for i, f in enumerate(faces):
            item: dict[str, Any] = {"i": i, "box": [round(float(v), 1) for v in f["box"]],
                                    "landmarks5": np.round(f["landmarks"], 1).tolist()}
            if f.get("score") is not None:
                item["det_score"] = _r(f["score"], 4)
            if f.get("groups"):
                item["groups"] = f["groups"]
            item["f_sim"] = {n: _r(v[i]) for n, v in sims.items()}
            item["f_kept"] = {s.backend.name: 1.0 if sims[s.backend.name][i] >= s.backend.threshold else 0.0
                              for s in self.scorers}
            if tsims:
                item["target_sim"] = {n: _r(v[i]) for n, v in tsims.items()}
                item["impersonated"] = {s.backend.name: 1.0 if tsims[s.backend.name][i] >= s.backend.threshold else 0.0
                                        for s in self.scorers if s.backend.name in tsims}
            item["nme"] = _r(self.landmarks.drift(original, processed, f["landmarks"])) if self.landmarks else None
            fid = self.fidelity.score(crop_box(original, f["box"]), crop_box(processed, f["box"]))
            item["psnr"], item["ssim"] = _r(fid["psnr"], 4), _r(fid["ssim"])
            items.append(item)
        return items

    # -- media --------------------------------------------------------------------------------------
    @staticmethod
    def _same_size(a: np.ndarray, b: np.ndarray, what: str) -> None:
        if a.shape[:2] != b.shape[:2]:
            raise MediaError("size_mismatch", f"{what}: original is {a.shape[1]}x{a.shape[0]} but processed is "
                                              f"{b.shape[1]}x{b.shape[0]}; landmarks of the original cannot be "
                                              f"applied (resize the processed output back to the original size)")

    def check_image(self, pair: Pair, known: Sequence[KnownFace] | None = None) -> dict[str, Any]:
        original, processed = load_rgb(pair.original), load_rgb(pair.processed)
        self._same_size(original, processed, pair.key)
        faces = self.faces_of(original, known, pair.groups)
        if not faces:
            raise MediaError("no_face", f"{pair.key}: no face detected in the original")
        return {"faces": self.score_faces(original, processed, faces)}

    def check_video(self, pair: Pair, frame_step: int = 1, max_frames: int | None = None) -> dict[str, Any]:
        from tfbench.video.io import iter_frames

        frames: list[dict] = []
        n_orig = n_proc = 0
        a_iter, b_iter = iter_frames(Path(pair.original)), iter_frames(Path(pair.processed))
        sentinel = object()
        truncated = False
        while True:
            a, b = next(a_iter, sentinel), next(b_iter, sentinel)
            n_orig += a is not sentinel
            n_proc += b is not sentinel
            if a is sentinel or b is sentinel:
                break
            index = n_orig - 1
            if index % frame_step:
                continue
            if max_frames is not None and len(frames) >= max_frames:
                truncated = True
                break
            self._same_size(a, b, f"{pair.key} frame {index}")
            faces = self.faces_of(a, None, pair.groups)
            frames.append({"frame": index, "faces": self.score_faces(a, b, faces) if faces else []})
        if not truncated:  # one clip ended: count what the longer one has left
            n_orig += sum(1 for _ in a_iter)
            n_proc += sum(1 for _ in b_iter)
        face_frames = [f for fr in frames for f in fr["faces"]]
        if not face_frames:
            raise MediaError("no_face", f"{pair.key}: no face detected in any of the {len(frames)} sampled frames")
        out: dict[str, Any] = {"frames_original": n_orig, "frames_processed": n_proc, "frames_scored": len(frames),
                               "frames": frames, "faces": [self.clip_unit(face_frames, pair.groups)]}
        if truncated:
            out["truncated"] = f"stopped after max_frames={max_frames} sampled frames"
        elif n_orig != n_proc:
            out["warning"] = f"frame counts differ ({n_orig} vs {n_proc}); the first {min(n_orig, n_proc)} are compared"
        return out

    def clip_unit(self, face_frames: Sequence[dict], groups: dict[str, str]) -> dict[str, Any]:
        """One clip's aggregate: mean of every score over its face-frames; kept/impersonated on the means."""
        unit: dict[str, Any] = {"i": 0, "face_frames": len(face_frames)}
        if groups:
            unit["groups"] = dict(groups)
        for key, decision in (("f_sim", "f_kept"), ("target_sim", "impersonated")):
            if key not in face_frames[0]:
                continue
            unit[key], unit[decision], unit[f"frame_{decision}"] = {}, {}, {}
            for s in self.scorers:
                name = s.backend.name
                if name not in face_frames[0][key]:
                    continue
                mean = float(np.mean([f[key][name] for f in face_frames]))
                unit[key][name] = _r(mean)
                unit[decision][name] = 1.0 if mean >= s.backend.threshold else 0.0
                unit[f"frame_{decision}"][name] = _r(np.mean([f[decision][name] for f in face_frames]))
        for key in UNIT_SCORES:
            vals = [f[key] for f in face_frames if f.get(key) is not None]
            unit[key] = _r(np.mean(vals)) if vals else None
        return unit
