"""ArcFace recognizer from a local insightface model pack (e.g. ``buffalo_l``), run with onnxruntime.

insightface is a dependency, but its model packs are downloads: tfbench never fetches them. Put an
unpacked pack in one of (first match wins)::

    <pack> given as a folder path
    $TFBENCH_CACHE/insightface/models/<pack>     (default cache: ~/.cache/tfbench)
    ~/.insightface/models/<pack>                 (where insightface itself unpacks them)

The recognition model is the pack's ``w600k_*.onnx`` (buffalo_l: ``w600k_r50.onnx``, buffalo_s/sc:
``w600k_mbf.onnx``) or any ``*arcface*.onnx``/``glint*.onnx`` file. Faces are aligned with insightface's
``norm_crop`` on the same 5 landmarks as every tfbench backend.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from tfbench.cache import cache_dir
from tfbench.errors import MissingWeightsError
from tfbench.metrics.face import FaceEmbedder

RECOGNITION_PATTERNS = ("w600k*.onnx", "*arcface*.onnx", "glint*.onnx")


def pack_dirs(pack: str) -> list[Path]:
    """Candidate folders for an insightface pack name or path, in search order."""
    p = Path(pack).expanduser()
    if p.is_absolute() or os.sep in pack:
        return [p]
    return [cache_dir() / "insightface" / "models" / pack, Path("~/.insightface/models").expanduser() / pack]


def find_recognition_model(pack: str) -> Path:
    tried = pack_dirs(pack)
    for folder in tried:
        for pattern in RECOGNITION_PATTERNS:
            found = sorted(folder.glob(pattern))
            if found:
                return found[0]
    raise MissingWeightsError(
        f"no ArcFace recognition model (w600k_*.onnx) for insightface pack {pack!r} in "
        f"{', '.join(map(str, tried))}; tfbench does not download it: unzip the pack (e.g. buffalo_l.zip from "
        f"the insightface releases) into one of these folders, or pass the folder as pack=/path/to/pack")


class ArcFaceEmbedder(FaceEmbedder):
    """insightface ArcFace (buffalo_l: ResNet-50 trained on WebFace600K), 512-D, cosine similarity."""

    name = "arcface"
    threshold = 0.4
    threshold_source = ("insightface 2.1 gui/core/constants.py DEFAULT_THRESHOLD = 0.4: cosine >= 0.4 is "
                        "'Same Person' in insightface.gui.core.recognition.compare_embeddings")

    def __init__(self, pack: str = "buffalo_l", threads: int = 2) -> None:
        self.model_file = find_recognition_model(pack)
        import onnxruntime
        from insightface.model_zoo.arcface_onnx import ArcFaceONNX

        opts = onnxruntime.SessionOptions()
        opts.intra_op_num_threads = int(threads)
        opts.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(str(self.model_file), opts, providers=["CPUExecutionProvider"])
        self._model = ArcFaceONNX(model_file=str(self.model_file), session=session)
        self.pack = pack

    @property
    def version(self) -> str:
        return f"insightface ArcFace {self.model_file.parent.name}/{self.model_file.name}"

    def embed(self, images: Sequence[np.ndarray], landmarks: Sequence[np.ndarray]) -> np.ndarray:
        from insightface.utils.face_align import norm_crop

        if not len(images):
            return np.zeros((0, 512), dtype=np.float32)
        size = int(self._model.input_size[0])
        aligned = [norm_crop(np.ascontiguousarray(img[..., ::-1]), np.asarray(lm, dtype=np.float32).reshape(5, 2), size)
                   for img, lm in zip(images, landmarks)]
        f = np.asarray(self._model.get_feat(aligned), dtype=np.float32).reshape(len(aligned), -1)
        return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)
