"""Face backend ``arcface``: the insightface ``antelopev2`` recognition model, as TokBench's eval_face.py.

TokBench calls ``FaceAnalysis(name="antelopev2").models["recognition"].get(img_bgr, Face(kps=kps))``:
``norm_crop`` to 112x112 with the 5 landmarks, then the ArcFace ONNX (glintr100). This backend runs the
same two steps with insightface's own ``norm_crop`` and ``ArcFaceONNX``. The pack is looked up in
``$TFBENCH_ARCFACE_DIR``, ``$TFBENCH_CACHE/insightface/models/antelopev2`` and
``~/.insightface/models/antelopev2``; when absent the pack (insightface's v0.7 release, pinned by its
sha256) is downloaded once into the tfbench cache and unpacked there.
"""
from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np

from tfbench.cache import cache_dir
from tfbench.downloads import Pin, download, require_host
from tfbench.errors import MissingWeightsError
from tfbench.metrics.face import FaceEmbedder
from tfbench.metrics.ort import load_onnxruntime

PACK = "antelopev2"
RECOGNITION_FILE = "glintr100.onnx"
PACK_URL = "https://github.com/deepinsight/insightface/releases/download/v0.7/antelopev2.zip"
# The release asset's sha256 and size, as pinned by several independent projects that download it.
PACK_PIN = Pin(PACK_URL, sha256="8e182f14fc6e80b3bfa375b33eb6cff7ee05d8ef7633e738d1c89021dcf0c5c5", size=360_662_982)


def pack_dirs() -> list[Path]:
    dirs = [Path(os.environ["TFBENCH_ARCFACE_DIR"]).expanduser()] if os.environ.get("TFBENCH_ARCFACE_DIR") else []
    return dirs + [cache_dir() / "insightface" / "models" / PACK, Path.home() / ".insightface" / "models" / PACK]


def find_recognition_model() -> Path | None:
    for d in pack_dirs():
        if d.is_dir():
            hits = sorted(d.rglob(RECOGNITION_FILE))  # the zip unpacks to antelopev2/antelopev2/ on some versions
            if hits:
                return hits[0]
    return None


def download_pack(pin: Pin = PACK_PIN) -> Path:
    """Download the pinned pack once, unpack it into the tfbench cache, return its recognition model."""
    where = cache_dir() / "insightface" / "models" / PACK
    manual = (f"Download {pin.url} on a machine with network and unzip it so that {where}/{RECOGNITION_FILE} "
              f"exists (or set TFBENCH_ARCFACE_DIR to the unzipped folder).")
    if pin.url.startswith("https://github.com/"):
        require_host("github.com", f"the insightface {PACK} pack ({RECOGNITION_FILE})", manual)
    archive = download(pin, where.parent / f".{PACK}.zip", what=f"the insightface {PACK} pack", manual=manual,
                       timeout=60)
    try:
        unpack(archive, where)
    finally:
        archive.unlink(missing_ok=True)
    found = find_recognition_model()
    if found is None:
        raise MissingWeightsError(f"{where} holds no {RECOGNITION_FILE} after the download; unzip {pin.url} there")
    return found


def unpack(archive: Path, folder: Path) -> None:
    """Extract a zip into ``folder``, refusing entries that would land outside it."""
    folder.mkdir(parents=True, exist_ok=True)
    root = folder.resolve()
    with zipfile.ZipFile(archive) as zf:
        for name in zf.namelist():
            if not (root / name).resolve().is_relative_to(root):
                raise MissingWeightsError(f"{archive}: entry {name!r} points outside {folder}; not unpacked")
        zf.extractall(folder)


class ArcFaceEmbedder(FaceEmbedder):
    """insightface antelopev2 ArcFace (glintr100, 512-D), aligned by insightface's norm_crop."""

    name = "arcface"
    threshold = 0.38
    threshold_source = ("insightface deploy/test.py default squared-L2 threshold 1.24 on unit embeddings "
                        "(= cosine 0.38, deepinsight/insightface#1106); not tuned for antelopev2")

    def __init__(self, threads: int = 2, model_file: str | None = None, batch_size: int = 32) -> None:
        path = Path(model_file) if model_file else (find_recognition_model() or download_pack())
        if not path.is_file():
            raise MissingWeightsError(f"{path} not found (an insightface ArcFace recognition ONNX, e.g. "
                                      f"{PACK}/{RECOGNITION_FILE} from {PACK_URL})")
        ort = load_onnxruntime()
        from insightface.model_zoo.arcface_onnx import ArcFaceONNX
        from insightface.utils import face_align

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(threads)
        opts.inter_op_num_threads = 1
        try:
            session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            self._model = ArcFaceONNX(model_file=str(path), session=session)
        except Exception as exc:  # onnxruntime/onnx raise their own types for a damaged file
            raise MissingWeightsError(f"cannot load {path} ({type(exc).__name__}: {str(exc)[:200]}); the file is damaged "
                                      f"or not an ArcFace ONNX: delete it and unzip {PACK_URL} again") from exc
        self._align = face_align.norm_crop
        self.path = path
        self.batch_size = batch_size

    @property
    def version(self) -> str:
        from importlib.metadata import version

        return f"insightface {version('insightface')} {PACK}/{self.path.name} (norm_crop 112)"

    def embed(self, images: Sequence[np.ndarray], landmarks: Sequence[np.ndarray]) -> np.ndarray:
        size = self._model.input_size[0]
        aligned = [self._align(np.ascontiguousarray(img[..., ::-1]), landmark=np.asarray(lm, dtype=np.float32),
                               image_size=size) for img, lm in zip(images, landmarks)]
        if not aligned:
            return np.zeros((0, 512), dtype=np.float32)
        feats = np.concatenate([np.asarray(self._model.get_feat(aligned[i:i + self.batch_size]), dtype=np.float32)
                                for i in range(0, len(aligned), self.batch_size)])
        return feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
