"""What every page of the app shares: the store it reads (from TFBENCH_LEADERBOARD_STORE) and row labels."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tfbench.leaderboard.store import DEFAULT_STORE, Store

STORE_ENV = "TFBENCH_LEADERBOARD_STORE"


def store_path() -> Path:
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


def open_store() -> Store:
    """A fresh connection per script run: Streamlit runs each session in its own thread."""
    return Store(store_path())


def row_label(result: dict[str, Any]) -> str:
    meta = result.get("_row", {})
    suite = result["suite"]
    extra = f", {meta['label']}" if meta.get("label") else ""
    return (f"{result['adapter']['spec']} @ {suite['resolution']} ({suite['name']} v{suite['version']}, "
            f"{meta.get('source', 'run')}{extra}) #{meta.get('id')}")
