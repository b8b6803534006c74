"""Charts of the leaderboard (Altair): bucket bars, metric-vs-scale curves, compression with its Pareto front.

The data behind each chart comes from a plain function (``*_data``, :func:`pareto_front`) so it can be
checked without drawing anything.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

import altair as alt
import pandas as pd

from tfbench.leaderboard.columns import metric_columns
from tfbench.leaderboard.instances import Instance

BUCKETS = ("small", "medium", "large")


def bucket_data(result: Mapping[str, Any]) -> pd.DataFrame:
    rows = []
    for col in metric_columns():
        block = (result.get("metrics", {}).get(col.side) or {}).get(col.metric) or {}
        for bucket in BUCKETS:
            if block.get(bucket) is not None:
                rows.append({"metric": col.label, "bucket": bucket, "value": float(block[bucket])})
    return pd.DataFrame(rows, columns=["metric", "bucket", "value"])


def bucket_bars(result: Mapping[str, Any]) -> alt.Chart:
    data = bucket_data(result)
    return alt.Chart(data, title="Scores per scale bucket").mark_bar().encode(
        x=alt.X("bucket:N", sort=list(BUCKETS), title=None),
        y=alt.Y("value:Q", title="score"),
        color=alt.Color("bucket:N", sort=list(BUCKETS), legend=None),
        column=alt.Column("metric:N", title=None, sort=[c.label for c in metric_columns()]),
        tooltip=["metric", "bucket", alt.Tooltip("value:Q", format=".3f")],
    ).properties(width=120, height=180)


def curve_metrics() -> list[tuple[str, str, str]]:
    """(label, key, side) of the first leaderboard metric of each side stored per instance (T-ACC, F-Sim)."""
    stored = set(Instance.__dataclass_fields__)
    out: dict[str, tuple[str, str, str]] = {}
    for c in metric_columns():
        if c.metric in stored:
            out.setdefault(c.side, (c.label, c.metric, c.side))
    return list(out.values())


def _geo_centre(lo: float, hi: float) -> float:
    return math.sqrt(lo * hi) if lo > 0 else hi / 2


def scale_data(runs: Iterable[tuple[Mapping[str, Any], list[Instance]]], bins: int = 6) -> pd.DataFrame:
    """Metric vs instance scale, one curve per resolution and metric.

    With stored instances: instances sorted by scale (``ratio``) and cut into ``bins`` groups of equal
    size, plotted at each group's median scale. Without: the bucket means at the buckets' geometric centres.
    """
    rows = []
    for result, instances in runs:
        res = str(result["suite"]["resolution"])
        for label, metric, side in curve_metrics():
            own = sorted((i for i in instances if i.kind == side and i.ratio is not None
                          and getattr(i, metric) is not None), key=lambda i: i.ratio)
            if own:
                n = min(bins, len(own))
                for b in range(n):
                    group = own[b * len(own) // n:(b + 1) * len(own) // n]
                    rows.append({"resolution": res, "metric": label, "source": "instances",
                                 "scale": group[len(group) // 2].ratio,
                                 "value": sum(getattr(i, metric) for i in group) / len(group), "n": len(group)})
                continue
            edges = (result.get("buckets") or {}).get(side)
            block = (result.get("metrics", {}).get(side) or {}).get(metric) or {}
            if not edges or len(edges) != 4:
                continue
            for k, bucket in enumerate(BUCKETS):
                if block.get(bucket) is not None:
                    rows.append({"resolution": res, "metric": label, "source": "buckets",
                                 "scale": _geo_centre(edges[k], edges[k + 1]), "value": float(block[bucket]),
                                 "n": (result["metrics"][side].get("n") or {}).get(bucket)})
    return pd.DataFrame(rows, columns=["resolution", "metric", "source", "scale", "value", "n"])


def scale_curves(runs: Iterable[tuple[Mapping[str, Any], list[Instance]]]) -> alt.Chart:
    data = scale_data(runs)
    return alt.Chart(data, title="Metric vs scale (instance size / image width)").mark_line(point=True).encode(
        x=alt.X("scale:Q", scale=alt.Scale(type="log"), title="scale (log)"),
        y=alt.Y("value:Q", title="score"),
        color=alt.Color("resolution:N"),
        column=alt.Column("metric:N", title=None),
        tooltip=["resolution", "metric", alt.Tooltip("scale:Q", format=".4f"), alt.Tooltip("value:Q", format=".3f"), "n"],
    ).properties(width=260, height=200)


def pareto_front(frame: pd.DataFrame, x: str = "bpp", y: str = "T-ACC") -> pd.Series:
    """True for rows no other row beats: fewer or equal bits per pixel and a higher or equal score, one strictly."""
    on = pd.Series(False, index=frame.index)
    pts = frame[[x, y]].dropna()
    for idx, (px, py) in pts.iterrows():
        beaten = ((pts[x] <= px) & (pts[y] >= py) & ((pts[x] < px) | (pts[y] > py))).any()
        on[idx] = not beaten
    return on


def compression_data(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rows of ONE selection (suite, resolution, backends) with bpp and the score; ``pareto`` marks the front."""
    data = frame[["adapter", "family", "bpp", metric]].dropna(subset=["bpp", metric]).copy()
    data["pareto"] = pareto_front(data, "bpp", metric)
    data["front"] = data["pareto"].map({True: "on the Pareto front", False: "dominated"})
    return data.rename(columns={metric: "score"})


def compression_chart(frame: pd.DataFrame, metric: str, title: str) -> alt.LayerChart:
    """bits per pixel vs a score for one selection; legends: Pareto front (colour) and family (shape)."""
    data = compression_data(frame, metric)
    colours = alt.Scale(domain=["on the Pareto front", "dominated"], range=["#d62728", "#7f7f7f"])
    points = alt.Chart(data).mark_point(size=110, filled=True).encode(
        x=alt.X("bpp:Q", scale=alt.Scale(type="log"), title="bits per pixel (log)"),
        y=alt.Y("score:Q", title=metric),
        color=alt.Color("front:N", scale=colours, title="Pareto front"),
        shape=alt.Shape("family:N", title="family"),
        tooltip=["adapter", "family", alt.Tooltip("bpp:Q", format=".3f"), alt.Tooltip("score:Q", format=".3f"), "front"],
    )
    front = alt.Chart(data[data["pareto"]].sort_values("bpp")).mark_line(color="#d62728").encode(
        x="bpp:Q", y="score:Q", order="bpp:Q")
    return (front + points).properties(title=title, width=640, height=380)
