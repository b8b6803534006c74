"""Where tfbench keeps downloads and generated suites: $TFBENCH_CACHE, else the user cache dir."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable


def cache_dir() -> Path:
    env = os.environ.get("TFBENCH_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tfbench"


def build_once(dest: Path, build: Callable[[Path], object]) -> Path:
    """Return ``dest/manifest.json``, running ``build(tmp_dir)`` first if it is missing.

    The build goes into a temporary sibling folder that is renamed into place, so a killed build
    leaves nothing half-made and a concurrent build that finished first wins.
    """
    manifest = dest / "manifest.json"
    if manifest.is_file():
        return manifest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-build-", dir=dest.parent))
    try:
        build(tmp)
        try:
            os.replace(tmp, dest)
        except OSError:
            if not manifest.is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest
