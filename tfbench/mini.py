"""Builds the embedded `mini` suite: synthetic words and package-shipped faces at controlled scales.

The recipe (``data_manifests/mini.json``) fixes fonts, word scales, face sources and their 5-point
landmarks (detected once on the source photos and stored there). The build is deterministic (seeded),
runs once into the cache, and keeps only words the OCR reads correctly on the original image, as
TokBench does, so that `identity` at `native` scores exactly 1.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from tfbench.buckets import face_ratio, text_ratio
from tfbench.cache import build_once, cache_dir
from tfbench.errors import ManifestError, TfbenchError
from tfbench.images import load_rgb, sha256_of
from tfbench.manifest import SCHEMA, Suite, load_suite_file
from tfbench.packaged import package_file

GENERATOR_VERSION = "2"
RECIPE = Path(__file__).resolve().parent.parent / "data_manifests" / "mini.json"


def mini_recipe_path() -> Path:
    spec = importlib.util.find_spec("tfbench.data_manifests")
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0]) / "mini.json"
    return RECIPE


def load_font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(package_file("matplotlib", f"mpl-data/fonts/ttf/{name}")), size)


# ---------------------------------------------------------------- backgrounds

def background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Plain, gradient, textured, paper-like or striped background (uint8 RGB)."""
    kind = rng.choice(["plain", "gradient", "texture", "paper", "stripes"])
    light = rng.uniform(0, 1) < 0.7  # mostly light backgrounds
    c0 = rng.integers(190, 245, 3) if light else rng.integers(15, 70, 3)
    if kind == "plain":
        return np.broadcast_to(c0.astype(np.uint8), (h, w, 3)).copy()
    if kind == "gradient":
        c1 = np.clip(c0 + rng.integers(-45, 45, 3), 0, 255)
        t = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
        return (c0 * (1 - t) + c1 * t).repeat(h, axis=0).astype(np.uint8)
    if kind == "stripes":
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        angle, period = rng.uniform(0, np.pi), rng.uniform(3, 9)
        wave = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period)
        return np.clip(c0[None, None, :] + 14 * wave[..., None], 0, 255).astype(np.uint8)
    small = rng.normal(0, 1, (h // 16 + 2, w // 16 + 2, 3)).astype(np.float32)
    noise = np.asarray(Image.fromarray(((small - small.min()) / (np.ptp(small) + 1e-6) * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC), dtype=np.float32) / 255 - 0.5
    amp = 45 if kind == "texture" else 20
    img = c0[None, None, :] + amp * noise
    if kind == "paper":
        img += rng.normal(0, 5, (h, w, 1))
    return np.clip(img, 0, 255).astype(np.uint8)


def ink_colour(rng: np.random.Generator, bg: np.ndarray) -> tuple[int, int, int]:
    """Text colour: a random hue at high, medium or low contrast against the local background."""
    mean = bg.reshape(-1, 3).mean(axis=0)
    contrast = float(rng.choice([170.0, 110.0, 70.0]))
    direction = -1.0 if mean.mean() > 128 else 1.0
    tint = rng.uniform(-30, 30, 3)
    return tuple(int(v) for v in np.clip(mean + direction * contrast + tint, 0, 255))


# ---------------------------------------------------------------- words

def word_pool(recipe_dir: Path, words_file: str) -> list[str]:
    return (recipe_dir / words_file).read_text().split()


def make_word(rng: np.random.Generator, pool: list[str]) -> str:
    r = rng.uniform()
    if r < 0.12:
        return str(int(rng.integers(10, 99999)))
    if r < 0.18:
        return f"{int(rng.integers(1, 999))}.{int(rng.integers(0, 99)):02d}"
    word = pool[int(rng.integers(len(pool)))]
    if r < 0.45:
        return word.capitalize()
    if r < 0.6:
        return word.upper()
    if r < 0.66:
        return word + str(int(rng.integers(1, 99)))
    return word


def render_size(font_name: str, text: str, target: float) -> int:
    """Font size whose padded box has max(w, h) close to ``target`` pixels."""
    size = 64
    for _ in range(3):
        x0, y0, x1, y1 = load_font(font_name, size).getbbox(text)
        w, h = x1 - x0, y1 - y0
        pad = 2 * max(2, round(0.2 * h))
        size = max(6, round(size * target / max(w + pad, h + pad)))
    return size


class Shelf:
    """Left-to-right, top-to-bottom packing of rectangles on a canvas."""

    def __init__(self, w: int, h: int, gap: int) -> None:
        self.w, self.h, self.gap = w, h, gap
        self.x, self.y, self.row_h = gap, gap, 0

    def place(self, bw: int, bh: int) -> tuple[int, int] | None:
        if bw + 2 * self.gap > self.w:
            return None
        if self.x + bw + self.gap > self.w:
            self.x, self.y, self.row_h = self.gap, self.y + self.row_h + self.gap, 0
        if self.y + bh + self.gap > self.h:
            return None
        pos = (self.x, self.y)
        self.x += bw + self.gap
        self.row_h = max(self.row_h, bh)
        return pos


def _text_canvases(recipe: dict, rng: np.random.Generator, recipe_dir: Path) -> list[dict]:
    """Render words of each scale interval onto canvases; returns [{image, words}] before OCR filtering."""
    tcfg = recipe["text"]
    pool = word_pool(recipe_dir, tcfg["words_file"])
    fonts = recipe["fonts"]
    by_canvas: dict[str, list[tuple[str, str, float]]] = {}
    for lo, hi, canvas_key, count in tcfg["intervals"]:
        for _ in range(count):
            ratio = math.exp(rng.uniform(math.log(lo), math.log(hi)))
            by_canvas.setdefault(str(canvas_key), []).append((make_word(rng, pool), fonts[int(rng.integers(len(fonts)))], ratio))
    out = []
    for key, items in by_canvas.items():
        w, h = tcfg["canvas"][key]
        order = rng.permutation(len(items))
        items = [items[i] for i in order]
        while items:
            bg = background(rng, w, h)
            img = Image.fromarray(bg)
            draw = ImageDraw.Draw(img)
            shelf = Shelf(w, h, gap=max(8, w // 100))
            words, rest = [], []
            for text, font_name, ratio in items:
                size = render_size(font_name, text, ratio * len(text) * w)
                font = load_font(font_name, size)
                x0, y0, x1, y1 = font.getbbox(text)
                pad = max(2, round(0.2 * (y1 - y0)))
                bw, bh = x1 - x0 + 2 * pad, y1 - y0 + 2 * pad
                pos = shelf.place(bw, bh)
                if pos is None:
                    rest.append((text, font_name, ratio))
                    continue
                px, py = pos
                region = bg[py:py + bh, px:px + bw]
                draw.text((px + pad - x0, py + pad - y0), text, font=font, fill=ink_colour(rng, region))
                words.append({"text": text, "box": [px, py, px + bw, py + bh], "font": font_name, "size": size})
            if not words:
                raise ManifestError(f"mini recipe: a word does not fit a {w}x{h} canvas; lower its scale")
            soft = np.asarray(img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 0.8)))), dtype=np.float32)
            soft += rng.normal(0, float(rng.uniform(2, 5)), soft.shape)
            out.append({"image": np.clip(np.rint(soft), 0, 255).astype(np.uint8), "words": words})
            items = rest
    return out


# ---------------------------------------------------------------- faces

def face_sources(recipe: dict) -> list[dict]:
    faces = []
    for src in recipe["faces"]["sources"]:
        path = package_file(src["package"], src["resource"])
        digest = sha256_of(path)
        if digest != src["sha256"]:
            raise TfbenchError(f"{path} differs from the photo the mini recipe was made with (sha256 {digest[:12]}... "
                               f"!= {src['sha256'][:12]}...); its stored landmarks would not match. Install the "
                               f"package version the recipe names or regenerate the recipe.")
        image = load_rgb(path)
        for k, f in enumerate(src["faces"]):
            faces.append({"image": image, "box": f["box"], "landmarks": np.array(f["landmarks"], dtype=np.float64),
                          "identity": f"{src['package']}:{Path(src['resource']).stem}#{k}"})
    return faces


def _face_canvases(recipe: dict, rng: np.random.Generator) -> list[dict]:
    fcfg = recipe["faces"]
    sources = face_sources(recipe)
    margin = fcfg["margin"]
    by_canvas: dict[str, list[tuple[int, float]]] = {}
    n = 0
    for lo, hi, canvas_key, count in fcfg["intervals"]:
        for _ in range(count):
            ratio = math.exp(rng.uniform(math.log(lo), math.log(hi)))
            by_canvas.setdefault(str(canvas_key), []).append((n % len(sources), ratio))
            n += 1
    out = []
    for key, items in by_canvas.items():
        w, h = fcfg["canvas"][key]
        items = sorted(items, key=lambda t: -t[1])
        while items:
            canvas = Image.fromarray(background(rng, w, h))
            shelf = Shelf(w, h, gap=max(8, w // 64))
            faces, rest = [], []
            for src_i, ratio in items:
                src = sources[src_i]
                x0, y0, x1, y1 = src["box"]
                side = max(x1 - x0, y1 - y0)
                scale = ratio * w / side
                cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
                half = side * margin / 2
                sh, sw = src["image"].shape[:2]
                cx0, cy0 = max(0, round(cx - half)), max(0, round(cy - half))
                cx1, cy1 = min(sw, round(cx + half)), min(sh, round(cy + half))
                pw, ph = max(1, round((cx1 - cx0) * scale)), max(1, round((cy1 - cy0) * scale))
                pos = shelf.place(pw, ph)
                if pos is None:
                    rest.append((src_i, ratio))
                    continue
                patch = Image.fromarray(src["image"][cy0:cy1, cx0:cx1]).resize((pw, ph), Image.LANCZOS)
                mask = Image.new("L", (pw, ph), 0)
                inset = max(1, min(pw, ph) // 12)
                ImageDraw.Draw(mask).rectangle([inset, inset, pw - 1 - inset, ph - 1 - inset], fill=255)
                canvas.paste(patch, pos, mask.filter(ImageFilter.GaussianBlur(inset / 2)))
                sx, sy = pw / (cx1 - cx0), ph / (cy1 - cy0)
                px, py = pos
                box = [px + (x0 - cx0) * sx, py + (y0 - cy0) * sy, px + (x1 - cx0) * sx, py + (y1 - cy0) * sy]
                lms = np.stack([px + (src["landmarks"][:, 0] - cx0) * sx, py + (src["landmarks"][:, 1] - cy0) * sy], axis=1)
                faces.append({"box": [round(v, 2) for v in box], "landmarks": np.round(lms, 2).tolist(),
                              "identity": src["identity"]})
            if not faces:
                raise ManifestError(f"mini recipe: a face does not fit a {w}x{h} canvas; lower its scale")
            out.append({"image": np.asarray(canvas), "faces": faces})
            items = rest
    return out


# ---------------------------------------------------------------- build

def _recipe_key(recipe: dict) -> str:
    blob = json.dumps(recipe, sort_keys=True).encode() + GENERATOR_VERSION.encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def build_mini(dest: Path, recipe_path: Path | None = None, ocr=None) -> Path:
    """Generate the suite into ``dest`` (images + manifest.json); returns the manifest path."""
    recipe_path = recipe_path or mini_recipe_path()
    recipe = json.loads(recipe_path.read_text())
    rng = np.random.default_rng(recipe["seed"])
    if ocr is None:
        from tfbench.metrics.text import TextScorer

        ocr = TextScorer("rapidocr")
    dest.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    dropped = 0
    for k, item in enumerate(_text_canvases(recipe, rng, recipe_path.parent)):
        image = item["image"]
        from tfbench.crops import crop_box

        crops = [crop_box(image, wd["box"]) for wd in item["words"]]
        scores = ocr.score(crops, [wd["text"] for wd in item["words"]])
        kept = [wd for wd, s in zip(item["words"], scores) if s["t_acc"] == 1.0]
        dropped += len(item["words"]) - len(kept)
        name = f"text_{k:02d}.png"
        Image.fromarray(image).save(dest / name, optimize=False, compress_level=6)
        h, w = image.shape[:2]
        records.append({"id": f"text_{k:02d}", "file": name, "width": w, "height": h, "subset": "text",
                        "sha256": sha256_of(dest / name),
                        "words": [{"text": wd["text"], "box": wd["box"],
                                   "ratio": round(text_ratio(wd["box"][2] - wd["box"][0], wd["box"][3] - wd["box"][1], len(wd["text"]), w), 6)}
                                  for wd in kept]})
    for k, item in enumerate(_face_canvases(recipe, rng)):
        image = item["image"]
        name = f"face_{k:02d}.png"
        Image.fromarray(image).save(dest / name, optimize=False, compress_level=6)
        h, w = image.shape[:2]
        for f in item["faces"]:
            f["ratio"] = round(face_ratio(f["box"][2] - f["box"][0], f["box"][3] - f["box"][1], w), 6)
        records.append({"id": f"face_{k:02d}", "file": name, "width": w, "height": h, "subset": "face",
                        "sha256": sha256_of(dest / name), "faces": item["faces"]})
    manifest = {
        "schema": SCHEMA, "name": recipe["name"], "version": recipe["version"], "modality": "image",
        "license": recipe["license"], "citation": recipe["citation"], "description": recipe["description"],
        "resolutions": ["256", "512", "1024", "native"],
        "build": {"recipe_key": _recipe_key(recipe), "generator": GENERATOR_VERSION, "ocr": ocr.describe(),
                  "words_dropped_unreadable_on_original": dropped},
        "images": records,
    }
    path = dest / "manifest.json"
    path.write_text(json.dumps(manifest, indent=1))
    return path


def mini_dir() -> Path:
    recipe = json.loads(mini_recipe_path().read_text())
    return cache_dir() / "suites" / f"mini-v{recipe['version']}-{_recipe_key(recipe)}"


def load_mini(data_root: Path | None = None) -> Suite:
    """The `mini` suite, built into the cache on first use.

    ``data_root`` is ignored: mini is generated, never read from a user's data folder (a
    TFBENCH_DATA_ROOT set for another suite must not receive mini's files).
    """
    return load_suite_file(build_once(mini_dir(), build_mini))
