"""Model and weight downloads: pinned checksums, retries and per-request timeouts, no process-wide socket state.

Files are fetched with pooch's HTTP downloader (requests, streamed, a timeout on every connect and read) into
a temporary file next to the target, checked against their :class:`Pin` and only then renamed into place, so
a corrupted or substituted file never reaches a model loader. A cached file with a pin is checked the same way
before it is used (a damaged copy is fetched again). Offline (``TFBENCH_OFFLINE`` / ``HF_HUB_OFFLINE``), or
when every attempt failed, :class:`~tfbench.errors.MissingWeightsError` says what to download and where to
put it.
"""
from __future__ import annotations

import hashlib
import os
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tfbench.errors import MissingWeightsError

RETRIES = 3  # attempts after the first
TIMEOUT_S = 30.0  # per connect / read, not for the whole file
_CHUNK = 1 << 20


def offline() -> bool:
    """Whether the user asked for no network access (``TFBENCH_OFFLINE`` or ``HF_HUB_OFFLINE``)."""
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes", "on") for v in ("TFBENCH_OFFLINE", "HF_HUB_OFFLINE"))


@dataclass(frozen=True)
class Pin:
    """Where a file comes from and what its bytes must hash to (any given checksum must match)."""

    url: str
    sha256: str | None = None  # full SHA-256 of the file
    git_blob: str | None = None  # git object id of the file (SHA-1 of "blob <size>\\0" + bytes): GitHub raw files
    sha256_prefix: str | None = None  # leading hex digits of the SHA-256 (docTR names its files by them)
    size: int | None = None

    @property
    def pinned(self) -> bool:
        return bool(self.sha256 or self.git_blob or self.sha256_prefix)

    def mismatch(self, path: Path) -> str | None:
        """Why the file at ``path`` is not the pinned one (None when it is, or when nothing is pinned)."""
        size = path.stat().st_size
        if self.size is not None and size != self.size:
            return f"it has {size} bytes, the pinned file has {self.size}"
        if self.sha256 or self.sha256_prefix:
            got = file_sha256(path)
            want = (self.sha256 or self.sha256_prefix or "").lower()
            if not got.startswith(want):
                return f"its sha256 is {got}, the pinned file's is {want}{'...' if not self.sha256 else ''}"
        if self.git_blob:
            got = git_blob_id(path)
            if got != self.git_blob.lower():
                return f"its git blob id is {got}, the pinned file's is {self.git_blob.lower()}"
        return None


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def git_blob_id(path: Path) -> str:
    """The id git gives the file's content (what a commit's tree pins)."""
    h = hashlib.sha1(f"blob {Path(path).stat().st_size}\0".encode())
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def require_host(host: str, what: str, manual: str, timeout: float = 8.0) -> None:
    """Raise :class:`MissingWeightsError` (what to download, where to put it) when ``host`` is unreachable.

    One probe connection with its own timeout: a fast, clear failure before a library that retries for
    minutes is asked to download.
    """
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError as exc:
        raise MissingWeightsError(f"{what} is not on disk and {host} cannot be reached ({exc}). {manual}") from exc


def _fetch_once(url: str, tmp: Path, timeout: float) -> None:
    import pooch  # lazy: requests is only imported when something is downloaded

    progress = sys.stderr.isatty()
    pooch.HTTPDownloader(timeout=timeout, progressbar=progress)(url, str(tmp), None)


def download(pin: Pin, target: Path, *, what: str, manual: str, retries: int = RETRIES,
             timeout: float = TIMEOUT_S) -> Path:
    """Fetch ``pin.url`` to ``target`` (atomically), checked against the pin; retried with a growing pause.

    ``what`` names the file in messages, ``manual`` says how to get it by hand.
    """
    import requests

    target = Path(target)
    if offline():
        raise MissingWeightsError(f"{what} is not cached and offline mode (TFBENCH_OFFLINE/HF_HUB_OFFLINE) is set; {manual}")
    target.parent.mkdir(parents=True, exist_ok=True)
    why = "no attempt"
    for attempt in range(retries + 1):
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        os.close(fd)
        tmp = Path(name)
        try:
            _fetch_once(pin.url, tmp, timeout)
            bad = pin.mismatch(tmp)
            if bad is None:
                os.replace(tmp, target)
                if not pin.pinned:
                    print(f"tfbench: downloaded {target} (not pinned; sha256 {file_sha256(target)})", file=sys.stderr)
                return target
            why = f"checksum mismatch: {bad}"
        except (requests.RequestException, OSError) as exc:
            why = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        finally:
            tmp.unlink(missing_ok=True)
        if attempt < retries:
            time.sleep(min(attempt + 1, 5))
    raise MissingWeightsError(f"cannot download {what} from {pin.url} ({retries + 1} attempts; last: {why}); {manual}")


def cached_download(pin: Pin, target: Path, *, what: str, manual: str, retries: int = RETRIES,
                    timeout: float = TIMEOUT_S) -> Path:
    """``target`` when it holds the pinned file, else :func:`download` it (a damaged cached copy is replaced)."""
    target = Path(target)
    if target.is_file():
        bad = pin.mismatch(target)
        if bad is None:
            return target
        if offline():
            raise MissingWeightsError(f"{target} is not the pinned {what} ({bad}) and offline mode is set; "
                                      f"delete it and {manual}")
        print(f"tfbench: {target} is not the pinned {what} ({bad}); downloading it again", file=sys.stderr)
    return download(pin, target, what=what, manual=manual, retries=retries, timeout=timeout)
