"""An expression classifier from a local folder holding one ONNX model (e.g. HSEmotion / EmotiEffLib).

The folder holds ``*.onnx`` and, optionally, ``expression.json`` describing its input and output::

    {"model": "enet_b0_8_best_afew.onnx",            # default: the folder's only .onnx file
     "labels": ["Anger", "Contempt", ...],           # one per output class, in output order (required)
     "size": 224,                                    # square input side, or [width, height]
     "color": "rgb",                                 # rgb | bgr | grey
     "layout": "nchw",                               # nchw | nhwc
     "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],   # applied to pixel / 255
     "output": "logits",                             # logits (softmax applied) | probabilities
     "extra_outputs": 0,                             # trailing outputs that are not classes (e.g. 2 for *_mtl)
     "crop_scale": 1.0,                              # square crop side = crop_scale x max(box w, h)
     "decided_margin": 0.0}                          # top-1 lead under which the original does not count
                                                     # (measure the model's noise floor to set it)

Without ``expression.json`` the HSEmotion ONNX files are recognised by name (``enet_b0_8_*``,
``enet_b2_8*``, ``enet_b2_7*``, ``*_mtl``), with the preprocessing of the ``hsemotion-onnx`` package:
RGB, resized to 224 (b0) or 260 (b2) with cv2.resize, ImageNet mean/std, NCHW, logits; 8 classes
(Anger, Contempt, Disgust, Fear, Happiness, Neutral, Sadness, Surprise) or 7 without Contempt. Nothing
is downloaded: put the model file in the folder yourself.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from tfbench.errors import TfbenchError
from tfbench.facecheck.expression import Box, ExpressionBackend, file_sha256, softmax, square_crop
from tfbench.metrics.ort import load_onnxruntime

CONFIG = "expression.json"
HSEMOTION_8 = ("Anger", "Contempt", "Disgust", "Fear", "Happiness", "Neutral", "Sadness", "Surprise")
HSEMOTION_7 = ("Anger", "Disgust", "Fear", "Happiness", "Neutral", "Sadness", "Surprise")
IMAGENET = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


def hsemotion_preset(model_file: str) -> dict[str, Any] | None:
    """The hsemotion-onnx preprocessing for one of its model files, or None for other names."""
    stem = Path(model_file).stem
    if not stem.startswith("enet_b"):
        return None
    seven = "_7" in stem
    return {"labels": list(HSEMOTION_7 if seven else HSEMOTION_8), "size": 224 if "_b0_" in stem else 260,
            "color": "rgb", "layout": "nchw", **IMAGENET, "output": "logits",
            "extra_outputs": 2 if "_mtl" in stem else 0, "crop_scale": 1.0,
            "source": "hsemotion-onnx preset (by file name)"}


class OnnxFolderBackend(ExpressionBackend):
    """An ONNX expression classifier from ``folder`` (see the module docstring for ``expression.json``)."""

    def __init__(self, folder: Path, threads: int = 2) -> None:
        ort = load_onnxruntime()

        folder = Path(folder)
        config_path = folder / CONFIG
        config: dict[str, Any] = {}
        if config_path.is_file():
            try:
                config = json.loads(config_path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise TfbenchError(f"cannot read {config_path}: {exc}") from exc
            if not isinstance(config, dict):
                raise TfbenchError(f"{config_path}: expected a JSON object")
        models = sorted(folder.glob("*.onnx"))
        if "model" in config:
            model = folder / str(config["model"])
        elif len(models) == 1:
            model = models[0]
        else:
            raise TfbenchError(f"{folder}: expected one .onnx expression model (found {len(models)}); name it in "
                               f"{CONFIG} as \"model\"")
        if not model.is_file():
            raise TfbenchError(f"{config_path}: model file {model} not found")
        if not config_path.is_file():
            config = hsemotion_preset(model.name) or {}
            if not config:
                raise TfbenchError(f"{folder}: no {CONFIG} describing {model.name} (labels, size, color, layout, "
                                   f"mean, std, output); see `tfbench face-check --help`")
        self.config = self._validated(config, config_path)
        self.model, self.sha256 = model, file_sha256(model)
        self.name = f"onnx:{model.stem}"
        self.labels = tuple(str(v) for v in self.config["labels"])
        self.decided_margin = float(self.config["decided_margin"])
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = int(threads), 1
        try:
            self.session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for bad files
            raise TfbenchError(f"cannot load the ONNX expression model {model}: {exc}") from exc
        self.input = self.session.get_inputs()[0]
        width, height = self.size
        expected = (3 if self.config["color"] != "grey" else 1, height, width)
        shape = tuple(self.input.shape[1:]) if self.config["layout"] == "nchw" else (
            self.input.shape[3], self.input.shape[1], self.input.shape[2])
        if len(self.input.shape) != 4 or any(isinstance(s, int) and s != e for s, e in zip(shape, expected)):
            raise TfbenchError(f"{model}: input {self.input.name} has shape {self.input.shape}, but {CONFIG} "
                               f"describes {self.config['layout']} {expected}")

    @staticmethod
    def _validated(config: dict[str, Any], where: Path) -> dict[str, Any]:
        c = {"color": "rgb", "layout": "nchw", "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0], "output": "logits",
             "extra_outputs": 0, "crop_scale": 1.0, "decided_margin": 0.0, **config}
        problems = []
        if not isinstance(c.get("labels"), list) or len(c["labels"]) < 2:
            problems.append("`labels` must list the output classes in order")
        if "size" not in c:
            problems.append("`size` (input side, or [width, height]) is required")
        if c["color"] not in ("rgb", "bgr", "grey"):
            problems.append("`color` must be rgb, bgr or grey")
        if c["layout"] not in ("nchw", "nhwc"):
            problems.append("`layout` must be nchw or nhwc")
        if not isinstance(c["decided_margin"], (int, float)) or not 0 <= c["decided_margin"] < 1:
            problems.append("`decided_margin` must be a number in [0, 1)")
        if c["output"] not in ("logits", "probabilities"):
            problems.append("`output` must be logits or probabilities")
        channels = 1 if c["color"] == "grey" else 3
        for key in ("mean", "std"):
            v = c[key]
            if not isinstance(v, list) or len(v) not in (1, channels) or not all(isinstance(x, (int, float)) for x in v):
                problems.append(f"`{key}` must be a list of 1 or {channels} numbers")
        if isinstance(c["std"], list) and any(isinstance(x, (int, float)) and x == 0 for x in c["std"]):
            problems.append("`std` must not contain 0")
        if problems:
            raise TfbenchError(f"{where}: " + "; ".join(problems))
        return c

    @property
    def size(self) -> tuple[int, int]:
        s = self.config["size"]
        return (int(s), int(s)) if isinstance(s, (int, float)) else (int(s[0]), int(s[1]))

    def preprocess(self, image: np.ndarray, box: Box) -> np.ndarray:
        crop = square_crop(image, box, float(self.config["crop_scale"]))
        color = self.config["color"]
        if color == "grey":
            crop = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)[..., None]
        elif color == "bgr":
            crop = crop[..., ::-1]
        x = cv2.resize(np.ascontiguousarray(crop), self.size).reshape(self.size[1], self.size[0], -1)
        x = (x.astype(np.float32) / 255.0 - np.float32(self.config["mean"])) / np.float32(self.config["std"])
        return x.transpose(2, 0, 1) if self.config["layout"] == "nchw" else x

    def predict(self, image: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
        out = np.zeros((len(boxes), len(self.labels)), dtype=np.float64)
        for i, box in enumerate(boxes):  # one face per call: works for fixed and dynamic batch sizes alike
            scores = np.asarray(self.session.run(None, {self.input.name: self.preprocess(image, box)[None]})[0][0],
                                dtype=np.float64).ravel()
            if self.config["extra_outputs"]:
                scores = scores[:-int(self.config["extra_outputs"])]
            if len(scores) != len(self.labels):
                raise TfbenchError(f"{self.model}: {len(scores)} class outputs but {len(self.labels)} labels")
            out[i] = softmax(scores) if self.config["output"] == "logits" else scores / max(scores.sum(), 1e-12)
        return out

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "model": str(self.model), "sha256": self.sha256, "runtime": "onnxruntime",
                "input": f"square face box x{self.config['crop_scale']}, {self.config['color']}, "
                         f"{self.size[0]}x{self.size[1]}, {self.config['layout']}",
                "labels": list(self.labels), "decided_margin": self.decided_margin,
                "config": self.config.get("source", CONFIG)}
