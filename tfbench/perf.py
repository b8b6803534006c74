"""Inputs and arithmetic for the performance benchmarks (tests/benchmarks) and the README projection.

- :func:`word_crops` / :func:`face_inputs`: the real OCR and face-model inputs of a suite;
- :func:`replicate_manifest`: a suite N times larger (same images, new ids) to check that peak memory
  does not grow with the suite;
- :func:`project`: wall time of a workload from measured per-instance costs.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tfbench.crops import crop_word
from tfbench.errors import TfbenchError
from tfbench.images import load_rgb
from tfbench.manifest import Suite
from tfbench.resize import from_canvas, parse_resolution, plan, to_canvas

# TokBench (Wu et al., 2025): 36,087 text instances (NOTES.md); faces: see README "Performance".
TOKBENCH_TEXT_INSTANCES = 36_087


def word_crops(suite: Suite, resolutions: tuple[str, ...] = ("native",)) -> tuple[list[np.ndarray], list[str]]:
    """Word crops (RGB uint8) of every word of the suite, after the protocol's resize to each resolution
    and back (identity adapter), with their transcriptions: what the OCR sees in a run."""
    crops, texts = [], []
    for rec in suite.images:
        if not rec.words:
            continue
        image = load_rgb(suite.path_of(rec))
        for res in resolutions:
            p = plan(image.shape[1], image.shape[0], parse_resolution(res))
            seen = from_canvas(to_canvas(image, p), p)
            crops += [crop_word(seen, w.box, w.polygon) for w in rec.words]
            texts += [w.text for w in rec.words]
    return crops, texts


def face_inputs(suite: Suite) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(image, landmarks) of every face of the suite (images shared between faces of one photo)."""
    images, landmarks = [], []
    for rec in suite.images:
        if not rec.faces:
            continue
        image = load_rgb(suite.path_of(rec))
        for f in rec.faces:
            images.append(image)
            landmarks.append(f.landmarks)
    return images, landmarks


def replicate_manifest(suite: Suite, factor: int, out_dir: Path) -> Path:
    """Write a manifest listing every image of ``suite`` ``factor`` times (ids ``<id>~k``); its images
    stay in ``suite.root`` (pass that as the data root). Returns the manifest path."""
    if suite.source is None or not Path(suite.source).is_file():
        raise TfbenchError(f"suite {suite.name!r} has no manifest file to replicate")
    if factor < 1:
        raise TfbenchError(f"replication factor must be >= 1, got {factor}")
    data = json.loads(Path(suite.source).read_text(encoding="utf-8"))
    data["name"] = f"{suite.name}-x{factor}"
    data["images"] = [{**im, "id": f"{im['id']}~{k}"} for k in range(factor) for im in data["images"]]
    out = Path(out_dir) / f"{data['name']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data), encoding="utf-8")
    return out


@dataclass(frozen=True)
class Workload:
    """A benchmark's size: images, scored word instances, scored faces."""

    images: int
    words: int
    faces: int


@dataclass(frozen=True)
class Costs:
    """Measured seconds per unit: OCR per word crop, face model per embedding (F-Sim embeds each face
    twice: original and reconstruction), adapter and the rest of the pipeline per image."""

    per_word: float
    per_face: float
    per_image_adapter: float
    per_image_overhead: float

    def seconds(self, w: Workload) -> float:
        return project(self, w)["total_s"]


def project(costs: Costs, workload: Workload) -> dict[str, float]:
    """Projected seconds, split by part, for one adapter at one resolution."""
    parts = {"ocr_s": workload.words * costs.per_word, "face_s": 2 * workload.faces * costs.per_face,
             "adapter_s": workload.images * costs.per_image_adapter,
             "overhead_s": workload.images * costs.per_image_overhead}
    parts["total_s"] = sum(parts.values())
    return {k: round(v, 1) for k, v in parts.items()}
