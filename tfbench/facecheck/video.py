"""A clip pair scored frame by frame, its original's faces linked into tracks, one unit per track.

Every ``frame_step``-th frame (at most ``max_frames`` of them) is decoded from both clips; faces are
detected in the original frame and scored in both (tfbench.facecheck.score). The original's detections
are linked into tracks (tfbench.facecheck.tracks); a track with at least ``min_track_frames`` face-frames
is a unit of the report, shorter ones (passers-by at the edge, detector blips) are counted and listed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tfbench.facecheck.pairs import Pair
from tfbench.facecheck.score import FaceChecker, MediaError, same_size
from tfbench.facecheck.tracks import MIN_TRACK_FRAMES, link_tracks, track_unit


def check_video(checker: FaceChecker, pair: Pair, frame_step: int = 1, max_frames: int | None = None,
                min_track_frames: int = MIN_TRACK_FRAMES) -> dict[str, Any]:
    from tfbench.video.io import iter_frames

    frames: list[dict] = []
    embeddings: list[Any] = []
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
        same_size(a, b, f"{pair.key} frame {index}")
        faces = checker.faces_of(a, None, pair.groups)
        items, emb = checker.score_and_embed(a, b, faces) if faces else ([], None)
        frames.append({"frame": index, "faces": items})
        embeddings.append(emb)
    if not truncated:  # one clip ended: count what the longer one has left
        n_orig += sum(1 for _ in a_iter)
        n_proc += sum(1 for _ in b_iter)
    if not any(fr["faces"] for fr in frames):
        raise MediaError("no_face", f"{pair.key}: no face detected in any of the {len(frames)} sampled frames")
    linker = checker.scorers[0].backend
    tracks = link_tracks([[f["box"] for f in fr["faces"]] for fr in frames], embeddings,
                         lambda x, y: float(linker.similarity(x[None], y[None])[0]), linker.threshold)
    units, short = [], []
    for k, tr in enumerate(tracks):
        for t, j in tr:
            frames[t]["faces"][j]["track"] = k
        numbers = [frames[t]["frame"] for t, _ in tr]
        if len(tr) >= min_track_frames:
            units.append(track_unit(k, numbers, [frames[t]["faces"][j] for t, j in tr], pair.groups))
        else:
            short.append({"track": k, "frames": numbers})
    out: dict[str, Any] = {"frames_original": n_orig, "frames_processed": n_proc, "frames_scored": len(frames),
                           "tracks": {"linked_by": f"IoU, then {linker.name} embedding", "count": len(tracks),
                                      "scored": len(units), "min_track_frames": min_track_frames,
                                      "short": short},
                           "frames": frames, "faces": units}
    if not units:
        raise MediaError("no_face", f"{pair.key}: no track reached {min_track_frames} face-frames "
                                    f"({len(tracks)} shorter tracks in {len(frames)} sampled frames)")
    if truncated:
        out["truncated"] = f"stopped after max_frames={max_frames} sampled frames"
    elif n_orig != n_proc:
        out["warning"] = f"frame counts differ ({n_orig} vs {n_proc}); the first {min(n_orig, n_proc)} are compared"
    return out
