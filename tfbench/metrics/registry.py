"""The metric registry (pyiqa / lm-eval style): one declaration per metric, read by everything.

Each :class:`MetricSpec` says what a number means (name, modality, range, direction), where it lives in
per-instance records and in ``results.json``, how it aggregates, whether ``tfbench check`` gates it by
default, and how tables and the leaderboard label and format it. Results writing, ``tfbench show``,
``check``/``golden``, Markdown reports, video results and the scorers all read this registry, so adding
a metric is one :func:`register_metric` call (or one entry point in the ``tfbench.metrics`` group whose
object is a ``MetricSpec``)::

    from tfbench.metrics.registry import MetricSpec, register_metric

    register_metric(MetricSpec(
        name="t_acc_nocase", side="text", key="t_acc_nocase", modality="text", score_range=(0.0, 1.0),
        label="T-ACC (any case)", short_label="T-ACCi", inputs="reading",
        compute=lambda gt, pred: float(gt.lower() == pred.lower())))

Reading the registry::

    metrics_for("text")                  # every text-side metric, in registration order
    metrics_for("face", leaderboard=True)  # the leaderboard's face columns
    get_metric("f_sim").value(results)   # mean of bucket means of a results dict (None when undefined)
    default_check_names()                # what `tfbench check` gates when --metrics is not given
"""
from __future__ import annotations

import difflib
import importlib
import math
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Callable, Iterator, Mapping

from tfbench.errors import TfbenchError, UnknownNameError

ENTRY_POINT_GROUP = "tfbench.metrics"
SIDES: tuple[str, ...] = ("text", "face", "video")  # which instances a metric scores (``results["metrics"][side]``)
MODALITIES: tuple[str, ...] = ("text", "face", "pixel", "temporal")
AGGREGATIONS: tuple[str, ...] = ("bucket_mean", "temporal")
BUCKET_NAMES: tuple[str, ...] = ("small", "medium", "large")
# Keys of an aggregated block: the three bucket means, their mean (TokBench's number: undefined when a
# bucket is empty) and the mean over every counted instance (always defined when anything was counted).
BLOCK_KEYS: tuple[str, ...] = BUCKET_NAMES + ("mean", "instance_mean")
# What a per-instance ``compute`` function takes: the OCR reading (gt, pred) of a word, or the similarity
# of a face with the face backend's same-person threshold (sim, threshold).
INPUTS: tuple[str, ...] = ("reading", "similarity")
INPUT_SIDES: dict[str, str] = {"reading": "text", "similarity": "face"}


@dataclass(frozen=True)
class MetricSpec:
    """Everything tfbench needs to know about one reported metric."""

    name: str  # unique; also the name on `tfbench check --metrics` (t_acc, text_psnr, f_sim_std)
    side: str  # text | face | video: the instances it scores
    key: str  # field in per-instance records and in results["metrics"][side] (psnr is "psnr" on both sides)
    modality: str  # text | face | pixel | temporal: what the metric looks at
    score_range: tuple[float, float]
    lower_better: bool = False
    description: str = ""
    label: str = ""  # table label (show, Markdown, check); default: the name
    short_label: str = ""  # narrow column label; default: the label
    leaderboard_label: str | None = None  # leaderboard column; None: not a leaderboard column
    unit: str = "fraction"
    digits: int = 3  # digits after the point in tables
    aggregation: str = "bucket_mean"  # bucket_mean: TokBench buckets; temporal: over frames (video only)
    check_default: bool = False  # gated by `tfbench check` when --metrics is not given
    headline: bool = False  # one of the numbers summarising a result (per video clip, report footers)
    show_buckets: tuple[str, ...] = ()  # columns in `tfbench show` (BLOCK_KEYS); () = not shown
    inputs: str | None = None  # INPUTS: derived per instance by ``compute`` from the OCR reading / similarity
    compute: str | Callable[..., float] | None = None  # "module:function" or a callable (see ``inputs``)
    scorer: str | None = None  # "module:Class" that computes it (what create_metric builds)
    path: tuple[str, ...] = ()  # temporal metrics: where the value lives in results.json

    def __post_init__(self) -> None:
        problems = []
        if not self.name.isidentifier():
            problems.append("name must be an identifier")
        if self.side not in SIDES:
            problems.append(f"side must be one of {SIDES}")
        if self.modality not in MODALITIES:
            problems.append(f"modality must be one of {MODALITIES}")
        if self.aggregation not in AGGREGATIONS:
            problems.append(f"aggregation must be one of {AGGREGATIONS}")
        lo, hi = self.score_range
        if not (isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo < hi and not math.isnan(lo)):
            problems.append("score_range must be (low, high) with low < high")
        if any(b not in BLOCK_KEYS for b in self.show_buckets):
            problems.append(f"show_buckets must be taken from {BLOCK_KEYS}")
        if (self.inputs is None) != (self.compute is None) or (self.inputs is not None and self.inputs not in INPUTS):
            problems.append(f"inputs ({' | '.join(INPUTS)}) and compute go together")
        elif self.inputs is not None and self.side != INPUT_SIDES[self.inputs]:
            problems.append(f"inputs={self.inputs!r} is computed for {INPUT_SIDES[self.inputs]} instances")
        if self.aggregation == "temporal" and not self.path:
            problems.append("a temporal metric needs the path of its value in results.json")
        if problems:
            raise TfbenchError(f"metric {self.name!r}: " + "; ".join(problems))

    @property
    def higher_better(self) -> bool:
        return not self.lower_better

    @property
    def check_name(self) -> str:
        """The name `tfbench check --metrics` takes."""
        return self.name

    @property
    def table_label(self) -> str:
        return self.label or self.name

    @property
    def column_label(self) -> str:
        return self.short_label or self.table_label

    def compute_fn(self) -> Callable[..., float]:
        """The per-instance function (imported on first use when given as "module:function")."""
        if self.compute is None:
            raise TfbenchError(f"metric {self.name!r} is computed by its scorer, not per instance")
        return self.compute if callable(self.compute) else import_target(self.compute, f"metric {self.name!r}")

    def block(self, results: Mapping[str, Any]) -> dict[str, Any] | None:
        """The aggregated block {small, medium, large, mean, instance_mean} of a results dict (bucket metrics)."""
        if self.aggregation != "bucket_mean":
            return None
        value = _dig(results, ("metrics", self.side, self.key))
        return value if isinstance(value, dict) else None

    def counts(self, results: Mapping[str, Any]) -> dict[str, Any] | None:
        """Bucket counts ``n`` of this metric's side in a results dict (bucket metrics)."""
        value = _dig(results, ("metrics", self.side, "n")) if self.aggregation == "bucket_mean" else None
        return value if isinstance(value, dict) else None

    def value(self, results: Mapping[str, Any], bucket: str = "mean") -> float | None:
        """One number of a results dict: a bucket, ``mean`` or ``instance_mean`` (temporal: the value).

        None when absent, undefined (an empty bucket) or not a finite number.
        """
        raw = _dig(results, self.path) if self.aggregation == "temporal" else (self.block(results) or {}).get(bucket)
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
            return None
        return float(raw)

    def format(self, value: Any, missing: str = "-") -> str:
        """A value as tables print it (``digits`` after the point)."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return missing
        return f"{value:.{self.digits}f}"

    def in_range(self, value: float, slack: float = 1e-9) -> bool:
        lo, hi = self.score_range
        return lo - slack <= value <= hi + slack


MetricInfo = MetricSpec  # the name used before the registry existed


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def import_target(target: str, what: str) -> Any:
    """The attribute a lazy ``"module:attr"`` string names, imported now; errors name ``what``."""
    module, _, attr = target.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise TfbenchError(f"{what}: cannot import {target!r} ({exc})") from exc


def create_from(registry: Mapping[str, Any], name: str, what: str, **kwargs: Any) -> Any:
    """Instantiate ``registry[name]`` (a lazy "module:Class" string or a class); unknown names get a "did you mean"."""
    if name not in registry:
        close = difflib.get_close_matches(name, list(registry), n=2)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise UnknownNameError(f"unknown {what} {name!r}{hint} (available: {', '.join(registry)})")
    target = registry[name]
    cls = import_target(target, f"{what} {name!r}") if isinstance(target, str) else target
    return cls(**kwargs)


_TEXT, _FACE = "tfbench.metrics.text", "tfbench.metrics.face"
_BUILTIN: tuple[MetricSpec, ...] = (
    MetricSpec("t_acc", "text", "t_acc", "text", (0.0, 1.0), label="T-ACC", leaderboard_label="T-ACC",
               description="exact, case-sensitive match of the OCR reading of the reconstructed word crop",
               check_default=True, headline=True, show_buckets=("small", "medium", "large", "mean"),
               inputs="reading", compute=f"{_TEXT}:word_accuracy", scorer=f"{_TEXT}:TextScorer"),
    MetricSpec("t_ned", "text", "t_ned", "text", (0.0, 1.0), label="T-NED", leaderboard_label="T-NED",
               description="1 - Levenshtein(gt, pred) / max(len(gt), len(pred))",
               check_default=True, headline=True, show_buckets=("mean",),
               inputs="reading", compute=f"{_TEXT}:normalized_edit_similarity", scorer=f"{_TEXT}:TextScorer"),
    MetricSpec("text_psnr", "text", "psnr", "pixel", (0.0, math.inf), label="PSNR (text)", short_label="PSNR",
               unit="dB", digits=1, show_buckets=("mean",), scorer="tfbench.metrics.fidelity:CropFidelity",
               description="PSNR of the word crop (8-bit RGB), capped at 100 dB for identical crops"),
    MetricSpec("text_ssim", "text", "ssim", "pixel", (-1.0, 1.0), label="SSIM (text)", short_label="SSIM",
               scorer="tfbench.metrics.fidelity:CropFidelity",
               description="SSIM of the luma of the word crop (skimage, 7x7 window); none under 3 px"),
    MetricSpec("f_sim", "face", "f_sim", "face", (-1.0, 1.0), label="F-Sim", leaderboard_label="F-Sim",
               description="cosine similarity of face-recognition embeddings, original vs reconstruction, same landmarks",
               check_default=True, headline=True, show_buckets=("small", "medium", "large", "mean"),
               scorer=f"{_FACE}:FaceScorer"),
    MetricSpec("f_kept", "face", "f_kept", "face", (0.0, 1.0), label="F-kept", leaderboard_label="F-kept",
               description="share of faces whose F-Sim reaches the backend's same-person threshold (identity kept)",
               inputs="similarity", compute=f"{_FACE}:identity_kept", scorer=f"{_FACE}:FaceScorer"),
    MetricSpec("face_psnr", "face", "psnr", "pixel", (0.0, math.inf), label="PSNR (face)", short_label="PSNR",
               unit="dB", digits=1, scorer="tfbench.metrics.fidelity:CropFidelity",
               description="PSNR of the face box crop (8-bit RGB), capped at 100 dB for identical crops"),
    MetricSpec("face_ssim", "face", "ssim", "pixel", (-1.0, 1.0), label="SSIM (face)", short_label="SSIM",
               scorer="tfbench.metrics.fidelity:CropFidelity",
               description="SSIM of the luma of the face box crop (skimage, 7x7 window)"),
    MetricSpec("f_sim_std", "face", "f_sim_std", "temporal", (0.0, 1.0), lower_better=True, label="F-Sim std",
               aggregation="temporal", path=("video", "temporal", "face", "f_sim_std"),
               description="spread (std) of each face track's F-Sim over annotated frames, mean over tracks"),
    MetricSpec("f_sim_range", "face", "f_sim_range", "temporal", (0.0, 2.0), lower_better=True,
               label="F-Sim range", aggregation="temporal", path=("video", "temporal", "face", "f_sim_range"),
               description="max - min of each face track's F-Sim over annotated frames, mean over tracks"),
    MetricSpec("t_acc_flip_rate", "text", "t_acc_flip_rate", "temporal", (0.0, 1.0), lower_better=True,
               label="T-ACC flips", aggregation="temporal", path=("video", "temporal", "text", "t_acc_flip_rate"),
               description="how often a word track's T-ACC changes between consecutive annotated frames"),
    MetricSpec("flicker_excess", "video", "excess_mean_abs_diff", "temporal", (0.0, 255.0), lower_better=True,
               label="flicker", unit="8-bit levels", digits=2, aggregation="temporal",
               path=("video", "temporal", "flicker", "excess_mean_abs_diff"),
               description="mean |(R_t - R_t-1) - (O_t - O_t-1)| on the protocol canvas: change the original lacks"),
)

_REGISTRY: dict[str, MetricSpec] = {m.name: m for m in _BUILTIN}
_PLUGINS: set[str] = set()  # names registered from entry points
_PLUGINS_LOADED = False


def refresh_plugins() -> None:
    """Forget the metrics registered from entry points and read the ``tfbench.metrics`` group again."""
    global _PLUGINS_LOADED
    for name in _PLUGINS:
        _REGISTRY.pop(name, None)
    _PLUGINS.clear()
    _PLUGINS_LOADED = False
    _load_plugins()


def _load_plugins() -> None:
    """Register the MetricSpec objects published under the ``tfbench.metrics`` entry-point group (once)."""
    global _PLUGINS_LOADED
    if _PLUGINS_LOADED:
        return
    _PLUGINS_LOADED = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            spec = ep.load()
        except Exception as exc:  # a broken plugin must not take the whole CLI down unexplained
            raise TfbenchError(f"metric plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
        if not isinstance(spec, MetricSpec):
            raise TfbenchError(f"metric plugin {ep.name!r} ({ep.value}) is a {type(spec).__name__}, not a MetricSpec")
        if spec.name not in _REGISTRY:
            _REGISTRY[spec.name] = spec
            _PLUGINS.add(spec.name)


def register_metric(spec: MetricSpec, *, replace: bool = False) -> MetricSpec:
    """Add a metric; everything that reads the registry (results, show, check, reports) picks it up."""
    _load_plugins()
    if not isinstance(spec, MetricSpec):
        raise TfbenchError(f"register_metric takes a MetricSpec, got {type(spec).__name__}")
    clash = next((m for m in _REGISTRY.values() if m.name != spec.name and (m.side, m.key) == (spec.side, spec.key)
                  and m.aggregation == spec.aggregation == "bucket_mean"), None)
    if clash is not None:
        raise TfbenchError(f"metric {spec.name!r}: {spec.side} records already hold {spec.key!r} for {clash.name!r}")
    if spec.name in _REGISTRY and not replace:
        raise TfbenchError(f"metric {spec.name!r} is already registered (pass replace=True to redefine it)")
    _REGISTRY[spec.name] = spec
    return spec


def unregister_metric(name: str) -> MetricSpec:
    """Remove a metric (tests, plugins that redefine one)."""
    spec = get_metric(name)
    del _REGISTRY[spec.name]
    return spec


@contextmanager
def registered(spec: MetricSpec) -> Iterator[MetricSpec]:
    """Register ``spec`` for the duration of a ``with`` block."""
    register_metric(spec)
    try:
        yield spec
    finally:
        _REGISTRY.pop(spec.name, None)


def all_metrics() -> tuple[MetricSpec, ...]:
    """Every registered metric, built-ins first, in registration order."""
    _load_plugins()
    return tuple(_REGISTRY.values())


def get_metric(name: str) -> MetricSpec:
    """The metric registered as ``name``; an unknown name gets a "did you mean"."""
    _load_plugins()
    spec = _REGISTRY.get(name)
    if spec is None:
        close = difflib.get_close_matches(str(name), list(_REGISTRY), n=2)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise UnknownNameError(f"unknown metric {name!r}{hint} (registered: {', '.join(_REGISTRY)})")
    return spec


def metrics_for(side: str | None = None, *, modality: str | None = None, aggregation: str | None = None,
                inputs: str | None = None, check_default: bool | None = None, leaderboard: bool | None = None,
                headline: bool | None = None) -> tuple[MetricSpec, ...]:
    """Registered metrics matching every given filter, in registration order."""
    if side is not None and side not in SIDES:
        raise UnknownNameError(f"unknown side {side!r} (sides: {', '.join(SIDES)})")
    return tuple(m for m in all_metrics()
                 if (side is None or m.side == side) and (modality is None or m.modality == modality)
                 and (aggregation is None or m.aggregation == aggregation) and (inputs is None or m.inputs == inputs)
                 and (check_default is None or m.check_default == check_default)
                 and (leaderboard is None or (m.leaderboard_label is not None) == leaderboard)
                 and (headline is None or m.headline == headline))


def metric_for_key(side: str, key: str) -> MetricSpec | None:
    """The bucket metric stored under ``results["metrics"][side][key]`` (None when unregistered)."""
    return next((m for m in metrics_for(side, aggregation="bucket_mean") if m.key == key), None)


def record_keys(side: str) -> tuple[str, ...]:
    """Per-instance fields of ``side`` that are aggregated into buckets; the first one counts ``n``."""
    return tuple(m.key for m in metrics_for(side, aggregation="bucket_mean"))


def check_names() -> tuple[str, ...]:
    """Every name `tfbench check --metrics` accepts."""
    return tuple(m.check_name for m in all_metrics())


def default_check_names() -> tuple[str, ...]:
    """What `tfbench check` gates when --metrics is not given."""
    return tuple(m.check_name for m in all_metrics() if m.check_default)


class _ByKey(Mapping[str, MetricSpec]):
    """Live view: record key (``t_acc``, ``psnr``, ``f_kept``) -> the first metric stored under it."""

    def _table(self) -> dict[str, MetricSpec]:
        table: dict[str, MetricSpec] = {}
        for m in all_metrics():
            table.setdefault(m.key, m)
        return table

    def __getitem__(self, key: str) -> MetricSpec:
        return self._table()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


METRICS: Mapping[str, MetricSpec] = _ByKey()  # conventions by record key (range, direction), for readers of results

# Scorer groups that are not metric names (create_metric("text") -> TextScorer).
SCORERS: dict[str, str] = {
    "text": f"{_TEXT}:TextScorer",
    "face": f"{_FACE}:FaceScorer",
    "fidelity": "tfbench.metrics.fidelity:CropFidelity",
}


def create_metric(name: str, **kwargs: Any) -> Any:
    """Build the scorer computing a metric (``t_acc``, ``f_sim``, ``psnr``...) or a group (``text``, ``face``)."""
    table: dict[str, str] = dict(SCORERS)
    for m in all_metrics():
        if m.scorer:
            table.setdefault(m.name, m.scorer)
            table.setdefault(m.key, m.scorer)
    return create_from(table, name, "metric", **kwargs)
