"""Submissions: a results.json (and optionally a zip of its records and crops) into a pending queue, and its
approval into a row.

`submit` (the web form and `tfbench leaderboard submit` alike) checks the files (:mod:`.bundle`) and the
suite identity, then queues them: identical content already pending is the same entry, and one client may
queue at most ``queue.per_hour()`` per hour. `approve` (CLI or the maintainer page) verifies again and in
full: a submission with records is checked against them and its suite (:mod:`.verify`) and its crops are
re-read by the declared backends (:mod:`.reread`); it becomes a `verified` row. A results-only submission
becomes an `unverified` row (never ranked). Nothing changes when a check fails; `preview` shows what an
approval would change against the current row before anything changes.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from tfbench.leaderboard import queue
from tfbench.leaderboard.bundle import SubmissionError, parse_bundle, parse_results
from tfbench.leaderboard.changes import describe
from tfbench.leaderboard.instances import Instance
from tfbench.leaderboard.reread import MIN_SAMPLE
from tfbench.leaderboard.schema import RowKey, row_key
from tfbench.leaderboard.store import ImportOutcome, Store, content_digest
from tfbench.leaderboard.suitedefs import check_identity, lookup
from tfbench.leaderboard.verify import verify_row

__all__ = ["SubmissionError", "submit", "preview", "approve", "reject", "Preview", "Approval"]


def content_hash(data: dict[str, Any], bundle_raw: bytes | None) -> str:
    h = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    h.update(hashlib.sha256(bundle_raw).digest() if bundle_raw is not None else b"no bundle")
    return h.hexdigest()


def submit(store: Store, results_raw: bytes, bundle_raw: bytes | None = None, note: str = "",
           client: str = "cli") -> queue.Queued:
    """Check and queue a submission (status ``pending``); the same content already pending is not queued twice."""
    data = parse_results(results_raw)
    if bundle_raw is not None:
        bundle = parse_bundle(bundle_raw)
        bundle.records()  # the records must parse now, not at approval time
    check_identity(lookup(store, data["suite"]), data)
    return queue.add(store, data, bundle_raw, note, client, content_hash(data, bundle_raw))


@dataclass
class Preview:
    """What approving a submission would do: which row, which version, verified or not, what changes."""

    submission_id: int
    key: RowKey
    version: int
    verified: bool  # it carries records: approval verifies it (else it becomes `unverified`)
    current: dict[str, Any] | None
    changes: list[str] = field(default_factory=list)
    identical: bool = False  # the same content as the current version: approving adds nothing

    def lines(self) -> list[str]:
        if self.identical and self.current is not None:
            return [f"#{self.submission_id}: {self.key.label()}: identical to the current version "
                    f"{self.current['_row']['version']} (row #{self.current['_row']['id']}); approving changes nothing"]
        what = "verified row (records checked, crops re-read)" if self.verified else "unverified row (results only)"
        head = (f"#{self.submission_id}: {self.key.label()} -> version {self.version}, {what}"
                if self.current else f"#{self.submission_id}: {self.key.label()} -> new row, {what}")
        if self.current is not None:
            cur = self.current["_row"]
            head += f"; current: version {cur['version']} ({cur['status']}, row #{cur['id']})"
        return [head, *(f"    {c}" for c in self.changes)]


@dataclass
class Approval:
    preview: Preview
    outcome: ImportOutcome | None  # None for a dry run
    report: dict[str, Any]


def _load(store: Store, submission_id: int) -> tuple[dict[str, Any], list[dict[str, Any]], list[Instance]]:
    status, data, bundle_raw = queue.payload(store, submission_id)
    if status != "pending":
        raise SubmissionError(f"submission {submission_id} is already {status}")
    data = parse_results(json.dumps(data).encode("utf-8"))
    if not bundle_raw:
        return data, [], []
    bundle = parse_bundle(bundle_raw)
    records = bundle.records()
    return data, records, bundle.instances(records)


def _plan(store: Store, submission_id: int, data: dict[str, Any], records: list[dict[str, Any]],
          instances: list[Instance]) -> Preview:
    key = row_key(data)
    current = store.current(key)
    version = 1 if current is None else int(current["_row"]["version"]) + 1
    same = current is not None and current["_row"]["digest"] == content_digest(data, instances)
    return Preview(submission_id, key, version, bool(records), current, describe(current, data), same)


def preview(store: Store, submission_id: int) -> Preview:
    """What approving a pending submission would change against the current row; changes nothing."""
    return _plan(store, submission_id, *_load(store, submission_id))


def approve(store: Store, submission_id: int, sample: int | None = MIN_SAMPLE, dry_run: bool = False) -> Approval:
    """Verify a pending submission and add it as the next version of its row (``dry_run``: verify only).

    ``sample``: crops to re-read (at least 200; None = all of them).
    """
    data, records, instances = _load(store, submission_id)
    plan = _plan(store, submission_id, data, records, instances)
    if records:
        report = verify_row(store, data, records, instances, sample=sample, require_crops=True)
        status = "verified"
    else:
        check_identity(lookup(store, data["suite"]), data)
        report, status = {"unverified": "results only: no records to check"}, "unverified"
    if dry_run:
        return Approval(plan, None, report)
    outcome = store.import_results(data, instances, source="submission", status=status, verification=report,
                                   label=f"submission #{submission_id}", origin=f"submission #{submission_id}")
    queue.decide(store, submission_id, "approved", outcome.result_id)
    return Approval(plan, outcome, report)


def reject(store: Store, submission_id: int, reason: str = "") -> None:
    status, _, _ = queue.payload(store, submission_id)
    if status != "pending":
        raise SubmissionError(f"submission {submission_id} is already {status}")
    queue.decide(store, submission_id, "rejected", reason=reason)
