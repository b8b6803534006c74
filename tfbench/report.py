"""Readable tables of results (terminal and Markdown)."""
from __future__ import annotations

from typing import Any, Sequence


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _get(d: dict, *path: str) -> Any:
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)  # type: ignore[assignment]
    return d


COLUMNS: list[tuple[str, tuple[str, ...], int]] = [
    ("T-ACC s", ("metrics", "text", "t_acc", "small"), 3),
    ("m", ("metrics", "text", "t_acc", "medium"), 3),
    ("l", ("metrics", "text", "t_acc", "large"), 3),
    ("T-ACC", ("metrics", "text", "t_acc", "mean"), 3),
    ("T-NED", ("metrics", "text", "t_ned", "mean"), 3),
    ("F-Sim s", ("metrics", "face", "f_sim", "small"), 3),
    ("m", ("metrics", "face", "f_sim", "medium"), 3),
    ("l", ("metrics", "face", "f_sim", "large"), 3),
    ("F-Sim", ("metrics", "face", "f_sim", "mean"), 3),
    ("PSNR", ("metrics", "text", "psnr", "mean"), 1),
    ("bpp", ("adapter", "bits_per_pixel"), 2),
]


def rows_of(results: Sequence[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    header = ["adapter", "res"] + [c[0] for c in COLUMNS] + ["fail"]
    rows = []
    for r in results:
        fails = _get(r, "failures", "images") or 0
        rows.append([str(_get(r, "adapter", "spec")), str(_get(r, "suite", "resolution"))]
                    + [_fmt(_get(r, *path), digits) for _, path, digits in COLUMNS] + [str(fails)])
    return header, rows


def text_table(results: Sequence[dict[str, Any]]) -> str:
    """Aligned plain-text table, one row per results dict."""
    if not results:
        return "(no results)"
    header, rows = rows_of(results)
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    first = results[0]
    suite, n, nf = (v if isinstance(v, dict) else {} for v in (
        _get(first, "suite"), _get(first, "metrics", "text", "n"), _get(first, "metrics", "face", "n")))
    lines.append("")
    lines.append(f"suite {suite.get('name')} v{suite.get('version')}; counted words s/m/l = "
                 f"{n.get('small')}/{n.get('medium')}/{n.get('large')}, faces s/m/l = "
                 f"{nf.get('small')}/{nf.get('medium')}/{nf.get('large')} (first row). "
                 f"Scores are means of bucket means; T-* from {_get(first, 'backends', 'text', 'backend')}, "
                 f"F-Sim from {_get(first, 'backends', 'face', 'backend')}.")
    return "\n".join(lines)


def markdown_table(results: Sequence[dict[str, Any]]) -> str:
    header, rows = rows_of(results)
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)
