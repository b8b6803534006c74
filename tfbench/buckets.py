"""Scale buckets (TokBench): per-instance ratios, bucket edges per resolution, mean of bucket means."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

BUCKETS: tuple[str, ...] = ("small", "medium", "large")

# Half-open [e0, e1), [e1, e2), [e2, e3), exactly as TokBench's compute_all_metrics.py (`x_min <= x < x_max`
# for every bucket); ratios below e0 or at/above e3 are not counted.
TEXT_EDGES: dict[str, tuple[float, ...]] = {
    "256": (0.02, 0.03, 0.04, 1.0),
    "512": (0.01, 0.02, 0.03, 1.0),
    "1024": (0.005, 0.01, 0.02, 1.0),
}
FACE_EDGES: dict[str, tuple[float, ...]] = {
    "256": (0.1, 0.2, 0.3, 1.0),
    "512": (0.05, 0.1, 0.2, 1.0),
    "1024": (0.02, 0.05, 0.1, 1.0),
}
# `native` feeds full-resolution images, so it uses the finest (1024) edges.
NATIVE_EDGES_FROM = "1024"


def text_ratio(box_w: float, box_h: float, n_chars: int, image_w: int) -> float:
    """Character size relative to the image: max(box w, box h) / characters / image width."""
    return max(box_w, box_h) / max(n_chars, 1) / image_w


def face_ratio(box_w: float, box_h: float, image_w: int) -> float:
    """Longer side of the face box / image width."""
    return max(box_w, box_h) / image_w


def bucket_of(ratio: float, edges: Sequence[float]) -> int | None:
    """Index of the bucket holding ``ratio`` or None when it is below the first edge / at or above the last
    (or not a number: NaN compares false with every edge)."""
    if ratio is None:
        return None
    for i in range(len(edges) - 1):
        if edges[i] <= ratio < edges[i + 1]:
            return i
    return None


@dataclass
class BucketMean:
    """Mergeable per-bucket mean (torchmetrics style: declared state, update/merge/compute).

    Values are kept per bucket and summed with :func:`math.fsum` (exactly rounded), so the result does
    not depend on the order instances arrive in: every path that aggregates the same values agrees to
    the last digit.
    """

    edges: tuple[float, ...]
    values: list[list[float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.values = self.values or [[] for _ in range(len(self.edges) - 1)]

    @property
    def counts(self) -> list[int]:
        return [len(v) for v in self.values]

    def update(self, value: float, ratio: float) -> bool:
        """Add one instance; returns False when its ratio falls outside every bucket."""
        b = bucket_of(ratio, self.edges)
        if b is None:
            return False
        self.values[b].append(float(value))
        return True

    def update_many(self, pairs: Iterable[tuple[float, float]]) -> None:
        for value, ratio in pairs:
            self.update(value, ratio)

    def merge(self, other: "BucketMean") -> "BucketMean":
        if tuple(other.edges) != tuple(self.edges):
            raise ValueError(f"cannot merge buckets with edges {other.edges} into {self.edges}")
        return BucketMean(self.edges, [a + b for a, b in zip(self.values, other.values)])

    def compute(self) -> dict[str, float | None]:
        """{small, medium, large, mean, instance_mean}, TokBench's rule.

        A bucket's mean is None when it is empty, and then so is ``mean`` (the mean of the three bucket
        means), as in TokBench's compute_all_metrics.py; ``instance_mean`` is the mean over every counted
        instance, defined whenever any instance was counted.
        """
        means = [math.fsum(v) / len(v) if v else None for v in self.values]
        out: dict[str, float | None] = dict(zip(BUCKETS, means))
        out["mean"] = math.fsum(means) / len(means) if None not in means else None  # type: ignore[arg-type]
        everything = [x for v in self.values for x in v]
        out["instance_mean"] = math.fsum(everything) / len(everything) if everything else None
        return out

    def count_dict(self) -> dict[str, int]:
        return dict(zip(BUCKETS, self.counts))
