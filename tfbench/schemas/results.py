"""Run outputs: ``records.jsonl`` lines, ``results.json`` (``tfbench.results/1``) and golden files
(``tfbench.golden/1``).

A results file holds, per side (``text``, ``face``), one block per metric with the three bucket means,
their ``mean`` (TokBench's number, null when a bucket is empty) and ``instance_mean`` (the mean over every
counted instance), the bucket counts ``n`` and ``n_counted``/``uncounted``. Which metrics appear is declared
by the metric registry (:mod:`tfbench.metrics.registry`), and their ranges are checked against it where a
results file is trusted (the leaderboard); this schema declares the shape.
"""
from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Optional

from pydantic import BeforeValidator, Field, Strict, WithJsonSchema, model_validator

from tfbench.schemas.base import RESOLUTION, FiniteFloat, InstanceModel, Name, NonNegativeInt, SchemaModel, fail, finite, schema_tag, tag_type

SCHEMA = schema_tag("results", 1)
GOLDEN_SCHEMA = schema_tag("golden", 1)
_TAG = re.compile(r"^tfbench\.results/(\d+)$")
_LOWER_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_NAME = 200  # characters of an identifying string (spec, suite name, ...)

Value = Optional[FiniteFloat]  # a metric value; null where undefined (an empty bucket)


def _edges(value: Any) -> list[float]:
    if (not isinstance(value, (list, tuple)) or len(value) != 4 or not all(finite(v) for v in value)
            or list(value) != sorted(value)):
        raise fail("edges", f"expected four increasing finite numbers [e0, e1, e2, e3], got {str(value)[:80]}")
    return [float(v) for v in value]


def _identifier(value: Any) -> str:
    """An identifying string (spec, suite name, version): printable, 1-200 characters."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise fail("name", f"expected a string, got {type(value).__name__}")
    text = str(value)
    if not text.strip() or len(text) > MAX_NAME or not text.isprintable():
        raise fail("name", f"expected 1-{MAX_NAME} printable characters, got {text[:60]!r}")
    return text


def _resolution(value: Any) -> str:
    text = _identifier(value)
    if not RESOLUTION.match(text):
        raise fail("resolution", f"expected a number of pixels or 'native', got {text!r}")
    return text


def _manifest_sha(value: Any) -> str:
    if not isinstance(value, str) or not _LOWER_SHA256.match(value):
        raise fail("sha256", f"expected 64 lowercase hex digits, got {str(value)[:70]!r}")
    return value


Edges = Annotated[list[float], BeforeValidator(_edges),
                  WithJsonSchema({"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4})]
Identifier = Annotated[str, BeforeValidator(_identifier),
                       WithJsonSchema({"type": ["string", "integer"], "minLength": 1, "maxLength": MAX_NAME})]
ResultResolution = Annotated[str, BeforeValidator(_resolution),
                             WithJsonSchema({"type": ["string", "integer"], "pattern": RESOLUTION.pattern})]
ManifestSha = Annotated[str, BeforeValidator(_manifest_sha), WithJsonSchema({"type": "string", "pattern": _LOWER_SHA256.pattern})]
Amount = Optional[Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]]


# --------------------------------------------------------------------------------------------- records

class WordScore(InstanceModel):
    """One ground-truth word in a record: its ratio, and its scores or why it was not scored."""

    i: Optional[NonNegativeInt] = Field(None, description="index of the word in its image's manifest entry")
    gt: Optional[str] = None
    ratio: FiniteFloat
    pred: Optional[str] = Field(None, description="the OCR's reading of the reconstruction")
    t_acc: Value = None
    t_ned: Value = None
    psnr: Value = None
    ssim: Value = None
    skipped: Optional[str] = Field(None, description="why it was not scored")
    excluded: Optional[str] = Field(None, description="curation: left out of the scores (unreadable)")
    unreadable: Optional[bool] = None
    frame: Optional[NonNegativeInt] = None
    track: Optional[str] = None


class FaceScore(InstanceModel):
    """One labelled face in a record."""

    i: Optional[NonNegativeInt] = None
    ratio: FiniteFloat
    identity: Optional[str] = None
    groups: Optional[dict[str, str]] = None
    f_sim: Value = None
    f_kept: Value = None
    psnr: Value = None
    ssim: Value = None
    skipped: Optional[str] = None
    excluded: Optional[str] = None
    frame: Optional[NonNegativeInt] = None
    track: Optional[str] = None


class Record(SchemaModel):
    """One line of ``records.jsonl``: an image (or clip) scored, or the error that stopped it."""

    messages: ClassVar[dict[str, str]] = {"image": "missing: every record names its image (or clip) id"}
    image: Annotated[str, Strict()]
    subset: Optional[str] = None
    status: Optional[Annotated[str, Field(pattern=r"^(ok|error)$")]] = None
    compression: Optional[dict[str, Any]] = None
    words: list[WordScore] = Field(default_factory=list)
    faces: list[FaceScore] = Field(default_factory=list)
    stage: Optional[str] = Field(None, description="error records: the stage that failed")
    error: Optional[str] = None


# --------------------------------------------------------------------------------------------- results

class MetricBlock(SchemaModel):
    """One metric of one side: bucket means, TokBench's mean of bucket means and the instance mean."""

    small: Value = None
    medium: Value = None
    large: Value = None
    mean: Value = Field(None, description="mean of the three bucket means; null when a bucket is empty")
    instance_mean: Value = Field(None, description="mean over every counted instance (absent before tfbench's "
                                                   "one aggregation)")


class BucketCounts(SchemaModel):
    small: NonNegativeInt = 0
    medium: NonNegativeInt = 0
    large: NonNegativeInt = 0


class GroupStats(SchemaModel):
    """Fairness statistics of one face label: the metrics per value and the largest gaps."""

    values: dict[str, dict[str, Any]] = Field(default_factory=dict)
    max_gap: dict[str, FiniteFloat] = Field(default_factory=dict)
    gap_of: Optional[str] = None


class SideMetrics(SchemaModel):
    """The text or face metrics of a result: a :class:`MetricBlock` per registered metric, and counts."""

    __pydantic_extra__: dict[str, Optional[MetricBlock]] = Field(init=False)  # type: ignore[assignment]
    n: Optional[BucketCounts] = None
    n_counted: Optional[NonNegativeInt] = None
    uncounted: Optional[NonNegativeInt] = None
    groups: Optional[dict[str, GroupStats]] = None


class AdapterInfo(SchemaModel):
    spec: Identifier
    family: Optional[Identifier] = None
    kind: Optional[Identifier] = None
    bits_per_pixel: Amount = None
    tokens: Amount = None
    latent_shape: Optional[list[Optional[int]]] = None


class SuiteInfo(SchemaModel):
    name: Identifier
    version: Identifier
    resolution: ResultResolution
    modality: Annotated[str, Field(pattern=r"^(image|video)$")] = "image"
    manifest_sha256: Optional[ManifestSha] = None


class BucketsUsed(SchemaModel):
    text: Optional[Edges] = None
    face: Optional[Edges] = None


class Failures(SchemaModel):
    images: NonNegativeInt = 0
    words: NonNegativeInt = 0
    faces: NonNegativeInt = 0
    examples: list[dict[str, Any]] = Field(default_factory=list)


class Results(SchemaModel):
    """A ``results.json`` (``tfbench.results/1``)."""

    schema_: Annotated[str, WithJsonSchema({"const": SCHEMA})] = Field(alias="schema")
    tfbench_version: Optional[str] = None
    created: Optional[str] = None
    git: Optional[str] = None
    adapter: AdapterInfo
    suite: SuiteInfo
    backends: Optional[dict[str, Optional[dict[str, Any]]]] = None
    buckets: Optional[BucketsUsed] = None
    metrics: dict[str, SideMetrics]
    subsets: Optional[dict[str, dict[str, SideMetrics]]] = None
    failures: Optional[Failures] = None
    counts: Optional[dict[str, Optional[NonNegativeInt]]] = None
    budget: Optional[dict[str, Any]] = None
    config: Optional[dict[str, Any]] = None
    video: Optional[dict[str, Any]] = None

    @model_validator(mode="before")
    @classmethod
    def _version(cls, data: Any) -> Any:
        """Name the version of a file this tfbench cannot read, and what to do."""
        if not isinstance(data, dict):
            raise fail("schema", f"not a tfbench results file (schema None, expected {SCHEMA!r}): expected an "
                                 f"object, got {type(data).__name__}")
        tag, made_by = data.get("schema"), data.get("tfbench_version")
        if tag == SCHEMA:
            return data
        by = f" (written by tfbench {made_by})" if isinstance(made_by, str) else ""
        match = _TAG.match(tag) if isinstance(tag, str) else None
        if match and int(match.group(1)) < 1:
            raise fail("schema", f"{tag}{by} is an older results format; this tfbench reads {SCHEMA!r}: rescore "
                                 f"the run from its records (`tfbench score RUN_DIR -r RES --out results.json`)", at="schema")
        if match:
            raise fail("schema", f"{tag}{by} is newer than this tfbench reads ({SCHEMA!r}): upgrade tfbench", at="schema")
        raise fail("schema", f"not a tfbench results file (schema {tag!r}, expected {SCHEMA!r})", at="schema")


GoldenTag = tag_type("golden", 1)


class Golden(SchemaModel):
    """A golden file (``tfbench.golden/1``): the results of one adapter on a small suite, at each resolution."""

    messages: ClassVar[dict[str, str]] = {
        "results": "expected a non-empty list of results.json objects",
        "schema": f"not a tfbench golden file (expected {GOLDEN_SCHEMA!r}, got {{got}}); create it with "
                  f"`tfbench golden --adapter SPEC --out FILE`"}
    schema_: GoldenTag = Field(alias="schema")  # type: ignore[valid-type]
    adapter: Optional[str] = None
    suite: Optional[Name] = None
    created: Optional[str] = None
    results: Annotated[list[Results], Field(min_length=1)]


class SubmittedBuckets(BucketsUsed):
    text: Edges
    face: Edges


class Submission(Results):
    """A ``results.json`` submitted to the leaderboard: a results file that also carries its bucket edges
    (compared with the registered suite's); metric ranges are checked against the metric registry."""

    messages: ClassVar[dict[str, str]] = {
        "buckets": "missing: the results carry no bucket edges; rerun them with this tfbench"}
    buckets: SubmittedBuckets  # type: ignore[assignment]
