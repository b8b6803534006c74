"""Per-face scores of a processed image against its original, and per-track scores of a clip.

Faces (box + 5 landmarks) come from the original: from a manifest when given, else from YuNet. Every
score uses those same landmarks on both sides, exactly as ``tfbench run`` scores a reconstruction:

- ``f_sim[backend]``: the backend's similarity of the two embeddings (cosine; dlib: 1 - d^2/2), as
  tfbench.metrics.face.FaceScorer.score computes F-Sim;
- ``f_kept[backend]``: 1 when f_sim reaches the backend's documented same-person threshold, else 0
  (the definition of ``f_kept`` in ``tfbench run`` results);
- ``target_sim`` / ``impersonated`` (with a target): the same against the target identity's face;
- ``expression``, ``expression_kept``, ``expression_js``: the expression backend's top-1 class on both
  sides, whether it is the same, and the Jensen-Shannon divergence (tfbench.facecheck.expression);
- ``nme``: 68-point landmark drift (tfbench.facecheck.landmarks);
- ``psnr`` / ``ssim`` of the face box (tfbench.metrics.fidelity.CropFidelity), a naturalness proxy.

A clip is scored frame by frame (every ``frame_step``-th frame, faces detected in each original frame),
and its faces are linked into tracks (tfbench.facecheck.tracks): each track is one unit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from tfbench.crops import crop_box
from tfbench.errors import TfbenchError
from tfbench.facecheck.expression import ExpressionBackend, compare
from tfbench.facecheck.landmarks import LandmarkDrift
from tfbench.facecheck.pairs import Pair
from tfbench.images import load_rgb
from tfbench.metrics.face import FaceEmbedder, FaceScorer, YuNetDetector, identity_kept
from tfbench.metrics.fidelity import CropFidelity

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


def same_size(a: np.ndarray, b: np.ndarray, what: str) -> None:
    """Original and processed must have the same size: the original's landmarks are used on both."""
    if a.shape[:2] != b.shape[:2]:
        raise MediaError("size_mismatch", f"{what}: original is {a.shape[1]}x{a.shape[0]} but processed is "
                                          f"{b.shape[1]}x{b.shape[0]}; landmarks of the original cannot be "
                                          f"applied (resize the processed output back to the original size)")


class FaceChecker:
    def __init__(self, backends: Sequence[FaceEmbedder], detector: YuNetDetector | None = None,
                 landmarks: LandmarkDrift | None = None, target: np.ndarray | None = None,
                 expression: ExpressionBackend | None = None) -> None:
        if not backends:
            raise TfbenchError("face-check needs at least one face-recognition backend")
        self.scorers = [FaceScorer(b) for b in backends]
        self.detector = detector or YuNetDetector()
        self.landmarks = landmarks
        self.expression = expression
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
        return self.score_and_embed(original, processed, faces)[0]

    def score_and_embed(self, original: np.ndarray, processed: np.ndarray,
                        faces: Sequence[dict]) -> tuple[list[dict], np.ndarray]:
        """Per-face scores, and the first recognizer's embeddings of the original faces (to link tracks)."""
        lms = [f["landmarks"] for f in faces]
        first = None
        items: list[dict] = []
        sims: dict[str, list[float]] = {}
        tsims: dict[str, list[float]] = {}
        for s in self.scorers:
            name = s.backend.name
            orig_emb = s.embed(original, lms)
            first = orig_emb if first is None else first
            proc_emb = s.embed(processed, lms)
            sims[name] = [float(v) for v in s.backend.similarity(orig_emb, proc_emb)]
            if name in self.targets:
                tsims[name] = [float(v) for v in s.backend.similarity(np.repeat(self.targets[name], len(lms), axis=0), proc_emb)]
        expr = None
        if self.expression is not None:
            boxes = [f["box"] for f in faces]
            expr = (self.expression.predict(original, boxes), self.expression.predict(processed, boxes))
        for i, f in enumerate(faces):
            item: dict[str, Any] = {"i": i, "box": [round(float(v), 1) for v in f["box"]],
                                    "landmarks5": np.round(f["landmarks"], 1).tolist()}
            if f.get("score") is not None:
                item["det_score"] = _r(f["score"], 4)
            if f.get("groups"):
                item["groups"] = f["groups"]
            item["f_sim"] = {n: _r(v[i]) for n, v in sims.items()}
            item["f_kept"] = {s.backend.name: identity_kept(sims[s.backend.name][i], s.backend.threshold)
                              for s in self.scorers}
            if tsims:
                item["target_sim"] = {n: _r(v[i]) for n, v in tsims.items()}
                item["impersonated"] = {s.backend.name: identity_kept(tsims[s.backend.name][i], s.backend.threshold)
                                        for s in self.scorers if s.backend.name in tsims}
            if expr is not None:
                item.update(compare(expr[0][i], expr[1][i], self.expression.labels, self.expression.decided_margin))
            item["nme"] = _r(self.landmarks.drift(original, processed, f["landmarks"])) if self.landmarks else None
            fid = self.fidelity.score(crop_box(original, f["box"]), crop_box(processed, f["box"]))
            item["psnr"], item["ssim"] = _r(fid["psnr"], 4), _r(fid["ssim"])
            items.append(item)
        return items, first

    # -- media --------------------------------------------------------------------------------------
    def check_image(self, pair: Pair, known: Sequence[KnownFace] | None = None) -> dict[str, Any]:
        original, processed = load_rgb(pair.original), load_rgb(pair.processed)
        same_size(original, processed, pair.key)
        faces = self.faces_of(original, known, pair.groups)
        if not faces:
            raise MediaError("no_face", f"{pair.key}: no face detected in the original")
        return {"faces": self.score_faces(original, processed, faces)}
