"""Video files with PyAV: probe a clip, stream its frames (uint8 RGB), write frames to a clip.

Frames are decoded one at a time, so a long 1080p clip is never held in memory at once. Every error
is a :class:`VideoLoadError` naming the file and what to do.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from tfbench.errors import TfbenchError


class VideoLoadError(TfbenchError):
    """A video file is missing, unreadable, corrupt, or shorter than its annotations say."""


def _av():
    try:
        import av
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise TfbenchError("video support needs PyAV: pip install 'tfbench[video]'") from exc
    return av


@dataclass(frozen=True)
class VideoInfo:
    """What a clip holds: size, frame count (counted by decoding when the header has none), rate."""

    path: str
    width: int
    height: int
    frames: int
    fps: float
    codec: str
    duration_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _open(path: Path):
    av = _av()
    path = Path(path)
    if not path.is_file():
        raise VideoLoadError(f"video not found: {path} (check --data-root or the manifest's `file` field)")
    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise VideoLoadError(f"cannot open video {path}: {exc} (the file is corrupt or not a video; "
                             f"replace it or remove its clip from the manifest)") from exc
    if not container.streams.video:
        container.close()
        raise VideoLoadError(f"{path} has no video stream")
    return container


def probe(path: Path, count: bool = False) -> VideoInfo:
    """Size, frame count, fps and codec of a clip; ``count`` (or a header without a frame count) decodes
    every frame to count them exactly."""
    container = _open(path)
    try:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        fps = float(stream.average_rate or stream.guessed_rate or 0) or 0.0
        frames = int(stream.frames or 0)
        duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
        width, height = int(ctx.width), int(ctx.height)
        codec = ctx.name
    finally:
        container.close()
    if count or frames <= 0:
        frames = sum(1 for _ in iter_frames(path))
    if width <= 0 or height <= 0:
        raise VideoLoadError(f"{path}: the video stream reports no frame size; the file is damaged")
    return VideoInfo(str(path), width, height, frames, fps, codec, duration)


def iter_frames(path: Path, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
    """Yield frames ``start <= i < stop`` (0-based, decode order = display order) as uint8 RGB (H, W, 3).

    Frames are decoded one by one; only the frame being yielded is in memory. A decoding error in the
    middle of the file raises VideoLoadError naming the file and the frame.
    """
    av = _av()
    container = _open(path)
    index = -1
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            index += 1
            if index < start:
                continue
            if stop is not None and index >= stop:
                break
            yield frame.to_ndarray(format="rgb24")
    except av.error.FFmpegError as exc:
        raise VideoLoadError(f"cannot decode {path} at frame {index + 1}: {exc} (the file is truncated or corrupt; "
                             f"re-encode it, e.g. ffmpeg -i in.mp4 -c:v libx264 -crf 10 out.mp4)") from exc
    finally:
        container.close()
    if index < 0:
        raise VideoLoadError(f"{path} holds no decodable frame (empty or corrupt video)")


def to_unit_frames(frames: np.ndarray) -> np.ndarray:
    """uint8 frames -> float32 in [0, 1]."""
    return frames.astype(np.float32) * (1.0 / 255.0)


def write_video(path: Path, frames: Iterable[np.ndarray], fps: float = 25.0, codec: str = "libx264",
                options: dict[str, str] | None = None, pix_fmt: str = "yuv420p") -> int:
    """Encode uint8 RGB frames (an iterable, consumed lazily) to ``path``; returns the frame count.

    Default options give a visually lossless H.264 (crf 12), used to store generated suites and
    reconstructions. Width and height must be even for yuv420p.
    """
    av = _av()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    container = av.open(str(path), mode="w")
    try:
        stream = None
        for frame in frames:
            frame = np.ascontiguousarray(frame, dtype=np.uint8)
            if stream is None:
                h, w = frame.shape[:2]
                if pix_fmt == "yuv420p" and (w % 2 or h % 2):
                    raise TfbenchError(f"write_video {path}: {w}x{h} frames need even width and height for yuv420p")
                stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
                stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
                # one encoder thread, set through the option the encoder reads: the output is the same on every run
                opts = {"threads": "1", **(options if options is not None else {"crf": "12", "preset": "medium"})}
                if codec == "libx264":  # x264's switch for bit-exact output (see adapters/video_codecs.py)
                    opts["x264-params"] = ":".join(filter(None, [opts.get("x264-params"), "cpu-independent=1"]))
                stream.options = opts  # threads via the option only (see adapters/video_codecs.py)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
            n += 1
        if stream is not None:
            container.mux(stream.encode(None))
    finally:
        container.close()
    if n == 0:
        path.unlink(missing_ok=True)
        raise TfbenchError(f"write_video {path}: no frames to write")
    return n
