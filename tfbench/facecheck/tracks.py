"""Faces of a clip as identities over time: link the original's detections into tracks, then score each track.

Linking runs over the sampled frames of the *original* clip, in order. A detection continues the track
whose last box overlaps it most (IoU >= ``iou_min``, greedy by IoU); a detection left over continues a
track lost for at most ``max_gap`` sampled frames when its original-side embedding matches that track's
last one at the recognizer's same-person threshold (re-identification after a miss or occlusion, greedy by
similarity); anything else starts a new track. Processed frames play no part in linking.

Per track and recognizer (over the track's face-frames, in frame order):

- ``f_kept``: share of face-frames whose similarity reaches the threshold (identity kept over time);
- ``lost_run``: the longest run of consecutive face-frames not kept (0 = never lost);
- ``identity_flips``: share of consecutive face-frame pairs whose kept/lost decision differs;

and for expression: ``expression_kept`` (share of the face-frames whose original expression is decided
that keep the same top-1 class; None when none is decided),
``expression_js`` (mean Jensen-Shannon divergence) and ``expression_flicker``: the share of consecutive
face-frame pairs whose top-1 class changes in the processed clip minus that share in the original clip
(the switching the processing adds; negative when it smooths).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

IOU_MIN = 0.3
MAX_GAP = 2
MIN_TRACK_FRAMES = 3


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def link_tracks(frames: Sequence[Sequence[Sequence[float]]], embeddings: Sequence[np.ndarray] | None = None,
                same_person: Callable[[np.ndarray, np.ndarray], float] | None = None, threshold: float = 1.0,
                iou_min: float = IOU_MIN, max_gap: int = MAX_GAP) -> list[list[tuple[int, int]]]:
    """Boxes per sampled frame (and optional embeddings per frame, row per box) -> tracks as
    [(frame position, detection index), ...], ordered by their first detection."""
    tracks: list[list[tuple[int, int]]] = []
    last_box: list[Sequence[float]] = []
    last_emb: list[np.ndarray | None] = []
    for t, boxes in enumerate(frames):
        active = [k for k, tr in enumerate(tracks) if t - tr[-1][0] <= max_gap + 1]
        pairs = sorted(((iou(last_box[k], b), k, j) for k in active for j, b in enumerate(boxes)), reverse=True)
        used_t: set[int] = set()
        used_d: set[int] = set()
        for score, k, j in pairs:
            if score < iou_min:
                break
            if k in used_t or j in used_d:
                continue
            used_t.add(k)
            used_d.add(j)
            tracks[k].append((t, j))
        if embeddings is not None and same_person is not None:
            cand = []
            for k in active:
                if k in used_t or last_emb[k] is None:
                    continue
                for j in range(len(boxes)):
                    if j not in used_d:
                        s = same_person(last_emb[k], embeddings[t][j])
                        if s >= threshold:
                            cand.append((s, k, j))
            for _, k, j in sorted(cand, reverse=True):
                if k in used_t or j in used_d:
                    continue
                used_t.add(k)
                used_d.add(j)
                tracks[k].append((t, j))
        for j in range(len(boxes)):
            if j not in used_d:
                tracks.append([(t, j)])
                last_box.append(boxes[j])
                last_emb.append(None)
        for k, tr in enumerate(tracks):
            if tr[-1][0] == t:
                last_box[k] = boxes[tr[-1][1]]
                last_emb[k] = embeddings[t][tr[-1][1]] if embeddings is not None else None
    return sorted(tracks, key=lambda tr: tr[0])


def longest_run(flags: Sequence[bool]) -> int:
    best = run = 0
    for f in flags:
        run = run + 1 if f else 0
        best = max(best, run)
    return best


def change_rate(values: Sequence[Any]) -> float | None:
    """Share of consecutive pairs that differ (None for fewer than 2 values)."""
    if len(values) < 2:
        return None
    return sum(a != b for a, b in zip(values, values[1:])) / (len(values) - 1)


def _r(v: float | None, nd: int = 6) -> float | None:
    return None if v is None else round(float(v), nd)


def track_unit(track_id: int, frame_numbers: Sequence[int], items: Sequence[dict],
               groups: dict[str, str]) -> dict[str, Any]:
    """One track's unit from its face-frames (each already decided at the recognizer's threshold)."""
    unit: dict[str, Any] = {"i": track_id, "track": {"first_frame": frame_numbers[0], "last_frame": frame_numbers[-1],
                                                     "face_frames": len(items)}}
    if groups:
        unit["groups"] = dict(groups)
    for key, decision in (("f_sim", "f_kept"), ("target_sim", "impersonated")):
        if key not in items[0]:
            continue
        unit[key], unit[decision] = {}, {}
        if decision == "f_kept":
            unit["lost_run"], unit["identity_flips"] = {}, {}
        for name in items[0][key]:
            unit[key][name] = _r(np.mean([it[key][name] for it in items]))
            flags = [it[decision][name] >= 1.0 for it in items]
            unit[decision][name] = _r(np.mean(flags))
            if decision == "f_kept":
                unit["lost_run"][name] = longest_run([not f for f in flags])
                unit["identity_flips"][name] = _r(change_rate(flags))
    if "expression_kept" in items[0]:
        decided = [it["expression_kept"] for it in items if it["expression_kept"] is not None]
        unit["expression_kept"] = _r(np.mean(decided)) if decided else None
        unit["expression_decided"] = len(decided)
        unit["expression_js"] = _r(np.mean([it["expression_js"] for it in items]))
        orig = change_rate([it["expression"]["original"] for it in items])
        proc = change_rate([it["expression"]["processed"] for it in items])
        unit["expression_switches"] = {"original": _r(orig), "processed": _r(proc)}
        unit["expression_flicker"] = None if orig is None else _r(proc - orig)
    for key in ("nme", "psnr", "ssim"):
        vals = [it[key] for it in items if it.get(key) is not None]
        unit[key] = _r(np.mean(vals)) if vals else None
    return unit
