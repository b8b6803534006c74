"""The leaderboard's results store: one SQLite file (WAL mode), versioned schema, idempotent imports.

A row is keyed by adapter spec + suite + suite version + resolution + text backend + face backend
(:class:`~tfbench.leaderboard.schema.RowKey`), so results of different OCR/face backends never share a
row. Importing the same results again changes nothing; importing changed results for the same key
replaces that row (and its instances) in one transaction, so a reader sees the old row or the new one.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

from tfbench.errors import TfbenchError
from tfbench.leaderboard.instances import Instance
from tfbench.leaderboard.schema import RowKey, row_key, validate_results

DEFAULT_STORE = "tfbench-leaderboard.sqlite"
SOURCES = ("run", "submission", "reference")

# Each migration moves the schema from version i to i + 1 (PRAGMA user_version); never edit a shipped one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE results (
        id INTEGER PRIMARY KEY,
        spec TEXT NOT NULL, family TEXT, kind TEXT,
        suite TEXT NOT NULL, suite_version TEXT NOT NULL, resolution TEXT NOT NULL, modality TEXT NOT NULL,
        text_backend TEXT NOT NULL, face_backend TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('run', 'submission', 'reference')),
        label TEXT, origin TEXT,
        bits_per_pixel REAL,
        digest TEXT NOT NULL,
        data TEXT NOT NULL,
        imported_at TEXT NOT NULL,
        UNIQUE (spec, suite, suite_version, resolution, text_backend, face_backend)
    );
    CREATE TABLE instances (
        result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
        image TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('text', 'face')), idx INTEGER NOT NULL,
        ratio REAL, gt TEXT, pred TEXT, t_acc REAL, t_ned REAL, f_sim REAL, f_kept REAL, psnr REAL, ssim REAL,
        crop TEXT, orig_png BLOB, recon_png BLOB,
        PRIMARY KEY (result_id, image, kind, idx)
    );
    CREATE TABLE submissions (
        id INTEGER PRIMARY KEY,
        status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
        submitted_at TEXT NOT NULL, decided_at TEXT,
        note TEXT, spec TEXT NOT NULL, suite TEXT NOT NULL, resolution TEXT NOT NULL,
        results TEXT NOT NULL, bundle BLOB, result_id INTEGER
    );
    """,
    "CREATE INDEX instances_by_kind ON instances (result_id, kind);",
)


@dataclass(frozen=True)
class ImportOutcome:
    status: str  # "added" | "updated" | "unchanged" | "skipped" (then result_id is 0 and `note` says why)
    result_id: int
    key: RowKey
    instances: int
    note: str = ""


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


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _digest(data: dict[str, Any], instances: list[Instance]) -> str:
    h = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    for inst in instances:
        h.update(json.dumps([inst.image, inst.kind, inst.idx, inst.t_acc, inst.t_ned, inst.f_sim, inst.pred,
                             inst.crop, inst.orig_png is not None]).encode("utf-8"))
        for blob in (inst.orig_png, inst.recon_png):
            if blob is not None:
                h.update(hashlib.sha256(blob).digest())
    return h.hexdigest()


class Store:
    """A leaderboard store file. Open one per thread or process; SQLite's WAL handles the rest."""

    def __init__(self, path: str | Path, timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise TfbenchError(f"leaderboard store {self.path} is a folder; give a file path, e.g. {self.path / DEFAULT_STORE}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=timeout_s, isolation_level=None, check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self.db.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
            mode = self.db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise TfbenchError(f"{self.path} is not a usable leaderboard store ({exc}); give a new file name") from exc
        if str(mode).lower() != "wal":
            raise TfbenchError(f"{self.path}: SQLite refused WAL mode ({mode}); put the store on a local disk")

    # -- plumbing ---------------------------------------------------------------------------------------
    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken up front (BEGIN IMMEDIATE) so concurrent writers queue, not deadlock."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same committed state."""
        self.db.execute("BEGIN")
        try:
            yield self.db
        finally:
            self.db.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        if self.schema_version == len(MIGRATIONS):
            return
        with self._write() as db:
            version = self.schema_version
            if version > len(MIGRATIONS):
                raise TfbenchError(f"{self.path} has schema version {version}, newer than this tfbench "
                                   f"({len(MIGRATIONS)}); upgrade tfbench to read it")
            for number in range(version, len(MIGRATIONS)):
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number + 1}")

    # -- results ----------------------------------------------------------------------------------------
    def import_results(self, data: dict[str, Any], instances: Iterable[Instance] = (), *, source: str = "run",
                       label: str | None = None, origin: str | None = None) -> ImportOutcome:
        """Add or replace the row of these results (keyed by :class:`RowKey`); identical results are a no-op."""
        if source not in SOURCES:
            raise TfbenchError(f"source must be one of {SOURCES}, got {source!r}")
        data = {k: v for k, v in data.items() if not k.startswith("_")}
        validate_results(data, origin or "results")
        instances = list(instances)
        key = row_key(data)
        digest = _digest(data, instances)
        adapter, suite = data["adapter"], data["suite"]
        values = dict(spec=key.spec, family=adapter.get("family"), kind=adapter.get("kind"), suite=key.suite,
                      suite_version=key.suite_version, resolution=key.resolution,
                      modality=suite.get("modality", "image"), text_backend=key.text_backend,
                      face_backend=key.face_backend, source=source, label=label, origin=origin,
                      bits_per_pixel=adapter.get("bits_per_pixel"), digest=digest,
                      data=json.dumps(data, ensure_ascii=False), imported_at=_now())
        with self._write() as db:
            row = db.execute("SELECT id, digest FROM results WHERE spec=? AND suite=? AND suite_version=? AND "
                             "resolution=? AND text_backend=? AND face_backend=?",
                             (key.spec, key.suite, key.suite_version, key.resolution, key.text_backend,
                              key.face_backend)).fetchone()
            if row is not None and row["digest"] == digest:
                return ImportOutcome("unchanged", row["id"], key, len(instances))
            if row is None:
                cols = ", ".join(values)
                cur = db.execute(f"INSERT INTO results ({cols}) VALUES ({', '.join('?' * len(values))})",
                                 tuple(values.values()))
                result_id, status = int(cur.lastrowid), "added"
            else:
                result_id, status = int(row["id"]), "updated"
                db.execute(f"UPDATE results SET {', '.join(f'{c} = ?' for c in values)} WHERE id = ?",
                           (*values.values(), result_id))
                db.execute("DELETE FROM instances WHERE result_id = ?", (result_id,))
            db.executemany(
                "INSERT INTO instances (result_id, image, kind, idx, ratio, gt, pred, t_acc, t_ned, f_sim, f_kept, "
                "psnr, ssim, crop, orig_png, recon_png) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(result_id, i.image, i.kind, i.idx, i.ratio, i.gt, i.pred, i.t_acc, i.t_ned, i.f_sim, i.f_kept,
                  i.psnr, i.ssim, i.crop, i.orig_png, i.recon_png) for i in instances])
        return ImportOutcome(status, result_id, key, len(instances))

    def results(self, result_id: int | None = None) -> list[dict[str, Any]]:
        """Every row (or one): the stored results dict plus ``_row`` (id, source, label, backends, counts)."""
        where = "" if result_id is None else "WHERE r.id = ? "
        rows = self.db.execute(
            "SELECT r.id, r.source, r.label, r.origin, r.text_backend, r.face_backend, r.imported_at, r.data, "
            "(SELECT COUNT(*) FROM instances i WHERE i.result_id = r.id) AS n_instances, "
            "(SELECT COUNT(*) FROM instances i WHERE i.result_id = r.id AND i.orig_png IS NOT NULL) AS n_crops "
            f"FROM results r {where}ORDER BY r.spec, r.suite, r.resolution, r.id",
            () if result_id is None else (int(result_id),)).fetchall()
        out = []
        for r in rows:
            data = json.loads(r["data"])
            data["_row"] = {k: r[k] for k in ("id", "source", "label", "origin", "text_backend", "face_backend",
                                              "imported_at", "n_instances", "n_crops")}
            out.append(data)
        return out

    def result(self, result_id: int) -> dict[str, Any]:
        found = self.results(result_id)
        if found:
            return found[0]
        raise TfbenchError(f"no leaderboard row with id {result_id}")

    def instances(self, result_id: int, kind: str | None = None, with_crops: bool = False,
                  worst_first: bool = False, limit: int | None = None) -> list[Instance]:
        """Stored instances of a row; ``worst_first`` orders by T-ACC, T-NED (text) or F-Sim (faces), lowest first."""
        cols = "image, kind, idx, ratio, gt, pred, t_acc, t_ned, f_sim, f_kept, psnr, ssim, crop" + (
            ", orig_png, recon_png" if with_crops else "")
        where, args = ["result_id = ?"], [result_id]
        if kind is not None:
            where.append("kind = ?")
            args.append(kind)
        if with_crops:
            where.append("orig_png IS NOT NULL")
        order = ("COALESCE(t_acc, 2), COALESCE(t_ned, 2), COALESCE(f_sim, 2), image, idx" if worst_first
                 else "kind, image, idx")
        sql = f"SELECT {cols} FROM instances WHERE {' AND '.join(where)} ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [Instance(**dict(r)) for r in self.db.execute(sql, args).fetchall()]

    def count(self, table: str = "results") -> int:
        if table not in ("results", "instances", "submissions"):
            raise TfbenchError(f"unknown table {table!r}")
        return int(self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def integrity(self) -> str:
        return str(self.db.execute("PRAGMA integrity_check").fetchone()[0])

    # -- submissions queue ------------------------------------------------------------------------------
    def add_submission(self, data: dict[str, Any], bundle: bytes | None, note: str = "") -> int:
        key = row_key(data)
        with self._write() as db:
            cur = db.execute("INSERT INTO submissions (status, submitted_at, note, spec, suite, resolution, results, "
                             "bundle) VALUES ('pending', ?, ?, ?, ?, ?, ?, ?)",
                             (_now(), note[:500], key.spec, key.suite, key.resolution,
                              json.dumps(data, ensure_ascii=False), bundle))
            return int(cur.lastrowid)

    def submissions(self, status: str | None = "pending") -> list[Submission]:
        sql = ("SELECT id, status, submitted_at, spec, suite, resolution, COALESCE(note, '') AS note, "
               "COALESCE(LENGTH(bundle), 0) AS bundle_bytes FROM submissions")
        rows = self.db.execute(sql + (" WHERE status = ?" if status else "") + " ORDER BY id",
                               (status,) if status else ()).fetchall()
        return [Submission(**dict(r)) for r in rows]

    def submission_payload(self, submission_id: int) -> tuple[str, dict[str, Any], bytes | None]:
        row = self.db.execute("SELECT status, results, bundle FROM submissions WHERE id = ?",
                              (submission_id,)).fetchone()
        if row is None:
            raise TfbenchError(f"no submission with id {submission_id}; `tfbench leaderboard pending` lists them")
        return row["status"], json.loads(row["results"]), row["bundle"]

    def decide_submission(self, submission_id: int, status: str, result_id: int | None = None) -> None:
        with self._write() as db:
            db.execute("UPDATE submissions SET status = ?, decided_at = ?, result_id = ? WHERE id = ?",
                       (status, _now(), result_id, submission_id))
