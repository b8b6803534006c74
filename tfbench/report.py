"""Readable tables of results (terminal and Markdown), with columns from the metric registry.

A metric appears with the buckets its registry entry lists in ``show_buckets``; temporal metrics only
when some result has them (video runs). An undefined value (TokBench's rule: a bucket with no instance
has no mean, and then neither has the mean of bucket means) is printed as "—" and explained under the
table with the bucket counts and the always-defined instance mean.
"""
from __future__ import annotations

from typing import Any, Sequence

from tfbench import tables
from tfbench.aggregation import undefined_reason
from tfbench.metrics.registry import MetricSpec, all_metrics, metrics_for

UNDEFINED = "—"  # a value TokBench's rule leaves undefined (an empty bucket)
MISSING = "-"  # no such value in these results at all
_SUFFIX = {"small": " s", "medium": " m", "large": " l", "mean": "", "instance_mean": " all"}


def _get(d: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


def _columns(results: Sequence[dict[str, Any]]) -> list[tuple[str, MetricSpec, str]]:
    """(header, metric, bucket) per metric column; the first column of a metric carries its label."""
    cols: list[tuple[str, MetricSpec, str]] = []
    order = {"text": 0, "face": 0, "pixel": 1, "temporal": 2}  # what is read and recognised first, then fidelity
    for spec in sorted(all_metrics(), key=lambda m: order[m.modality]):
        if not spec.show_buckets:
            continue
        if spec.aggregation == "temporal" and all(spec.value(r) is None for r in results):
            continue
        for i, bucket in enumerate(spec.show_buckets):
            head = spec.column_label + _SUFFIX[bucket] if i == 0 or bucket in ("mean", "instance_mean") else _SUFFIX[bucket].strip()
            cols.append((head, spec, bucket))
    return cols


def _cell(r: dict[str, Any], spec: MetricSpec, bucket: str) -> str:
    value = spec.value(r, bucket)
    if value is not None:
        return spec.format(value)
    block = spec.block(r)
    counted = _get(r, "metrics", spec.side, "n_counted")
    return UNDEFINED if isinstance(block, dict) and bucket in block and counted != 0 else MISSING


def rows_of(results: Sequence[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    cols = _columns(results)
    header = ["adapter", "res"] + [c[0] for c in cols] + ["bpp", "fail"]
    rows = []
    for r in results:
        fails = _get(r, "failures", "images") or 0
        bpp = _get(r, "adapter", "bits_per_pixel")
        rows.append([str(_get(r, "adapter", "spec")), str(_get(r, "suite", "resolution"))]
                    + [_cell(r, spec, bucket) for _, spec, bucket in cols]
                    + [f"{bpp:.2f}" if isinstance(bpp, (int, float)) else MISSING, str(fails)])
    return header, rows


def undefined_notes(results: Sequence[dict[str, Any]]) -> list[str]:
    """One line per result and side whose headline means are undefined: why, counts, and the instance mean."""
    notes = []
    for r in results:
        for side in ("text", "face"):
            specs = [s for s in metrics_for(side, headline=True, aggregation="bucket_mean")
                     if isinstance(s.block(r), dict) and s.value(r) is None]
            if not specs or _get(r, "metrics", side, "n_counted") == 0:  # nothing of this side counted: no note
                continue
            why = undefined_reason(specs[0].block(r) or {}, specs[0].counts(r))
            inst = ", ".join(f"{s.table_label} {s.format(s.value(r, 'instance_mean'))}" for s in specs)
            notes.append(f"{UNDEFINED} {_get(r, 'adapter', 'spec')} @ {_get(r, 'suite', 'resolution')}: "
                         f"{side} mean of bucket means undefined ({why}); mean over all counted instances: {inst}")
    return notes


def text_table(results: Sequence[dict[str, Any]]) -> str:
    """Aligned plain-text table, one row per results dict."""
    if not results:
        return "(no results)"
    header, rows = rows_of(results)
    lines = [tables.text_table(header, rows, align="ll" + "r" * (len(header) - 2))]
    first = results[0]
    suite, n, nf = (v if isinstance(v, dict) else {} for v in (
        _get(first, "suite"), _get(first, "metrics", "text", "n"), _get(first, "metrics", "face", "n")))
    lines.append("")
    lines.append(f"suite {suite.get('name')} v{suite.get('version')}; counted words s/m/l = "
                 f"{n.get('small')}/{n.get('medium')}/{n.get('large')}, faces s/m/l = "
                 f"{nf.get('small')}/{nf.get('medium')}/{nf.get('large')} (first row). "
                 f"Scores are means of bucket means; T-* from {_get(first, 'backends', 'text', 'backend')}, "
                 f"F-Sim from {_get(first, 'backends', 'face', 'backend')}.")
    lines += undefined_notes(results)
    return "\n".join(lines)


def markdown_table(results: Sequence[dict[str, Any]]) -> str:
    header, rows = rows_of(results)
    out = [tables.markdown_table(header, rows)]
    notes = undefined_notes(results)
    return "\n".join(out + ([""] + [f"- {n}" for n in notes] if notes else []))
