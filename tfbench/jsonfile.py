"""The one JSON file reader: one clear error naming the file (missing, not UTF-8, malformed, NaN when strict)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tfbench.errors import TfbenchError


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (tfbench files are strict JSON)")


def parse_json(text: str | bytes, source: str, error: type[TfbenchError] = TfbenchError, strict: bool = False) -> Any:
    """Parse JSON text from ``source`` (a file name for messages); ``strict`` also refuses NaN/Infinity."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return json.loads(text, parse_constant=_no_constant) if strict else json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{source}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{source}: not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8 JSON") from exc
    except ValueError as exc:  # NaN/Infinity under strict
        raise error(f"{source}: {exc}") from exc
    except RecursionError as exc:
        raise error(f"{source}: nested too deeply to be a tfbench file") from exc


def read_json(path: Path, error: type[TfbenchError] = TfbenchError, missing: str | None = None, *,
              strict: bool = False) -> Any:
    """Parse the file at ``path``; a missing one raises ``error(missing)`` (default: "<path> not found")."""
    path = Path(path)
    if not path.is_file():
        raise error(missing or f"{path} not found")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    return parse_json(raw, str(path), error, strict)
