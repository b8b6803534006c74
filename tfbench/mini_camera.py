"""What a camera or scanner does to mini v2's canvases: natural-photo and paper backgrounds, uneven
lighting, defocus, sensor noise and the JPEG of the original. Deterministic for a seeded generator."""
from __future__ import annotations

import io
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image

from tfbench.errors import TfbenchError
from tfbench.images import load_rgb, sha256_of
from tfbench.packaged import package_file


@lru_cache(maxsize=None)
def _photo(package: str, resource: str, sha256: str) -> np.ndarray:
    path = package_file(package, resource)
    digest = sha256_of(path)
    if digest != sha256:
        raise TfbenchError(f"{path} differs from the photo the mini recipe was made with (sha256 {digest[:12]}... "
                           f"!= {sha256[:12]}...); install the package version the recipe names or regenerate it.")
    return load_rgb(path)


def photo(source: dict) -> np.ndarray:
    """A package-shipped photo ``{package, resource, sha256}`` as RGB uint8 (checked against its sha256)."""
    image = _photo(source["package"], source["resource"], source["sha256"])
    image.flags.writeable = False
    return image


def _resize(image: np.ndarray, w: int, h: int) -> np.ndarray:
    interp = cv2.INTER_AREA if w < image.shape[1] else cv2.INTER_CUBIC
    return cv2.resize(image, (w, h), interpolation=interp)


def photo_background(rng: np.random.Generator, sources: list[dict], w: int, h: int) -> np.ndarray:
    """A random crop (half to all of it, any aspect close to the canvas) of one photo, resized to w x h,
    possibly mirrored, with a mild tone change (float32 RGB, 0-255)."""
    src = photo(sources[int(rng.integers(len(sources)))])
    sh, sw = src.shape[:2]
    frac = rng.uniform(0.5, 1.0)
    cw = min(sw, int(round(sw * frac)))
    ch = min(sh, max(8, int(round(cw * h / w))))
    cw = min(sw, max(8, int(round(ch * w / h))))
    x0, y0 = int(rng.integers(0, sw - cw + 1)), int(rng.integers(0, sh - ch + 1))
    crop = src[y0:y0 + ch, x0:x0 + cw]
    if rng.uniform() < 0.5:
        crop = crop[:, ::-1]
    out = _resize(np.ascontiguousarray(crop), w, h).astype(np.float32)
    gain, offset = rng.uniform(0.75, 1.1), rng.uniform(-15, 20)
    return np.clip(out * gain + offset, 0, 255)


def paper_background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Off-white to grey paper with fibre grain and a faint blotchy texture (float32 RGB, 0-255)."""
    base = np.array([rng.uniform(200, 245)] * 3, dtype=np.float32) + rng.uniform(-12, 6, 3).astype(np.float32)
    blot = smooth_noise(rng, w, h, cell=int(rng.integers(24, 96)))
    grain = rng.standard_normal((h, w), dtype=np.float32) * np.float32(rng.uniform(1.5, 4.0))
    img = base[None, None, :] + (rng.uniform(4, 12) * blot + grain)[..., None]
    return np.clip(img, 0, 255)


def smooth_noise(rng: np.random.Generator, w: int, h: int, cell: int) -> np.ndarray:
    """Zero-mean, unit-range low-frequency noise field of size h x w (float32)."""
    small = rng.normal(0, 1, (h // cell + 2, w // cell + 2)).astype(np.float32)
    field = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    return (field - field.mean()) / (np.ptp(field) + 1e-6)


def shading(rng: np.random.Generator, w: int, h: int, strength: float) -> np.ndarray:
    """Multiplicative uneven lighting: a tilted plane plus a broad blob, mean 1, +-``strength`` (h x w)."""
    sw, sh = max(2, w // 16), max(2, h // 16)  # smooth: computed at 1/16 size, then enlarged
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    plane = np.cos(angle) * (xx / sw - 0.5) + np.sin(angle) * (yy / sh - 0.5)
    blob = smooth_noise(rng, sw, sh, cell=max(sw, sh) // 3)
    field = plane / (np.ptp(plane) + 1e-6) + blob
    field = 1.0 + strength * field / (np.abs(field).max() + 1e-6)
    return cv2.resize(field.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def camera(rng: np.random.Generator, image: np.ndarray, cfg: dict) -> np.ndarray:
    """Defocus, sensor noise (luma and chroma) and the camera's JPEG; returns the decoded uint8 RGB."""
    out = image.astype(np.float32)
    sigma = rng.uniform(*cfg["blur_sigma"])
    if sigma > 0:
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    luma = np.float32(rng.uniform(*cfg["noise_sigma"]))
    out += (rng.standard_normal(out.shape[:2], dtype=np.float32) * luma)[..., None]
    h, w = out.shape[:2]  # chroma noise is coarser than luma noise (demosaicing), drawn at half size
    chroma = rng.standard_normal(((h + 1) // 2, (w + 1) // 2, 3), dtype=np.float32)
    out += cv2.resize(chroma, (w, h), interpolation=cv2.INTER_LINEAR) * (luma * np.float32(cfg["chroma_noise"]))
    rgb = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    quality = int(rng.integers(cfg["jpeg_quality"][0], cfg["jpeg_quality"][1] + 1))
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
