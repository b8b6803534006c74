"""Kept for code written before the registry: everything here lives in :mod:`tfbench.metrics.registry`."""
from tfbench.metrics.registry import METRICS, SCORERS, MetricInfo, MetricSpec, create_from, create_metric

__all__ = ["METRICS", "SCORERS", "MetricInfo", "MetricSpec", "create_from", "create_metric"]
