"""Reading JSON files with one clear error naming the file."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tfbench.errors import TfbenchError


def read_json(path: Path, error: type[TfbenchError], missing: str) -> Any:
    """Parse ``path``; a missing (message ``missing``), non-UTF-8 or malformed file raises ``error``."""
    path = Path(path)
    if not path.is_file():
        raise error(missing)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise error(f"{path}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8 JSON") from exc
