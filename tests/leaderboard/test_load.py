"""Bounded load test on 127.0.0.1: 20 concurrent sessions of the served app read the board while a writer
process imports 50 verified results. No run may fail or show an exception, no reader may see a row twice or
see rows disappear, and afterwards every row is there exactly once.

Bounded: 50 imports, at most ``MAX_READS`` page runs per reader, a ``DEADLINE_S`` wall-clock limit; only
loopback. The measured figures (page runs, their times, the import time) go to test-artifacts/load-test.json.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import shutil
import statistics
import threading
import time
from pathlib import Path

import pytest

from tests.leaderboard.browser import ARTIFACTS, Server
from tests.leaderboard.conftest import run_folder
from tests.leaderboard.wsclient import AppSession
from tfbench.leaderboard.store import Store

READERS = 20
IMPORTS = 50
MAX_READS = 400
DEADLINE_S = 600.0


def _writer(store: str, folders: list[str], timings: mp.Queue) -> None:
    from tfbench.leaderboard.importing import import_run

    start = time.perf_counter()
    with Store(store) as s:
        for folder in folders:
            outcome = import_run(s, Path(folder) / "results.json")
            assert outcome.status == "added", outcome
    timings.put(time.perf_counter() - start)


def _copies(run_root: Path, dest: Path) -> list[str]:
    """50 verified results of 50 differently named adapters: the webp run under other names."""
    source = run_folder(run_root, "webp:quality=30", "256")
    folders = []
    for k in range(IMPORTS):
        folder = Path(shutil.copytree(source, dest / f"load-{k:02d}"))
        data = json.loads((folder / "results.json").read_text())
        data["adapter"]["spec"] = f"load-{k:02d}"
        (folder / "results.json").write_text(json.dumps(data))
        folders.append(str(folder))
    return folders


def test_twenty_readers_while_fifty_results_are_imported(store_file: Path, run_root: Path, tmp_path: Path) -> None:
    folders = _copies(run_root, tmp_path / "runs")
    with Store(store_file) as store:
        start_rows = store.count()
    server = Server(store_file)
    timings: mp.Queue = mp.get_context("spawn").Queue()
    writer = mp.get_context("spawn").Process(target=_writer, args=(str(store_file), folders, timings))
    problems: list[str] = []
    seen: list[list[int]] = [[] for _ in range(READERS)]
    durations: list[float] = []
    lock = threading.Lock()
    written = threading.Event()  # set once the writer process has exited
    deadline = time.monotonic() + DEADLINE_S

    def read(k: int) -> None:
        try:
            session = AppSession(server.port)
            finals = 0
            for _ in range(MAX_READS):
                done = written.is_set()
                t0 = time.perf_counter()
                run = session.run()
                with lock:
                    durations.append(time.perf_counter() - t0)
                if run.finished != "FINISHED_SUCCESSFULLY" or run.exceptions:
                    problems.append(f"reader {k}: {run.finished} {run.exceptions}")
                    return
                [table] = [f for f in run.dataframes() if "rank" in f.columns]
                names = table["adapter"].tolist()
                if len(names) != len(set(names)):
                    problems.append(f"reader {k}: a row shown twice: {sorted(names)}")
                if seen[k] and len(names) < seen[k][-1]:
                    problems.append(f"reader {k}: rows disappeared ({seen[k][-1]} -> {len(names)})")
                seen[k].append(len(names))
                finals += done
                if finals >= 1 or time.monotonic() > deadline:
                    break  # one full read after the writer finished
            session.close()
        except Exception as exc:  # noqa: BLE001 - reported below with the reader's number
            problems.append(f"reader {k}: {type(exc).__name__}: {exc}")

    try:
        readers = [threading.Thread(target=read, args=(k,)) for k in range(READERS)]
        for r in readers:
            r.start()
        writer.start()
        writer.join(DEADLINE_S)
        written.set()
        for r in readers:
            r.join(max(1.0, deadline - time.monotonic() + 60))
        assert writer.exitcode == 0, "the writer failed"
        import_s = timings.get(timeout=10)
    finally:
        if writer.is_alive():
            writer.kill()
        server.stop()
    assert not problems, problems[:5]
    assert all(s and s[-1] == 3 + IMPORTS for s in seen), [s[-1:] for s in seen]  # every reader's last read is whole
    with Store(store_file) as store:
        assert store.count() == start_rows + IMPORTS and store.integrity() == "ok"
        keys = [(r["adapter"]["spec"], r["suite"]["resolution"]) for r in store.results()]
        assert len(keys) == len(set(keys)) and sum(spec.startswith("load-") for spec, _ in keys) == IMPORTS
    reads = sum(len(s) for s in seen)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "load-test.json").write_text(json.dumps({
        "readers": READERS, "imports": IMPORTS, "page_runs": reads, "import_s": round(import_s, 2),
        "page_run_s": {"median": round(statistics.median(durations), 3),
                       "p95": round(sorted(durations)[int(0.95 * (len(durations) - 1))], 3),
                       "max": round(max(durations), 3)},
        "rows_seen_by_reader_0": seen[0]}, indent=1))
    assert reads >= 2 * READERS
