"""Per-instance rows (one scored word or face) taken from a run's records, with their crop pairs.

Crops are read through a ``CropReader`` (a run folder on disk or a validated submission zip) and kept
only when both files are real PNGs under the size limit, so the store never holds anything else. Video
records hold one clip each; their instances carry the 0-based ``frame`` they were scored on (-1 for images).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_CROP_BYTES = 2 * 1024 * 1024
MAX_CROP_SIDE = 4096

# relative path (e.g. "crops/text_00/w3.orig.png") -> bytes, or None when absent or refused
CropReader = Callable[[str], "bytes | None"]


@dataclass
class Instance:
    image: str
    kind: str  # "text" | "face"
    idx: int
    ratio: float | None
    gt: str | None = None
    pred: str | None = None
    t_acc: float | None = None
    t_ned: float | None = None
    f_sim: float | None = None
    f_kept: float | None = None
    psnr: float | None = None
    ssim: float | None = None
    crop: str | None = None
    orig_png: bytes | None = None
    recon_png: bytes | None = None
    frame: int = -1  # video: the frame the instance was scored on
    landmarks: str | None = None  # faces: JSON of the 5 landmarks relative to the crop (re-embedding)

    @property
    def scored(self) -> bool:
        return (self.t_acc if self.kind == "text" else self.f_sim) is not None

    @property
    def where(self) -> str:
        at = f" frame {self.frame}" if self.frame >= 0 else ""
        return f"{self.image}{at} {'word' if self.kind == 'text' else 'face'} {self.idx}"


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _text(value: Any, limit: int = 500) -> str | None:
    return None if value is None else str(value)[:limit]


def _landmarks(value: Any) -> str | None:
    """Five finite (x, y) pairs as compact JSON (full float precision), else None."""
    import json

    if (isinstance(value, list) and len(value) == 5
            and all(isinstance(p, list) and len(p) == 2 and all(_num(c) is not None for c in p) for p in value)):
        return json.dumps([[float(c) for c in p] for p in value])
    return None


def folder_reader(root: Path) -> CropReader:
    """Read crop files of a run folder; a path that leaves the folder (``..``, absolute, link) reads as None."""
    base = Path(root).resolve()

    def read(rel: str) -> bytes | None:
        target = (base / rel).resolve()
        if base not in target.parents or not target.is_file() or target.stat().st_size > MAX_CROP_BYTES:
            return None
        return target.read_bytes()

    return read


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk, without decoding; None if the bytes are not a PNG."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _png(data: bytes | None) -> bytes | None:
    """The bytes if they are a PNG within the byte and pixel limits (no decompression bombs in the viewer)."""
    if data is None or len(data) > MAX_CROP_BYTES:
        return None
    size = png_size(data)
    return data if size is not None and 0 < size[0] <= MAX_CROP_SIDE and 0 < size[1] <= MAX_CROP_SIDE else None


def latest_records(records: Iterable[Any]) -> list[dict[str, Any]]:
    """The last record of each image (a rerun appends), in image order; lines that are not records are dropped."""
    latest: dict[str, dict[str, Any]] = {}
    for rec in records:
        if isinstance(rec, dict) and "image" in rec:
            latest[str(rec["image"])] = rec
    return [latest[k] for k in sorted(latest)]


def _instance(image: str, kind: str, item: dict[str, Any]) -> Instance:
    frame = item.get("frame")
    return Instance(image=image[:300], kind=kind, idx=item["i"], ratio=_num(item.get("ratio")),
                    gt=_text(item.get("gt")), pred=_text(item.get("pred")),
                    t_acc=_num(item.get("t_acc")), t_ned=_num(item.get("t_ned")),
                    f_sim=_num(item.get("f_sim")), f_kept=_num(item.get("f_kept")),
                    psnr=_num(item.get("psnr")), ssim=_num(item.get("ssim")),
                    frame=frame if isinstance(frame, int) and not isinstance(frame, bool) and frame >= 0 else -1,
                    landmarks=_landmarks(item.get("crop_landmarks")) if kind == "face" else None)


def from_records(records: Iterable[dict[str, Any]], read_crop: CropReader | None = None) -> list[Instance]:
    """Scored instances of the latest record of each image (errors and skipped instances are left out)."""
    out: list[Instance] = []
    for rec in latest_records(records):
        if rec.get("status") != "ok":
            continue
        image = str(rec["image"])
        for kind, items in (("text", rec.get("words")), ("face", rec.get("faces"))):
            for item in items if isinstance(items, list) else []:
                if not isinstance(item, dict) or item.get("skipped") or not isinstance(item.get("i"), int):
                    continue
                inst = _instance(image, kind, item)
                crop = item.get("crop")
                if isinstance(crop, str) and read_crop is not None:
                    orig, recon = _png(read_crop(f"{crop}.orig.png")), _png(read_crop(f"{crop}.recon.png"))
                    if orig is not None and recon is not None:
                        inst.crop, inst.orig_png, inst.recon_png = crop[:300], orig, recon
                out.append(inst)
    return out
