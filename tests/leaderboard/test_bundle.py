"""Submitted files: strict results.json, zip-slip, zip bombs, size limits, PNG checks; reference CSV format errors."""
from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import pytest

from tests.leaderboard.conftest import run_folder, zip_run
from tfbench.errors import TfbenchError
from tfbench.leaderboard import bundle as bun
from tfbench.leaderboard.limits import MAX_RESULTS_BYTES
from tfbench.leaderboard.reference import paper_csv, read_reference_csv


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


def test_a_run_folder_zip_reads_back_its_records_and_crops(run_root: Path) -> None:
    folder = run_folder(run_root, "jpeg:quality=5", "256")
    parsed = bun.parse_bundle(zip_run(folder, prefix="jpeg_quality=5@256/"))  # the folder itself zipped
    instances = parsed.instances()
    assert len(instances) == 11 + 7 and all(i.recon_png and i.orig_png for i in instances)
    faces = [i for i in instances if i.kind == "face"]
    assert faces and all(len(json.loads(i.landmarks)) == 5 for i in faces)


@pytest.mark.parametrize("name", ["../evil.png", "/etc/evil.png", "crops/../../evil.png", "C:/evil.png",
                                  "crops\\x\\w1.orig.png", "./records.jsonl"])
def test_zip_slip_names_are_rejected(name: str, tmp_path: Path) -> None:
    with pytest.raises(bun.SubmissionError, match="unsafe path"):
        bun.parse_bundle(zip_with(name, b"\x89PNG\r\n\x1a\n" + b"0" * 10))
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
    with pytest.raises(bun.SubmissionError, match=message):
        bun.parse_bundle(zip_with(name, data, symlink=symlink))


def test_corrupt_or_malformed_records_are_one_clear_error() -> None:
    raw = bytearray(zip_with("records.jsonl", b'{"image": "a", "status": "ok"}\n' * 200))
    raw[60] ^= 0xFF  # inside the deflated data
    with pytest.raises(bun.SubmissionError, match="zip entry 'records.jsonl' cannot be read"):
        bun.parse_bundle(bytes(raw)).records()
    with pytest.raises(bun.SubmissionError, match="records.jsonl line 2 is not valid JSON"):
        bun.parse_bundle(zip_with("records.jsonl", b'{"image": "a"}\n{oops\n')).records()
    with pytest.raises(bun.SubmissionError, match="records.jsonl line 1 is not a record"):
        bun.parse_bundle(zip_with("records.jsonl", b'[1, 2]\n')).records()


def test_bad_results_files_are_rejected(run_root: Path) -> None:
    good = json.loads((run_folder(run_root, "identity", "256") / "results.json").read_text())
    cases = {
        b"\xff\xfe not utf-8": "not UTF-8",
        b"{not json": "not valid JSON",
        b'{"schema": "other/1"}': "not a tfbench results file",
        json.dumps({**good, "suite": {**good["suite"], "resolution": "../../x"}}).encode(): "suite.resolution",
        json.dumps({**good, "suite": {**good["suite"], "manifest_sha256": "abc"}}).encode(): "64 lowercase hex",
        json.dumps({**good, "buckets": {"text": [0.04, 0.03, 0.02, 1]}}).encode(): "four increasing finite numbers",
        json.dumps(good).replace('"mean": 1.0', '"mean": NaN', 1).encode(): "NaN",
        json.dumps({**good, "metrics": {"text": {"t_acc": {"mean": 1.7}}}}).encode(): r"outside its range \[0.0, 1.0\]",
        json.dumps({**good, "metrics": {"face": {"f_sim": {"small": -1.5}}}}).encode(): r"outside its range \[-1.0, 1.0\]",
        b" " * (MAX_RESULTS_BYTES + 1): r"the limit for a results.json is 2 MB \(2,097,152 bytes\)",
    }
    for raw, message in cases.items():
        with pytest.raises(TfbenchError, match=message):
            bun.parse_results(raw)
    with pytest.raises(bun.SubmissionError, match="not a zip"):
        bun.parse_bundle(b"PK but not really a zip")


@pytest.mark.parametrize("mutate", [
    lambda d: d["suite"].update(resolution="../../x"),
    lambda d: d["adapter"].update(spec="x" * 201),
    lambda d: d["adapter"].update(spec="jpeg\nq=30"),
    lambda d: d["suite"].update(manifest_sha256="ABC" * 21 + "D"),
    lambda d: d.update(buckets={"text": [0.04, 0.03, 0.02, 1], "face": [0.1, 0.2, 0.3, 1]}),
    lambda d: d["adapter"].update(bits_per_pixel=-1),
    lambda d: d["metrics"]["text"].update(n={"small": -1, "medium": 0, "large": 0}),
], ids=["resolution", "long-spec", "unprintable-spec", "upper-sha", "edges", "bpp", "count"])
def test_the_leaderboard_refuses_results_with_the_schemas_line(run_root: Path, mutate, tmp_path: Path, capsys) -> None:
    """The leaderboard's gate is the published results model (plus metric ranges): it refuses exactly what
    `tfbench schemas validate results` refuses, with the same line."""
    from tfbench.cli import main
    from tfbench.leaderboard.schema import validate_results

    data = json.loads((run_folder(run_root, "identity", "256") / "results.json").read_text())
    mutate(data)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    with pytest.raises(TfbenchError) as e:
        validate_results(data, str(path))
    assert main(["schemas", "validate", "results", str(path)]) == 1
    assert capsys.readouterr().out.strip() == str(e.value)


def test_the_shipped_paper_csv_and_reference_format_errors() -> None:
    rows = read_reference_csv(paper_csv(), "paper.csv", "the paper")
    assert len(rows) == 76
    assert sum(r["suite"]["modality"] == "video" for r in rows) == 16
    resize = next(r for r in rows if r["adapter"]["spec"] == "Resize" and r["suite"]["resolution"] == "256")
    assert resize["metrics"]["text"]["t_acc"] == pytest.approx({"small": 0.8605, "medium": 0.9465, "large": 0.9837,
                                                               "mean": 0.9302})
    assert resize["metrics"]["face"]["f_sim"]["mean"] == 0.93
    header = b"set,res,method,tacc_s,tacc_m,tacc_l,tacc_mean,tned_s,tned_m,tned_l,tned_mean,fsim_s,fsim_m,fsim_l,fsim_mean\n"
    with pytest.raises(TfbenchError, match="outside 0-100; T-ACC and T-NED are given in percent"):
        read_reference_csv(header + b"image,256,x,145,1,1,1,1,1,1,1,0.1,0.1,0.1,0.1\n")
    with pytest.raises(TfbenchError, match="outside -1..1; F-Sim is given as a cosine"):
        read_reference_csv(header + b"image,256,x,1,1,1,1,1,1,1,1,93,0.1,0.1,0.1\n")
    with pytest.raises(TfbenchError, match="missing column"):
        read_reference_csv(b"set,res\nimage,256\n")
    with pytest.raises(TfbenchError, match="line 2 tacc_s: 'abc' is not a number"):
        read_reference_csv(header + b"image,256,x,abc,1,1,1,1,1,1,1,0.1,0.1,0.1,0.1\n")
    with pytest.raises(TfbenchError, match="set 'audio' must be image or video"):
        read_reference_csv(header + b"audio,256,x,1,1,1,1,1,1,1,1,0.1,0.1,0.1,0.1\n")
