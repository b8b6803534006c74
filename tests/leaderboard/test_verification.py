"""Every bad submission or import of issue 12 gets one clear message and leaves the store's content unchanged.

Cases refused when submitted (the files or the suite identity are wrong) and cases refused at approval (the
numbers do not follow from the records, the records not from the suite, or the crops do not read as the
records say) are checked against the store's fingerprint (every row of every table) before and after.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from tests.leaderboard.conftest import misread_words, rewrite_run, run_folder, zip_run
from tfbench.errors import TfbenchError
from tfbench.leaderboard import submissions as sub
from tfbench.leaderboard.limits import MAX_BUNDLE_BYTES
from tfbench.leaderboard.importing import import_run
from tfbench.leaderboard.store import Store
from tfbench.leaderboard.suitedefs import from_suite, register

Q5 = ("jpeg:quality=5", "256")


def _results(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text())


def _with(data: dict, **suite) -> bytes:
    return json.dumps({**data, "suite": {**data["suite"], **suite}}).encode()


@pytest.fixture()
def board(empty_store: Path, mini_v1) -> Path:
    """`mini-lb` and the full `mini` v1 (which mini-lb is cut from) registered, nothing else."""
    with Store(empty_store) as store:
        register(store, from_suite(mini_v1))
    return empty_store


def _refused_at_submit(path: Path, results: bytes, bundle: bytes | None, message: str) -> None:
    with Store(path) as store:
        before = store.fingerprint()
        with pytest.raises(TfbenchError, match=message) as refused:
            sub.submit(store, results, bundle, client="test")
        assert store.fingerprint() == before
    assert "\n" not in str(refused.value)


def test_refused_when_submitted(run_root: Path, board: Path) -> None:
    folder = run_folder(run_root, *Q5)
    data, bundle = _results(folder), zip_run(folder)
    cases = [
        (_with(data, resolution="333"), r"defines resolutions 256, 512, 1024, native; the results claim resolution 333"),
        (_with(data, resolution="512"), r"buckets.text = \[0.02, 0.03, 0.04, 1.0\] differ from suite mini-lb's text "
                                        r"edges at resolution 512: \[0.01, 0.02, 0.03, 1.0\]"),
        (_with(data, name="mini"), r"suite mini v1 is known with manifest sha256 [0-9a-f]{64}, but the results were "
                                   r"computed on a manifest with sha256 " + data["suite"]["manifest_sha256"]),
        (_with(data, name="tokbench"), r"suite 'tokbench' is not registered on this board"),
        (_with(data, manifest_sha256=None), r"carry no suite.manifest_sha256"),
        (_with(data, version="2"), r"known here as version\(s\) 1, not version 2"),
    ]
    for raw, message in cases:
        _refused_at_submit(board, raw, bundle, message)
    _refused_at_submit(board, json.dumps(data).encode(), b"PK" + b"\0" * MAX_BUNDLE_BYTES,
                       r"is 67,108,866 bytes; the limit for a bundle zip is 64 MB \(67,108,864 bytes\)")


def _forge_readings(records: list[dict], dest: Path) -> None:
    for w in misread_words(records):  # the records claim the OCR read every word right; the crops say otherwise
        w.update(pred=w["gt"], t_acc=1.0, t_ned=1.0)


def _forge_truth(records: list[dict], dest: Path) -> None:
    for w in misread_words(records):  # the ground truth made to match the misreading
        w.update(gt=w["pred"], t_acc=1.0, t_ned=1.0)


def _forge_similarity(records: list[dict], dest: Path) -> None:
    for r in records:
        for f in r.get("faces", []):
            if f.get("f_sim") is not None:
                f.update(f_sim=min(1.0, f["f_sim"] + 0.2), f_kept=1.0)


def _drop_an_image(records: list[dict], dest: Path) -> list[dict]:
    return [r for r in records if r["image"] != "text_01"]


def _skip_misread(records: list[dict], dest: Path) -> None:
    for w in misread_words(records):  # the hard words marked as not scored, so they leave the means
        for key in ("pred", "t_acc", "t_ned", "psnr", "ssim", "crop"):
            w.pop(key, None)
        w["skipped"] = "below the smallest bucket at this resolution"


APPROVAL_CASES: dict[str, tuple[Callable | None, str]] = {
    "forged readings": (_forge_readings, r"text_0\d word \d+: the record says the OCR read '.*', but rapidocr reads the "
                                         r"submitted reconstruction crop as '.*'"),
    "forged ground truth": (_forge_truth, r"the record's ground truth is '.*', the suite's is '.*'"),
    "forged similarity": (_forge_similarity, r"face \d+: the record says F-Sim 0\.\d{6}, but sface gives 0\.\d{6} on "
                                             r"the submitted crops \(tolerance 0.001\)"),
    "an image left out": (_drop_an_image, r"records.jsonl covers 4 of the suite's 5 images; missing: text_01"),
    "misreads skipped": (_skip_misread, r"is inside the buckets at this resolution \(scale 0\.\d+\) but was not scored"),
}


@pytest.mark.parametrize("case", list(APPROVAL_CASES))
def test_refused_at_approval_and_nothing_changes(case: str, run_root: Path, board: Path, tmp_path: Path) -> None:
    edit, message = APPROVAL_CASES[case]
    forged = rewrite_run(run_folder(run_root, *Q5), tmp_path / "forged", edit)
    with Store(board) as store:
        queued = sub.submit(store, (forged / "results.json").read_bytes(), zip_run(forged), client="test")
        before = store.fingerprint()
        with pytest.raises(TfbenchError, match=message):
            sub.approve(store, queued.id, sample=None)
        assert store.fingerprint() == before and store.count() == 0


def test_an_edited_number_is_refused_at_approval_naming_the_metric_and_both_values(run_root: Path, board: Path) -> None:
    folder = run_folder(run_root, *Q5)
    data = _results(folder)
    true_mean = data["metrics"]["text"]["t_acc"]["mean"]
    data["metrics"]["text"]["t_acc"]["mean"] = 1.0
    with Store(board) as store:
        queued = sub.submit(store, json.dumps(data).encode(), zip_run(folder), client="test")
        before = store.fingerprint()
        with pytest.raises(TfbenchError) as refused:
            sub.approve(store, queued.id)
        assert store.fingerprint() == before
    assert str(refused.value) == (f"metrics.text.t_acc.mean: results.json says 1.0, but its records give {true_mean!r} "
                                  f"(recomputed with tfbench's aggregation, the code of `tfbench score`)")


def test_a_relabelled_resolution_with_edited_edges_is_refused_at_approval(run_root: Path, board: Path) -> None:
    folder = run_folder(run_root, *Q5)
    data = _results(folder)
    data["suite"]["resolution"], data["buckets"] = "512", {"text": [0.01, 0.02, 0.03, 1.0], "face": [0.05, 0.1, 0.2, 1.0]}
    with Store(board) as store:
        queued = sub.submit(store, json.dumps(data).encode(), zip_run(folder), client="test")
        before = store.fingerprint()
        # 512's edges reach scales below 256's smallest bucket: face_00's small face counts at 512 but a 256 run
        # did not score it (were every instance scored, the same records would give other bucket means)
        with pytest.raises(TfbenchError, match=r"^image 'face_00' face 0 is inside the buckets at this resolution "
                                               r"\(scale 0\.\d+\) but was not scored \(below the smallest bucket"):
            sub.approve(store, queued.id)
        assert store.fingerprint() == before


def test_imports_of_edited_or_bare_results_are_refused(runs: Path, board: Path) -> None:
    folder = run_folder(runs, *Q5)
    data = _results(folder)
    data["metrics"]["text"]["t_acc"]["mean"] = 0.999
    (folder / "results.json").write_text(json.dumps(data))
    bare = run_folder(runs, "identity", "256")
    (bare / "records.jsonl").unlink()
    with Store(board) as store:
        before = store.fingerprint()
        with pytest.raises(TfbenchError, match=r"metrics.text.t_acc.mean: results.json says 0.999, but its records give"):
            import_run(store, folder / "results.json")
        with pytest.raises(TfbenchError, match="has no records.jsonl: its numbers cannot be checked"):
            import_run(store, bare / "results.json")
        assert store.fingerprint() == before
        assert import_run(store, bare / "results.json", unverified=True).status == "added"  # asked for: unranked
        assert [r["_row"]["status"] for r in store.results()] == ["unverified"]


def test_identical_submissions_collapse_and_a_results_only_copy_adds_no_version(run_root: Path, store_file: Path) -> None:
    folder = run_folder(run_root, *Q5)
    raw = (folder / "results.json").read_bytes()
    with Store(store_file) as store:
        first, second = (sub.submit(store, raw, None, client="a") for _ in range(2))
        assert (first.duplicate, second.duplicate, second.id) == (False, True, first.id)
        assert len(sub.queue.listing(store)) == 1
        rows_before = store.count()
        done = sub.approve(store, first.id)  # the same numbers as the verified row, without records or crops
        assert done.outcome.status == "unchanged" and "same numbers as version 1" in done.outcome.note
        assert store.count() == rows_before
        [row] = [r for r in store.results() if r["adapter"]["spec"] == Q5[0] and r["suite"]["resolution"] == Q5[1]]
        assert row["_row"]["n_crops"] > 0 and row["_row"]["status"] == "verified"


def test_the_hourly_limit_per_client(run_root: Path, board: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TFBENCH_LEADERBOARD_SUBMISSIONS_PER_HOUR", "2")
    with Store(board) as store:
        for spec, res in (("identity", "256"), ("jpeg:quality=5", "256")):
            sub.submit(store, (run_folder(run_root, spec, res) / "results.json").read_bytes(), client="ci")
        before = store.fingerprint()
        late = (run_folder(run_root, "webp:quality=30", "256") / "results.json").read_bytes()
        with pytest.raises(TfbenchError, match="accepts 2 submissions per hour from one client"):
            sub.submit(store, late, client="ci")
        assert store.fingerprint() == before
        assert sub.submit(store, late, client="someone else").duplicate is False
