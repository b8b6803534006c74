"""Builds the embedded `mini-video` suite: synthetic clips with moving and zooming words, and the
package-shipped faces of `mini` v1 moving and zooming, with exact per-frame ground truth.

Reuses the `mini` v1 generator's (:mod:`tfbench.mini_v1`) fonts, word pool, backgrounds, ink colours,
shelf packing and face sources (with their stored landmarks). Clips are written as near-lossless H.264 (crf 8) and the
ground truth is checked on the *decoded* frames: a word instance is kept only where the OCR reads it
exactly on the original frame (as TokBench does). Deterministic (seeded); built once into the cache.
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from tfbench.buckets import face_ratio, text_ratio
from tfbench.cache import build_once, cache_dir
from tfbench.errors import ManifestError
from tfbench.images import sha256_of
from tfbench.mini_v1 import Shelf, background, face_sources, ink_colour, load_font, make_word, mini_recipe_path, render_size, word_pool
from tfbench.video.io import iter_frames, write_video
from tfbench.video.manifest import SCHEMA, VideoSuite, load_video_suite_file

GENERATOR_VERSION = "2"  # 2: clips encoded with one x264 thread (bit-identical builds)
RECIPE: dict[str, Any] = {
    "name": "mini-video", "version": "1", "seed": 20251129,
    "size": [960, 540], "frames": 16, "annotate_every": 5, "fps": 25,
    # [lo, hi, count]: character-size ratio intervals (TokBench definition) covering every video bucket
    "text_clips": [
        {"id": "text_slow", "speed": 1.0, "zoom": [0.85, 1.2],
         "intervals": [[0.0065, 0.0095, 3], [0.011, 0.019, 3], [0.021, 0.029, 3], [0.032, 0.055, 3]]},
        {"id": "text_fast", "speed": 4.0, "zoom": [1.15, 0.85],
         "intervals": [[0.0065, 0.0095, 3], [0.011, 0.019, 3], [0.021, 0.029, 3], [0.032, 0.055, 3]]},
    ],
    "face_clips": [
        {"id": "faces_large", "speed": 1.5, "zoom": [0.95, 1.05], "margin": 1.3,
         "intervals": [[0.12, 0.17, 2], [0.21, 0.24, 1]]},
        {"id": "faces_small", "speed": 3.0, "zoom": [1.1, 0.9], "intervals": [[0.025, 0.045, 5], [0.055, 0.095, 5]]},
    ],
    "face_margin": 1.6,
}
LICENSE = ("Generated clips: CC0. Face photos: insightface t1.jpg (MIT package data), scikit-image astronaut "
           "(public domain, NASA), matplotlib grace_hopper.jpg (public domain, US Navy).")


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def _zoom(cfg: dict, t: int, n: int) -> float:
    z0, z1 = cfg["zoom"]
    return z0 + (z1 - z0) * t / max(n - 1, 1)


def _motion(rng: np.random.Generator, speed: float) -> tuple[float, float]:
    angle = rng.uniform(0, 2 * math.pi)
    return speed * math.cos(angle), speed * math.sin(angle)


def text_clip(cfg: dict, rng: np.random.Generator, pool: list[str], fonts: list[str], w: int, h: int,
               n: int) -> tuple[list[np.ndarray], list[list[dict]]]:
    """Frames (uint8) and per-frame word ground truth [{text, box, track}] of one text clip."""
    bg = background(rng, w, h)
    zmax = max(cfg["zoom"])
    shelf = Shelf(w, h, gap=12)
    words = []
    items = [(make_word(rng, pool), fonts[int(rng.integers(len(fonts)))], _log_uniform(rng, lo, hi))
             for lo, hi, count in cfg["intervals"] for _ in range(count)]
    for k in rng.permutation(len(items)):
        text, font_name, ratio = items[k]
        vx, vy = _motion(rng, cfg["speed"])
        base = render_size(font_name, text, ratio * len(text) * w / ((zmax + min(cfg["zoom"])) / 2))
        x0, y0, x1, y1 = load_font(font_name, round(base * zmax)).getbbox(text)
        pad = max(2, round(0.2 * (y1 - y0)))
        cell_w = x1 - x0 + 2 * pad + math.ceil(abs(vx) * n) + 4
        cell_h = y1 - y0 + 2 * pad + math.ceil(abs(vy) * n) + 4
        pos = shelf.place(cell_w, cell_h)
        if pos is None:
            continue  # does not fit this clip: leave it out (the recipe keeps every bucket filled)
        start_x = pos[0] + (math.ceil(abs(vx) * n) if vx < 0 else 0) + 2
        start_y = pos[1] + (math.ceil(abs(vy) * n) if vy < 0 else 0) + 2
        region = bg[pos[1]:pos[1] + cell_h, pos[0]:pos[0] + cell_w]
        words.append({"text": text, "font": font_name, "base": base, "v": (vx, vy), "start": (start_x, start_y),
                      "ink": ink_colour(rng, region), "track": f"w{len(words)}"})
    if not words:
        raise ManifestError(f"mini-video recipe: no word of clip {cfg['id']!r} fits a {w}x{h} frame")
    blur = float(rng.uniform(0.3, 0.7))
    frames, truth = [], []
    for t in range(n):
        img = Image.fromarray(bg)
        draw = ImageDraw.Draw(img)
        gt = []
        for wd in words:
            font = load_font(wd["font"], max(6, round(wd["base"] * _zoom(cfg, t, n))))
            x0, y0, x1, y1 = font.getbbox(wd["text"])
            pad = max(2, round(0.2 * (y1 - y0)))
            px = round(wd["start"][0] + wd["v"][0] * t)
            py = round(wd["start"][1] + wd["v"][1] * t)
            draw.text((px + pad - x0, py + pad - y0), wd["text"], font=font, fill=wd["ink"])
            box = [px, py, min(w, px + x1 - x0 + 2 * pad), min(h, py + y1 - y0 + 2 * pad)]
            gt.append({"text": wd["text"], "box": box, "track": wd["track"]})
        soft = np.asarray(img.filter(ImageFilter.GaussianBlur(blur)), dtype=np.float32)
        soft += rng.normal(0, 2.0, soft.shape)
        frames.append(np.clip(np.rint(soft), 0, 255).astype(np.uint8))
        truth.append(gt)
    return frames, truth


def face_clip(cfg: dict, rng: np.random.Generator, sources: list[dict], margin: float, w: int, h: int,
               n: int, first_source: int) -> tuple[list[np.ndarray], list[list[dict]]]:
    bg = background(rng, w, h)
    zmax = max(cfg["zoom"])
    shelf = Shelf(w, h, gap=10)
    faces = []
    ratios = sorted((_log_uniform(rng, lo, hi) for lo, hi, count in cfg["intervals"] for _ in range(count)), reverse=True)
    for k, ratio in enumerate(ratios):
        src = sources[(first_source + k) % len(sources)]
        x0, y0, x1, y1 = src["box"]
        side = max(x1 - x0, y1 - y0)
        cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, side * cfg.get("margin", margin) / 2
        sh, sw = src["image"].shape[:2]
        crop = (max(0, round(cx - half)), max(0, round(cy - half)), min(sw, round(cx + half)), min(sh, round(cy + half)))
        base = ratio * w / side / ((zmax + min(cfg["zoom"])) / 2)  # source pixels -> frame pixels at zoom 1
        vx, vy = _motion(rng, cfg["speed"])
        pw, ph = math.ceil((crop[2] - crop[0]) * base * zmax), math.ceil((crop[3] - crop[1]) * base * zmax)
        pos = shelf.place(pw + math.ceil(abs(vx) * n) + 2, ph + math.ceil(abs(vy) * n) + 2)
        if pos is None:
            continue
        start = (pos[0] + (math.ceil(abs(vx) * n) if vx < 0 else 0), pos[1] + (math.ceil(abs(vy) * n) if vy < 0 else 0))
        faces.append({"src": src, "crop": crop, "base": base, "v": (vx, vy), "start": start, "track": f"f{len(faces)}",
                      "cell": (pw, ph)})
    if not faces:
        raise ManifestError(f"mini-video recipe: no face of clip {cfg['id']!r} fits a {w}x{h} frame")
    frames, truth = [], []
    for t in range(n):
        canvas = Image.fromarray(bg)
        gt = []
        for f in faces:
            cx0, cy0, cx1, cy1 = f["crop"]
            scale = f["base"] * _zoom(cfg, t, n)
            pw, ph = max(1, round((cx1 - cx0) * scale)), max(1, round((cy1 - cy0) * scale))
            # zoom about the cell centre, then move
            px = round(f["start"][0] + (f["cell"][0] - pw) / 2 + f["v"][0] * t)
            py = round(f["start"][1] + (f["cell"][1] - ph) / 2 + f["v"][1] * t)
            patch = Image.fromarray(f["src"]["image"][cy0:cy1, cx0:cx1]).resize((pw, ph), Image.LANCZOS)
            mask = Image.new("L", (pw, ph), 0)
            inset = max(1, min(pw, ph) // 12)
            ImageDraw.Draw(mask).rectangle([inset, inset, pw - 1 - inset, ph - 1 - inset], fill=255)
            canvas.paste(patch, (px, py), mask.filter(ImageFilter.GaussianBlur(inset / 2)))
            sx, sy = pw / (cx1 - cx0), ph / (cy1 - cy0)
            bx0, by0, bx1, by1 = f["src"]["box"]
            box = [px + (bx0 - cx0) * sx, py + (by0 - cy0) * sy, px + (bx1 - cx0) * sx, py + (by1 - cy0) * sy]
            lms = np.stack([px + (f["src"]["landmarks"][:, 0] - cx0) * sx, py + (f["src"]["landmarks"][:, 1] - cy0) * sy], 1)
            gt.append({"box": [round(min(max(v, 0), lim), 2) for v, lim in zip(box, (w, h, w, h))],
                       "landmarks": np.round(lms, 2).tolist(), "identity": f["src"]["identity"], "track": f["track"]})
        frame = np.asarray(canvas, dtype=np.float32) + rng.normal(0, 2.0, (h, w, 3))
        frames.append(np.clip(np.rint(frame), 0, 255).astype(np.uint8))
        truth.append(gt)
    return frames, truth


def _recipe_key() -> str:
    mini = json.loads(mini_recipe_path().read_text())
    blob = json.dumps([RECIPE, mini["faces"]["sources"], mini["fonts"]], sort_keys=True).encode() + GENERATOR_VERSION.encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def build_mini_video(dest: Path, ocr=None) -> Path:
    """Generate the clips and manifest.json into ``dest``; returns the manifest path."""
    mini = json.loads(mini_recipe_path().read_text())
    rng = np.random.default_rng(RECIPE["seed"])
    if ocr is None:
        from tfbench.metrics.text import TextScorer

        ocr = TextScorer("rapidocr")
    from tfbench.crops import crop_box

    w, h = RECIPE["size"]
    n, every = RECIPE["frames"], RECIPE["annotate_every"]
    pool = word_pool(mini_recipe_path().parent, mini["text"]["words_file"])
    sources = face_sources(mini)
    dest.mkdir(parents=True, exist_ok=True)
    clips, dropped = [], 0
    made = [(c, text_clip(c, rng, pool, mini["fonts"], w, h, n)) for c in RECIPE["text_clips"]]
    made += [(c, face_clip(c, rng, sources, RECIPE["face_margin"], w, h, n, 3 * i))
             for i, c in enumerate(RECIPE["face_clips"])]
    for cfg, (frames, truth) in made:
        name = f"{cfg['id']}.mp4"
        write_video(dest / name, frames, fps=RECIPE["fps"], options={"crf": "8", "preset": "veryfast"})
        annotations = []
        for t, frame in enumerate(iter_frames(dest / name)):
            if t % every:
                continue
            items = truth[t]
            if cfg in RECIPE["text_clips"]:  # keep words the OCR reads exactly on the decoded original
                reads = ocr.score([crop_box(frame, it["box"]) for it in items], [it["text"] for it in items])
                kept = [it for it, r in zip(items, reads) if r["t_acc"] == 1.0]
                dropped += len(items) - len(kept)
                words = [{**it, "ratio": round(text_ratio(it["box"][2] - it["box"][0], it["box"][3] - it["box"][1],
                                                          len(it["text"]), w), 6)} for it in kept]
                annotations.append({"frame": t, "words": words})
            else:
                faces = [{**it, "ratio": round(face_ratio(it["box"][2] - it["box"][0], it["box"][3] - it["box"][1], w), 6)}
                         for it in items]
                annotations.append({"frame": t, "faces": faces})
        clips.append({"id": cfg["id"], "file": name, "width": w, "height": h, "frames": n, "fps": RECIPE["fps"],
                      "subset": "text" if cfg in RECIPE["text_clips"] else "face", "sha256": sha256_of(dest / name),
                      "annotations": annotations})
    manifest = {"schema": SCHEMA, "name": RECIPE["name"], "version": RECIPE["version"], "modality": "video",
                "license": LICENSE, "citation": mini["citation"],
                "description": "Embedded offline video suite: words and real faces moving and zooming over 16-frame "
                               "960x540 clips, ground truth on every fifth frame, every video bucket filled.",
                "resolutions": ["256", "480"],
                "build": {"recipe_key": _recipe_key(), "generator": GENERATOR_VERSION, "ocr": ocr.describe(),
                          "word_instances_dropped_unreadable_on_original": dropped},
                "clips": clips}
    path = dest / "manifest.json"
    path.write_text(json.dumps(manifest, indent=1))
    return path


def mini_video_dir() -> Path:
    return cache_dir() / "suites" / f"mini-video-v{RECIPE['version']}-{_recipe_key()}"


def load_mini_video(data_root: Path | None = None) -> VideoSuite:
    """The `mini-video` suite, built into the cache on first use (``data_root`` is ignored, as for mini)."""
    return load_video_suite_file(build_once(mini_video_dir(), build_mini_video))
