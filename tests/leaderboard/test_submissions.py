"""Submissions (validation, zip-slip, size limits, approval queue) and reference CSV rows."""
from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import pytest

from tests.leaderboard.conftest import run_folder
from tfbench.errors import TfbenchError
from tfbench.leaderboard import submissions as sub
from tfbench.leaderboard.reference import import_reference, read_reference_csv
from tfbench.leaderboard.store import Store
from tfbench.leaderboard.table import flatten

DATA = Path(__file__).resolve().parent / "data"


def zip_folder(folder: Path, prefix: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(folder / "records.jsonl", f"{prefix}records.jsonl")
        for png in sorted((folder / "crops").rglob("*.png")):
            zf.write(png, f"{prefix}{png.relative_to(folder).as_posix()}")
    return buf.getvalue()


def zip_with(name: str, data: bytes, *, symlink: bool = False) -> bytes:
    """A zip with one entry (deflated), optionally marked as a symbolic link."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        if symlink:
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, data)
    return buf.getvalue()


def test_submission_is_queued_then_approved_with_its_crops(run_root: Path, tmp_path: Path) -> None:
    folder = run_folder(run_root, "jpeg:quality=5", "512")
    results = (folder / "results.json").read_bytes()
    with Store(tmp_path / "s.sqlite") as store:
        sid = sub.submit(store, results, zip_folder(folder, prefix="jpeg_quality=5@512/"), note="q5 at 512")
        assert store.count("results") == 0  # nothing on the board before approval
        [pending] = store.submissions("pending")
        assert (pending.id, pending.spec, pending.resolution, pending.note) == (sid, "jpeg:quality=5", "512", "q5 at 512")
        outcome = sub.approve(store, sid)
        assert outcome.status == "added" and outcome.instances > 0
        assert store.submissions("pending") == []
        [row] = store.results()
        assert row["_row"]["source"] == "submission" and row["_row"]["label"] == f"submission #{sid}"
        assert row["_row"]["n_crops"] == row["_row"]["n_instances"] == outcome.instances
        assert row["metrics"] == json.loads(results)["metrics"]
        with pytest.raises(sub.SubmissionError, match="already approved"):
            sub.approve(store, sid)


@pytest.mark.parametrize("name", ["../evil.png", "/etc/evil.png", "crops/../../evil.png", "C:/evil.png",
                                  "crops\\x\\w1.orig.png", "./records.jsonl"])
def test_zip_slip_names_are_rejected(name: str, tmp_path: Path) -> None:
    with pytest.raises(sub.SubmissionError, match="unsafe path"):
        sub.parse_bundle(zip_with(name, b"\x89PNG\r\n\x1a\n" + b"0" * 10))
    assert not list(tmp_path.parent.rglob("evil.png"))


@pytest.mark.parametrize("name,data,symlink,message", [
    ("crops/a/w1.orig.png", b"/etc/passwd", True, "symbolic link"),
    ("model.pkl", b"\x80\x04K\x01.", False, "not part of a run folder"),
    ("crops/a/w1.orig.png", b"GIF89a not a png", False, "not a PNG"),
    ("crops/a/w1.orig.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (100_000).to_bytes(4, "big") * 2 + b"\x08\x02",
     False, "100000x100000 pixels"),
    ("records.jsonl", b"\x00" * (30 * 1024 * 1024), False, "zip bomb"),
])
def test_bad_bundle_entries_are_rejected(name: str, data: bytes, symlink: bool, message: str) -> None:
    with pytest.raises(sub.SubmissionError, match=message):
        sub.parse_bundle(zip_with(name, data, symlink=symlink))


def test_a_corrupt_zip_entry_is_one_clear_error() -> None:
    raw = bytearray(zip_with("records.jsonl", b'{"image": "a", "status": "ok"}\n' * 200))
    raw[60] ^= 0xFF  # inside the deflated data
    with pytest.raises(sub.SubmissionError, match="zip entry 'records.jsonl' cannot be read"):
        sub.parse_bundle(bytes(raw)).instances()


def test_bad_results_files_are_rejected(run_root: Path, tmp_path: Path) -> None:
    good = json.loads((run_folder(run_root, "identity", "256") / "results.json").read_text())
    cases = {
        b"\xff\xfe not utf-8": "not UTF-8",
        b"{not json": "not valid JSON",
        b'{"schema": "other/1"}': "not a tfbench results file",
        json.dumps({**good, "suite": {**good["suite"], "resolution": "../../x"}}).encode(): "suite.resolution",
        json.dumps(good).replace('"mean": 1.0', '"mean": NaN', 1).encode(): "NaN",
        json.dumps({**good, "metrics": {"text": {"t_acc": {"mean": 1.7}}}}).encode(): r"outside its range \[0.0, 1.0\]",
        b" " * (sub.MAX_RESULTS_BYTES + 1): "the limit is",
    }
    with Store(tmp_path / "s.sqlite") as store:
        for raw, message in cases.items():
            with pytest.raises(sub.SubmissionError if message in ("not UTF-8", "not valid JSON", "NaN", "the limit is")
                               else TfbenchError, match=message):
                sub.submit(store, raw)
        with pytest.raises(sub.SubmissionError, match="not a zip"):
            sub.submit(store, json.dumps(good).encode(), b"PK but not really a zip")
        assert store.count("submissions") == 0


def test_rejected_submission_never_reaches_the_table(run_root: Path, tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        sid = sub.submit(store, (run_folder(run_root, "identity", "256") / "results.json").read_bytes())
        sub.reject(store, sid)
        assert store.count("results") == 0 and store.submissions("pending") == []
        assert [s.status for s in store.submissions(None)] == ["rejected"]


def test_reference_csv_rows_are_labelled_and_kept_apart(store_file: Path) -> None:
    csv_path = DATA / "reference_format_example.csv"
    with Store(store_file) as store:
        outcomes = import_reference(store, csv_path)
        again = import_reference(store, csv_path)
        assert [o.status for o in outcomes] == ["added", "added", "added"]
        assert [o.status for o in again] == ["unchanged"] * 3
        frame = flatten(store.results())
    ref = frame[frame.source == "reference"].set_index(["adapter", "res"])
    assert len(ref) == 3 and set(ref["label"]) == {"format example (invented numbers, not from the paper)"}
    assert set(ref["text backend"]) == {"as published"}
    row = ref.loc[("example-vae-f8", "256")]
    assert row["T-ACC s"] == 0.1 and row["T-ACC"] == pytest.approx((0.1 + 0.4 + 0.8) / 3)  # mean filled in
    assert row["F-Sim"] == 0.55  # given mean kept as given
    assert (frame.source == "run").sum() == 4  # the runs are untouched


def test_reference_csv_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(TfbenchError, match="above 1; the CSV holds fractions"):
        read_reference_csv(b"label,adapter,resolution,t_acc_small\nx,y,256,45.2\n")
    with pytest.raises(TfbenchError, match="unknown column"):
        read_reference_csv(b"label,adapter,resolution,t_acc_tiny\nx,y,256,0.2\n")
    with pytest.raises(TfbenchError, match="missing column"):
        read_reference_csv(b"adapter,resolution\ny,256\n")
    with pytest.raises(TfbenchError, match="line 2 t_acc_small: 'abc' is not a number"):
        read_reference_csv(b"label,adapter,resolution,t_acc_small\nx,y,256,abc\n")
