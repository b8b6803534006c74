"""The TokBench video protocol: short side to T (bilinear), pad to multiples of 32, frame-count rules.

Each frame of a clip of size (W, H) is scaled by T / min(W, H) with bilinear interpolation and padded
with black on the right and bottom so that both sides are multiples of 32. After reconstruction the
padding is cropped off and the frame is scaled back to (W, H) (bilinear). The frame count of a chunk
is padded to the adapter's rule (``"4n+1"``: 1, 5, 9, ...) by repeating the last frame, and the
reconstruction is trimmed back.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

from tfbench.errors import TfbenchError

VIDEO_RESOLUTIONS: tuple[str, ...] = ("256", "480")
ALIGN = 32
_RULE = re.compile(r"^\s*(\d+)\s*n\s*(?:\+\s*(\d+))?\s*$")


@dataclass(frozen=True)
class VideoPlacement:
    """Where a (width, height) frame sits on the padded canvas the adapter sees."""

    width: int
    height: int
    new_w: int
    new_h: int
    canvas_w: int
    canvas_h: int

    @property
    def canvas_shape(self) -> tuple[int, int, int]:
        return (self.canvas_h, self.canvas_w, 3)


def parse_video_resolution(value: str | int) -> int:
    text = str(value).strip()
    if text not in VIDEO_RESOLUTIONS:
        raise TfbenchError(f"--resolution {text!r}: video suites run at {' or '.join(VIDEO_RESOLUTIONS)} "
                           f"(short side of each frame, TokBench video protocol)")
    return int(text)


def plan_video(width: int, height: int, target: int, align: int = ALIGN) -> VideoPlacement:
    scale = target / min(width, height)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    pad = lambda v: -(-v // align) * align  # noqa: E731
    return VideoPlacement(width, height, new_w, new_h, pad(new_w), pad(new_h))


def frame_to_canvas(frame: np.ndarray, p: VideoPlacement) -> np.ndarray:
    """uint8 RGB frame at the original size -> uint8 padded canvas."""
    resized = cv2.resize(frame, (p.new_w, p.new_h), interpolation=cv2.INTER_LINEAR)
    canvas = np.zeros(p.canvas_shape, dtype=np.uint8)
    canvas[:p.new_h, :p.new_w] = resized
    return canvas


def canvas_to_frame(canvas: np.ndarray, p: VideoPlacement) -> np.ndarray:
    """uint8 reconstructed canvas -> uint8 frame at the original size."""
    inner = np.ascontiguousarray(canvas[:p.new_h, :p.new_w])
    return cv2.resize(inner, (p.width, p.height), interpolation=cv2.INTER_LINEAR)


def parse_frame_rule(rule: str | None) -> tuple[int, int]:
    """``"4n+1"`` -> (4, 1); None or ``"any"`` -> (1, 0) (every count is valid)."""
    if rule is None or str(rule).strip().lower() in ("", "any"):
        return 1, 0
    m = _RULE.match(str(rule))
    if not m or int(m.group(1)) < 1:
        raise TfbenchError(f"frame rule {rule!r} is not of the form 'kn+r' (examples: '4n+1', '8n+1', '8n')")
    return int(m.group(1)), int(m.group(2) or 0)


def frames_for_rule(count: int, rule: str | None) -> int:
    """Smallest frame count >= ``count`` that the rule allows."""
    k, r = parse_frame_rule(rule)
    if count <= r:
        return max(r, 1) if r else k
    return r + -(-(count - r) // k) * k


def chunk_length(rule: str | None, max_frames: int) -> int:
    """Largest frame count <= ``max_frames`` the rule allows (at least the rule's smallest count)."""
    k, r = parse_frame_rule(rule)
    n = r + ((max_frames - r) // k) * k if max_frames >= r else 0
    return n if n >= 1 else frames_for_rule(1, rule)


def pad_frames(clip: np.ndarray, count: int, axis: int = 0) -> np.ndarray:
    """Repeat the last frame along ``axis`` until the clip has ``count`` frames."""
    have = clip.shape[axis]
    if have >= count:
        return clip
    last = np.take(clip, [have - 1], axis=axis)
    return np.concatenate([clip, np.repeat(last, count - have, axis=axis)], axis=axis)
