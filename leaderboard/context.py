"""What every page of the app shares: the store, the public/maintainer mode, the client and row labels.

The app is public by default: it shows the board and accepts submissions, never the queue, notes or
server paths. A maintainer unlocks the Maintainer page with the secret configured on the server
(``$TFBENCH_LEADERBOARD_MAINTAINER_SECRET`` or ``maintainer_secret`` in Streamlit's secrets.toml); without
one configured, maintainer mode is off and approval happens with the CLI only.
"""
from __future__ import annotations

import hmac
import os
import threading
import time
from pathlib import Path
from typing import Any

from tfbench.leaderboard.store import DEFAULT_STORE, Store

STORE_ENV = "TFBENCH_LEADERBOARD_STORE"
SECRET_ENV = "TFBENCH_LEADERBOARD_MAINTAINER_SECRET"
TRUST_PROXY_ENV = "TFBENCH_LEADERBOARD_TRUST_PROXY"  # "1": the client is the first X-Forwarded-For address
ATTEMPTS_PER_MINUTE = {"submit": 6, "unlock": 10}  # per client per minute (accepted submissions: queue.per_hour())


def store_path() -> Path:
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


def open_store() -> Store:
    """A fresh connection per script run: Streamlit runs each session in its own thread."""
    return Store(store_path())


def maintainer_secret() -> str | None:
    """The secret configured on the server, or None (then maintainer mode is off)."""
    secret = os.environ.get(SECRET_ENV)
    if secret:
        return secret
    import streamlit as st

    try:
        value = st.secrets.get("maintainer_secret")
    except Exception:  # noqa: BLE001 - no secrets.toml (or an unreadable one) means no secret
        return None
    return str(value) if value else None


def is_maintainer() -> bool:
    """True once this browser session entered the server's secret on the Maintainer page."""
    import streamlit as st

    secret = maintainer_secret()
    entered = st.session_state.get("maintainer_key")
    return bool(secret and isinstance(entered, str) and hmac.compare_digest(entered.encode(), secret.encode()))


def client_id() -> str:
    """Who is submitting, for the rate limits: the peer address (or the proxy's X-Forwarded-For when trusted)."""
    import streamlit as st

    if os.environ.get(TRUST_PROXY_ENV) == "1":
        forwarded = (st.context.headers.get("X-Forwarded-For") or "").split(",")[0].strip()
        if forwarded:
            return f"web:{forwarded}"
    return f"web:{st.context.ip_address or 'unknown'}"


class AttemptLimiter:
    """Submit clicks per client per minute, in the server's memory (refused attempts never touch the store)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._seen.get(client, []) if now - t < 60.0]
            if len(recent) >= self.per_minute:
                self._seen[client] = recent
                return False
            self._seen[client] = [*recent, now]
            return True


def attempt_limiter(action: str) -> AttemptLimiter:
    """The server-wide limiter of ``action`` ("submit" clicks, maintainer "unlock" tries)."""
    import streamlit as st

    @st.cache_resource
    def _shared(name: str) -> AttemptLimiter:  # one per server process and action, shared by every session
        return AttemptLimiter(ATTEMPTS_PER_MINUTE[name])

    return _shared(action)


def row_label(result: dict[str, Any]) -> str:
    meta = result.get("_row", {})
    suite = result["suite"]
    status = meta.get("status", "unverified")
    group = "" if meta.get("grp", "measured") == "measured" else f", {meta['grp']}"
    return (f"{result['adapter']['spec']} @ {suite['resolution']} ({suite['name']} v{suite['version']}, "
            f"v{meta.get('version', 1)} {status}{group}) #{meta.get('id')}")
