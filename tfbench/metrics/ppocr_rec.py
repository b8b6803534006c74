"""RapidOCR's recognition stage (rapidocr 3.10 ``TextRecognizer``) on the PP-OCRv6 small model of its wheel,
without importing the ``rapidocr`` package.

Importing rapidocr parses its 85 kB model table twice with OmegaConf: 1.4 s of CPU, held under the GIL,
at the start of every run (the default run's whole OCR costs about 24 s). This module repeats what the
recognition stage does for one crop or a batch of crops of one input width, operation for operation:
the same onnxruntime session options, the same resize and normalisation, the same greedy CTC decoding
with the model's own character list. ``tests/test_ppocr_rec.py`` compares its readings with rapidocr's
own ``TextRecognizer`` on every word crop of ``mini`` (originals and degraded reconstructions).
"""
from __future__ import annotations

import importlib.util
import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from tfbench.errors import TfbenchError
from tfbench.metrics.ort import load_onnxruntime

MODEL_FILE = "PP-OCRv6_rec_small.onnx"  # rapidocr 3.10's default recognizer (onnxruntime, PP-OCRv6, ch, small)
INPUT_SHAPE = (3, 48, 320)  # rapidocr config.yaml: Rec.rec_img_shape


def rapidocr_model_path(filename: str = MODEL_FILE) -> Path:
    """The ONNX file inside the installed rapidocr wheel (found without importing the package)."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise TfbenchError("the rapidocr package is missing: pip install rapidocr==3.10.0")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / filename
    if not path.is_file():
        raise TfbenchError(f"{path} is missing: the rapidocr wheel ships it; reinstall rapidocr==3.10.0")
    return path


def ort_session(path: Path, threads: int):
    """An onnxruntime session with rapidocr's options (log level 4, no CPU memory arena, every graph
    optimisation, ``threads`` intra-op and one inter-op thread) and an idle intra-op pool that sleeps."""
    ort = load_onnxruntime()

    options = ort.SessionOptions()
    options.log_severity_level = 4
    options.enable_cpu_mem_arena = False
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    cpus = os.cpu_count() or 1
    if 1 <= threads <= cpus:
        options.intra_op_num_threads = int(threads)
    options.inter_op_num_threads = 1
    # an idle intra-op thread sleeps instead of busy-waiting: same readings; on a busy 2-core machine the
    # OCR took half the CPU time and less than half the wall time
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers = [("CPUExecutionProvider", {"arena_extend_strategy": "kSameAsRequested"})]
    return ort.InferenceSession(str(path), sess_options=options, providers=providers)


class PpOcrRecognizer:
    """BGR uint8 word crops -> strings, as rapidocr's ``TextRecognizer`` reads them."""

    def __init__(self, threads: int = 1, model: Path | None = None) -> None:
        self.model = model or rapidocr_model_path()
        self.session = ort_session(self.model, threads)
        self.input_name = self.session.get_inputs()[0].name
        self.output_name = self.session.get_outputs()[0].name
        meta = self.session.get_modelmeta().custom_metadata_map
        if "character" not in meta:
            raise TfbenchError(f"{self.model} carries no character list; it is not a PP-OCR recognizer")
        self.characters = ["blank", *meta["character"].splitlines(), " "]  # CTC blank first, space last

    def input_width(self, crop: np.ndarray) -> int:
        """Width of the padded model input for this crop alone (height 48, at least 320; an empty crop's
        height counts as 1)."""
        _, height, width = INPUT_SHAPE
        return int(height * max(width / height, crop.shape[1] * 1.0 / max(crop.shape[0], 1)))

    def normalized(self, crop: np.ndarray, max_wh_ratio: float) -> np.ndarray:
        """rapidocr's ``resize_norm_img``: height 48 keeping the aspect ratio, [-1, 1], zero padding."""
        import cv2

        channels, height, _ = INPUT_SHAPE
        if crop.ndim != 3 or crop.shape[2] != channels:
            raise ValueError(f"a word crop must be H x W x 3, got {crop.shape}")
        width = int(height * max_wh_ratio)
        h, w = crop.shape[:2]
        ratio = w / float(h)
        resized_w = width if math.ceil(height * ratio) > width else int(math.ceil(height * ratio))
        resized = cv2.resize(crop, (resized_w, height)).astype("float32")
        resized = resized.transpose((2, 0, 1)) / 255
        resized -= 0.5
        resized /= 0.5
        padded = np.zeros((channels, height, width), dtype=np.float32)
        padded[:, :, 0:resized_w] = resized
        return padded

    def decode(self, preds: np.ndarray) -> list[str]:
        """Greedy CTC: best class per step, repeats merged, blanks dropped."""
        texts = []
        for steps in preds.argmax(axis=2):
            keep = np.ones(len(steps), dtype=bool)
            keep[1:] = steps[1:] != steps[:-1]
            keep &= steps != 0
            texts.append("".join(self.characters[i] for i in steps[keep]))
        return texts

    def __call__(self, crops: Sequence[np.ndarray], batch_size: int = 1) -> list[str]:
        """Read BGR crops: in order of width ratio, ``batch_size`` at a time, each batch padded to its
        widest crop (as rapidocr does; callers that need one-crop inputs batch crops of one width)."""
        if not crops:
            return []
        ratios = [c.shape[1] / float(c.shape[0]) for c in crops]
        order = np.argsort(np.array(ratios))
        texts: list[str] = [""] * len(crops)
        _, height, width = INPUT_SHAPE
        for start in range(0, len(crops), max(1, batch_size)):
            idx = order[start:start + max(1, batch_size)]
            max_ratio = max([width / height] + [crops[i].shape[1] * 1.0 / crops[i].shape[0] for i in idx])
            batch = np.concatenate([self.normalized(crops[i], max_ratio)[np.newaxis, :] for i in idx]).astype(np.float32)
            preds = self.session.run([self.output_name], {self.input_name: batch})[0]
            for i, text in zip(idx, self.decode(preds)):
                texts[i] = text
        return texts
