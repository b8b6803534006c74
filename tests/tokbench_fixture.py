"""Builds a small folder in the exact TokBench layout from rendered words and a real photo of faces.

Text: for each of the 8 text sets, one 480x320 image with 6 words rendered (DejaVu Sans, shipped with
matplotlib) at sizes spanning the 256 buckets; one word per image is given as a 4x2 polygon, and the
ic13 image has one box that overshoots the right border by 3 px. Faces: insightface's ``t1.jpg``
(6 real faces) as shipped and three crops around single faces (large to small ratios), with
landmarks and boxes from YuNet.
Ratios are computed with the TokBench definitions and written into the annotations, as TokBench does.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tfbench.buckets import face_ratio, text_ratio
from tfbench.datasets.tokbench import TEXT_SETS
from tfbench.images import load_rgb
from tfbench.mini import package_file

WORDS = [("STOP", 64), ("Hello", 40), ("Total", 30), ("12.50", 24), ("Cafe", 18), ("tiny", 9)]


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(package_file("matplotlib", "mpl-data/fonts/ttf/DejaVuSans.ttf")), size)


def _text_image(k: int) -> tuple[Image.Image, list[dict]]:
    w, h = 480, 320
    img = Image.new("RGB", (w, h), (245 - 10 * k, 240, 230))
    draw = ImageDraw.Draw(img)
    anns, y = [], 8
    for j, (word, size) in enumerate(WORDS):
        font = _font(size)
        x = 12 + 9 * k
        x0, y0, x1, y1 = draw.textbbox((x, y), word, font=font)
        draw.text((x, y), word, font=font, fill=(20, 20, 30))
        box = [x0 - 3, y0 - 3, x1 + 3, y1 + 3]
        ann = {"rec": word, "bbox": box, "ratio": text_ratio(box[2] - box[0], box[3] - box[1], len(word), w)}
        if j == 1:  # polygon form (clockwise from top-left)
            ann["bbox"] = [[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]]
        anns.append(ann)
        y = y1 + 12
    return img, anns


def build_tokbench(root: Path) -> dict:
    """Write the fixture; returns counts for the tests."""
    (root / "annotations").mkdir(parents=True)
    n_words = 0
    for k, name in enumerate(TEXT_SETS):
        folder = root / "images" / "text_data" / name
        folder.mkdir(parents=True)
        img, anns = _text_image(k)
        file_name = f"{name}_0001.jpg"
        img.save(folder / file_name, quality=95)
        if name == "ic13":
            anns[0]["bbox"][2] = img.width + 3  # overshoots: the importer clips and counts it
        n_words += len(anns)
        (root / "annotations" / f"text_{name}.json").write_text(json.dumps(
            [{"file_name": file_name, "height": img.height, "width": img.width, "annotations": anns}], indent=1))
    from tfbench.metrics.face import YuNetDetector

    faces_dir = root / "images" / "face_data"
    faces_dir.mkdir(parents=True)
    photo = Image.open(package_file("insightface", "data/images/t1.jpg")).convert("RGB")
    first = YuNetDetector().detect(np.asarray(photo))
    views = [("t1.jpg", photo)]
    for k, margin in enumerate((0.9, 1.6, 3.0)):  # tight to loose crops around single faces: large to small ratios
        x0, y0, x1, y1 = first[k]["box"]
        cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * margin
        views.append((f"t1_face{k}.jpg", photo.crop((int(max(cx - half, 0)), int(max(cy - half, 0)),
                                                     int(min(cx + half, photo.width)), int(min(cy + half, photo.height))))))
    meta, n_faces, overshoot = [], 0, 1  # 1: the ic13 word
    for name, im in views:
        im.save(faces_dir / name, quality=95)
        dets = YuNetDetector().detect(load_rgb(faces_dir / name))
        faces = [{"kps": np.round(d["landmarks"], 2).tolist(), "box": [round(v, 2) for v in d["box"]],
                  "ratio": face_ratio(d["box"][2] - d["box"][0], d["box"][3] - d["box"][1], im.width), "gt": 1}
                 for d in dets if (d["landmarks"] >= 0).all() and (d["landmarks"] < [im.width, im.height]).all()]
        n_faces += len(faces)
        overshoot += sum(1 for f in faces if min(f["box"][:2]) < 0 or f["box"][2] > im.width or f["box"][3] > im.height)
        meta.append({"image_name": name, "img_height": im.height, "img_width": im.width, "faces": faces})
    (root / "annotations" / "face_meta.json").write_text(json.dumps(meta, indent=1))
    return {"text_images": len(TEXT_SETS), "words": n_words, "face_images": len(views), "faces": n_faces,
            "clipped": overshoot}
