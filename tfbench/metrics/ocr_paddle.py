"""OCR backend ``paddleocr``: the PaddleOCR package's text recognizer on each word crop (when installed).

PaddleOCR 3.x: ``paddleocr.TextRecognition(model_name=...)`` (recognition stage alone, like the default
backend); 2.x: ``PaddleOCR(...).ocr(crop, det=False, cls=False)``. Needs ``pip install paddleocr
paddlepaddle``; its models are downloaded by PaddleOCR on first use into its own cache, by its own
downloader (tfbench sets no process-wide socket timeout for it).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tfbench.errors import MissingWeightsError
from tfbench.metrics.text import OcrBackend

DEFAULT_MODEL = "PP-OCRv5_server_rec"


class PaddleOcrBackend(OcrBackend):
    name = "paddleocr"

    def __init__(self, threads: int = 2, model_name: str = DEFAULT_MODEL, batch_size: int = 16) -> None:
        try:
            import paddleocr
        except ImportError as exc:
            raise MissingWeightsError(f"the `paddleocr` OCR backend needs PaddleOCR ({exc}): pip install paddleocr "
                                      f"paddlepaddle, or use --ocr rapidocr") from exc
        self._paddle: Any = paddleocr
        self.batch_size = batch_size
        self.model_name = model_name
        try:
            if hasattr(paddleocr, "TextRecognition"):  # 3.x
                self._rec = paddleocr.TextRecognition(model_name=model_name, cpu_threads=int(threads))
                self._api = 3
            else:  # 2.x
                self._rec = paddleocr.PaddleOCR(use_angle_cls=False, lang="en", show_log=False,
                                                cpu_threads=int(threads))
                self._api = 2
        except OSError as exc:
            raise MissingWeightsError(f"PaddleOCR could not fetch its recognition model {model_name} ({exc}); run it "
                                      f"once with network so that it caches the model, then rerun") from exc

    @property
    def version(self) -> str:
        return f"paddleocr {getattr(self._paddle, '__version__', '?')} {self.model_name if self._api == 3 else 'en rec'}"

    def recognize(self, crops: Sequence[np.ndarray]) -> list[str]:
        bgr = [np.ascontiguousarray(c[..., ::-1]) for c in crops]
        if not bgr:
            return []
        if self._api == 3:
            return [str(r["rec_text"]) for r in self._rec.predict(input=bgr, batch_size=self.batch_size)]
        out = []
        for img in bgr:
            res = self._rec.ocr(img, det=False, cls=False)
            out.append(str(res[0][0][0]) if res and res[0] else "")
        return out
