"""The leaderboard's results store: one SQLite file (WAL mode), versioned schema, append-only rows.

A row is keyed by group + adapter spec + suite + suite version + resolution + text backend + face backend
(:class:`~tfbench.leaderboard.schema.RowKey`), so results of different OCR/face backends never share a
row and published (paper) numbers never share a row with measured ones. Rows are never overwritten or
deleted: new content for a key becomes its next ``version`` (with its own instances and crops); importing
the content of the key's latest version again changes nothing (content hash). A reader sees whole
versions only (each import is one transaction).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from tfbench.errors import TfbenchError
from tfbench.leaderboard.instances import Instance
from tfbench.leaderboard.migrations import MIGRATIONS
from tfbench.leaderboard.schema import MEASURED, RowKey, row_key, validate_results

DEFAULT_STORE = "tfbench-leaderboard.sqlite"
SOURCES = ("run", "submission", "reference")
STATUSES = ("verified", "unverified", "reference")
_KEY_COLUMNS = ("grp", "spec", "suite", "suite_version", "resolution", "text_backend", "face_backend")
_ROW_META = ("id", "grp", "version", "status", "source", "label", "origin", "text_backend", "face_backend",
             "imported_at", "verification", "digest", "n_instances", "n_crops")


@dataclass(frozen=True)
class ImportOutcome:
    status: str  # "added" | "new version" | "unchanged" | "skipped" (then result_id is 0 and `note` says why)
    result_id: int
    key: RowKey
    instances: int
    note: str = ""
    version: int = 0


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def data_digest(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def content_digest(data: dict[str, Any], instances: list[Instance]) -> str:
    """Hash of everything a version holds: the results, every instance and the bytes of its crops."""
    h = hashlib.sha256(data_digest(data).encode("ascii"))
    for inst in instances:
        h.update(json.dumps([inst.image, inst.kind, inst.frame, inst.idx, inst.ratio, inst.gt, inst.pred, inst.t_acc,
                             inst.t_ned, inst.f_sim, inst.f_kept, inst.psnr, inst.ssim, inst.crop,
                             inst.landmarks]).encode("utf-8"))
        for blob in (inst.orig_png, inst.recon_png):
            h.update(hashlib.sha256(blob).digest() if blob is not None else b"-")
    return h.hexdigest()


def fingerprint_of(db: sqlite3.Connection) -> str:
    """sha256 of the schema version and every row of every table, in rowid order."""
    h = hashlib.sha256(str(db.execute("PRAGMA user_version").fetchone()[0]).encode())
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    for table in tables:
        h.update(table.encode())
        for row in db.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
            h.update(repr(tuple(row)).encode("utf-8"))
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
            self._migrate()
            self.db.execute("PRAGMA foreign_keys = ON")
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
    def write(self) -> Iterator[sqlite3.Connection]:
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
        """Apply the missing migrations; foreign keys are off meanwhile (migrations rebuild tables)."""
        if self.schema_version == len(MIGRATIONS):
            return
        self.db.execute("PRAGMA foreign_keys = OFF")
        with self.write() as db:
            version = self.schema_version
            if version > len(MIGRATIONS):
                raise TfbenchError(f"{self.path} has schema version {version}, newer than this tfbench "
                                   f"({len(MIGRATIONS)}); upgrade tfbench to read it")
            for number in range(version, len(MIGRATIONS)):
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number + 1}")
            broken = db.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise TfbenchError(f"{self.path}: migration left {len(broken)} rows without their parent row")

    # -- results ----------------------------------------------------------------------------------------
    def _latest(self, db: sqlite3.Connection, key: RowKey) -> sqlite3.Row | None:
        where = " AND ".join(f"{c} = ?" for c in _KEY_COLUMNS)
        return db.execute(f"SELECT id, version, digest, status FROM results WHERE {where} ORDER BY version DESC LIMIT 1",
                          key.as_tuple()).fetchone()

    def import_results(self, data: dict[str, Any], instances: Iterable[Instance] = (), *, source: str = "run",
                       status: str = "unverified", verification: dict[str, Any] | None = None,
                       label: str | None = None, origin: str | None = None, group: str = MEASURED) -> ImportOutcome:
        """Add these results as the next version of their row; content equal to the latest version is a no-op.

        Results without instances whose numbers equal a stored version that has them also change
        nothing (a results-only copy of a verified row must not become its latest version).
        """
        if source not in SOURCES or status not in STATUSES:
            raise TfbenchError(f"source must be one of {SOURCES} and status one of {STATUSES}")
        data = {k: v for k, v in data.items() if not k.startswith("_")}
        validate_results(data, origin or "results")
        instances = list(instances)
        key = row_key(data, group)
        digest, plain = content_digest(data, instances), data_digest(data)
        adapter, suite = data["adapter"], data["suite"]
        with self.write() as db:
            latest = self._latest(db, key)
            if latest is not None and latest["digest"] == digest:
                return ImportOutcome("unchanged", latest["id"], key, len(instances), version=latest["version"])
            if not instances:
                same = db.execute("SELECT id, version FROM results WHERE data_digest = ? AND "
                                  + " AND ".join(f"{c} = ?" for c in _KEY_COLUMNS) + " ORDER BY version DESC LIMIT 1",
                                  (plain, *key.as_tuple())).fetchone()
                if same is not None:
                    return ImportOutcome("unchanged", same["id"], key, 0, f"same numbers as version {same['version']}",
                                         version=same["version"])
            version = 1 if latest is None else int(latest["version"]) + 1
            values = dict(grp=key.group, spec=key.spec, family=adapter.get("family"), kind=adapter.get("kind"),
                          suite=key.suite, suite_version=key.suite_version, resolution=key.resolution,
                          modality=suite.get("modality", "image"), text_backend=key.text_backend,
                          face_backend=key.face_backend, version=version, status=status, source=source,
                          label=label, origin=origin, bits_per_pixel=adapter.get("bits_per_pixel"), digest=digest,
                          data_digest=plain, manifest_sha256=suite.get("manifest_sha256"),
                          verification=json.dumps(verification) if verification is not None else None,
                          data=json.dumps(data, ensure_ascii=False), imported_at=now())
            cur = db.execute(f"INSERT INTO results ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                             tuple(values.values()))
            result_id = int(cur.lastrowid)
            db.executemany(
                "INSERT INTO instances (result_id, image, kind, frame, idx, ratio, gt, pred, t_acc, t_ned, f_sim, "
                "f_kept, psnr, ssim, crop, landmarks, orig_png, recon_png) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(result_id, i.image, i.kind, i.frame, i.idx, i.ratio, i.gt, i.pred, i.t_acc, i.t_ned, i.f_sim,
                  i.f_kept, i.psnr, i.ssim, i.crop, i.landmarks, i.orig_png, i.recon_png) for i in instances])
        return ImportOutcome("added" if version == 1 else "new version", result_id, key, len(instances),
                             version=version)

    def results(self, result_id: int | None = None, *, latest: bool = False,
                statuses: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Stored rows: the results dict plus ``_row`` (id, group, version, status, source, label, counts...).

        ``latest`` keeps, per key and status class, only the highest version (what the table shows).
        """
        where, args = [], []
        if result_id is not None:
            where.append("r.id = ?")
            args.append(int(result_id))
        if statuses is not None:
            wanted = list(statuses)
            where.append(f"r.status IN ({', '.join('?' * len(wanted))})")
            args += wanted
        if latest:
            match = " AND ".join(f"o.{c} = r.{c}" for c in _KEY_COLUMNS)
            where.append(f"NOT EXISTS (SELECT 1 FROM results o WHERE {match} AND o.status = r.status "
                         f"AND o.version > r.version)")
        sql = ("SELECT r.*, (SELECT COUNT(*) FROM instances i WHERE i.result_id = r.id) AS n_instances, "
               "(SELECT COUNT(*) FROM instances i WHERE i.result_id = r.id AND i.orig_png IS NOT NULL) AS n_crops "
               f"FROM results r {'WHERE ' + ' AND '.join(where) if where else ''} "
               "ORDER BY r.grp, r.spec, r.suite, r.resolution, r.text_backend, r.face_backend, r.version, r.id")
        out = []
        for r in self.db.execute(sql, args).fetchall():
            data = json.loads(r["data"])
            meta = {k: r[k] for k in _ROW_META}
            meta["verification"] = json.loads(meta["verification"]) if meta["verification"] else None
            data["_row"] = meta
            out.append(data)
        return out

    def result(self, result_id: int) -> dict[str, Any]:
        found = self.results(result_id)
        if found:
            return found[0]
        raise TfbenchError(f"no leaderboard row with id {result_id}")

    def history(self, key: RowKey) -> list[dict[str, Any]]:
        """Every version of a row, oldest first."""
        where = " AND ".join(f"{c} = ?" for c in _KEY_COLUMNS)
        ids = [r["id"] for r in self.db.execute(f"SELECT id FROM results WHERE {where} ORDER BY version",
                                                 key.as_tuple()).fetchall()]
        return [self.result(i) for i in ids]

    def current(self, key: RowKey, status: str | None = None) -> dict[str, Any] | None:
        """The latest version of a row (of one status when given), or None."""
        where = " AND ".join(f"{c} = ?" for c in _KEY_COLUMNS) + (" AND status = ?" if status else "")
        row = self.db.execute(f"SELECT id FROM results WHERE {where} ORDER BY version DESC LIMIT 1",
                              (*key.as_tuple(), *([status] if status else []))).fetchone()
        return None if row is None else self.result(row["id"])

    def instances(self, result_id: int, kind: str | None = None, with_crops: bool = False,
                  worst_first: bool = False, limit: int | None = None) -> list[Instance]:
        """Stored instances of a row; ``worst_first`` orders by T-ACC, T-NED (text) or F-Sim (faces), lowest first."""
        cols = "image, kind, frame, idx, ratio, gt, pred, t_acc, t_ned, f_sim, f_kept, psnr, ssim, crop, landmarks" + (
            ", orig_png, recon_png" if with_crops else "")
        where, args = ["result_id = ?"], [result_id]
        if kind is not None:
            where.append("kind = ?")
            args.append(kind)
        if with_crops:
            where.append("orig_png IS NOT NULL")
        order = ("COALESCE(t_acc, 2), COALESCE(t_ned, 2), COALESCE(f_sim, 2), image, frame, idx" if worst_first
                 else "kind, image, frame, idx")
        sql = f"SELECT {cols} FROM instances WHERE {' AND '.join(where)} ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [Instance(**dict(r)) for r in self.db.execute(sql, args).fetchall()]

    def count(self, table: str = "results") -> int:
        if table not in ("results", "instances", "submissions", "suites"):
            raise TfbenchError(f"unknown table {table!r}")
        return int(self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def integrity(self) -> str:
        return str(self.db.execute("PRAGMA integrity_check").fetchone()[0])

    def fingerprint(self) -> str:
        """sha256 of every row of every table, in primary-key order: equal fingerprints, equal content."""
        with self.snapshot() as db:
            return fingerprint_of(db)

    def backup(self, dest: str | Path) -> Path:
        """A consistent copy of the whole store (SQLite online backup) at ``dest``, which must not exist yet."""
        dest = Path(dest)
        if dest.exists():
            raise TfbenchError(f"{dest} exists; the backup goes to a new file")
        dest.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(dest)
        try:
            self.db.backup(target)
        finally:
            target.close()
        return dest
