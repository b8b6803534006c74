"""The `mini` v1 generator: synthetic words on flat/simple backgrounds and package-shipped faces.

Kept unchanged so that `mini-v1` rebuilds byte for byte and old results and golden files still compare
(see :mod:`tfbench.mini`). `mini-video` reuses its fonts, word pool, backgrounds, ink colours, shelf
packing and face sources.
"""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from tfbench.errors import ManifestError, TfbenchError
from tfbench.images import load_rgb, sha256_of
from tfbench.packaged import package_file

GENERATOR_VERSION = "2"  # of the v1 generator (part of the v1 cache key; unchanged since v1 was released)
RECIPE_FILE = "mini-v1.json"


def mini_recipe_path() -> Path:
    """The v1 recipe (which `mini-video` also reads) in the installed tfbench.data_manifests (or the source tree)."""
    spec = importlib.util.find_spec("tfbench.data_manifests")
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0]) / RECIPE_FILE
    return Path(__file__).resolve().parent.parent / "data_manifests" / RECIPE_FILE


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


def text_canvases(recipe: dict, rng: np.random.Generator, recipe_dir: Path) -> list[dict]:
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
                face = load_font(font_name, size)
                x0, y0, x1, y1 = face.getbbox(text)
                pad = max(2, round(0.2 * (y1 - y0)))
                bw, bh = x1 - x0 + 2 * pad, y1 - y0 + 2 * pad
                pos = shelf.place(bw, bh)
                if pos is None:
                    rest.append((text, font_name, ratio))
                    continue
                px, py = pos
                region = bg[py:py + bh, px:px + bw]
                draw.text((px + pad - x0, py + pad - y0), text, font=face, fill=ink_colour(rng, region))
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


def face_canvases(recipe: dict, rng: np.random.Generator) -> list[dict]:
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
