"""The SQLite store: idempotent keyed imports, migrations, stored crops, concurrent import and page view."""
from __future__ import annotations

import json
import multiprocessing as mp
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from tests.leaderboard.conftest import RUNS, run_folder
from tfbench.errors import TfbenchError
from tfbench.leaderboard.importing import import_paths, import_run
from tfbench.leaderboard.store import MIGRATIONS, Store
from tfbench.leaderboard.table import flatten


def test_importing_the_same_results_twice_does_not_duplicate_rows(run_root: Path, tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        first = import_paths(store, [run_root])
        rows, instances = store.count("results"), store.count("instances")
        second = import_paths(store, [run_root])
        assert [o.status for o in first] == ["added"] * len(RUNS)
        assert [o.status for o in second] == ["unchanged"] * len(RUNS)
        assert [o.result_id for o in first] == [o.result_id for o in second]
        assert store.count("results") == rows == len(RUNS)
        assert store.count("instances") == instances > 0
        # the stored numbers are the run's numbers
        on_disk = json.loads((run_folder(run_root, "jpeg:quality=5", "256") / "results.json").read_text())
        frame = flatten(store.results())
        row = frame[(frame.adapter == "jpeg:quality=5") & (frame.res == "256")].iloc[0]
        assert row["T-ACC"] == on_disk["metrics"]["text"]["t_acc"]["mean"]
        assert row["F-Sim s"] == on_disk["metrics"]["face"]["f_sim"]["small"]
        assert row["F-kept"] == on_disk["metrics"]["face"]["f_kept"]["mean"]
        assert row["bpp"] == pytest.approx(on_disk["adapter"]["bits_per_pixel"])


def test_changed_results_replace_their_row(runs: Path, tmp_path: Path) -> None:
    folder = run_folder(runs, "webp:quality=30", "256")
    with Store(tmp_path / "s.sqlite") as store:
        before = import_run(store, folder / "results.json")
        data = json.loads((folder / "results.json").read_text())
        data["metrics"]["text"]["t_acc"]["mean"] = 0.125
        (folder / "results.json").write_text(json.dumps(data))
        after = import_run(store, folder / "results.json")
        assert (before.status, after.status) == ("added", "updated")
        assert after.result_id == before.result_id and store.count() == 1
        assert store.count("instances") == before.instances
        assert flatten(store.results())["T-ACC"].tolist() == [0.125]


def test_results_of_other_metric_backends_get_their_own_row(runs: Path, tmp_path: Path) -> None:
    folder = run_folder(runs, "identity", "256")
    with Store(tmp_path / "s.sqlite") as store:
        a = import_run(store, folder / "results.json")
        data = json.loads((folder / "results.json").read_text())
        data["backends"]["face"] = {"backend": "arcface", "version": "buffalo_l"}
        (folder / "results.json").write_text(json.dumps(data))
        b = import_run(store, folder / "results.json")
        assert b.status == "added" and b.result_id != a.result_id
        assert sorted(flatten(store.results())["face backend"].str.split(" ").str[0]) == ["arcface", "sface"]


def test_shard_results_are_skipped_not_mixed_into_the_run_row(runs: Path, tmp_path: Path) -> None:
    folder = run_folder(runs, "identity", "256")
    shard = folder / "shard-1-of-2"
    shard.mkdir()
    data = json.loads((folder / "results.json").read_text())
    data["config"]["shard"] = "1/2"
    data["metrics"]["text"]["t_acc"]["mean"] = 0.25
    (shard / "results.json").write_text(json.dumps(data))
    with Store(tmp_path / "s.sqlite") as store:
        outcomes = import_paths(store, [runs])
        assert sorted(o.status for o in outcomes) == ["added"] * len(RUNS) + ["skipped"]
        assert "shard 1/2" in next(o.note for o in outcomes if o.status == "skipped")
        frame = flatten(store.results())
        assert store.count() == len(RUNS) and frame.query("adapter == 'identity'")["T-ACC"].tolist() == [1.0]


def test_crop_pairs_are_stored_and_listed_worst_first(run_root: Path, store_file: Path) -> None:
    folder = run_folder(run_root, "jpeg:quality=5", "256")
    with Store(store_file) as store:
        row = next(r for r in store.results() if r["adapter"]["spec"] == "jpeg:quality=5" and r["suite"]["resolution"] == "256")
        assert row["_row"]["n_crops"] == row["_row"]["n_instances"] > 0
        words = store.instances(row["_row"]["id"], kind="text", with_crops=True, worst_first=True)
        assert words[0].orig_png == (folder / f"{words[0].crop}.orig.png").read_bytes()
        assert words[0].recon_png == (folder / f"{words[0].crop}.recon.png").read_bytes()
        keys = [(w.t_acc, w.t_ned) for w in words]
        assert keys == sorted(keys) and keys[0][0] == 0.0 and keys[-1][0] == 1.0  # q5 misreads some, not all
        faces = store.instances(row["_row"]["id"], kind="face", worst_first=True)
        assert [f.f_sim for f in faces] == sorted(f.f_sim for f in faces)


def test_migrations_upgrade_an_old_store_and_refuse_a_newer_one(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS) == 2
        indexes = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "instances_by_kind" in indexes
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


def _flip_imports(store_path: str, folders: list[str], rounds: int) -> None:
    """Writer process: import two versions of the same run over and over (each an 'updated' replace)."""
    with Store(store_path) as store:
        for k in range(rounds):
            import_run(store, Path(folders[k % 2]) / "results.json")


def test_concurrent_import_and_page_view_do_not_corrupt_the_store(runs: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    path = tmp_path / "shared.sqlite"
    with Store(path) as store:
        import_paths(store, [runs])
        expected_instances = {r["_row"]["id"]: r["_row"]["n_instances"] for r in store.results()}
    # a second version of the webp run whose numbers differ, so every import really rewrites the row
    original = run_folder(runs, "webp:quality=30", "256")
    variant = tmp_path / "variant" / original.name
    variant.parent.mkdir()
    shutil.copytree(original, variant)
    data = json.loads((variant / "results.json").read_text())
    original_tacc = data["metrics"]["text"]["t_acc"]["mean"]
    data["metrics"]["text"]["t_acc"]["mean"] = 0.5
    (variant / "results.json").write_text(json.dumps(data))

    writer = mp.get_context("spawn").Process(target=_flip_imports, args=(str(path), [str(variant), str(original)], 40))
    writer.start()
    seen: set[float] = set()
    errors: list[BaseException] = []

    def read_loop() -> None:
        try:
            while writer.is_alive():
                with Store(path) as store, store.snapshot():
                    results = store.results()
                    assert len(results) == len(RUNS)
                    for r in results:  # each row comes with all its instances, never half of them
                        assert r["_row"]["n_instances"] == expected_instances[r["_row"]["id"]]
                    seen.update(flatten(results).query("adapter == 'webp:quality=30'")["T-ACC"].tolist())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    reader = threading.Thread(target=read_loop)
    reader.start()
    monkeypatch.setenv("TFBENCH_LEADERBOARD_STORE", str(path))
    pages = 0
    deadline = time.monotonic() + 120
    while writer.is_alive() and time.monotonic() < deadline:
        at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "leaderboard" / "views" / "table.py"),
                               default_timeout=60).run()
        assert not at.exception
        assert len(at.dataframe[0].value) == len(RUNS)
        pages += 1
    writer.join(60)
    reader.join(60)
    assert writer.exitcode == 0 and not errors, errors
    assert pages >= 1
    with Store(path) as store:
        assert store.integrity() == "ok"
        assert store.count() == len(RUNS)
        assert store.count("instances") == sum(expected_instances.values())
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert seen and seen <= {0.5, original_tacc}  # only ever one of the two committed versions
