"""Cutting ground-truth regions (word boxes/polygons, face boxes) out of an image."""
from __future__ import annotations

import math
from typing import Sequence

import cv2
import numpy as np


def crop_box(image: np.ndarray, box: Sequence[float]) -> np.ndarray:
    """Axis-aligned crop, box [x0, y0, x1, y1] in pixels (floor/ceil, clipped to the image)."""
    h, w = image.shape[:2]
    x0 = min(max(int(math.floor(box[0])), 0), w - 1)
    y0 = min(max(int(math.floor(box[1])), 0), h - 1)
    x1 = max(min(int(math.ceil(box[2])), w), x0 + 1)
    y1 = max(min(int(math.ceil(box[3])), h), y0 + 1)
    return image[y0:y1, x0:x1]


def crop_quad(image: np.ndarray, polygon: Sequence[Sequence[float]]) -> np.ndarray:
    """Rectify a 4-point word polygon (clockwise from top-left) to an upright rectangle."""
    pts = np.asarray(polygon, dtype=np.float32)
    width = int(round(max(np.linalg.norm(pts[0] - pts[1]), np.linalg.norm(pts[2] - pts[3]))))
    height = int(round(max(np.linalg.norm(pts[0] - pts[3]), np.linalg.norm(pts[1] - pts[2]))))
    width, height = max(width, 1), max(height, 1)
    dst = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(pts, dst)
    return cv2.warpPerspective(image, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def crop_word(image: np.ndarray, box: Sequence[float], polygon: Sequence[Sequence[float]] | None = None) -> np.ndarray:
    """The crop a word is read from, as TokBench cuts it (doctr ``crop_bboxes_from_image``).

    A 4-point polygon (clockwise from top-left) is rectified to an upright rectangle, unless it is
    axis-aligned (then it is just its box); a polygon of any other length (3 or 5+ points: curved
    Total-Text / CTW1500 words) is cut as its axis-aligned bounding box; no polygon: the box.
    """
    if polygon is not None:
        pts = np.asarray(polygon, dtype=np.float64)
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        if len(pts) != 4:
            return crop_box(image, (x0, y0, x1, y1))
        # an axis-aligned quadrilateral is just a box: avoid resampling it
        if np.allclose(sorted(pts[:, 0]), [x0, x0, x1, x1]) and np.allclose(sorted(pts[:, 1]), [y0, y0, y1, y1]):
            return crop_box(image, (x0, y0, x1, y1))
        return crop_quad(image, polygon)
    return crop_box(image, box)


FACE_CONTEXT = 2.0  # half-side of a face's saved region, in largest distances between two of its landmarks


def face_region(landmarks: np.ndarray, width: int, height: int, context: float = FACE_CONTEXT) -> tuple[int, int, int, int]:
    """[x0, y0, x1, y1] of the square around a face's 5 landmarks that holds every pixel its alignment reads.

    SFace's 112x112 alignment of the whole image and of this region (landmarks shifted by x0, y0) differ by
    at most one 8-bit level from 1.6 largest landmark distances on (fixed-point rounding of the shifted
    warp); 2.0 leaves room for other recognizers' wider alignment templates. Clipped to the image, so
    beyond a clipped side both see the same border.
    """
    pts = np.asarray(landmarks, dtype=np.float64).reshape(-1, 2)
    centre = pts.mean(axis=0)
    spread = max(float(np.linalg.norm(a - b)) for a in pts for b in pts)
    half = context * spread + 2.0
    x0, y0 = max(0, math.floor(centre[0] - half)), max(0, math.floor(centre[1] - half))
    x1, y1 = min(width, math.ceil(centre[0] + half)), min(height, math.ceil(centre[1] + half))
    return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)
