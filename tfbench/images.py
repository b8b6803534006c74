"""Reading images with errors that name the file and what to do."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from tfbench.errors import ImageLoadError


def load_rgb(path: Path) -> np.ndarray:
    """Read an image file as uint8 RGB (H, W, 3)."""
    path = Path(path)
    if not path.is_file():
        raise ImageLoadError(f"image not found: {path} (check --data-root or the manifest's `file` field)")
    try:
        with Image.open(path) as im:
            im.load()
            return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageLoadError(f"cannot decode image {path}: {exc} (the file is corrupt or not an image; "
                             f"replace it or remove its record from the manifest)") from exc


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
