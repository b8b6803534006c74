"""mini v2 text: words as photos and scans show them.

Each word gets a character size drawn log-uniformly inside a ratio interval of the recipe (so sizes spread
across every bucket), a font (thin, condensed, serif, italic, bold TrueType faces shipped by matplotlib, or
OpenCV's thin Hershey vector fonts), mixed-case words, numbers, prices, dates and codes, a slight rotation
and slant, and ink at low to high contrast, often coloured. Words sit on natural photos (on the photo or on
a sign) or on paper (receipts, pages); then the canvas is lit unevenly, defocused, gets sensor noise and
the camera's JPEG (:mod:`tfbench.mini_camera`). Deterministic for a seed.
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tfbench.errors import ManifestError
from tfbench.mini_camera import camera, paper_background, photo_background, shading, smooth_noise
from tfbench.mini_v1 import Shelf
from tfbench.packaged import package_file

GENERATOR_VERSION = "v2.1"
REF = 96  # glyphs are drawn at this pixel size, transformed, then scaled down to their size on the canvas
PLAIN = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-/:()%")
HERSHEY = {"simplex": cv2.FONT_HERSHEY_SIMPLEX, "plain": cv2.FONT_HERSHEY_PLAIN, "duplex": cv2.FONT_HERSHEY_DUPLEX,
           "complex": cv2.FONT_HERSHEY_COMPLEX, "triplex": cv2.FONT_HERSHEY_TRIPLEX}


def _uniform(rng: np.random.Generator, span: list[float]) -> float:
    return float(rng.uniform(span[0], span[1]))


# ---------------------------------------------------------------- content

def make_text(rng: np.random.Generator, pool: list[str], mix: dict[str, float]) -> str:
    """One word, number, price, date, time, code, two-word phrase or receipt line, in mixed case."""
    kinds = sorted(mix)
    p = np.array([mix[k] for k in kinds], dtype=np.float64)
    return _make(rng, pool, kinds[int(rng.choice(len(kinds), p=p / p.sum()))])


def _make(rng: np.random.Generator, pool: list[str], kind: str) -> str:
    word = pool[int(rng.integers(len(pool)))]
    n = lambda lo, hi: int(rng.integers(lo, hi + 1))  # noqa: E731
    if kind == "lower":
        return word
    if kind == "title":
        return word.capitalize()
    if kind == "upper":
        return word.upper()
    if kind == "number":
        return str(n(10, 99999))
    if kind == "price":
        return ("$" if rng.uniform() < 0.4 else "") + f"{n(1, 999)}.{n(0, 99):02d}"
    if kind == "date":
        return f"{n(1, 28):02d}/{n(1, 12):02d}/{n(1995, 2029)}"
    if kind == "time":
        return f"{n(0, 23):02d}:{n(0, 59):02d}"
    if kind == "code":
        return f"{word[:int(rng.integers(2, 5))].upper()}-{n(10, 9999)}"
    if kind == "punct":
        form = int(rng.integers(4))
        return [f"{word.capitalize()}!", f"({word})", f"{word}:", f"{word.capitalize()},"][form]
    if kind == "mixed":
        return word.capitalize() + str(n(1, 99))
    if kind == "phrase":
        other = pool[int(rng.integers(len(pool)))]
        return f"{word} {other}".upper() if rng.uniform() < 0.5 else f"{word.capitalize()} {other}"
    if kind == "line":  # a receipt or form line: item words and amounts, quantities, codes, dates
        parts = [word.upper()] + [_make(rng, pool, str(k)) for k in
                                  rng.choice(["upper", "price", "number", "code", "date", "time"], size=n(1, 3))]
        return " ".join(parts)
    raise ManifestError(f"mini recipe: unknown text kind {kind!r} (known: lower, title, upper, number, price, "
                        f"date, time, code, punct, mixed, phrase, line)")


# ---------------------------------------------------------------- glyphs

@lru_cache(maxsize=None)
def _truetype(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(package_file("matplotlib", f"mpl-data/fonts/ttf/{name}")), size)


def _tight(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask > 0.02)
    if len(xs) == 0:
        raise ManifestError("mini recipe: a word rendered empty; check the font and its charset")
    return mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def font_name(font: dict) -> str:
    """``DejaVuSans.ttf`` for a TrueType file, ``hershey-simplex`` for an OpenCV vector font."""
    return font["file"] if "file" in font else f"hershey-{font['hershey']}"


def glyph_mask(text: str, font: dict, rng: np.random.Generator) -> np.ndarray:
    """Coverage (0-1, float32) of ``text`` drawn at about REF px, tightly cropped."""
    if "hershey" in font:
        face = HERSHEY[font["hershey"]]
        scale = cv2.getFontScaleFromHeight(face, REF)
        thick = max(1, int(round(REF * _uniform(rng, font["weight"]))))
        (tw, th), base = cv2.getTextSize(text, face, scale, thick)
        pad = thick + 8
        img = np.zeros((th + base + 2 * pad, tw + 2 * pad), np.uint8)
        cv2.putText(img, text, (pad, pad + th), face, scale, 255, thick, cv2.LINE_AA)
    else:
        ttf = _truetype(font["file"], REF)
        bold = int(round(REF * _uniform(rng, font.get("stroke", [0, 0]))))
        x0, y0, x1, y1 = ttf.getbbox(text, stroke_width=bold)
        pad = 8
        im = Image.new("L", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), 0)
        ImageDraw.Draw(im).text((pad - x0, pad - y0), text, font=ttf, fill=255, stroke_width=bold, stroke_fill=255)
        img = np.asarray(im)
    return _tight(img.astype(np.float32) / 255.0)


def warp(mask: np.ndarray, condense: float, shear: float, angle_deg: float) -> np.ndarray:
    """Condense (x scale), slant (x += shear * (h - y)) and rotate, on an expanded canvas; tightly cropped."""
    h, w = mask.shape
    a = math.radians(angle_deg)
    rot = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    lin = rot @ np.array([[condense, -shear], [0.0, 1.0]])
    shift = rot @ np.array([shear * h, 0.0])
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], dtype=np.float64) @ lin.T + shift
    lo = corners.min(axis=0)
    size = np.ceil(corners.max(axis=0) - lo).astype(int) + 2
    aff = np.hstack([lin, (shift - lo + 1)[:, None]])
    out = cv2.warpAffine(mask, aff, (int(size[0]), int(size[1])), flags=cv2.INTER_LINEAR, borderValue=0)
    return _tight(out)


# ---------------------------------------------------------------- words

def _ink(rng: np.random.Generator, under: np.ndarray, contrast: float, colour: float) -> np.ndarray:
    """Ink colour ``contrast`` luma levels away from the mean colour ``under`` (darker on light ground),
    with a random hue mixed in at strength ``colour`` (0 = grey)."""
    luma = lambda c: float(c @ np.array([0.299, 0.587, 0.114]))  # noqa: E731
    base = luma(under)
    target = base - contrast if base >= 128 else base + contrast
    if not 0 <= target <= 255:
        target = base + contrast if base < 128 else base - contrast
    hue = rng.uniform(0, 255, 3)
    ink = target + colour * (hue - luma(hue))
    return np.clip(ink, 0, 255).astype(np.float32)


def _contrast(rng: np.random.Generator, mix: list[list[float]]) -> float:
    """Luma difference between ink and ground, from a mixture of [lo, hi, weight] ranges."""
    w = np.array([m[2] for m in mix], dtype=np.float64)
    lo, hi, _ = mix[int(rng.choice(len(mix), p=w / w.sum()))]
    return float(rng.uniform(lo, hi))


def sample_word(rng: np.random.Generator, pool: list[str], tcfg: dict, canvas: dict, ratio: float) -> dict:
    """Text, font, shape and ink of one word whose character size is ``ratio`` x the canvas width."""
    st = canvas["style"]
    longest = int(0.9 * canvas.get("paper_frac", [1.0])[0] / ratio)  # characters that fit across the paper
    text = make_text(rng, pool, canvas["content"])
    while len(text) > longest:
        text = make_text(rng, pool, canvas["content"])
    fonts = [f for f in tcfg["fonts"] if (f.get("charset") != "plain" or set(text) <= PLAIN)
             and ("fonts" not in canvas or font_name(f) in canvas["fonts"])]
    font = fonts[int(rng.integers(len(fonts)))]
    mask = glyph_mask(text, font, rng)
    condense = _uniform(rng, st["condense"]) if rng.uniform() < st["condense_p"] else 1.0
    shear = _uniform(rng, st["slant"]) if rng.uniform() < st["slant_p"] else 0.0
    limit = min(st["angle_max"], math.degrees(math.atan(0.35 * mask.shape[0] / mask.shape[1])))
    mask = warp(mask, condense, shear, float(rng.uniform(-limit, limit)))
    pad_frac = _uniform(rng, st["pad"])
    mh, mw = mask.shape
    target = ratio * len(text) * canvas["size"][0]  # max(box w, box h) that gives this ratio
    scale = target / max(mw + 2 * pad_frac * mh, mh * (1 + 2 * pad_frac))
    fw, fh = max(1, round(mw * scale)), max(1, round(mh * scale))
    small = cv2.resize(mask, (fw, fh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    defocus = _uniform(rng, st["defocus"]) * fh
    if defocus > 0.2:
        pad_blur = int(math.ceil(3 * defocus))
        small = cv2.GaussianBlur(np.pad(small, pad_blur), (0, 0), defocus)[pad_blur:-pad_blur, pad_blur:-pad_blur]
    fade = _uniform(rng, st["fade"]) if rng.uniform() < st["fade_p"] else 0.0
    return {"text": text, "font": font_name(font), "mask": np.clip(small, 0, 1),
            "pad": max(1, round(pad_frac * fh)), "contrast": _contrast(rng, st["contrast"]),
            "colour": _uniform(rng, st["colour"]) if rng.uniform() < st["colour_p"] else 0.0,
            "opacity": _uniform(rng, st["opacity"]), "fade": fade,
            "plate": rng.uniform() < canvas.get("plate_p", 0.0), "ratio": ratio}


def _plate(rng: np.random.Generator, canvas: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> None:
    """A sign behind a word: a flat colour (light, dark or vivid) over the photo, slightly see-through."""
    kind = rng.uniform()
    if kind < 0.5:
        colour = rng.uniform(170, 245, 3)
    elif kind < 0.8:
        colour = rng.uniform(10, 80, 3)
    else:
        colour = rng.uniform(0, 255, 3)
    alpha = rng.uniform(0.8, 0.97)
    region = canvas[y0:y1, x0:x1]
    region[:] = region * (1 - alpha) + colour.astype(np.float32) * alpha


def _draw(rng: np.random.Generator, canvas: np.ndarray, word: dict, x: int, y: int) -> list[int]:
    """Paint ``word`` with its top-left padded-box corner at (x, y); returns its box [x0, y0, x1, y1]."""
    mask, pad = word["mask"], word["pad"]
    fh, fw = mask.shape
    box = [x, y, x + fw + 2 * pad, y + fh + 2 * pad]
    under = canvas[box[1]:box[3], box[0]:box[2]].reshape(-1, 3).mean(axis=0)
    ink = _ink(rng, under, word["contrast"], word["colour"])
    alpha = mask * word["opacity"]
    if word["fade"] > 0:  # uneven print (thermal receipts, worn paint)
        alpha = alpha * (1 - word["fade"] * (0.5 + smooth_noise(rng, fw, fh, cell=max(4, fh // 2))))
    region = canvas[y + pad:y + pad + fh, x + pad:x + pad + fw]
    region[:] = region * (1 - alpha[..., None]) + ink[None, None, :] * alpha[..., None]
    return box


def _pen_mark(rng: np.random.Generator, canvas: np.ndarray, box: list[int], width: list[float]) -> None:
    """A hand-drawn ring around a word (as people mark receipts and forms, or a wire or branch crossing a
    sign); it grazes the letters. ``width``: its stroke width range, in word heights."""
    x0, y0, x1, y1 = box
    h = y1 - y0
    centre = (int(round((x0 + x1) / 2 + rng.uniform(-0.05, 0.05) * (x1 - x0))), int(round((y0 + y1) / 2 + rng.uniform(-0.15, 0.15) * h)))
    axes = (int(round((x1 - x0) * rng.uniform(0.45, 0.6))), int(round(h * rng.uniform(0.35, 0.6))))
    colour = tuple(float(v) for v in rng.choice([[20, 20, 30], [25, 40, 120], [110, 20, 20]]))
    thick = max(1, int(round(h * _uniform(rng, width))))
    cv2.ellipse(canvas, centre, axes, float(rng.uniform(-4, 4)), 0, 360, colour, thick, cv2.LINE_AA)


def _compose(rng: np.random.Generator, canvas_cfg: dict, words: list[dict], photos: list[dict],
             camera_cfg: dict) -> tuple[dict, list[dict]]:
    """Place as many of ``words`` as fit on one canvas; returns ({image, words}, the rest)."""
    w, h = canvas_cfg["size"]
    kind = canvas_cfg["background"]
    canvas = photo_background(rng, photos, w, h) if kind.startswith("photo") else paper_background(rng, w, h)
    x_off, area = 0, w
    if kind == "photo+paper":  # a sheet or receipt lying on the photographed scene, text on the sheet only
        area = int(round(w * _uniform(rng, canvas_cfg["paper_frac"])))
        x_off = int(rng.integers(0, w - area + 1))
        canvas[:, x_off:x_off + area] = paper_background(rng, area, h)
    shelf = Shelf(area, h, gap=canvas_cfg["gap"])
    placed, rest = [], []
    for word in words:
        fh, fw = word["mask"].shape
        bw, bh = fw + 2 * word["pad"], fh + 2 * word["pad"]
        margin = max(2, round(0.35 * fh)) if word["plate"] else 0
        pos = shelf.place(bw + 2 * margin, bh + 2 * margin)
        if pos is None:
            rest.append(word)
            continue
        x, y = pos[0] + x_off, pos[1]
        if word["plate"]:
            _plate(rng, canvas, x, y, x + bw + 2 * margin, y + bh + 2 * margin)
        box = _draw(rng, canvas, word, x + margin, y + margin)
        placed.append({"text": word["text"], "box": box, "font": word["font"], "ratio_drawn": word["ratio"],
                       "contrast": word["contrast"]})
    if not placed:
        raise ManifestError(f"mini recipe: a word does not fit a {w}x{h} canvas; lower its scale")
    for word in placed:
        if rng.uniform() < canvas_cfg["style"].get("pen_p", 0.0):
            _pen_mark(rng, canvas, word["box"], canvas_cfg["style"]["pen_width"])
    canvas *= shading(rng, w, h, _uniform(rng, canvas_cfg["shading"]))[..., None]
    return {"image": camera(rng, canvas, camera_cfg), "words": placed}, rest


def text_canvases(recipe: dict, rng: np.random.Generator, recipe_dir: Path) -> list[dict]:
    """Render the recipe's words onto photo and paper canvases; returns [{image, words}] before OCR curation."""
    tcfg = recipe["text"]
    pool = (recipe_dir / tcfg["words_file"]).read_text().split()
    by_canvas: dict[str, list[dict]] = {}
    for lo, hi, name, count in tcfg["intervals"]:
        canvas = tcfg["canvases"][name]
        for _ in range(count):
            ratio = math.exp(rng.uniform(math.log(lo), math.log(hi)))
            by_canvas.setdefault(name, []).append(sample_word(rng, pool, tcfg, canvas, ratio))
    out = []
    for name, words in by_canvas.items():
        cfg = tcfg["canvases"][name]
        words = [words[i] for i in rng.permutation(len(words))]
        while words:
            made, words = _compose(rng, cfg, words, recipe["photos"], recipe["camera"])
            out.append(made)
    return out
