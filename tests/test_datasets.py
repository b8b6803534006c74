"""TokBench import (fixture in the exact TokBench layout), user-folder import, checksums, rescoring."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tfbench.buckets import BucketMean, TEXT_EDGES
from tfbench.cli import main
from tfbench.datasets.checksums import ChecksumCache, verify_suite
from tfbench.datasets.folder import import_folder, match_detections
from tfbench.datasets.tokbench import import_tokbench
from tfbench.errors import ManifestError
from tfbench.manifest import load_suite_file
from tfbench.records import read_records
from tfbench.suites import load_suite
from tests.tokbench_fixture import build_tokbench


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    root = tmp_path_factory.mktemp("tokbench")
    counts = build_tokbench(root)
    return root, counts


@pytest.fixture(scope="module")
def imported(tok):
    root, counts = tok
    written, report = import_tokbench(root)
    return root, counts, written, report


def test_tokbench_import_keeps_every_instance_and_the_shipped_ratios(imported):
    root, counts, written, report = imported
    assert set(written) == {"tokbench", "tokbench-text", "tokbench-face"}
    assert (report.images, report.words, report.faces) == (counts["text_images"] + counts["face_images"],
                                                           counts["words"], counts["faces"])
    assert report.clipped == counts["clipped"] and report.dropped == {}
    suite = load_suite("tokbench", root)
    assert {r.subset for r in suite.images} == {"ic13", "ic15", "tt", "textocr", "cord", "sroie", "infograph",
                                                "docvqa", "face"}
    ann = json.loads((root / "annotations" / "text_tt.json").read_text())[0]
    rec = next(r for r in suite.images if r.subset == "tt")
    assert [w.ratio for w in rec.words] == [a["ratio"] for a in ann["annotations"]]
    assert rec.words[1].polygon is not None and rec.file == "images/text_data/tt/tt_0001.jpg"
    ic13 = next(r for r in suite.images if r.subset == "ic13")
    assert ic13.words[0].box[2] == ic13.width  # the overshooting box was clipped (and counted above)
    assert len(load_suite("tokbench-text", root).images) == counts["text_images"]
    face = load_suite("tokbench-face", root)
    assert sum(len(r.faces) for r in face.images) == counts["faces"] and not any(r.words for r in face.images)


def test_suite_by_name_uses_env_data_root_and_explains_missing_steps(imported, tmp_path, monkeypatch):
    root = imported[0]
    monkeypatch.setenv("TFBENCH_DATA_ROOT", str(root))
    assert len(load_suite("tokbench").images) == 12
    monkeypatch.delenv("TFBENCH_DATA_ROOT")
    with pytest.raises(ManifestError, match="tfbench data download tokbench"):
        load_suite("tokbench")
    (tmp_path / "annotations").mkdir()
    with pytest.raises(ManifestError, match=f"run `tfbench data import tokbench {tmp_path}` first"):
        load_suite("tokbench-text", tmp_path)


@pytest.fixture(scope="module")
def tok_runs(imported, tmp_path_factory):
    root = imported[0]
    out = tmp_path_factory.mktemp("runs")
    assert main(["run", "--suite", "tokbench", "--data-root", str(root), "-a", "jpeg:quality=30", "-a", "identity",
                 "--out", str(out), "--no-progress"]) == 0
    return {spec: json.loads((out / "tokbench" / f"{spec}@256" / "results.json").read_text())
            for spec in ("jpeg_quality=30", "identity")}, out


def test_tokbench_run_reports_every_set_and_the_pooled_mean_of_bucket_means(tok_runs, capsys):
    results, out = tok_runs
    r = results["jpeg_quality=30"]
    assert set(r["subsets"]) == {"ic13", "ic15", "tt", "textocr", "cord", "sroie", "infograph", "docvqa", "face"}
    # overall = pooled instances of all sets, bucketed, mean of bucket means (recomputed here from the records)
    recs = read_records(out / "tokbench" / "jpeg_quality=30@256" / "records.jsonl")
    m = BucketMean(TEXT_EDGES["256"])
    for rec in recs:
        for w in rec["words"]:
            if not w.get("skipped"):
                m.update(w["t_acc"], w["ratio"])
    assert r["metrics"]["text"]["t_acc"] == pytest.approx(m.compute())
    per_set_n = sum(sum(s["text"]["n"].values()) for s in r["subsets"].values())
    assert per_set_n == sum(r["metrics"]["text"]["n"].values()) == 40  # 8 sets x 5 words above the first edge
    assert all(n > 0 for n in r["metrics"]["face"]["n"].values())
    ident = results["identity"]["metrics"]["face"]["f_sim"]["mean"]
    assert 0.3 < r["metrics"]["face"]["f_sim"]["mean"] < ident - 0.1  # JPEG q30 at 256 loses identity
    assert r["backends"]["text"]["backend"] == "rapidocr"


def test_rescore_from_records_equals_the_run_and_follows_new_edges(tok_runs, tmp_path, capsys):
    results, out = tok_runs
    run = out / "tokbench" / "jpeg_quality=30@256"
    assert main(["score", str(run), "-r", "256", "--out", str(tmp_path / "same.json")]) == 0
    same = json.loads((tmp_path / "same.json").read_text())
    assert same["metrics"] == results["jpeg_quality=30"]["metrics"]
    assert main(["score", str(run / "records.jsonl"), "-r", "256", "--text-edges", "0.01,0.05,0.1,1",
                 "--face-edges", "0.05,0.15,0.4,1", "--out", str(tmp_path / "new.json")]) == 0
    new = json.loads((tmp_path / "new.json").read_text())
    assert new["buckets"]["text"] == [0.01, 0.05, 0.1, 1.0]
    m = BucketMean((0.01, 0.05, 0.1, 1.0))
    for rec in read_records(run / "records.jsonl"):
        m.update_many((w["t_ned"], w["ratio"]) for w in rec["words"] if not w.get("skipped"))
    assert new["metrics"]["text"]["t_ned"] == pytest.approx(m.compute())
    assert new["rescore"]["unscored_words"] == 8  # the 8 'tiny' words the run skipped now fall in a bucket
    assert "rerun with --score-all" in capsys.readouterr().out
    assert main(["score", str(run), "-r", "512"]) == 2  # records were computed at 256
    assert main(["score", str(run), "-r", "256", "--text-edges", "0.3,0.2,0.1,1"]) == 2


def _copy(tok, tmp_path):
    root = tmp_path / "tb"
    shutil.copytree(tok[0], root, ignore=shutil.ignore_patterns("tokbench*.json"))
    return root


def _edit(path: Path, fn) -> None:
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("breakage,message", [
    (lambda r: (r / "images/text_data/ic15/ic15_0001.jpg").unlink(),
     r"text_ic15.json: \[0\] \(ic15_0001.jpg\).file_name: image not found"),
    (lambda r: _edit(r / "annotations/text_tt.json", lambda d: d[0]["annotations"][2].update(rec=" ")),
     r"text_tt.json: \[0\] \(tt_0001.jpg\).annotations\[2\].rec: empty transcription"),
    (lambda r: _edit(r / "annotations/text_cord.json", lambda d: d[0]["annotations"][0].update(bbox=[500, 10, 600, 40])),
     r"text_cord.json: \[0\] \(cord_0001.jpg\).annotations\[0\].bbox: box outside the image"),
    (lambda r: (r / "annotations/text_sroie.json").write_text('[{"file_name": "x.jpg", '),
     r"text_sroie.json: malformed JSON at line 1"),
    (lambda r: _edit(r / "annotations/face_meta.json", lambda d: d[1]["faces"][0].update(kps=[[1, 2]] * 4)),
     r"face_meta.json: \[1\] \(t1_face0.jpg\).faces\[0\].kps: expected 10 numbers"),
    (lambda r: _edit(r / "annotations/text_ic13.json", lambda d: d[0].update(width=481)),
     r"text_ic13.json: \[0\] \(ic13_0001.jpg\).width: size mismatch"),
    (lambda r: (r / "annotations/text_docvqa.json").unlink(), r"text_docvqa.json not found: the TokBench download"),
    (lambda r: _edit(r / "annotations/text_ic13.json", lambda d: d[0].update(annotations={})),
     r"text_ic13.json: \[0\] \(ic13_0001.jpg\).annotations: expected a list of \{rec, bbox, ratio\}"),
    (lambda r: _edit(r / "annotations/text_ic13.json", lambda d: d.__setitem__(0, [])),
     r"text_ic13.json: \[0\]: expected an object with file_name, height, width, annotations"),
    (lambda r: _edit(r / "annotations/face_meta.json", lambda d: d[1].update(image_name="nobody.jpg")),
     r"face_meta.json: \[1\] \(nobody.jpg\).image_name: image not found under .*looked for nobody.jpg and "
     r"wflw/nobody.jpg"),
    (lambda r: _edit(r / "annotations/face_meta.json", lambda d: d[1].update(img_height=d[1]["img_height"] + 1)),
     r"face_meta.json: \[1\] \(t1_face0.jpg\).img_width: size mismatch"),
    (lambda r: _edit(r / "annotations/face_meta.json", lambda d: d[1].update(img_width="wide")),
     r"face_meta.json: \[1\] \(t1_face0.jpg\).img_width: expected a positive integer"),
    (lambda r: _edit(r / "annotations/face_meta.json", lambda d: d[1].update(faces=None)),
     r"face_meta.json: \[1\] \(t1_face0.jpg\).faces: expected a list of \{kps, box, ratio\}"),
    (lambda r: _edit(r / "annotations/face_meta.json", lambda d: d[0].pop("image_name")),
     r"face_meta.json: \[0\].image_name: missing image name"),
])
def test_broken_tokbench_inputs_give_one_clear_error(tok, tmp_path, breakage, message):
    root = _copy(tok, tmp_path)
    breakage(root)
    with pytest.raises(ManifestError, match=message):
        import_tokbench(root)


def test_skip_invalid_drops_and_counts(tok, tmp_path):
    root = _copy(tok, tmp_path)
    _edit(root / "annotations/text_tt.json", lambda d: d[0]["annotations"][2].update(rec=""))
    _edit(root / "annotations/text_cord.json", lambda d: d[0]["annotations"][0].update(bbox=[500, 10, 600, 40]))
    written, report = import_tokbench(root, skip_invalid=True)
    assert report.dropped == {"empty transcription": 1, "box outside the image": 1}
    assert report.words == tok[1]["words"] - 2
    assert json.loads(written["tokbench"].read_text())["import"]["dropped"] == report.dropped


def test_an_image_left_without_valid_items_is_dropped_and_counted(tok, tmp_path):
    root = _copy(tok, tmp_path)
    _edit(root / "annotations/text_cord.json",
          lambda d: [a.update(bbox=[500, 10, 600, 40]) for a in d[0]["annotations"]])
    _edit(root / "annotations/face_meta.json",
          lambda d: [f.update(kps=[[-50, -50]] * 5) for f in d[1]["faces"]])
    n_words = len(json.loads((root / "annotations/text_cord.json").read_text())[0]["annotations"])
    n_faces = len(json.loads((root / "annotations/face_meta.json").read_text())[1]["faces"])
    written, report = import_tokbench(root, skip_invalid=True)
    assert report.dropped == {"box outside the image": n_words, "image without any valid text instance": 1,
                              "landmarks outside the image": n_faces, "image without any valid face": 1}
    assert report.images == 10 and report.words == tok[1]["words"] - n_words
    ids = {e["id"] for e in json.loads(written["tokbench"].read_text())["images"]}
    assert "images/text_data/cord/cord_0001.jpg" not in ids and len(ids) == 10


def test_checksums_are_verified_once_and_a_changed_image_is_caught(tok, tmp_path):
    root = _copy(tok, tmp_path)
    cache = ChecksumCache(tmp_path / "sums.json")
    written, _ = import_tokbench(root, cache=cache)
    cache.save()
    assert cache.hashed == 21  # 12 images + 9 annotation files, each read once
    again = ChecksumCache(tmp_path / "sums.json")
    suite = load_suite_file(written["tokbench"], root)
    assert verify_suite(suite, again) == 12 and again.hashed == 0  # all from the cache
    img = root / "images/text_data/ic15/ic15_0001.jpg"
    img.write_bytes(img.read_bytes()[:-10] + b"0123456789")  # same size, new content and mtime
    os.utime(img, ns=(img.stat().st_atime_ns, img.stat().st_mtime_ns + 10**9))
    with pytest.raises(ManifestError, match=r"tokbench.json: images\[1\] \(images/text_data/ic15/ic15_0001.jpg\)"
                                            r".sha256: .* has sha256 .* but the manifest says"):
        verify_suite(suite, again)
    img.unlink()
    with pytest.raises(ManifestError, match=r"images\[1\] .*\.file: image not found"):
        load_suite(str(written["tokbench"]), root)


def test_match_detections_is_one_to_one_by_iou():
    dets = [{"box": [0, 0, 10, 10]}, {"box": [100, 100, 120, 120]}]
    # IoU with detection 0: 81/119 = 0.68 and 81/100 = 0.81: the better pair wins, the other box gets none
    assert match_detections([[1, 1, 11, 11], [0, 0, 9, 9], [50, 50, 60, 60]], dets, 0.3) == [None, 0, None]
    assert match_detections([[1, 1, 11, 11], [100, 100, 121, 121]], dets, 0.3) == [0, 1]


def _folder_with_faces(tmp_path) -> Path:
    from PIL import Image

    from tfbench.mini import package_file

    folder = tmp_path / "mine"
    folder.mkdir()
    Image.open(package_file("insightface", "data/images/t1.jpg")).convert("RGB").save(folder / "group.jpg")
    Image.new("RGB", (200, 100), (255, 255, 255)).save(folder / "blank.png")
    return folder


def test_user_folder_detects_landmarks_once_and_keeps_unmatched_faces_marked(tmp_path, scorers):
    from tfbench.images import load_rgb
    from tfbench.metrics.face import YuNetDetector

    folder = _folder_with_faces(tmp_path)
    dets = YuNetDetector().detect(load_rgb(folder / "group.jpg"))
    boxes = [[round(v) for v in d["box"]] for d in dets[:3]]
    (folder / "manifest.json").write_text(json.dumps([
        {"file": "group.jpg", "identity": "crowd", "faces": [{"bbox": b} for b in boxes] + [{"bbox": [0, 0, 40, 40]}],
         "words": [{"text": "hi", "bbox": [300, 10, 340, 30]}]},
        {"file": "blank.png", "faces": [{"bbox": [10, 10, 60, 60]}]},
    ]))
    path, report = import_folder(folder, ocr=scorers.text)
    assert path == folder / "tfbench-suite.json"
    assert report.landmarks_detected == 3 and report.faces == 5 and report.faces_without_landmarks == 2
    assert report.dropped == {}  # faces without a detection are kept, marked `excluded`, and so is their image
    assert any("faces[3].bbox" in e and "best IoU" in e for e in report.examples)
    suite = load_suite(str(path))
    rec, blank = suite.images
    for face, det in zip(rec.faces, dets[:3]):
        assert np.abs(face.landmarks - det["landmarks"]).max() < 0.01 and face.identity == "crowd"
    assert len(rec.excluded_faces) == 1 and len(blank.excluded_faces) == 1 and not blank.faces
    imported = json.loads(path.read_text())
    assert imported["import"]["faces_without_landmarks"] == 2 and imported["curation"]["face"]["without_landmarks"] == 2
    assert imported["version"] == "2"


@pytest.mark.parametrize("record,message", [
    ({"file": "nope.jpg", "words": [{"text": "a", "bbox": [1, 1, 5, 5]}]}, r"\[0\] \(nope.jpg\).file: image not found"),
    ({"file": "blank.png", "words": [{"text": "", "bbox": [1, 1, 5, 5]}]}, r"\[0\] \(blank.png\).words\[0\].text: empty"),
    ({"file": "blank.png", "words": [{"text": "a", "bbox": [150, 1, 250, 5]}]},
     r"\[0\] \(blank.png\).words\[0\].bbox: box .* lies outside the 200x100 image"),
    ({"file": "blank.png", "width": 300, "words": [{"text": "a", "bbox": [1, 1, 5, 5]}]},
     r"\[0\] \(blank.png\).width: the JSON says 300"),
    ({"file": "blank.png", "faces": [{"bbox": [1, 1, 5]}]}, r"\[0\] \(blank.png\).faces\[0\].bbox: expected a list of 4 numbers \[x0, y0, x1, y1\], got \[1, 1, 5\]"),
])
def test_broken_user_folder_inputs_give_one_clear_error(tmp_path, record, message):
    folder = _folder_with_faces(tmp_path)
    (folder / "manifest.json").write_text(json.dumps([record]))
    with pytest.raises(ManifestError, match=rf"{folder / 'manifest.json'}: {message}"):
        import_folder(folder)
    (folder / "manifest.json").write_text("[{]")
    with pytest.raises(ManifestError, match="malformed JSON at line 1 column 3"):
        import_folder(folder)


@pytest.fixture(scope="module")
def shared_suites(shared, tmp_path_factory):
    """../shared/data/text and faces imported with defaults; manifests go to a temp folder (../shared is read-only)."""
    out = tmp_path_factory.mktemp("shared-suites")
    for name in ("text", "faces"):
        assert main(["data", "import", "folder", str(shared / "data" / name), "--out", str(out / f"{name}.json"),
                     "--name", f"shared-{name}"]) == 0
    return out


ORDER = ("identity", "jpeg:quality=90", "jpeg:quality=30", "jpeg:quality=5")


def _instance_mean(path: Path, kind: str, metric: str) -> float:
    """Mean over every scored instance of a run (defined even when a bucket is empty)."""
    values = [x[metric] for rec in read_records(path / "records.jsonl") for x in rec[kind] if not x.get("skipped")]
    return sum(values) / len(values)


def test_shared_folders_identity_reads_everything_and_quality_orders_the_scores(shared, shared_suites, scorers, tmp_path):
    from tfbench.pipeline import evaluate
    from tfbench.registry import create_adapter

    text = json.loads((shared_suites / "text.json").read_text())
    assert (text["curation"]["text"]["words"], text["curation"]["text"]["unreadable"]) == (187, 77)  # rapidocr 3.10.0
    faces = json.loads((shared_suites / "faces.json").read_text())
    assert faces["curation"]["face"] == {"landmarks": "given, or YuNet detections matched by IoU >= 0.3", "faces": 31,
                                         "without_landmarks": 0}
    for name, kind, group, metrics in (("text", "text", "words", ("t_acc", "t_ned")), ("faces", "face", "faces", ("f_sim",))):
        suite = load_suite(str(shared_suites / f"{name}.json"), shared / "data" / name)
        native = evaluate(suite, create_adapter("identity"), "native", scorers, tmp_path)["metrics"][kind]
        if kind == "text":  # every curated word is read at native, in every bucket
            assert sum(native["n"].values()) == 110 and native["t_acc"]["mean"] == 1.0
            assert all(native["t_acc"][b] == 1.0 for b in ("small", "medium", "large") if native["n"][b])
        else:
            # no face is small at native (TokBench's mean of bucket means is undefined): the instance mean
            assert sum(native["n"].values()) == 31 and native["f_sim"]["instance_mean"] >= 0.999
        runs = {spec: evaluate(suite, create_adapter(spec), "512", scorers, tmp_path) for spec in ORDER}
        for better, worse in zip(ORDER, ORDER[1:]):
            for metric in metrics:
                b, w = runs[better]["metrics"][kind][metric], runs[worse]["metrics"][kind][metric]
                if b["mean"] is not None:
                    assert b["mean"] >= w["mean"], (name, metric, better, worse)
                assert _instance_mean(Path(runs[better]["_path"]).parent, group, metric) >= \
                    _instance_mean(Path(runs[worse]["_path"]).parent, group, metric), (name, metric, better, worse)
                for bucket, n in runs[better]["metrics"][kind]["n"].items():
                    if n >= 10:
                        assert b[bucket] >= w[bucket] - 0.02, (name, metric, bucket, better, worse)


def test_download_offline_fails_fast_and_says_how_to_get_the_data(tmp_path, capsys):
    import socket
    import time

    try:
        socket.create_connection(("huggingface.co", 443), timeout=3).close()
        pytest.skip("huggingface.co is reachable: this would download TokBench")
    except OSError:
        pass
    t = time.monotonic()
    assert main(["data", "download", "tokbench", "--dir", str(tmp_path / "tb")]) == 2
    err = capsys.readouterr().err
    assert time.monotonic() - t < 20
    assert "cannot reach huggingface.co" in err and "huggingface-cli download Junfeng5/TokBench --repo-type dataset" in err
    assert "tfbench data import tokbench DIR" in err


def test_cli_import_tokbench_prints_counts_and_the_next_command(tok, tmp_path, capsys):
    root = _copy(tok, tmp_path)
    _edit(root / "annotations/text_tt.json", lambda d: d[0]["annotations"][2].update(rec=""))
    assert main(["data", "import", "tokbench", str(root)]) == 2
    assert "text_tt.json: [0] (tt_0001.jpg).annotations[2].rec: empty transcription" in capsys.readouterr().err
    assert main(["data", "import", "tokbench", str(root), "--skip-invalid", "--sets", "tt,face"]) == 0
    out = capsys.readouterr().out
    assert "dropped 1: empty transcription" in out and "wrote tokbench-face" in out and "wrote tokbench-text" not in out
    assert f"next: tfbench run --suite tokbench-face --data-root {root.resolve()}" in out
