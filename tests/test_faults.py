"""Faults: a killed (SIGKILL) or interrupted (SIGINT) `tfbench run` subprocess, and adapters that raise,
run out of memory, return Inf, the wrong shape or a malformed compression list (real pipeline and models)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tfbench.cli import main
from tfbench.errors import AdapterError
from tfbench.pipeline import evaluate, run_dir
from tfbench.records import read_records
from tfbench.registry import create_adapter

from tests.small_suites import mini_subset

REPO = Path(__file__).resolve().parents[1]
SLOW = "python:tests.fault_adapters:Slow:quality=30,delay=0.5"


def _default_sigint() -> None:
    """In the child: Ctrl-C as a terminal delivers it. A shell without job control starts background jobs with
    SIGINT ignored, the child inherits that, and Python then installs no KeyboardInterrupt handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
IDS = ("text_01", "text_02", "text_03", "face_01", "face_02")
N = len(IDS)


@pytest.fixture(scope="module")
def small(mini_v1, tmp_path_factory):
    return mini_subset(mini_v1, tmp_path_factory.mktemp("mini5"), IDS, "mini5")


@pytest.fixture(scope="module")
def reference(small, scorers, tmp_path_factory):
    """The uninterrupted run of the same adapter spec, in this process."""
    return evaluate(small, create_adapter(SLOW.replace("delay=0.5", "delay=0")), "256", scorers,
                    tmp_path_factory.mktemp("ref"))


def _tfbench(small, out: Path, spec: str) -> list[str]:
    exe = Path(sys.executable).with_name("tfbench")
    return [str(exe), "run", "--suite", str(small.source), "--data-root", str(small.root), "-a", spec,
            "--out", str(out), "--no-progress", "--threads", "2"]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "CI": "1"}


def _start_and_wait(small, out: Path, spec: str, records: int) -> tuple[subprocess.Popen, Path]:
    proc = subprocess.Popen(_tfbench(small, out, spec), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=_default_sigint)
    journal = run_dir(out, "mini5", spec, "256") / "records.jsonl"
    deadline = time.monotonic() + 240
    while not (journal.exists() and journal.read_bytes().count(b"\n") >= records):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run wrote no records in time"
        time.sleep(0.05)
    return proc, journal


def test_sigkill_mid_run_then_rerun_gives_the_uninterrupted_results(small, reference, tmp_path):
    proc, journal = _start_and_wait(small, tmp_path, SLOW, records=2)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    kept = read_records(journal)
    assert 2 <= len(kept) < N, "the kill must land mid-run"
    assert not (journal.parent / "results.json").exists()
    done = subprocess.run(_tfbench(small, tmp_path, SLOW), env=_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    results = json.loads((journal.parent / "results.json").read_text())
    assert results["metrics"] == reference["metrics"]  # every digit
    assert results["counts"] == reference["counts"] and results["failures"]["images"] == 0
    assert results["budget"]["images_resumed"] == len(kept)
    assert results["budget"]["images_evaluated"] == N - len(kept)
    images = [r["image"] for r in read_records(journal)]
    assert len(images) == len(set(images)) == N  # no duplicate records


def test_sigint_stops_cleanly_and_keeps_every_record(small, tmp_path):
    proc, journal = _start_and_wait(small, tmp_path, SLOW, records=2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()
    assert "Traceback" not in err and len(lines) == 1 and "interrupted" in lines[0] and "rerun" in lines[0]
    raw = journal.read_bytes()
    assert raw.endswith(b"\n") and len(read_records(journal)) == raw.count(b"\n") >= 2  # whole lines only


CASES = {  # how the adapter fails -> what the failure record says
    "raise": "RuntimeError: flaky adapter failed on batch 2",
    "oom": "MemoryError: Unable to allocate",
    "inf": "reconstruction contains 1 NaN/Inf values",
    "shape": "reconstruction has shape",
    "compression": "TypeError: 'NoneType' object is not iterable",
}


@pytest.mark.parametrize("how", list(CASES))
def test_adapter_failure_on_one_batch_is_counted_then_retried(small, scorers, reference, tmp_path, how):
    spec = f"python:tests.fault_adapters:Flaky:quality=30,fail_on=2,how={how}"
    r = evaluate(small, create_adapter(spec), "256", scorers, tmp_path, on_error="skip")
    failed = small.images[1]  # one image per batch: the second batch is the second image
    assert r["failures"]["images"] == 1 and r["counts"]["images"] == N
    assert r["failures"]["words"] == len(failed.words) and r["failures"]["faces"] == len(failed.faces)
    example = r["failures"]["examples"][0]
    assert example["image"] == failed.id and example["stage"] == "adapter" and CASES[how] in example["error"]
    assert r["metrics"]["text"]["n"] != reference["metrics"]["text"]["n"] or failed.faces
    # a rerun retries only the failed image (a fresh adapter: its first batch does not fail) and completes
    again = evaluate(small, create_adapter(spec), "256", scorers, tmp_path, on_error="skip")
    assert again["budget"]["images_evaluated"] == 1 and again["failures"]["images"] == 0
    assert again["metrics"] == reference["metrics"]


def test_stop_mode_stops_at_the_failure_and_keeps_what_was_done(small, scorers, tmp_path, capsys):
    spec = "python:tests.fault_adapters:Flaky:quality=30,fail_on=3,how=oom"
    with pytest.raises(AdapterError, match=r"MemoryError.*images: .*Records so far are kept.*--on-error skip"):
        evaluate(small, create_adapter(spec), "256", scorers, tmp_path)
    journal = run_dir(tmp_path, "mini5", spec, "256") / "records.jsonl"
    assert [r["image"] for r in read_records(journal)] == [im.id for im in small.images[:2]]
    shutil.rmtree(tmp_path / "mini5")
    code = main(["run", "--suite", str(small.source), "--data-root", str(small.root), "-a", spec, "--out",
                 str(tmp_path), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("tfbench: error: ") and "MemoryError" in err[0]
