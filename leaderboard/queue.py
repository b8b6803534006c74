"""The submissions queue in the store: one pending entry per content, a per-client rate limit, decisions."""
from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass
from typing import Any

from tfbench.errors import TfbenchError
from tfbench.leaderboard.schema import row_key
from tfbench.leaderboard.store import Store, now

RATE_ENV = "TFBENCH_LEADERBOARD_SUBMISSIONS_PER_HOUR"
DEFAULT_PER_HOUR = 10


class RateLimited(TfbenchError, ValueError):
    """A client sent more submissions than the board accepts per hour."""


@dataclass(frozen=True)
class Submission:
    id: int
    status: str
    submitted_at: str
    spec: str
    suite: str
    resolution: str
    note: str
    bundle_bytes: int
    client: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Queued:
    id: int
    duplicate: bool  # the same content was already waiting: no new entry


def per_hour() -> int:
    try:
        return max(1, int(os.environ.get(RATE_ENV, DEFAULT_PER_HOUR)))
    except ValueError:
        raise TfbenchError(f"${RATE_ENV} must be a whole number, got {os.environ[RATE_ENV]!r}") from None


def add(store: Store, data: dict[str, Any], bundle: bytes | None, note: str, client: str, content_hash: str) -> Queued:
    """Queue a checked submission; identical content already pending returns that entry."""
    key = row_key(data)
    since = (_dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(hours=1)).isoformat(timespec="seconds")
    with store.write() as db:
        same = db.execute("SELECT id FROM submissions WHERE content_hash = ? AND status = 'pending'",
                          (content_hash,)).fetchone()
        if same is not None:
            return Queued(int(same["id"]), True)
        recent = db.execute("SELECT COUNT(*) FROM submissions WHERE client = ? AND submitted_at >= ?",
                            (client, since)).fetchone()[0]
        limit = per_hour()
        if recent >= limit:
            raise RateLimited(f"this board accepts {limit} submissions per hour from one client; try again later")
        cur = db.execute("INSERT INTO submissions (status, submitted_at, note, spec, suite, resolution, results, bundle, "
                         "content_hash, client) VALUES ('pending', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (now(), note[:500], key.spec, f"{key.suite} v{key.suite_version}", key.resolution,
                          json.dumps(data, ensure_ascii=False), bundle, content_hash, client[:200]))
        return Queued(int(cur.lastrowid), False)


def listing(store: Store, status: str | None = "pending") -> list[Submission]:
    sql = ("SELECT id, status, submitted_at, spec, suite, resolution, COALESCE(note, '') AS note, "
           "COALESCE(LENGTH(bundle), 0) AS bundle_bytes, COALESCE(client, '') AS client, "
           "COALESCE(reason, '') AS reason FROM submissions")
    rows = store.db.execute(sql + (" WHERE status = ?" if status else "") + " ORDER BY id",
                            (status,) if status else ()).fetchall()
    return [Submission(**dict(r)) for r in rows]


def payload(store: Store, submission_id: int) -> tuple[str, dict[str, Any], bytes | None]:
    row = store.db.execute("SELECT status, results, bundle FROM submissions WHERE id = ?", (submission_id,)).fetchone()
    if row is None:
        raise TfbenchError(f"no submission with id {submission_id}; `tfbench leaderboard pending` lists them")
    return row["status"], json.loads(row["results"]), row["bundle"]


def decide(store: Store, submission_id: int, status: str, result_id: int | None = None, reason: str = "") -> None:
    """Mark a pending submission approved or rejected (only a pending one: two maintainers cannot both decide)."""
    with store.write() as db:
        cur = db.execute("UPDATE submissions SET status = ?, decided_at = ?, result_id = ?, reason = ? "
                         "WHERE id = ? AND status = 'pending'", (status, now(), result_id, reason[:500], submission_id))
        if cur.rowcount != 1:
            raise TfbenchError(f"submission {submission_id} is no longer pending")
