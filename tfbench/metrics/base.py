"""Metric metadata (pyiqa style) and the factory that builds scorers by name."""
from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from typing import Any

from tfbench.errors import UnknownNameError


@dataclass(frozen=True)
class MetricInfo:
    """What a reported number means: its range and which direction is better."""

    name: str
    score_range: tuple[float, float]
    lower_better: bool
    description: str
    unit: str = "fraction"

    @property
    def higher_better(self) -> bool:
        return not self.lower_better


METRICS: dict[str, MetricInfo] = {
    m.name: m
    for m in (
        MetricInfo("t_acc", (0.0, 1.0), False, "exact, case-sensitive match of the OCR reading of the reconstructed word crop"),
        MetricInfo("t_ned", (0.0, 1.0), False, "1 - Levenshtein(gt, pred) / max(len(gt), len(pred))"),
        MetricInfo("f_sim", (-1.0, 1.0), False, "cosine similarity of face-recognition embeddings, original vs reconstruction, same landmarks"),
        MetricInfo("f_kept", (0.0, 1.0), False, "share of faces whose F-Sim reaches the backend's same-person threshold (identity kept)"),
        MetricInfo("psnr", (0.0, float("inf")), False, "PSNR of the instance crop (8-bit)", unit="dB"),
        MetricInfo("ssim", (-1.0, 1.0), False, "SSIM of the luma of the instance crop (skimage, 7x7 window)"),
    )
}

# scorer name -> "module:Class"; each class takes backend keyword arguments.
SCORERS: dict[str, str] = {
    "text": "tfbench.metrics.text:TextScorer",
    "face": "tfbench.metrics.face:FaceScorer",
    "fidelity": "tfbench.metrics.fidelity:CropFidelity",
}
_ALIASES = {"t_acc": "text", "t_ned": "text", "f_sim": "face", "psnr": "fidelity", "ssim": "fidelity"}


def create_from(registry: dict[str, str], name: str, what: str, **kwargs: Any) -> Any:
    """Instantiate ``registry[name]`` (a lazy "module:Class" string); unknown names get a "did you mean"."""
    if name not in registry:
        close = difflib.get_close_matches(name, list(registry), n=2)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise UnknownNameError(f"unknown {what} {name!r}{hint} (available: {', '.join(registry)})")
    module, _, cls = registry[name].partition(":")
    return getattr(importlib.import_module(module), cls)(**kwargs)


def create_metric(name: str, **kwargs: Any) -> Any:
    """Build the scorer for a metric name (``t_acc``, ``f_sim``, ``text``, ``face``...)."""
    return create_from({**SCORERS, **{a: SCORERS[k] for a, k in _ALIASES.items()}}, name, "metric", **kwargs)
