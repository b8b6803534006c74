"""Inputs and arithmetic for the performance benchmarks (tests/benchmarks) and the README projection.

- :func:`word_crops` / :func:`face_inputs`: the real OCR and face-model inputs of a suite;
- :func:`replicate_manifest`: a suite N times larger (same images, new ids) to check that peak memory
  does not grow with the suite;
- :func:`project`: wall time of a workload from measured per-instance costs;
- :func:`time_process`, :func:`engine_figures`: a whole `tfbench` process under GNU ``time -v`` (wall, CPU,
  peak RSS) and the model time and overhead its results' budgets record.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

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


TIME_FIELDS = {"wall": r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", "user": r"User time \(seconds\): (\S+)",
               "sys": r"System time \(seconds\): (\S+)", "rss_kb": r"Maximum resident set size \(kbytes\): (\d+)"}


def _clock(text: str) -> float:
    return sum(float(v) * 60 ** i for i, v in enumerate(reversed(text.split(":"))))


def time_process(cmd: Sequence[str], time_exe: str = "/usr/bin/time") -> dict[str, float]:
    """Run ``cmd`` under GNU ``time -v``: wall and CPU (user + sys) seconds, peak RSS, 1-minute load before/after."""
    load = os.getloadavg()[0]
    done = subprocess.run([time_exe, "-v", *cmd], capture_output=True, text=True)
    if done.returncode != 0:
        raise TfbenchError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-2000:]}")
    found = {k: re.search(rx, done.stderr) for k, rx in TIME_FIELDS.items()}
    if not all(found.values()):
        raise TfbenchError(f"{time_exe} -v printed no resource summary; GNU time is needed")
    v = {k: m.group(1) for k, m in found.items() if m}
    return {"wall_s": _clock(v["wall"]), "cpu_s": round(float(v["user"]) + float(v["sys"]), 2),
            "peak_rss_mib": round(int(v["rss_kb"]) / 1024, 1), "load_before": load, "load_after": os.getloadavg()[0]}


def engine_figures(out: Path) -> dict[str, float]:
    """Model seconds (adapter + OCR + face, all adapters) and the engine's wall of the run folders under ``out``:
    the adapters' walls added up for an adapter-major run, each pass's wall once for an image-major one."""
    budgets = [json.loads(p.read_text())["budget"] for p in sorted(Path(out).rglob("results.json"))]
    model = sum(b["model_s"] for b in budgets)
    passes = {json.dumps(b["pass"], sort_keys=True): b["pass"]["wall_s"] for b in budgets if "pass" in b}
    wall = sum(passes.values()) if passes else sum(b["wall_s"] for b in budgets)
    return {"model_s": round(model, 2), "engine_wall_s": round(wall, 2),
            "overhead": round(wall / model, 3) if model > 0 else float("nan")}
