"""`tfbench leaderboard ...` end to end: import, suite, submit, pending, approve, reject, reference, export,
backup and restore."""
from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest

from tests.leaderboard.conftest import improved_copy, run_folder, zip_run
from tfbench.cli import main
from tfbench.leaderboard.store import Store, fingerprint_of

DATA = Path(__file__).resolve().parent / "data"


def test_import_twice_then_export_the_ranked_table(run_root: Path, lb_suite, tmp_path: Path, capsys) -> None:
    store = str(tmp_path / "board.sqlite")
    assert main(["leaderboard", "suite", "add", str(lb_suite.source), "--store", store]) == 0
    assert capsys.readouterr().out.startswith(f"added: suite mini-lb v1 (manifest sha256 {lb_suite.manifest_sha256}")
    assert main(["leaderboard", "import", str(run_root), "--store", store]) == 0
    first = capsys.readouterr().out
    assert first.count("added ") == 4 and "4 rows (all versions) in" in first
    assert main(["leaderboard", "--store", store, "import", str(run_root)]) == 0  # --store before the subcommand
    assert capsys.readouterr().out.count("unchanged") == 4

    assert main(["leaderboard", "export", "--format", "csv", "--store", store]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["rank"], r["adapter"], r["res"]) for r in table] == [
        ("1", "identity", "256"), ("1", "webp:quality=30", "256"), ("3", "jpeg:quality=5", "256")]
    assert all(r["face backend"].startswith("sface") and r["status"] == "verified" for r in table)
    out = tmp_path / "board.md"
    assert main(["leaderboard", "export", "--format", "md", "-r", "512", "-o", str(out), "--store", store]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith("| rank | adapter | family |") and len(lines) == 3 and "| jpeg:quality=5 |" in lines[2]


def test_submit_pending_approve_and_a_second_version(run_root: Path, store_file: Path, tmp_path: Path, capsys) -> None:
    store = str(store_file)
    better = improved_copy(run_folder(run_root, "jpeg:quality=5", "256"), tmp_path / "better")
    (tmp_path / "run.zip").write_bytes(zip_run(better))
    submit = ["leaderboard", "submit", str(better / "results.json"), "--bundle", str(tmp_path / "run.zip"),
              "--store", store, "--note", "nightly CI"]
    assert main(submit) == 0 and main(submit) == 0
    out = capsys.readouterr().out
    assert "accepted as submission #1 (pending)" in out and "already pending as submission #1" in out
    assert main(["leaderboard", "pending", "--store", store]) == 0
    listing = capsys.readouterr().out
    assert "note: nightly CI" in listing and "-> version 2, verified row" in listing and "current: version 1" in listing
    assert "T-ACC: 0.2778 -> 1.0000 (+0.7222)" in listing
    before = Store(store_file).fingerprint()
    assert main(["leaderboard", "approve", "1", "--dry-run", "--store", store]) == 0
    assert "dry run: submission #1 passes; nothing was stored" in capsys.readouterr().out
    assert Store(store_file).fingerprint() == before
    assert main(["leaderboard", "approve", "1", "--sample", "all", "--store", store]) == 0
    out = capsys.readouterr().out
    assert "re-read 18 of 18 crops" in out and "readings equal, F-Sim within 0.001" in out
    assert "approved submission #1: new version" in out and "version 2" in out and out.rstrip().endswith("verified")
    assert main(["leaderboard", "pending", "--store", store]) == 0
    assert capsys.readouterr().out.strip() == "no pending submissions"


def test_reference_rows_and_reject(run_root: Path, store_file: Path, capsys) -> None:
    store = str(store_file)
    assert main(["leaderboard", "reference", "--store", store]) == 0
    out = capsys.readouterr().out
    assert out.count("added ") == 76 and "(paper-reported: TokBench data, PARSeq + antelopev2)" in out
    assert main(["leaderboard", "reference", "--store", store]) == 0
    assert capsys.readouterr().out.count("unchanged") == 76
    assert main(["leaderboard", "reference", str(DATA / "reference_format_example.csv"), "--group",
                 "format example (invented numbers)", "--store", store]) == 0
    assert capsys.readouterr().out.count("added ") == 2
    results = str(run_folder(run_root, "identity", "256") / "results.json")
    assert main(["submit", results, "--results-only", "--store", store]) == 0  # the top-level alias
    assert main(["leaderboard", "reject", "1", "--reason", "duplicate", "--store", store]) == 0
    capsys.readouterr()
    assert main(["leaderboard", "approve", "1", "--store", store]) == 2
    assert "submission 1 is already rejected" in capsys.readouterr().err


def test_backup_and_restore_round_trip_the_whole_store(run_root: Path, store_file: Path, tmp_path: Path,
                                                       capsys) -> None:
    store = str(store_file)
    better = improved_copy(run_folder(run_root, "jpeg:quality=5", "256"), tmp_path / "better")
    assert main(["leaderboard", "import", str(better), "--store", store]) == 0  # a second version with crops
    assert main(["leaderboard", "reference", "--store", store]) == 0
    assert main(["leaderboard", "submit", str(better / "results.json"), "--results-only", "--store", store]) == 0
    backup, restored = tmp_path / "backup.sqlite", tmp_path / "restored.sqlite"
    assert main(["leaderboard", "backup", str(backup), "--store", store]) == 0
    assert main(["leaderboard", "restore", str(backup), "--store", str(restored)]) == 0
    capsys.readouterr()
    with Store(store_file) as a, Store(restored) as b:
        assert a.fingerprint() == b.fingerprint()
        assert (b.count(), b.count("instances"), b.count("submissions"), b.count("suites")) == (
            a.count(), a.count("instances"), 1, 1)
        assert b.count() == 4 + 1 + 76 and b.integrity() == "ok"
        v1 = [r for r in b.results() if r["adapter"]["spec"] == "jpeg:quality=5" and r["suite"]["resolution"] == "256"]
        assert [r["_row"]["version"] for r in v1] == [1, 2] and all(r["_row"]["n_crops"] > 0 for r in v1)
    db = sqlite3.connect(backup)
    assert fingerprint_of(db) == Store(store_file).fingerprint()
    db.close()
    assert main(["leaderboard", "restore", str(backup), "--store", str(restored)]) == 2
    assert "exists; restore into a new store file" in capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["leaderboard", "approve", "7"], "no submission with id 7"),
    (["leaderboard", "import", "/no/such/dir"], "no such file or folder: /no/such/dir"),
    (["leaderboard", "submit", "/no/such/results.json", "--results-only"], "results file not found"),
    (["leaderboard", "submit", "/no/such/results.json"], "no --bundle ZIP given"),
    (["leaderboard", "--port", "70000"], "--port must be 1-65535"),
    (["leaderboard", "suite", "add", "no-such-suite"], "unknown suite 'no-such-suite'"),
    (["leaderboard", "reference", "x.csv"], "reference CSV not found: x.csv"),
    (["leaderboard", "export"], "the store holds no verified row to rank"),
])
def test_bad_input_is_one_clear_error(argv: list[str], message: str, tmp_path: Path, capsys) -> None:
    assert main([*argv, "--store", str(tmp_path / "board.sqlite")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tfbench: error: ") and message in err and "Traceback" not in err


def test_a_file_that_is_not_a_store_is_refused(tmp_path: Path, capsys) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello " * 1000)
    assert main(["leaderboard", "pending", "--store", str(bogus)]) == 2
    assert "is not a usable leaderboard store" in capsys.readouterr().err


def test_official_tokbench_results_import_only_as_unverified_rows(store_file: Path, tmp_path: Path, capsys) -> None:
    """`tfbench import-tokbench-results` output carries no records or manifest checksum: it can be listed
    (with --unverified, apart from the ranked rows), never ranked."""
    import json

    from tfbench.datasets.tokbench import TEXT_SETS
    from tfbench.leaderboard.table import flatten

    official = tmp_path / "official"
    official.mkdir()
    words = [{"gt": "word", "pred": "word" if k % 2 else "wxrd", "ratio": r, "accuracy": k % 2, "ned": 1.0 if k % 2 else 0.5}
             for k, r in enumerate([0.021, 0.025, 0.031, 0.035, 0.05, 0.2])]
    (official / f"{TEXT_SETS[0]}.json").write_text(json.dumps(
        {"mytok": {"mytok_256": {"results": {}, "details": {"a.jpg": {"file_name": "a.jpg", "results": words}}}}}))
    out = tmp_path / "imported" / "results.json"
    out.parent.mkdir()
    assert main(["import-tokbench-results", str(official), "--method", "mytok", "-r", "256",
                 "--sets", TEXT_SETS[0], "--out", str(out)]) == 0
    assert main(["leaderboard", "import", str(out.parent), "--store", str(store_file)]) == 2
    assert "has no records.jsonl: its numbers cannot be checked" in capsys.readouterr().err
    assert main(["leaderboard", "import", str(out.parent), "--unverified", "--store", str(store_file)]) == 0
    with Store(store_file) as store:
        row = flatten(store.results()).set_index("adapter").loc["mytok"]
    assert (row["status"], row["text backend"], row["T-ACC"]) == ("unverified", "tokbench-official", 0.5)
