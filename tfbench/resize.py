"""The TokBench resize protocol: letterbox to T x T, reconstruct, undo the letterbox at full size."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

NATIVE = "native"


@dataclass(frozen=True)
class Placement:
    """Where an image of size (width, height) sits on a square canvas of side ``target``."""

    width: int
    height: int
    target: int | None  # None = native: the image is fed unchanged
    new_w: int
    new_h: int
    x0: int
    y0: int

    @property
    def canvas_shape(self) -> tuple[int, int, int]:
        if self.target is None:
            return (self.height, self.width, 3)
        return (self.target, self.target, 3)


def parse_resolution(value: str | int) -> int | None:
    """'256' -> 256, 'native' -> None."""
    if isinstance(value, int):
        return value
    if str(value).strip().lower() == NATIVE:
        return None
    return int(value)


def resolution_label(target: int | None) -> str:
    return NATIVE if target is None else str(target)


def plan(width: int, height: int, target: int | None) -> Placement:
    """Scale by min(T/W, T/H) and centre on a black T x T canvas (TokBench); native = no change."""
    if target is None:
        return Placement(width, height, None, width, height, 0, 0)
    scale = min(target / width, target / height)
    new_w = max(1, min(target, round(width * scale)))
    new_h = max(1, min(target, round(height * scale)))
    return Placement(width, height, target, new_w, new_h, (target - new_w) // 2, (target - new_h) // 2)


def to_canvas(image: np.ndarray, placement: Placement) -> np.ndarray:
    """uint8 RGB image -> uint8 canvas the adapter sees (LANCZOS resize, black padding)."""
    if placement.target is None:
        return image
    resized = np.asarray(Image.fromarray(image).resize((placement.new_w, placement.new_h), Image.LANCZOS))
    canvas = np.zeros(placement.canvas_shape, dtype=np.uint8)
    canvas[placement.y0:placement.y0 + placement.new_h, placement.x0:placement.x0 + placement.new_w] = resized
    return canvas


def from_canvas(canvas: np.ndarray, placement: Placement) -> np.ndarray:
    """uint8 reconstructed canvas -> uint8 image at the original size (crop padding, LANCZOS back)."""
    if placement.target is None:
        return canvas
    inner = canvas[placement.y0:placement.y0 + placement.new_h, placement.x0:placement.x0 + placement.new_w]
    return np.asarray(Image.fromarray(np.ascontiguousarray(inner)).resize((placement.width, placement.height), Image.LANCZOS))


def to_unit(image_u8: np.ndarray) -> np.ndarray:
    return image_u8.astype(np.float32) * (1.0 / 255.0)


def to_u8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
