"""OCR backend ``parseq``: docTR's PARSeq recognizer, called as TokBench's eval_text.py calls it.

TokBench builds ``doctr.models.recognition.parseq(pretrained=True, input_shape=(3, 32, 128),
vocab=VOCABS["french"])``, resizes each RGB word crop (a [0, 1] tensor) to 32x128 keeping its aspect
ratio (``doctr.transforms.Resize(..., preserve_aspect_ratio=True)``, padding bottom/right), normalises
with the model's mean/std and takes ``model(x, return_preds=True)["preds"]``. This backend does the
same. Needs ``pip install "python-doctr[torch]"`` (which also installs torchvision; tfbench itself does
not depend on it). The weights are downloaded once into ``$TFBENCH_CACHE/doctr/models`` by tfbench (timeouts,
retries), checked against the sha256 prefix docTR names the file by, before docTR loads them.
"""
from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from tfbench.cache import cache_dir
from tfbench.downloads import Pin, cached_download, require_host
from tfbench.errors import MissingWeightsError
from tfbench.metrics.text import OcrBackend

INPUT_SIZE = (32, 128)
VOCAB = "french"


def doctr_cache() -> str:
    return str(cache_dir() / "doctr")


def doctr_pin(url: str) -> tuple[str, Pin]:
    """(file name, pin) of a docTR weights URL, as docTR's ``download_from_url`` names and checks the file:
    ``.../parseq-56125471.pt&src=0`` -> ``parseq-56125471.pt``, whose sha256 starts with ``56125471``."""
    name = url.rpartition("/")[-1].split("&")[0]
    match = re.search(r"-([a-f0-9]{8,})\.", name)
    return name, Pin(url, sha256_prefix=match.group(1) if match else None)


class ParseqBackend(OcrBackend):
    """docTR PARSeq (TokBench's OCR), CPU or GPU, batched."""

    name = "parseq"

    def __init__(self, threads: int = 2, batch_size: int = 64, device: str = "cpu") -> None:
        os.environ.setdefault("DOCTR_CACHE_DIR", doctr_cache())  # read by docTR when it downloads
        try:
            if importlib.util.find_spec("doctr") is None:  # say so before paying for the torch import
                raise ImportError("No module named 'doctr'")
            import torch
            from doctr import transforms as T
            from doctr.datasets import VOCABS
            from doctr.models import recognition
        except ImportError as exc:
            raise MissingWeightsError(
                f"the `parseq` OCR backend needs docTR ({exc}): pip install \"python-doctr[torch]\" into this "
                f"environment (it brings torchvision), or use --ocr rapidocr") from exc
        torch.set_num_threads(int(threads))
        self._torch = torch
        url = "the `parseq` weights named in doctr.models.recognition.parseq default_cfgs"
        try:
            from doctr.models.recognition.parseq.pytorch import default_cfgs

            url = default_cfgs["parseq"]["url"]
        except (ImportError, KeyError):  # pragma: no cover - layout of other docTR versions
            pass
        folder = Path(os.environ["DOCTR_CACHE_DIR"]) / "models"
        manual = (f"Download {url} on a machine with network and put it in {folder}/ (or set DOCTR_CACHE_DIR "
                  f"to a folder whose models/ holds it).")
        if url.startswith("http"):  # fetched here, so docTR finds it cached and never downloads itself
            name, pin = doctr_pin(url)
            if not (folder / name).is_file():
                require_host("doctr-static.mindee.com", "the docTR PARSeq weights", manual)
            cached_download(pin, folder / name, what="the docTR PARSeq weights", manual=manual)
        try:
            model = recognition.parseq(pretrained=True, input_shape=(3, *INPUT_SIZE), vocab=VOCABS[VOCAB])
        except OSError as exc:  # URLError and friends
            raise MissingWeightsError(f"loading the docTR PARSeq weights failed ({exc}); put {url} in {folder}/") from exc
        self.device = device
        self._model = model.eval().to(device)
        self._resize = T.Resize(INPUT_SIZE, preserve_aspect_ratio=True)
        self._mean = torch.tensor(model.cfg["mean"]).view(3, 1, 1)
        self._std = torch.tensor(model.cfg["std"]).view(3, 1, 1)
        self.batch_size = batch_size

    @property
    def version(self) -> str:
        from importlib.metadata import version

        return f"docTR {version('python-doctr')} parseq (vocab {VOCAB}, input {INPUT_SIZE[0]}x{INPUT_SIZE[1]})"

    def _tensor(self, crop: np.ndarray) -> Any:
        x = self._torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1).float() / 255.0
        return (self._resize(x) - self._mean) / self._std

    def recognize(self, crops: Sequence[np.ndarray]) -> list[str]:
        out: list[str] = []
        with self._torch.inference_mode():
            for i in range(0, len(crops), self.batch_size):
                batch = self._torch.stack([self._tensor(c) for c in crops[i:i + self.batch_size]]).to(self.device)
                preds = self._model(batch, return_preds=True)["preds"]
                out += [str(word) for word, _conf in preds]
        return out
