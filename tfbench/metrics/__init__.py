"""Metrics and their backends. The registry (:mod:`tfbench.metrics.registry`) declares every metric;
`create_metric(name)` returns the scorer computing it."""
from tfbench.metrics.registry import (METRICS, MetricInfo, MetricSpec, all_metrics, create_metric, get_metric,
                                      metrics_for, register_metric)

__all__ = ["METRICS", "MetricInfo", "MetricSpec", "all_metrics", "create_metric", "get_metric", "metrics_for",
           "register_metric"]
