"""Regression checks: compare new results with a baseline, bucket by bucket, within a tolerance.

``compare(new, baseline, tolerance, metrics, buckets)`` pairs results of the same adapter and
resolution, refuses pairs that are not comparable (different suite, suite version, resolution, bucket
edges, or OCR / face backend) and returns one :class:`Comparison` per metric and bucket. The metrics
that can be checked, their direction and the default set come from the metric registry. A comparison
fails when the metric dropped by more than the tolerance (absolute, or relative to the baseline value
with a ``%`` suffix), when the new results lack a value the baseline has, or when more images failed.

Undefined baseline values (TokBench's rule: an empty bucket has no mean, and then neither has the mean
of bucket means) are never skipped silently: an empty bucket is listed as not applicable, and an
undefined ``mean`` is replaced by the always-defined ``instance_mean`` of the same results, with the
reason in the row.
"""
from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from tfbench.aggregation import undefined_reason
from tfbench.errors import ResultsError, TfbenchError
from tfbench.metrics.registry import MetricSpec, check_names, default_check_names, get_metric
from tfbench.results import find_results, load_results
from tfbench.tables import markdown_table

GOLDEN_SCHEMA = "tfbench.golden/1"
BUCKETS = ("small", "medium", "large", "mean")  # what --buckets all checks
BUCKET_CHOICES = BUCKETS + ("instance_mean",)
TEMPORAL_BUCKET = "value"  # temporal metrics have one value, no buckets
EPS = 1e-9  # float noise allowed on top of the tolerance


@dataclass(frozen=True)
class Tolerance:
    """Largest allowed drop: absolute (``0.01``) or relative to the baseline value (``2%``)."""

    value: float
    relative: bool = False

    @classmethod
    def parse(cls, text: str | float) -> "Tolerance":
        raw = str(text).strip()
        relative = raw.endswith("%")
        try:
            value = float(raw[:-1] if relative else raw)
        except ValueError:
            raise TfbenchError(f"--max-drop {text!r}: expected a number (0.01) or a percentage (2%)") from None
        if not math.isfinite(value) or value < 0:
            raise TfbenchError(f"--max-drop {text!r}: must be a finite number >= 0")
        return cls(value / 100.0 if relative else value, relative)

    def allowed(self, baseline: float) -> float:
        return self.value * abs(baseline) if self.relative else self.value

    def __str__(self) -> str:
        return f"{self.value * 100:g}%" if self.relative else f"{self.value:g}"


@dataclass(frozen=True)
class Comparison:
    suite: str
    adapter: str
    resolution: str
    metric: str
    bucket: str
    baseline: float | None
    new: float | None
    allowed: float
    ok: bool
    reason: str = ""

    @property
    def delta(self) -> float | None:
        return None if self.baseline is None or self.new is None else self.new - self.baseline

    @property
    def group(self) -> str:
        return f"{self.suite}/{self.adapter}@{self.resolution}"


def parse_metrics(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """--metrics: registered check names (default: the registry's check defaults)."""
    raw = text.split(",") if isinstance(text, str) else (text or default_check_names())
    names = [m.strip() for m in raw if m.strip()]
    known = check_names()
    bad = [m for m in names if m not in known]
    if bad or not names:
        raise TfbenchError(f"--metrics: unknown metric {', '.join(map(repr, bad)) or '(none)'}; "
                           f"choose from {', '.join(known)}")
    return tuple(dict.fromkeys(names))


def parse_buckets(text: str | None) -> tuple[str, ...]:
    raw = (text or "all").strip()
    if raw == "all":
        return BUCKETS
    names = [b.strip() for b in raw.split(",") if b.strip()]
    bad = [b for b in names if b not in BUCKET_CHOICES]
    if bad or not names:
        raise TfbenchError(f"--buckets {raw!r}: use all, mean, or a comma list of {', '.join(BUCKET_CHOICES)}")
    return tuple(dict.fromkeys(names))


def _load_any(path: Path) -> list[dict[str, Any]]:
    """A results.json, a golden file (several results), or a folder of results.json files."""
    out: list[dict[str, Any]] = []
    for f in find_results([path]):
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            data = None
        if isinstance(data, dict) and data.get("schema") == GOLDEN_SCHEMA:
            results = data.get("results")
            if not isinstance(results, list) or not results:
                raise ResultsError(f"{f}: golden file without results; recreate it with `tfbench golden`")
            out += [{**r, "_path": f"{f}#{i}"} for i, r in enumerate(results)]
        else:
            out.append(load_results(f))
    return out


def load_side(paths: Iterable[str | Path], role: str) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for p in paths:
        results += _load_any(Path(p))
    if not results:
        raise ResultsError(f"{role}: no results.json under {', '.join(map(str, paths))}")
    return results


def _key(r: dict[str, Any]) -> tuple[str, str, str]:
    return (str(r["suite"].get("name")), str(r["adapter"].get("spec")), str(r["suite"].get("resolution")))


def _describe(r: dict[str, Any]) -> str:
    s = r["suite"]
    return f"{r['adapter'].get('spec')} on {s.get('name')} v{s.get('version')} @ {s.get('resolution')}"


def check_comparable(new: dict[str, Any], base: dict[str, Any]) -> None:
    """Raise ResultsError naming the first difference that makes two results incomparable."""
    fields = [
        ("suite", lambda r: r["suite"].get("name")),
        ("suite version", lambda r: r["suite"].get("version")),
        ("resolution", lambda r: r["suite"].get("resolution")),
        ("bucket edges", lambda r: r.get("buckets")),
        ("OCR backend", lambda r: _backend(r, "text")),
        ("face backend", lambda r: _backend(r, "face")),
    ]
    for what, get in fields:
        a, b = get(new), get(base)
        if a != b:
            raise ResultsError(
                f"cannot compare {_describe(new)} ({new.get('_path')}) with the baseline {_describe(base)} "
                f"({base.get('_path')}): different {what} ({a!r} vs {b!r}); regenerate the baseline with the "
                f"same suite, resolution and backends")


def _backend(r: dict[str, Any], kind: str) -> tuple[Any, Any]:
    b = (r.get("backends") or {}).get(kind) or {}
    return (b.get("backend"), b.get("version"))


def pair(new: list[dict[str, Any]], base: list[dict[str, Any]]) -> tuple[list[tuple[dict, dict]], list[dict]]:
    """-> (pairs of (new, baseline), baseline results with no partner in the new results).

    Results pair by (suite, adapter spec, resolution). When each side holds one adapter (the usual
    model-CI case: a new version of the same model, perhaps under another spec), they pair by
    resolution; when each side holds a single result they pair directly. Every pair is then checked
    with :func:`check_comparable`.
    """
    if len(new) == 1 and len(base) == 1:
        pairs, missing = [(new[0], base[0])], []
    else:
        by_new = {_key(r): r for r in new}
        pairs = [(by_new[_key(b)], b) for b in base if _key(b) in by_new]
        missing = [b for b in base if _key(b) not in by_new]
        one_each = len({r["adapter"].get("spec") for r in new}) == 1 and len({r["adapter"].get("spec") for r in base}) == 1
        if not pairs and one_each:
            by_res = {r["suite"].get("resolution"): r for r in new}
            pairs = [(by_res[b["suite"].get("resolution")], b) for b in base if b["suite"].get("resolution") in by_res]
            missing = [b for b in base if b["suite"].get("resolution") not in by_res]
        if not pairs:
            raise ResultsError(
                "nothing to compare: the new results (" + "; ".join(sorted(map(_describe, new))) + ") share no "
                "suite/adapter/resolution with the baseline (" + "; ".join(sorted(map(_describe, base))) + ")")
    for n, b in pairs:
        check_comparable(n, b)
    return pairs, missing


def _compare_metric(ident: tuple[str, str, str], spec: MetricSpec, n: dict[str, Any], b: dict[str, Any],
                    buckets: Sequence[str], tolerance: Tolerance) -> list[Comparison]:
    """The comparisons of one metric of one pair (new ``n``, baseline ``b``)."""
    out: list[Comparison] = []
    checked: set[str] = set()
    for bucket in ([TEMPORAL_BUCKET] if spec.aggregation == "temporal" else buckets):
        use, note = bucket, ""
        bv = spec.value(b, bucket) if spec.aggregation != "temporal" else spec.value(b)
        if bv is None and bucket == "mean" and spec.block(b) is not None:
            why = undefined_reason(spec.block(b) or {}, spec.counts(b))
            use, note = "instance_mean", f"baseline mean undefined ({why}): compared the instance mean; "
            bv = spec.value(b, use)
        if use in checked:
            continue
        checked.add(use)
        if bv is None:
            out.append(Comparison(*ident, spec.check_name, use, None, _new_value(spec, n, use), 0.0, True,
                                  "n/a: " + ("empty in the baseline" if spec.aggregation != "temporal" else
                                             "no value in the baseline")))
            continue
        allowed = tolerance.allowed(bv)
        nv = _new_value(spec, n, use)
        if nv is None:
            why = undefined_reason(spec.block(n) or {}, spec.counts(n)) if use == "mean" else None
            out.append(Comparison(*ident, spec.check_name, use, bv, None, allowed, False,
                                  note + "no value in the new results" + (f" ({why})" if why else "")))
            continue
        drop = (nv - bv) if spec.lower_better else (bv - nv)
        ok = drop <= allowed + EPS
        out.append(Comparison(*ident, spec.check_name, use, bv, nv, allowed, ok,
                              note + ("" if ok else f"dropped by {drop:.4g} > allowed {allowed:.4g}")))
    return out


def _new_value(spec: MetricSpec, results: dict[str, Any], bucket: str) -> float | None:
    return spec.value(results) if spec.aggregation == "temporal" else spec.value(results, bucket)


def compare(new: list[dict[str, Any]], base: list[dict[str, Any]], tolerance: Tolerance,
            metrics: Sequence[str] | None = None, buckets: Sequence[str] = BUCKETS) -> list[Comparison]:
    """Every check of the new results against the baseline (metrics default: the registry's check defaults)."""
    pairs, missing = pair(new, base)
    specs = [get_metric(m) for m in (metrics or default_check_names())]
    out: list[Comparison] = []
    for b in missing:
        s = b["suite"]
        out.append(Comparison(str(s.get("name")), str(b["adapter"].get("spec")), str(s.get("resolution")),
                              "results", "-", None, None, 0.0, False, "missing from the new results"))
    for n, b in pairs:
        ident = (str(b["suite"].get("name")), str(n["adapter"].get("spec")), str(b["suite"].get("resolution")))
        for spec in specs:
            out += _compare_metric(ident, spec, n, b, buckets, tolerance)
        bf, nf = _failures(b), _failures(n)
        out.append(Comparison(*ident, "failed_images", "-", float(bf), float(nf), 0.0, nf <= bf,
                              "" if nf <= bf else f"{nf - bf} more image(s) failed"))
    return out


def _failures(r: dict[str, Any]) -> int:
    return int(((r.get("failures") or {}).get("images")) or 0)


def _num(v: float | None, signed: bool = False) -> str:
    if v is None:
        return "-"
    return f"{v:+.4f}" if signed else f"{v:.4f}"


def _count(v: float | None, signed: bool = False) -> str:
    return "-" if v is None else (f"{int(v):+d}" if signed else str(int(v)))


def markdown_report(comparisons: Sequence[Comparison], tolerance: Tolerance) -> str:
    failed = [c for c in comparisons if not c.ok]
    rows = []
    for c in comparisons:
        status = (c.reason if c.reason.startswith("n/a") else "ok" + (f" ({c.reason.rstrip('; ')})" if c.reason else "")
                  ) if c.ok else f"**FAIL** {c.reason}"
        fmt = _count if c.metric == "failed_images" else _num
        allowed = "-" if c.reason.startswith("n/a") else fmt(c.allowed)
        rows.append([c.group, c.metric, c.bucket, fmt(c.baseline), fmt(c.new), fmt(c.delta, signed=True), allowed, status])
    lines = [markdown_table(["run", "metric", "bucket", "baseline", "new", "delta", "allowed drop", "status"], rows,
                            align="lllrrrrl")]
    skipped = sum(c.ok and c.reason.startswith("n/a") for c in comparisons)
    extra = f" ({skipped} not applicable: no value in the baseline)" if skipped else ""
    verdict = (f"**FAIL**: {len(failed)} of {len(comparisons)} checks dropped beyond the tolerance ({tolerance}){extra}"
               if failed else f"**PASS**: {len(comparisons)} checks within the tolerance ({tolerance}){extra}")
    return "\n".join(lines + ["", verdict])


def junit_xml(comparisons: Sequence[Comparison], tolerance: Tolerance) -> str:
    failed = sum(not c.ok for c in comparisons)
    skipped = sum(c.ok and c.reason.startswith("n/a") for c in comparisons)
    suite = ET.Element("testsuite", name="tfbench.check", tests=str(len(comparisons)), failures=str(failed),
                       errors="0", skipped=str(skipped))
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="max_drop", value=str(tolerance))
    for c in comparisons:
        case = ET.SubElement(suite, "testcase", classname=c.group, name=f"{c.metric}[{c.bucket}]", time="0")
        if c.ok and c.reason.startswith("n/a"):
            ET.SubElement(case, "skipped", message=c.reason)
        if not c.ok:
            f = ET.SubElement(case, "failure", message=c.reason, type="regression")
            f.text = f"baseline {_num(c.baseline)}, new {_num(c.new)}, allowed drop {_num(c.allowed)}"
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
