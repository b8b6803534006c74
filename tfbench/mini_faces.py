"""mini v2 faces: real faces from package-shipped photos, in several poses, on natural-photo backgrounds.

Each placed face is one source face (with 5-point landmarks detected once and stored in the recipe),
possibly mirrored, turned in the image plane, and re-toned, scaled so that its box spans a ratio of the
canvas width drawn inside an interval of the recipe; a source is only enlarged up to ``max_upscale``
times its size in the photo. The canvas is then lit unevenly and goes through the same camera model as
the text (:mod:`tfbench.mini_camera`). Deterministic for a seed.
"""
from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from tfbench.errors import ManifestError
from tfbench.mini_camera import camera, photo, photo_background, shading
from tfbench.mini_v1 import Shelf

MIRROR = [1, 0, 2, 4, 3]  # landmark order after a horizontal flip (right/left eye and mouth corners swap)


def face_sources(recipe: dict) -> list[dict]:
    """Every face of the recipe's photos: image, box, landmarks (5x2), identity and size in the photo."""
    out = []
    for src in recipe["faces"]["sources"]:
        image = photo(src)
        for k, f in enumerate(src["faces"]):
            x0, y0, x1, y1 = f["box"]
            out.append({"image": image, "box": f["box"], "landmarks": np.array(f["landmarks"], dtype=np.float64),
                        "identity": f"{src['package']}:{Path(src['resource']).stem}#{k}",
                        "side": max(x1 - x0, y1 - y0)})
    return out


def _pose(rng: np.random.Generator, src: dict, side: float, margin: float, cfg: dict) -> dict:
    """The face ``src`` cut out with context, mirrored/turned/re-toned and scaled so its box side is ``side``."""
    x0, y0, x1, y1 = src["box"]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    scale = side / src["side"]
    angle = float(rng.uniform(-cfg["turn_deg"], cfg["turn_deg"]))
    mirror = bool(rng.uniform() < cfg["mirror_p"])
    half = src["side"] * margin / 2 * scale
    size = max(2, int(math.ceil(2 * half)))
    # source -> patch: move the face centre to the patch centre, scale, turn (and mirror)
    m = cv2.getRotationMatrix2D((cx, cy), angle, scale)
    m[:, 2] += np.array([size / 2 - cx, size / 2 - cy])
    if mirror:
        m = np.array([[-1, 0, size], [0, 1, 0]], dtype=np.float64) @ np.vstack([m, [0, 0, 1]])
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    patch = cv2.warpAffine(src["image"], m, (size, size), flags=interp, borderMode=cv2.BORDER_REFLECT)
    lms = np.hstack([src["landmarks"], np.ones((5, 1))]) @ m.T
    if mirror:
        lms = lms[MIRROR]
    c = np.array([size / 2, size / 2])
    w, h = (x1 - x0) * scale, (y1 - y0) * scale
    box = [c[0] - w / 2, c[1] - h / 2, c[0] + w / 2, c[1] + h / 2]
    tone = patch.astype(np.float32) * rng.uniform(*cfg["gain"]) + rng.uniform(*cfg["offset"])
    if rng.uniform() < cfg["gray_p"]:
        tone = np.repeat(tone @ np.array([0.299, 0.587, 0.114], dtype=np.float32), 3).reshape(tone.shape)
    return {"patch": np.clip(tone, 0, 255), "box": box, "landmarks": lms, "identity": src["identity"],
            "mirrored": mirror, "turn": angle}


def _paste(canvas: np.ndarray, patch: np.ndarray, x: int, y: int) -> None:
    """Blend a square patch in with a soft round-cornered edge (the face and its context stay sharp)."""
    n = patch.shape[0]
    inset = max(1, n // 12)
    mask = np.zeros((n, n), np.float32)
    cv2.rectangle(mask, (inset, inset), (n - 1 - inset, n - 1 - inset), 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), inset / 2)[..., None]
    region = canvas[y:y + n, x:x + n]
    region[:] = region * (1 - mask) + patch * mask


def face_canvases(recipe: dict, rng: np.random.Generator) -> list[dict]:
    """Place the recipe's faces on photo canvases; returns [{image, faces: [{box, landmarks, identity}]}]."""
    fcfg = recipe["faces"]
    sources = face_sources(recipe)
    wanted: dict[str, list[tuple[float, dict]]] = {}
    n = 0
    for lo, hi, name, count in fcfg["intervals"]:
        width = fcfg["canvas"][name][0]
        for _ in range(count):
            ratio = math.exp(rng.uniform(math.log(lo), math.log(hi)))
            side = ratio * width
            fit = [s for s in sources if side <= s["side"] * fcfg["max_upscale"]]
            if not fit:
                raise ManifestError(f"mini recipe: no face source is large enough for a {side:.0f} px face")
            src = fit[n % len(fit)]  # cycle through the identities that are large enough
            n += 1
            wanted.setdefault(name, []).append((ratio, _pose(rng, src, side, fcfg["margin"], fcfg["pose"])))
    out = []
    for name, items in wanted.items():
        w, h = fcfg["canvas"][name]
        items = sorted(items, key=lambda t: -t[0])
        while items:
            canvas = photo_background(rng, recipe["photos"], w, h)
            shelf = Shelf(w, h, gap=max(8, w // 64))
            faces, rest = [], []
            for ratio, pose in items:
                n_px = pose["patch"].shape[0]
                pos = shelf.place(n_px, n_px)
                if pos is None:
                    rest.append((ratio, pose))
                    continue
                x, y = pos
                _paste(canvas, pose["patch"], x, y)
                faces.append({"box": [round(v + o, 2) for v, o in zip(pose["box"], (x, y, x, y))],
                              "landmarks": np.round(pose["landmarks"] + [x, y], 2).tolist(),
                              "identity": pose["identity"]})
            if not faces:
                raise ManifestError(f"mini recipe: a face does not fit a {w}x{h} canvas; lower its scale")
            canvas *= shading(rng, w, h, float(rng.uniform(*fcfg["shading"])))[..., None]
            out.append({"image": camera(rng, canvas, fcfg["camera"]), "faces": faces})
            items = rest
    return out
