"""Where tfbench keeps downloads and generated suites: $TFBENCH_CACHE, else the user cache dir."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable


def cache_dir() -> Path:
    env = os.environ.get("TFBENCH_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tfbench"


def build_once(dest: Path, build: Callable[[Path], object], announce: bool = True) -> Path:
    """Return ``dest/manifest.json``, running ``build(tmp_dir)`` first if it is missing.

    The build goes into a temporary sibling folder that is renamed into place, so a killed build
    leaves nothing half-made and a concurrent build that finished first wins. With ``announce`` a line
    on stderr says what is being built (it takes seconds to a minute, once) and another when it is done.
    """
    manifest = dest / "manifest.json"
    if manifest.is_file():
        return manifest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-build-", dir=dest.parent))
    start = time.perf_counter()
    if announce:
        print(f"tfbench: building the suite {dest.name} into {dest.parent} (first use only; later runs reuse it) ...",
              file=sys.stderr, flush=True)
    try:
        build(tmp)
        if announce:
            print(f"tfbench: built {dest.name} in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        try:
            os.replace(tmp, dest)
        except OSError:
            if not manifest.is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest
