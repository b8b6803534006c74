"""Text metric: OCR of ground-truth word crops of the reconstruction -> T-ACC and T-NED."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence

import numpy as np
from rapidfuzz.distance import Levenshtein

from tfbench.errors import TfbenchError
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


def sleep_when_idle(ort_infer_session) -> None:
    """Rebuild RapidOCR's onnxruntime session with ``allow_spinning=0``: its idle intra-op thread sleeps
    instead of busy-waiting. The readings are the same; on a busy 2-core machine the OCR took half the CPU
    time and less than half the wall time (spinning threads fight the other work for the cores)."""
    import onnxruntime as ort

    session = getattr(ort_infer_session, "session", None)
    path = getattr(session, "_model_path", None)
    if session is None or not path:
        return  # another rapidocr layout: keep its session as it is
    options = session.get_session_options()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    ort_infer_session.session = ort.InferenceSession(path, sess_options=options, providers=session.get_providers())


class RapidOcrBackend(OcrBackend):
    """PP-OCRv6 small recognizer from the rapidocr wheel, called as the recognition stage alone.

    Calling ``RapidOCR(...)(img, use_det=False)`` would first upscale crops under 30 px and round
    both sides to multiples of 32 (see shared NOTES); the recognizer stage keeps the aspect ratio.
    """

    name = "rapidocr"
    concurrent = True  # onnxruntime sessions run concurrently; the recognizer keeps no per-call state

    def __init__(self, threads: int = 2, batch_size: int = 1) -> None:
        try:
            from rapidocr import RapidOCR
            from rapidocr.ch_ppocr_rec import TextRecInput
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise TfbenchError("the rapidocr package is missing: pip install rapidocr==3.10.0") from exc
        engine = RapidOCR(params={
            "Global.log_level": "error",
            "EngineConfig.onnxruntime.intra_op_num_threads": int(threads),
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            "Rec.rec_batch_num": int(batch_size),
        })
        self._rec = engine._load_rec_model()  # recognition stage only (public TextRecognizer object)
        sleep_when_idle(self._rec.session)
        self._input = TextRecInput
        self.threads = threads
        self.batch_size = batch_size

    @property
    def version(self) -> str:
        from importlib.metadata import version

        return f"rapidocr {version('rapidocr')} PP-OCRv6 rec small"

    def input_width(self, crop: np.ndarray) -> int:
        """Width of the padded model input for this crop alone (height 48, at least the default 320)."""
        _, height, width = self._rec.rec_image_shape[:3]
        return int(height * max(width / height, crop.shape[1] / max(crop.shape[0], 1)))

    def recognize(self, crops: Sequence[np.ndarray]) -> list[str]:
        if not crops:
            return []
        bgr = [np.ascontiguousarray(c[..., ::-1]) for c in crops]
        if self.batch_size <= 1:
            return [str(t) for t in self._rec(self._input(img=bgr)).txts]
        # Batch only crops whose padded input has the same width: each then gets exactly the input it
        # would get alone (the recognizer pads a batch to its widest crop, which can change readings).
        groups: dict[int, list[int]] = {}
        for i, c in enumerate(bgr):
            groups.setdefault(self.input_width(c), []).append(i)
        preds: dict[int, str] = {}
        for idx in groups.values():
            preds.update(zip(idx, map(str, self._rec(self._input(img=[bgr[i] for i in idx])).txts)))
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
