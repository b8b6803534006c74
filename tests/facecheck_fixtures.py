"""Real-photo fixtures for the face-check tests: JPEG copies, identity swaps and anonymised (blurred,
pixelated) copies of ../shared/data/faces.

A swap pastes the face of another identity onto the original: the donor photo is warped with the
similarity transform that maps its 5 YuNet landmarks onto the original's, and blended inside a feathered
ellipse from the forehead to the chin. The donor of each photo is the first photo of the next identity in
alphabetical order, so every pair is two different people.

Anonymisation acts on every face YuNet finds, inside its box grown by 20%: ``blur`` is a Gaussian blur
with sigma = 1/6 of the box width (a heavy privacy blur), ``pixel`` a mosaic of 8x8 blocks across the box.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from tfbench.metrics.face import YuNetDetector


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def paste_face(dst: np.ndarray, dst_lms: np.ndarray, src: np.ndarray, src_lms: np.ndarray) -> np.ndarray:
    """The face of ``src`` warped onto ``dst`` by the 5-point similarity transform, feathered ellipse blend."""
    m, _ = cv2.estimateAffinePartial2D(np.float32(src_lms), np.float32(dst_lms), method=cv2.LMEDS)
    h, w = dst.shape[:2]
    warped = cv2.warpAffine(src, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    iod = float(np.linalg.norm(dst_lms[0] - dst_lms[1]))
    cx, cy = np.asarray(dst_lms).mean(axis=0) + (0.0, 0.25 * iod)
    mask = np.zeros((h, w), np.float32)
    cv2.ellipse(mask, (int(cx), int(cy)), (int(1.5 * iod), int(1.85 * iod)), 0, 0, 360, 1.0, -1)
    k = int(0.3 * iod) | 1
    mask = cv2.GaussianBlur(mask, (k, k), 0)[..., None]
    return np.clip(np.round(warped * mask + dst * (1 - mask)), 0, 255).astype(np.uint8)


def face_regions(image: np.ndarray, boxes: list) -> list[tuple[int, int, int, int]]:
    """Each face box grown by 20% on every side, clipped to the image, as integer (x0, y0, x1, y1)."""
    h, w = image.shape[:2]
    out = []
    for x0, y0, x1, y1 in boxes:
        gx, gy = 0.2 * (x1 - x0), 0.2 * (y1 - y0)
        out.append((max(0, int(x0 - gx)), max(0, int(y0 - gy)), min(w, int(x1 + gx)), min(h, int(y1 + gy))))
    return out


def blur_faces(image: np.ndarray, boxes: list) -> np.ndarray:
    out = image.copy()
    for x0, y0, x1, y1 in face_regions(image, boxes):
        sigma = (x1 - x0) / 6
        out[y0:y1, x0:x1] = cv2.GaussianBlur(image, (0, 0), sigma)[y0:y1, x0:x1]
    return out


def pixelate_faces(image: np.ndarray, boxes: list, blocks: int = 8) -> np.ndarray:
    out = image.copy()
    for x0, y0, x1, y1 in face_regions(image, boxes):
        region = image[y0:y1, x0:x1]
        small = cv2.resize(region, (blocks, blocks), interpolation=cv2.INTER_AREA)
        out[y0:y1, x0:x1] = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
    return out


class FaceData:
    """The shared face photos, their identities and YuNet landmarks (largest-score face)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.items = json.loads((root / "manifest.json").read_text())
        self.identity = {it["file"]: it["identity"] for it in self.items}
        self.files = [it["file"] for it in self.items]
        det = YuNetDetector()
        self.images = {f: np.asarray(Image.open(root / f).convert("RGB")) for f in self.files}
        found = {f: det.detect(self.images[f]) for f in self.files}
        self.landmarks = {f: found[f][0]["landmarks"] for f in self.files}
        self.boxes = {f: [d["box"] for d in found[f]] for f in self.files}
        ids = sorted(set(self.identity.values()))
        first = {i: next(f for f in self.files if self.identity[f] == i) for i in ids}
        self.donor = {f: first[ids[(ids.index(self.identity[f]) + 1) % len(ids)]] for f in self.files}

    def swapped(self, f: str) -> np.ndarray:
        d = self.donor[f]
        return paste_face(self.images[f], self.landmarks[f], self.images[d], self.landmarks[d])

    def write(self, folder: Path, kind: str, files: list[str] | None = None) -> Path:
        """``kind``: 'original' (copies), 'q90' (JPEG q90), or 'swap', 'blur', 'pixel' (saved as JPEG q95)."""
        folder.mkdir(parents=True, exist_ok=True)
        for f in files or self.files:
            if kind == "original":
                (folder / f).write_bytes((self.root / f).read_bytes())
            elif kind == "q90":
                Image.fromarray(self.images[f]).save(folder / f, format="JPEG", quality=90)
            elif kind == "swap":
                Image.fromarray(self.swapped(f)).save(folder / f, format="JPEG", quality=95)
            elif kind == "blur":
                Image.fromarray(blur_faces(self.images[f], self.boxes[f])).save(folder / f, format="JPEG", quality=95)
            elif kind == "pixel":
                Image.fromarray(pixelate_faces(self.images[f], self.boxes[f])).save(folder / f, format="JPEG", quality=95)
            else:
                raise ValueError(kind)
        return folder
