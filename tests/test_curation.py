"""Curation at import (unreadable words, faces without landmarks), polygons of any length, re-curation per backend.

The folder holds real rendered words (DejaVu Sans, shipped with matplotlib) and insightface's ``t1.jpg``
group photo; the OCR and the face models are the real default backends.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from tfbench.cli import main
from tfbench.crops import crop_box, crop_word
from tfbench.datasets.curation import curate_for_backend
from tfbench.datasets.folder import import_folder
from tfbench.errors import ManifestError
from tfbench.images import load_rgb
from tfbench.manifest import load_suite_file, parse_suite
from tfbench.mini import package_file
from tfbench.records import read_records


def _curve(x0: float, x1: float, y: float, bulge: float, n: int) -> list[list[float]]:
    """n points from x0 to x1 along a gentle arc at height y (bulging up by ``bulge`` in the middle)."""
    xs = np.linspace(x0, x1, n)
    return [[round(float(x), 1), round(float(y - bulge * (1 - ((x - (x0 + x1) / 2) / ((x1 - x0) / 2)) ** 2)), 1)]
            for x in xs]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """sign.png: a readable word, a curved-text polygon (14 points) and a box on blank paper; group.jpg: faces."""
    from tfbench.metrics.face import YuNetDetector

    root = tmp_path_factory.mktemp("curation-folder")
    img = Image.new("RGB", (640, 260), (250, 250, 245))
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(package_file("matplotlib", "mpl-data/fonts/ttf/DejaVuSans.ttf")), 56)
    open_box = draw.textbbox((30, 20), "OPEN", font=font)
    draw.text((30, 20), "OPEN", font=font, fill=(20, 20, 30))
    curved = draw.textbbox((30, 150), "Curved", font=font)
    draw.text((30, 150), "Curved", font=font, fill=(120, 10, 10))
    img.save(root / "sign.png")
    # Total-Text style: 7 points along the top edge, 7 back along the bottom (clockwise), hugging the word
    top = _curve(curved[0] - 6, curved[2] + 6, curved[1] - 4, 6, 7)
    bottom = _curve(curved[0] - 6, curved[2] + 6, curved[3] + 10, 6, 7)[::-1]
    Image.open(package_file("insightface", "data/images/t1.jpg")).convert("RGB").save(root / "group.jpg")
    dets = YuNetDetector().detect(load_rgb(root / "group.jpg"))
    (root / "manifest.json").write_text(json.dumps([
        {"file": "sign.png", "words": [
            {"text": "OPEN", "bbox": [open_box[0] - 4, open_box[1] - 4, open_box[2] + 4, open_box[3] + 4]},
            {"text": "Curved", "polygon": top + bottom},
            {"text": "ghost", "bbox": [420, 30, 600, 100]}]},  # blank paper: nothing to read
        {"file": "group.jpg", "identity": "crowd",
         "faces": [{"bbox": [round(v) for v in d["box"]]} for d in dets[:2]] + [{"bbox": [0, 0, 40, 40]}]},
    ]))
    return root


@pytest.fixture(scope="module")
def imported(folder, scorers):
    path, report = import_folder(folder, ocr=scorers.text)
    return path, report


def test_import_keeps_marks_and_counts_unreadable_words_and_faces_without_landmarks(folder, imported, scorers):
    path, report = imported
    data = json.loads(path.read_text())
    words = {w["text"]: w for w in data["images"][0]["words"]}
    assert "unreadable" not in words["OPEN"] and "unreadable" not in words["Curved"]
    assert words["ghost"]["unreadable"] is True and words["ghost"]["reading"] != "ghost"
    faces = data["images"][1]["faces"]
    assert [("excluded" in f) for f in faces] == [False, False, True] and "landmarks" not in faces[2]
    text = data["curation"]["text"]
    assert (text["backend"], text["version"]) == (scorers.text.describe()["backend"], scorers.text.describe()["version"])
    assert (text["words"], text["unreadable"]) == (3, 1)
    assert data["curation"]["face"]["without_landmarks"] == 1 and report.faces == 3 and report.dropped == {}
    summary = report.summary()
    assert "curation: 1 of 3 words are unreadable on the original with rapidocr" in summary
    assert "curation: 1 faces have no landmarks" in summary
    suite = load_suite_file(path, folder)
    sign, group = suite.images
    assert [w.unreadable for w in sign.words] == [False, False, True] and sign.words[2].reading == words["ghost"]["reading"]
    assert len(group.faces) == 2 and len(group.excluded_faces) == 1 and "no YuNet detection" in group.excluded_faces[0].reason
    assert suite.curation["text"]["backend"] == "rapidocr"


def test_a_curved_polygon_imports_and_is_cut_as_its_bounding_box(folder, imported):
    suite = load_suite_file(imported[0], folder)
    word = suite.images[0].words[1]
    assert word.text == "Curved" and len(word.polygon) == 14
    xs, ys = [p[0] for p in word.polygon], [p[1] for p in word.polygon]
    assert word.box == (min(xs), min(ys), max(xs), max(ys))
    image = load_rgb(folder / "sign.png")
    assert np.array_equal(crop_word(image, word.box, word.polygon), crop_box(image, word.box))


@pytest.mark.parametrize("polygon, ok", [
    ([[10, 10], [60, 12], [30, 40]], True),                     # 3 points
    ([10, 10, 60, 10, 60, 40, 35, 45, 10, 40], True),           # 5 points, flat
    ([[10, 10], [60, 12]], False),                              # 2 points
    ([10, 10, 60, 10, 60], False),                              # odd count
])
def test_manifest_polygons_need_three_points(polygon, ok):
    data = {"name": "p", "version": "1", "images": [{"file": "a.png", "width": 100, "height": 50,
                                                      "words": [{"text": "ab", "polygon": polygon}]}]}
    if ok:
        word = parse_suite(data, Path(".")).images[0].words[0]
        assert len(word.polygon) == len(polygon) if isinstance(polygon[0], list) else len(polygon) // 2
    else:
        with pytest.raises(ManifestError, match=r"images\[0\].words\[0\].polygon: expected"):
            parse_suite(data, Path("."))


def test_folder_import_refuses_a_two_point_polygon(folder, tmp_path):
    (tmp_path / "bad.json").write_text(json.dumps([{"file": "sign.png", "words": [{"text": "a", "polygon": [1, 1, 9, 9]}]}]))
    with pytest.raises(ManifestError, match=r"bad.json: \[0\] \(sign.png\).words\[0\].polygon: expected a polygon of at least 3 \[x, y\] points"):
        import_folder(folder, annotations=tmp_path / "bad.json", out=tmp_path / "s.json")


def test_runs_leave_them_out_count_them_and_keep_unreadable_scores_the_words(folder, imported, tmp_path, capsys):
    path = imported[0]
    base = ["run", "--suite", str(path), "-a", "identity", "-r", "native", "--no-progress"]
    assert main(base + ["--out", str(tmp_path / "default")]) == 0
    printed = capsys.readouterr().out
    assert "not scored (curation, counted in results.json `counts`): 1 words unreadable on the original" in printed
    assert "1 faces without landmarks" in printed
    run = tmp_path / "default" / folder.name / "identity@native"
    r = json.loads((run / "results.json").read_text())
    # a few instances in one or two buckets: the mean of bucket means is undefined, the instance mean is not
    assert r["metrics"]["text"]["t_acc"]["instance_mean"] == 1.0 and sum(r["metrics"]["text"]["n"].values()) == 2
    assert r["metrics"]["face"]["f_sim"]["instance_mean"] >= 0.999 and sum(r["metrics"]["face"]["n"].values()) == 2
    assert (r["counts"]["unreadable_words"], r["counts"]["faces_without_landmarks"]) == (1, 1)
    assert r["config"]["keep_unreadable"] is False
    sign = next(rec for rec in read_records(run / "records.jsonl") if rec["image"] == "sign.png")
    ghost = sign["words"][2]
    assert ghost["excluded"] == "unreadable" and "t_acc" not in ghost and ghost["unreadable"] is True

    assert main(base + ["--out", str(tmp_path / "keep"), "--keep-unreadable"]) == 0
    k = json.loads((tmp_path / "keep" / folder.name / "identity@native" / "results.json").read_text())
    assert sum(k["metrics"]["text"]["n"].values()) == 3 and k["counts"]["unreadable_words"] == 0
    assert k["metrics"]["text"]["t_acc"]["instance_mean"] < 1.0 and k["config"]["keep_unreadable"] is True
    # the same folder with the other setting is refused rather than mixing records
    assert main(base + ["--out", str(tmp_path / "keep")]) == 2
    assert "keep_unreadable=True" in capsys.readouterr().err


def test_another_backend_version_recurates_once_and_caches(folder, imported, scorers, tmp_path):
    data = json.loads(imported[0].read_text())
    data["curation"]["text"]["version"] = "rapidocr 0.0 (another version)"
    words = data["images"][0]["words"]
    words[0].update(unreadable=True, reading="0PEN")  # what that other version read
    words[2].pop("unreadable"), words[2].pop("reading")
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data))
    suite = load_suite_file(other, folder)
    assert [w.unreadable for w in suite.images[0].words] == [True, False, False]
    curated, note = curate_for_backend(suite, scorers.text)
    assert [w.unreadable for w in curated.images[0].words] == [False, False, True]  # this backend's own reading
    assert "re-curated for rapidocr" in note and "1 of 3 words unreadable" in note and "cached in" in note
    assert curated.curation["text"]["recurated_from"]["version"] == "rapidocr 0.0 (another version)"
    again, note = curate_for_backend(load_suite_file(other, folder), scorers.text)
    assert "cached readings from" in note and [w.unreadable for w in again.images[0].words] == [False, False, True]
    assert curate_for_backend(load_suite_file(imported[0], folder), scorers.text)[1] is None  # same backend: as is


def test_a_changed_video_clip_stops_the_run(tmp_path, scorers, capsys):
    from tfbench.datasets.clip import import_clip
    from tfbench.video.io import write_video

    font = ImageFont.truetype(str(package_file("matplotlib", "mpl-data/fonts/ttf/DejaVuSans.ttf")), 40)
    frames = []
    for t in range(3):
        im = Image.new("RGB", (320, 160), (245, 245, 240))
        ImageDraw.Draw(im).text((20 + 4 * t, 30), "EXIT", font=font, fill=(10, 10, 10))
        frames.append(np.asarray(im))
    write_video(tmp_path / "exit.mp4", iter(frames), fps=10, options={"crf": "10", "preset": "veryfast"})
    (tmp_path / "ann.json").write_text(json.dumps({"annotations": [
        {"frame": 0, "words": [{"text": "EXIT", "box": [14, 28, 130, 82]}, {"text": "void", "box": [200, 100, 300, 150]}]}]}))
    manifest, report = import_clip(tmp_path / "exit.mp4", tmp_path / "suite", annotations=tmp_path / "ann.json",
                                   ocr=scorers.text)
    data = json.loads(manifest.read_text())
    assert len(data["clips"][0]["sha256"]) == 64 and data["curation"]["text"]["unreadable"] == 1
    assert [w.get("unreadable", False) for w in data["clips"][0]["annotations"][0]["words"]] == [False, True]
    clip = tmp_path / "suite" / "exit.mp4"
    write_video(clip, iter(frames[::-1]), fps=10, options={"crf": "10", "preset": "veryfast"})  # the clip changed
    assert main(["run", "--suite", str(manifest), "-a", "identity", "--out", str(tmp_path / "runs"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"clips[0] (exit).sha256: {clip} has sha256" in err and "re-import the data to accept the new file" in err
    assert not (tmp_path / "runs").exists()
