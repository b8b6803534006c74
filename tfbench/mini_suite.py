"""Writes a generated image suite (mini v1, v2): keeps the words the OCR reads on the original, saves the
canvases as PNG and writes manifest.json, identically for the same canvases (byte-for-byte builds)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Iterable

import numpy as np
from PIL import Image

from tfbench.buckets import face_ratio, text_ratio
from tfbench.crops import crop_box
from tfbench.images import sha256_of
from tfbench.manifest import SCHEMA


def recipe_key(recipe: dict, generator_version: str) -> str:
    """Short hash of a recipe and its generator version: names the suite's cache folder."""
    blob = json.dumps(recipe, sort_keys=True).encode() + generator_version.encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def _save_png(image: np.ndarray, path: Path) -> str:
    Image.fromarray(image).save(path, optimize=False, compress_level=6)
    return sha256_of(path)


def write_suite(dest: Path, recipe: dict, generator_version: str, text: Iterable[dict], faces: Iterable[dict],
                ocr: Any, build_extra: dict | None = None) -> Path:
    """``text``: canvases ``{image, words: [{text, box}]}``; ``faces``: ``{image, faces: [{box, landmarks,
    identity}]}``. Words the OCR does not read exactly on the canvas are dropped (and counted)."""
    dest.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    dropped = 0
    for k, item in enumerate(text):
        image = item["image"]
        scores = ocr.score([crop_box(image, wd["box"]) for wd in item["words"]], [wd["text"] for wd in item["words"]])
        kept = [wd for wd, s in zip(item["words"], scores) if s["t_acc"] == 1.0]
        dropped += len(item["words"]) - len(kept)
        name = f"text_{k:02d}.png"
        digest = _save_png(image, dest / name)
        h, w = image.shape[:2]
        records.append({"id": f"text_{k:02d}", "file": name, "width": w, "height": h, "subset": "text",
                        "sha256": digest,
                        "words": [{"text": wd["text"], "box": wd["box"],
                                   "ratio": round(text_ratio(wd["box"][2] - wd["box"][0], wd["box"][3] - wd["box"][1], len(wd["text"]), w), 6)}
                                  for wd in kept]})
    for k, item in enumerate(faces):
        image = item["image"]
        name = f"face_{k:02d}.png"
        digest = _save_png(image, dest / name)
        h, w = image.shape[:2]
        for f in item["faces"]:
            f["ratio"] = round(face_ratio(f["box"][2] - f["box"][0], f["box"][3] - f["box"][1], w), 6)
        records.append({"id": f"face_{k:02d}", "file": name, "width": w, "height": h, "subset": "face",
                        "sha256": digest, "faces": item["faces"]})
    manifest = {
        "schema": SCHEMA, "name": recipe["name"], "version": recipe["version"], "modality": "image",
        "license": recipe["license"], "citation": recipe["citation"], "description": recipe["description"],
        "resolutions": ["256", "512", "1024", "native"],
        "build": {"recipe_key": recipe_key(recipe, generator_version), "generator": generator_version,
                  "ocr": ocr.describe(), "words_dropped_unreadable_on_original": dropped, **(build_extra or {})},
        "images": records,
    }
    path = dest / "manifest.json"
    path.write_text(json.dumps(manifest, indent=1))
    return path
