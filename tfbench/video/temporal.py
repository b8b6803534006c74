"""Video results extras: temporal stability over frames (face-track F-Sim spread, word-track T-ACC flips,
flicker of the reconstruction against the original) and per-clip summaries."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from tfbench.metrics.registry import metrics_for
from tfbench.results import aggregate_records


@dataclass
class Flicker:
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


def _spread(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=np.float64)
    return float(arr.std()), float(arr.max() - arr.min())


def temporal_summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Stability over frames: per-face-track F-Sim spread, per-word-track T-ACC flips, pooled flicker."""
    face_tracks: dict[tuple[str, str], list[tuple[int, float]]] = {}
    word_tracks: dict[tuple[str, str], list[tuple[int, float]]] = {}
    flick = Flicker()
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


def per_clip_summary(records: list[dict[str, Any]], text_edges: tuple[float, ...], face_edges: tuple[float, ...]) -> dict:
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


def finite(obj: Any) -> Any:
    """JSON has no NaN/Inf: replace them with None (e.g. a spread over an all-NaN track)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [finite(v) for v in obj]
    return obj


def add_video_extras(results: dict[str, Any], records: list[dict[str, Any]], chunk: int, frame_rule: str | None) -> None:
    """Complete a video run's results in place: clip and frame counts, the `video` block, no NaN/Inf left."""
    text_edges, face_edges = tuple(results["buckets"]["text"]), tuple(results["buckets"]["face"])
    results["counts"]["clips"] = len(records)
    results["counts"]["annotated_frames"] = sum(r.get("annotated_frames", 0) for r in records if r.get("status") == "ok")
    results["video"] = {"chunk_frames": chunk, "frame_rule": frame_rule, "temporal": temporal_summary(records),
                        "clips": per_clip_summary(records, text_edges, face_edges)}
    results.update(finite(dict(results)))
