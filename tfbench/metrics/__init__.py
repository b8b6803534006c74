"""Metrics and their backends. `create_metric(name)` returns a scorer carrying its conventions."""
from tfbench.metrics.base import METRICS, MetricInfo, create_metric

__all__ = ["METRICS", "MetricInfo", "create_metric"]
