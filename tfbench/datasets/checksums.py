"""Image and video-clip checksums, verified once per file version and cached.

The cache (``$TFBENCH_CACHE/checksums.json``) maps an absolute path to ``{size, mtime_ns, sha256}``;
a file whose size and modification time are unchanged is not hashed again. Importers fill the cache
as they hash, so the first run after an import verifies without re-reading the images.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tfbench.cache import cache_dir
from tfbench.errors import ManifestError
from tfbench.images import sha256_of
from tfbench.records import write_json_atomic


class ChecksumCache:
    """sha256 of files, keyed by absolute path + size + mtime (nanoseconds)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else cache_dir() / "checksums.json"
        self._data: dict[str, dict] = {}
        self._dirty = False
        self.hashed = 0  # files actually read by this instance (the rest came from the cache)
        if self.path.is_file():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self._data = data if isinstance(data, dict) else {}
            except (json.JSONDecodeError, OSError):
                self._data = {}  # a damaged cache only costs re-hashing

    def sha256(self, file: Path) -> str:
        file = Path(file)
        st = file.stat()
        key = str(file.resolve())
        entry = self._data.get(key)
        if isinstance(entry, dict) and entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns:
            return str(entry["sha256"])
        digest = sha256_of(file)
        self.hashed += 1
        self._data[key] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}
        self._dirty = True
        return digest

    def save(self) -> None:
        if not self._dirty:
            return
        if self.path.is_file():  # keep entries another process added meanwhile
            try:
                on_disk = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(on_disk, dict):
                    self._data = {**on_disk, **self._data}
            except (json.JSONDecodeError, OSError):
                pass
        try:
            write_json_atomic(self.path, self._data)
        except OSError:
            return  # an unwritable cache only costs re-hashing next time
        self._dirty = False


def verify_suite(suite: Any, cache: ChecksumCache | None = None) -> int:
    """Check every image (image suite) or clip (video suite) that carries a ``sha256``; returns how many.

    A missing file or a different checksum raises one :class:`ManifestError` naming the manifest,
    the record, the file and what to do.
    """
    own = cache is None
    cache = cache or ChecksumCache()
    source = str(suite.source) if suite.source else suite.name
    key, what = ("clips", "video") if hasattr(suite, "clips") else ("images", "image")
    checked = 0
    try:
        for i, rec in enumerate(getattr(suite, key)):
            if not rec.sha256:
                continue
            path = suite.path_of(rec)
            if not path.is_file():
                raise ManifestError(f"{source}: {key}[{i}] ({rec.id}).file: {what} not found: {path} "
                                    f"(data root {suite.root}; pass --data-root or set TFBENCH_DATA_ROOT)")
            digest = cache.sha256(path)
            if digest != rec.sha256.lower():
                raise ManifestError(f"{source}: {key}[{i}] ({rec.id}).sha256: {path} has sha256 {digest[:16]}... but "
                                    f"the manifest says {rec.sha256[:16]}...; the file changed or is corrupt: "
                                    f"restore or re-download it, or re-import the data to accept the new file")
            checked += 1
    finally:
        if own:
            cache.save()
    return checked


def env_data_root() -> Path | None:
    value = os.environ.get("TFBENCH_DATA_ROOT")
    return Path(value).expanduser() if value else None
