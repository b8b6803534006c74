"""Upload size limits of the leaderboard, and how every page, message and the README state them.

Kept apart from :mod:`tfbench.leaderboard.bundle` (which imports the results schema) so that building the
CLI's parser, which states the limits in `tfbench submit --help`, does not import pydantic models."""
from __future__ import annotations

MIB = 2**20
MAX_RESULTS_BYTES = 2 * MIB
MAX_BUNDLE_BYTES = 64 * MIB
UPLOAD_LIMITS = {"results.json": MAX_RESULTS_BYTES, "bundle zip": MAX_BUNDLE_BYTES}


def limit_text(what: str) -> str:
    """The limit of one upload as every page, message and the README state it: ``64 MB (67,108,864 bytes)``.

    "MB" as Streamlit's upload widget writes it ("Limit 64MB per file"), which means 2**20 bytes."""
    limit = UPLOAD_LIMITS[what]
    return f"{limit // MIB} MB ({limit:,} bytes)"
