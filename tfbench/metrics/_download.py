"""Fast, clear failure before a model download when there is no network (instead of long retries)."""
from __future__ import annotations

import contextlib
import socket
from typing import Iterator

from tfbench.errors import MissingWeightsError


def require_host(host: str, what: str, manual: str, timeout: float = 8.0) -> None:
    """Raise :class:`MissingWeightsError` (what to download, where to put it) when ``host`` is unreachable."""
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError as exc:
        raise MissingWeightsError(f"{what} is not on disk and {host} cannot be reached ({exc}). {manual}") from exc


@contextlib.contextmanager
def socket_timeout(seconds: float) -> Iterator[None]:
    """Bound every blocking socket operation of a download library that sets no timeout itself."""
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)
