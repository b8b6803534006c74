"""`tfbench leaderboard import|reference|pending|approve|reject|export` and `tfbench submit` end to end."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.leaderboard.conftest import run_folder
from tfbench.cli import main

DATA = Path(__file__).resolve().parent / "data"


def test_import_twice_then_export_csv_and_markdown(run_root: Path, tmp_path: Path, capsys) -> None:
    store = str(tmp_path / "board.sqlite")
    assert main(["leaderboard", "import", str(run_root), "--store", store]) == 0
    first = capsys.readouterr().out
    assert first.count("added") == 4 and "4 rows in" in first
    assert main(["leaderboard", "--store", store, "import", str(run_root)]) == 0  # --store before the subcommand
    second = capsys.readouterr().out
    assert second.count("unchanged") == 4 and "4 rows in" in second

    assert main(["leaderboard", "export", "--format", "csv", "--store", store]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["adapter"], r["res"]) for r in table][0] == ("identity", "256")  # best T-ACC first
    assert len(table) == 4 and float(table[0]["T-ACC"]) == 1.0
    assert all(r["face backend"].startswith("sface") for r in table)

    out = tmp_path / "board.md"
    assert main(["leaderboard", "export", "--format", "md", "-r", "512", "-o", str(out), "--store", store]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith("| adapter | family | kind |") and len(lines) == 3 and "| jpeg:quality=5 |" in lines[2]


def test_submit_pending_approve(run_root: Path, tmp_path: Path, capsys) -> None:
    store = str(tmp_path / "board.sqlite")
    results = run_folder(run_root, "webp:quality=30", "256") / "results.json"
    assert main(["submit", str(results), "--store", store, "--note", "from CI"]) == 0
    assert "accepted as submission #1 (pending)" in capsys.readouterr().out
    assert main(["leaderboard", "pending", "--store", store]) == 0
    assert "#1" in (listing := capsys.readouterr().out) and "webp:quality=30 @ 256 on mini" in listing and "from CI" in listing
    assert main(["leaderboard", "approve", "1", "--store", store]) == 0
    assert "added row #1" in capsys.readouterr().out
    assert main(["leaderboard", "pending", "--store", store]) == 0
    assert capsys.readouterr().out.strip() == "no pending submissions"
    assert main(["leaderboard", "reference", str(DATA / "reference_format_example.csv"), "--store", store]) == 0
    assert capsys.readouterr().out.count("added") == 3


@pytest.mark.parametrize("argv,message", [
    (["leaderboard", "approve", "7"], "no submission with id 7"),
    (["leaderboard", "import", "/no/such/dir"], "no such file or folder: /no/such/dir"),
    (["submit", "/no/such/results.json"], "results file not found"),
    (["leaderboard", "--port", "70000"], "--port must be 1-65535"),
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


def test_official_tokbench_results_import_as_their_own_rows(store_file: Path, tmp_path: Path, capsys) -> None:
    """`tfbench import-tokbench-results` output is an ordinary results.json: it gets its own row, apart from
    rows scored by tfbench's backends, with the official aggregation's numbers."""
    import json

    from tfbench.datasets.tokbench import TEXT_SETS
    from tfbench.leaderboard.store import Store
    from tfbench.leaderboard.table import flatten

    official = tmp_path / "official"
    official.mkdir()
    words = [{"gt": "word", "pred": "word" if k % 2 else "wxrd", "ratio": r, "accuracy": k % 2, "ned": 1.0 if k % 2 else 0.5}
             for k, r in enumerate([0.021, 0.025, 0.031, 0.035, 0.05, 0.2])]
    (official / f"{TEXT_SETS[0]}.json").write_text(json.dumps(
        {"mytok": {"mytok_256": {"results": {}, "details": {"a.jpg": {"file_name": "a.jpg", "results": words}}}}}))
    faces = [{"ratio": r, "similarity": s} for r, s in [(0.12, 0.3), (0.25, 0.6), (0.5, 0.9), (0.15, 0.2)]]
    (official / "face.json").write_text(json.dumps(
        {"mytok": {"256": {"results": {}, "details": {"f.png": {"file_name": "f.png", "results": faces}}}}}))
    out = tmp_path / "imported" / "results.json"
    out.parent.mkdir()
    assert main(["import-tokbench-results", str(official), "--method", "mytok", "-r", "256",
                 "--sets", f"{TEXT_SETS[0]},face", "--out", str(out)]) == 0
    assert main(["leaderboard", "import", str(out.parent), "--store", str(store_file)]) == 0
    assert "added" in capsys.readouterr().out
    with Store(store_file) as store:
        frame = flatten(store.results()).set_index("adapter")
    assert len(frame) == 5
    row = frame.loc["mytok"]
    assert row["text backend"] == "tokbench-official" and row["face backend"] == "tokbench-official"
    assert (row["F-Sim s"], row["F-Sim m"], row["F-Sim l"]) == (0.25, 0.6, 0.9)  # (0.3 + 0.2) / 2, 0.6, 0.9
    assert row["T-ACC"] == 0.5
