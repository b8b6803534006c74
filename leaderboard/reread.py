"""Re-read submitted reconstruction crops with the row's declared OCR and face backends (loads the models).

Word crops are exactly what the OCR read in the run (lossless PNG), so a reading must be reproduced
exactly. A face's F-Sim was computed from the whole original and reconstruction aligned with the same
landmarks; `tfbench run --keep-crops` saves the region that alignment reads (``tfbench.crops.face_region``)
with the landmarks relative to it (``crop_landmarks``), so both crops can be embedded again. Alignment of
the region instead of the whole image rounds a few pixels differently (at most one 8-bit level), so the
similarity is reproduced within ``FACE_TOLERANCE``: measured on the 50 faces of `mini` through five codecs
at 256 and 512 (500 comparisons), SFace differed by at most 3.0e-4 and dlib by 0.

What this proves: the records agree with the crops. It cannot prove that the crops came from the adapter
(only running the adapter again can); the original crops are the submitter's too.
"""
from __future__ import annotations

import io
import json
import os
import random
import secrets
import time
from typing import Any, Sequence

import numpy as np

from tfbench.leaderboard.instances import Instance
from tfbench.leaderboard.verify import VerificationError

MIN_SAMPLE = 200
FACE_TOLERANCE = 1e-3  # > 3x the largest difference measured (SFace 3.0e-4, dlib 0; see the module docstring)


def _rgb(png: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        return np.asarray(im.convert("RGB"))


def choose(instances: Sequence[Instance], sample: int | None, seed: int | None = None) -> tuple[list[Instance], int]:
    """The instances to re-read (all when ``sample`` is None or covers them) and the random seed used.

    The seed is drawn at approval time, so a submitter cannot know which instances will be checked.
    """
    if sample is not None and sample < MIN_SAMPLE:
        raise VerificationError(f"a re-read sample is at least {MIN_SAMPLE} instances (or all); got {sample}")
    seed = secrets.randbits(32) if seed is None else seed
    ordered = sorted(instances, key=lambda i: (i.kind, i.image, i.frame, i.idx))
    if sample is None or sample >= len(ordered):
        return ordered, seed
    return sorted(random.Random(seed).sample(ordered, sample), key=lambda i: (i.kind, i.image, i.frame, i.idx)), seed


def _backend_check(declared: dict[str, Any], described: dict[str, Any], side: str) -> None:
    for field in ("backend", "version", "threshold"):
        if field in described and declared.get(field) != described.get(field):
            raise VerificationError(f"the results declare {side} backend {field} {declared.get(field)!r}; this board's "
                                    f"{described.get('backend')} has {described.get(field)!r}, so it cannot re-read "
                                    f"the crops the same way")


def _scorers(data: dict[str, Any], need_text: bool, need_face: bool) -> tuple[Any, Any]:
    from tfbench.metrics.face import FaceScorer
    from tfbench.metrics.text import TextScorer

    backends = data.get("backends") or {}
    threads = min(2, os.cpu_count() or 1)
    text = face = None
    if need_text:
        text = TextScorer(str((backends.get("text") or {}).get("backend")), threads=threads)
        _backend_check(backends.get("text") or {}, text.describe(), "text")
    if need_face:
        face = FaceScorer(str((backends.get("face") or {}).get("backend")), threads=threads)
        _backend_check(backends.get("face") or {}, face.describe(), "face")
    return text, face


def reread(data: dict[str, Any], instances: Sequence[Instance], sample: int | None = MIN_SAMPLE,
           seed: int | None = None) -> dict[str, Any]:
    """Re-read a sample (or all) of the scored instances' crops; refuse the first disagreement."""
    scored = [i for i in instances if i.scored]
    if not scored:
        raise VerificationError("the records hold no scored instance to re-read")
    bare = [i for i in scored if i.recon_png is None or i.orig_png is None]
    if bare:
        raise VerificationError(f"{len(bare)} of {len(scored)} scored instances have no crops (first: {bare[0].where}); "
                                f"a ranked submission carries the crops of every scored instance "
                                f"(tfbench run --keep-crops, then zip records.jsonl and crops/)")
    chosen, seed = choose(scored, sample, seed)
    words = [i for i in chosen if i.kind == "text"]
    faces = [i for i in chosen if i.kind == "face"]
    text, face = _scorers(data, bool(words), bool(faces))
    start = time.process_time()
    if words:
        preds = text.backend.recognize([_rgb(i.recon_png) for i in words])
        for inst, pred in zip(words, preds):
            if pred != inst.pred:
                raise VerificationError(f"{inst.where}: the record says the OCR read {inst.pred!r}, but "
                                        f"{text.backend.name} reads the submitted reconstruction crop as {pred!r}")
    worst = 0.0
    for inst in faces:
        if inst.landmarks is None:
            raise VerificationError(f"{inst.where}: the face crop carries no crop_landmarks (made before tfbench saved "
                                    f"them); rerun with --keep-crops")
        lms = np.asarray(json.loads(inst.landmarks), dtype=np.float64)
        emb = face.backend.embed([_rgb(inst.orig_png), _rgb(inst.recon_png)], [lms, lms])
        sim = float(face.backend.similarity(emb[:1], emb[1:])[0])
        worst = max(worst, abs(sim - float(inst.f_sim)))
        if abs(sim - float(inst.f_sim)) > FACE_TOLERANCE:
            raise VerificationError(f"{inst.where}: the record says F-Sim {inst.f_sim:.6f}, but {face.backend.name} "
                                    f"gives {sim:.6f} on the submitted crops (tolerance {FACE_TOLERANCE})")
    return {"reread": len(chosen), "of": len(scored), "words": len(words), "faces": len(faces), "seed": seed,
            "face_max_abs_diff": worst, "face_tolerance": FACE_TOLERANCE,
            "cpu_s": round(time.process_time() - start, 2)}
