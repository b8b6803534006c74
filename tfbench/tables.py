"""The one table helper for everything tfbench prints: Markdown (job summaries, reports, exports) and aligned
plain text (terminal listings). Cells are strings; a ``|`` or a line break in a Markdown cell is escaped so
a value can never break the table."""
from __future__ import annotations

from typing import Any, Sequence

LEFT, RIGHT = "l", "r"


def _md_cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def markdown_table(header: Sequence[Any], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """A GitHub-flavoured Markdown table; ``align``: one letter per column, ``l`` (default) or ``r``."""
    align = (align or "").ljust(len(header), LEFT)
    rule = "|" + "|".join("---:" if a == RIGHT else "---" for a in align[:len(header)]) + "|"
    lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |", rule]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(header: Sequence[Any], rows: Sequence[Sequence[Any]], align: str | None = None, gap: int = 2,
               rule: bool = True) -> str:
    """Columns padded to their widest cell (``align`` as in :func:`markdown_table`), a dashed rule under the
    header; the last left-aligned column is not padded (no trailing spaces)."""
    cells = [[str(h) for h in header]] + [[str(c) for c in row] for row in rows]
    n = len(header)
    align = (align or "").ljust(n, LEFT)
    widths = [max(len(r[i]) for r in cells) for i in range(n)]

    def line(row: list[str]) -> str:
        parts = [c.rjust(w) if a == RIGHT else c.ljust(w) for c, w, a in zip(row, widths, align)]
        return (" " * gap).join(parts).rstrip()

    out = [line(cells[0])]
    if rule:
        out.append((" " * gap).join("-" * w for w in widths))
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)
