"""The SQLite store: verified idempotent imports, append-only versions, migrations, backup round trip."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.leaderboard.conftest import RUNS, improved_copy, run_folder
from tfbench.errors import TfbenchError
from tfbench.leaderboard.changes import describe
from tfbench.leaderboard.importing import import_paths, import_run
from tfbench.leaderboard.migrations import MIGRATIONS
from tfbench.leaderboard.schema import row_key
from tfbench.leaderboard.store import Store
from tfbench.leaderboard.table import flatten


def test_importing_the_same_runs_twice_changes_nothing(run_root: Path, empty_store: Path) -> None:
    with Store(empty_store) as store:
        first = import_paths(store, [run_root])
        before = store.fingerprint()
        second = import_paths(store, [run_root])
        assert [o.status for o in first] == ["added"] * len(RUNS)
        assert [o.status for o in second] == ["unchanged"] * len(RUNS)
        assert store.fingerprint() == before
        rows = store.results()
        assert {r["_row"]["status"] for r in rows} == {"verified"} and {r["_row"]["version"] for r in rows} == {1}
        # the stored numbers are the run's numbers, and the row says how they were checked
        on_disk = json.loads((run_folder(run_root, "jpeg:quality=5", "256") / "results.json").read_text())
        frame = flatten(rows)
        row = frame[(frame.adapter == "jpeg:quality=5") & (frame.res == "256")].iloc[0]
        assert row["T-ACC"] == on_disk["metrics"]["text"]["t_acc"]["mean"]
        assert row["F-Sim l"] == on_disk["metrics"]["face"]["f_sim"]["large"]
        assert row["bpp"] == pytest.approx(on_disk["adapter"]["bits_per_pixel"])
        report = next(r for r in rows if r["_row"]["id"] == row["id"])["_row"]["verification"]
        assert report["aggregates"] == "recomputed, equal" and report["images"] == 5


def test_a_new_result_for_a_key_is_a_new_version_and_the_old_one_keeps_its_crops(run_root: Path, store_file: Path,
                                                                                 tmp_path: Path) -> None:
    better = improved_copy(run_folder(run_root, "jpeg:quality=5", "256"), tmp_path / "better")
    with Store(store_file) as store:
        [v1] = [r for r in store.results() if r["adapter"]["spec"] == "jpeg:quality=5" and r["suite"]["resolution"] == "256"]
        v1_crops = [(i.crop, i.recon_png) for i in store.instances(v1["_row"]["id"], with_crops=True)]
        outcome = import_run(store, better / "results.json")
        assert (outcome.status, outcome.version) == ("new version", 2) and outcome.result_id != v1["_row"]["id"]
        history = store.history(row_key(v1))
        assert [h["_row"]["version"] for h in history] == [1, 2]
        assert [(i.crop, i.recon_png) for i in store.instances(v1["_row"]["id"], with_crops=True)] == v1_crops
        assert history[1]["_row"]["n_crops"] == history[0]["_row"]["n_crops"] > 0
        latest = [r for r in store.results(latest=True) if row_key(r) == row_key(v1)]
        assert [r["_row"]["version"] for r in latest] == [2]  # the table shows the latest version
        lines = describe(history[0], history[1])
        assert any(line.startswith("T-ACC: ") and "->" in line for line in lines)
        assert import_run(store, better / "results.json").status == "unchanged"  # identical again: no version 3


def test_results_of_other_metric_backends_get_their_own_row(runs: Path, store_file: Path) -> None:
    folder = run_folder(runs, "identity", "256")
    data = json.loads((folder / "results.json").read_text())
    data["backends"]["face"]["version"] = "SFace, another build"
    (folder / "results.json").write_text(json.dumps(data))
    with Store(store_file) as store:
        b = import_run(store, folder / "results.json")
        assert b.status == "added" and b.version == 1
        labels = sorted(r["_row"]["face_backend"] for r in store.results() if r["adapter"]["spec"] == "identity")
        assert len(labels) == 2 and labels[0] != labels[1] and any("another build" in x for x in labels)


def test_shard_results_are_skipped_not_mixed_into_the_run_row(runs: Path, empty_store: Path) -> None:
    folder = run_folder(runs, "identity", "256")
    shard = folder / "shard-1-of-2"
    shard.mkdir()
    data = json.loads((folder / "results.json").read_text())
    data["config"]["shard"] = "1/2"
    (shard / "results.json").write_text(json.dumps(data))
    with Store(empty_store) as store:
        outcomes = import_paths(store, [runs])
        assert sorted(o.status for o in outcomes) == ["added"] * len(RUNS) + ["skipped"]
        assert "shard 1/2" in next(o.note for o in outcomes if o.status == "skipped")
        assert store.count() == len(RUNS)


def test_a_store_of_the_previous_schema_is_migrated_without_losing_rows(tmp_path: Path, run_root: Path) -> None:
    """Schema 2 (one replaceable row per key) -> 3: rows kept as version 1, `unverified` (never checked), crops kept."""
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    for migration in MIGRATIONS[:2]:
        db.executescript(migration)
    db.execute("PRAGMA user_version = 2")
    data = (run_folder(run_root, "identity", "256") / "results.json").read_text()
    db.execute("INSERT INTO results (id, spec, suite, suite_version, resolution, modality, text_backend, face_backend, "
               "source, digest, data, imported_at) VALUES (7, 'identity', 'mini-lb', '1', '256', 'image', 'rapidocr', "
               "'sface', 'run', 'd', ?, 'then')", (data,))
    db.execute("INSERT INTO results (id, spec, suite, suite_version, resolution, modality, text_backend, face_backend, "
               "source, label, digest, data, imported_at) VALUES (8, 'x', 'tokbench', 'paper', '256', 'image', "
               "'as published', 'as published', 'reference', 'a table', 'e', ?, 'then')", (data,))
    db.execute("INSERT INTO instances (result_id, image, kind, idx, ratio, crop, orig_png, recon_png) "
               "VALUES (7, 'text_01', 'text', 0, 0.05, 'crops/a/w0', x'89504e47', x'89504e47')")
    db.execute("INSERT INTO submissions (status, submitted_at, spec, suite, resolution, results) "
               "VALUES ('pending', 'then', 'identity', 'mini-lb', '256', ?)", (data,))
    db.commit()
    db.close()
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS) == 3
        rows = {r["_row"]["id"]: r["_row"] for r in store.results()}
        assert (rows[7]["status"], rows[7]["version"], rows[7]["grp"]) == ("unverified", 1, "measured")
        assert (rows[8]["status"], rows[8]["grp"]) == ("reference", "reference: a table")
        [inst] = store.instances(7, with_crops=True)
        assert (inst.frame, inst.recon_png) == (-1, b"\x89PNG")
        assert store.count("submissions") == 1 and store.integrity() == "ok"
        assert store.db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_migrations_indexes_and_refusals(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        indexes = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"instances_by_kind", "submissions_pending_content"} <= indexes
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 9")
    db.commit()
    db.close()
    with pytest.raises(TfbenchError, match="newer than this tfbench"):
        Store(path)
    (tmp_path / "junk.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(TfbenchError, match="not a usable leaderboard store"):
        Store(tmp_path / "junk.sqlite")
