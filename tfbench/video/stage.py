"""The video stage of the run engine: one adapter streaming one clip in temporal chunks.

Frames are decoded and placed on the protocol canvas once per clip (by the engine, for every adapter);
each adapter's :class:`ClipStream` collects ``chunk`` frames (the largest count <= ``max_frames`` its
frame rule allows), reconstructs them (a short last chunk is padded with its last frame to the rule and
trimmed after decoding) and scores the annotated frames among them at the original size with
:func:`tfbench.pipeline.score_image`. Only the current chunk of each adapter (canvases,
reconstructions) and the originals of annotated frames not yet scored by every adapter are in memory.

Image adapters run frame by frame (a per-frame baseline); video adapters get ``(1, T, H, W, 3)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tfbench.budget import StageTimer
from tfbench.errors import AdapterError, TfbenchError
from tfbench.pipeline import Scorers, score_image
from tfbench.protocol import Adapter, check_batch, check_reconstruction
from tfbench.resize import to_u8
from tfbench.video.manifest import FrameAnnotation, VideoClip
from tfbench.video.resize import VideoPlacement, canvas_to_frame, chunk_length, frames_for_rule, pad_frames
from tfbench.video.temporal import Flicker

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
class ClipRun:
    """What one adapter accumulated over one clip: scored instances, bits, flicker, frames seen."""

    clip: VideoClip
    placement: VideoPlacement
    anns: dict[int, FrameAnnotation]
    words: list[dict] = field(default_factory=list)
    faces: list[dict] = field(default_factory=list)
    bits: float = 0.0
    pixels: float = 0.0
    bpp_basis: str = ""
    latent_shape: list | None = None
    flicker: Flicker = field(default_factory=Flicker)
    frames: int = 0


def _add_compression(run: ClipRun, comps: list[dict[str, Any]], canvas_pixels: int) -> None:
    for c in comps:
        if c.get("bits_per_pixel") is None:
            continue
        px = canvas_pixels * c["frames"]
        run.bits += c["bits_per_pixel"] * px
        run.pixels += px
        run.bpp_basis = c.get("bpp_basis") or run.bpp_basis
        run.latent_shape = run.latent_shape or c.get("latent_shape")


class ClipStream:
    """One adapter on one clip: buffers its chunk of canvases, reconstructs, scores, builds the clip's record."""

    def __init__(self, clip: VideoClip, placement: VideoPlacement, adapter: Adapter, chunk: int, scorers: Scorers,
                 text_edges: tuple[float, ...], face_edges: tuple[float, ...], timer: StageTimer,
                 score_all: bool = False, keep_unreadable: bool = False) -> None:
        self.run = ClipRun(clip, placement, {a.frame: a for a in clip.annotations})
        self.adapter, self.chunk, self.scorers, self.timer = adapter, chunk, scorers, timer
        self.edges, self.score_all, self.keep_unreadable = (text_edges, face_edges), score_all, keep_unreadable
        self.buffer = np.empty((chunk, *placement.canvas_shape), dtype=np.uint8)  # this adapter's one chunk
        self.filled = 0
        self.start = 0  # index of the first frame in the buffer

    def push(self, canvas: np.ndarray, originals: "Originals") -> None:
        """Add the next frame's canvas; reconstruct and score when the chunk is full."""
        self.buffer[self.filled] = canvas
        self.filled += 1
        self.run.frames += 1
        if self.filled == self.chunk:
            self.flush(originals)

    def flush(self, originals: "Originals") -> None:
        """Reconstruct and score the frames buffered so far (raises AdapterError naming the adapter)."""
        if not self.filled:
            return
        stack = self.buffer[:self.filled]
        with self.timer.stage("reconstruct"):
            try:
                recon, comps = reconstruct_chunk(self.adapter, stack)
            except (KeyboardInterrupt, SystemExit):
                raise
            except TfbenchError:
                raise
            except BaseException as exc:  # any adapter failure (OOM included) becomes one clear error
                raise AdapterError(f"{self.adapter.spec}: {type(exc).__name__}: {exc}") from exc
        _add_compression(self.run, comps, self.run.placement.canvas_w * self.run.placement.canvas_h)
        self._score(stack, recon, originals)
        self.start += self.filled
        self.filled = 0

    def _score(self, canvases: np.ndarray, recon: np.ndarray, originals: "Originals") -> None:
        run, p = self.run, self.run.placement
        for k in range(canvases.shape[0]):
            idx = self.start + k
            with self.timer.stage("flicker"):
                run.flicker.update(canvases[k, :p.new_h, :p.new_w], recon[k, :p.new_h, :p.new_w])
            ann = run.anns.get(idx)
            if ann is None:
                continue
            words, faces = score_image(ann.record, originals.take(idx), canvas_to_frame(recon[k], p), self.scorers,
                                       *self.edges, self.timer, self.score_all, self.keep_unreadable)
            for items, tracks in ((words, ann.word_tracks), (faces, ann.face_tracks)):
                for item in items:
                    item["frame"] = idx
                    if "i" in item and item["i"] < len(tracks) and tracks[item["i"]] is not None:
                        item["track"] = tracks[item["i"]]
            run.words += words
            run.faces += faces

    def record(self) -> dict[str, Any]:
        """The clip's journal record, once every frame went through."""
        run = self.run
        return {"image": run.clip.id, "subset": run.clip.subset, "status": "ok", "frames": run.frames,
                "annotated_frames": len(run.anns), "chunk_frames": self.chunk,
                "compression": {"bits_per_pixel": run.bits / run.pixels if run.pixels else None,
                                "bpp_basis": f"{run.bpp_basis}, per frame pixel of the padded canvas".lstrip(", "),
                                "latent_shape": run.latent_shape, "tokens": None},
                "flicker": run.flicker.as_dict(), "words": run.words, "faces": run.faces}


class Originals:
    """Annotated frames at the original size, kept until every adapter streaming the clip has scored them."""

    def __init__(self, users: int) -> None:
        self.users = users
        self.frames: dict[int, list] = {}  # index -> [frame, adapters still to score it]

    def keep(self, idx: int, frame: np.ndarray) -> None:
        self.frames[idx] = [frame, self.users]

    def take(self, idx: int) -> np.ndarray:
        entry = self.frames[idx]
        entry[1] -= 1
        if entry[1] <= 0:
            del self.frames[idx]
        return entry[0]

    def drop_user(self, upto: int) -> None:
        """An adapter stopped (failed) after its frames before ``upto``: release what it would have scored."""
        self.users -= 1
        for idx in [i for i in self.frames if i >= upto]:
            self.take(idx)
