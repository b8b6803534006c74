"""Text metric: OCR of ground-truth word crops of the reconstruction -> T-ACC and T-NED."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence

import numpy as np
from rapidfuzz.distance import Levenshtein

from tfbench.metrics.backends import OCR_GROUP, BackendRegistry
from tfbench.metrics.registry import get_metric, metrics_for


def word_accuracy(gt: str, pred: str) -> float:
    """T-ACC of one word: 1 for an exact, case-sensitive match."""
    return 1.0 if gt == pred else 0.0


def normalized_edit_similarity(gt: str, pred: str) -> float:
    """T-NED of one word: 1 - Levenshtein(gt, pred) / max(len(gt), len(pred))."""
    longest = max(len(gt), len(pred))
    return 1.0 if longest == 0 else 1.0 - Levenshtein.distance(gt, pred) / longest


class OcrBackend(ABC):
    """A text recognizer: RGB uint8 word crops -> strings."""

    name: str = ""
    concurrent: bool = False  # recognize() may be called from several threads at once (the run scores in parallel)

    @property
    def version(self) -> str:
        return ""

    @abstractmethod
    def recognize(self, crops: Sequence[np.ndarray]) -> list[str]:
        ...


class RapidOcrBackend(OcrBackend):
    """PP-OCRv6 small recognizer from the rapidocr wheel, called as the recognition stage alone.

    Calling ``RapidOCR(...)(img, use_det=False)`` would first upscale crops under 30 px and round
    both sides to multiples of 32 (see shared NOTES); the recognizer stage keeps the aspect ratio.
    It runs as :class:`tfbench.metrics.ppocr_rec.PpOcrRecognizer`: rapidocr's recognition stage repeated
    without importing rapidocr (same readings, tested), which saves 1.4 s of CPU per run.
    """

    name = "rapidocr"
    concurrent = True  # onnxruntime sessions run concurrently; the recognizer keeps no per-call state

    def __init__(self, threads: int = 2, batch_size: int = 1) -> None:
        from tfbench.metrics.ppocr_rec import PpOcrRecognizer

        self._rec = PpOcrRecognizer(threads=threads)
        self.threads = threads
        self.batch_size = batch_size

    @property
    def version(self) -> str:
        from importlib.metadata import version

        return f"rapidocr {version('rapidocr')} PP-OCRv6 rec small"

    def input_width(self, crop: np.ndarray) -> int:
        """Width of the padded model input for this crop alone (height 48, at least the default 320)."""
        return self._rec.input_width(crop)

    def recognize(self, crops: Sequence[np.ndarray]) -> list[str]:
        if not crops:
            return []
        bgr = [np.ascontiguousarray(c[..., ::-1]) for c in crops]
        if self.batch_size <= 1:
            return self._rec(bgr)
        # Batch only crops whose padded input has the same width: each then gets exactly the input it
        # would get alone (the recognizer pads a batch to its widest crop, which can change readings).
        groups: dict[int, list[int]] = {}
        for i, c in enumerate(bgr):
            groups.setdefault(self.input_width(c), []).append(i)
        preds: dict[int, str] = {}
        for idx in groups.values():
            preds.update(zip(idx, self._rec([bgr[i] for i in idx], self.batch_size)))
        return [preds[i] for i in range(len(bgr))]


OCR_BACKENDS = BackendRegistry(OCR_GROUP, {
    "rapidocr": "tfbench.metrics.text:RapidOcrBackend",
    "parseq": "tfbench.metrics.ocr_parseq:ParseqBackend",
    "paddleocr": "tfbench.metrics.ocr_paddle:PaddleOcrBackend",
}, "OCR backend")


def create_ocr_backend(name: str = "rapidocr", **kwargs) -> OcrBackend:
    """The OCR backend registered as ``name`` (built-in or from the ``tfbench.ocr_backends`` entry points)."""
    return OCR_BACKENDS.create(name, **kwargs)


class TextScorer:
    """Scores reconstructed word crops against their transcriptions."""

    infos = (get_metric("t_acc"), get_metric("t_ned"))
    lower_better = False
    score_range = (0.0, 1.0)

    def __init__(self, backend: str | OcrBackend = "rapidocr", **backend_kwargs) -> None:
        self.backend = backend if isinstance(backend, OcrBackend) else create_ocr_backend(backend, **backend_kwargs)

    def score(self, crops: Sequence[np.ndarray], texts: Sequence[str]) -> list[dict]:
        """-> per word {pred, and every registered metric computed from the reading (t_acc, t_ned, ...)}."""
        if len(crops) != len(texts):
            raise ValueError(f"{len(crops)} crops for {len(texts)} transcriptions")
        preds = self.backend.recognize(crops)
        derived = [(m.key, m.compute_fn()) for m in metrics_for("text", inputs="reading")]
        return [{"pred": p, **{key: float(fn(g, p)) for key, fn in derived}} for g, p in zip(texts, preds)]

    def describe(self) -> dict:
        return {"backend": self.backend.name, "version": self.backend.version}
