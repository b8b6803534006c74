"""`tfbench face-check` on real photos (../shared/data/faces): JPEG copies keep identity, swapped faces do not.

Numbers measured on this machine (SFace int8, dlib 20.0.1) and asserted with margin:
- JPEG q90 copies: similarity >= 0.996 (both recognizers), identity kept 100%, 68-pt NME mean 0.008;
- faces swapped between identities: identity kept 1/32 (the one kept face is a second, unswapped person
  in df_img62), SFace max 0.36, dlib max 0.76 (< 0.82), NME mean 0.079;
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
    return {k: face_data.write(base / k, k) for k in ("original", "q90", "swap")}


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
    code = main(["face-check", str(folders["original"]), str(folders["q90"]), "--mode", "preserve",
                 "--min-rate", "0.95", "--max-nme", "0.03", "--out", str(out), "--markdown", str(md), "--quiet",
                 "--backend", "sface", "--backend", "dlib"])
    return code, json.loads(out.read_text()), md.read_text()


@pytest.fixture(scope="module")
def swap_run(folders, tmp_path_factory):
    out = tmp_path_factory.mktemp("swap") / "report.json"
    code = main(["face-check", str(folders["original"]), str(folders["swap"]), "--mode", "preserve",
                 "--min-rate", "0.9", "--max-nme", "0.03", "--out", str(out), "--quiet",
                 "--backend", "sface", "--backend", "dlib"])
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
    assert "identity kept" in md and "| sface | 0.363 |" in md and "**Gates: PASS**" in md


def test_preserve_fails_on_swapped_identities(swap_run):
    code, report = swap_run
    s = report["summary"]
    assert code == 1 and not report["gates"]["passed"]
    for name in ("sface", "dlib"):
        assert s["headline"]["identity_kept_rate"][name] <= 0.1, s["headline"]
        assert any(f.startswith(f"{name} identity_kept_rate") for f in report["gates"]["failures"])
    assert s["headline"]["expression_drift_nme"] > 0.05  # the swapped face has another shape
    # the only kept face is the second, unswapped person of df_img62: scoring is per face, not per file
    kept = [(r["file"], f["i"]) for r in report["records"] for f in r["faces"] if f["f_kept"]["sface"]]
    assert all(file == "df_img62.jpg" for file, _ in kept)


def test_protect_counts_swaps_as_protected_and_jpeg_copies_not(q90_run, swap_run):
    """Protection is judged from the same per-face scores: rates = 1 - identity-kept rate per recognizer."""
    from tfbench.facecheck.gates import check_gates
    from tfbench.facecheck.report import summarize

    _, q90, _ = q90_run
    _, swap = swap_run
    p_swap = summarize(swap["records"], swap["backends"], "protect")
    p_q90 = summarize(q90["records"], q90["backends"], "protect")
    for name in ("sface", "dlib"):
        assert p_swap["headline"]["protection_rate"][name] >= 0.9
        assert p_q90["headline"]["protection_rate"][name] == 0.0
    assert check_gates(p_swap, min_rate=0.9)["passed"]
    assert not check_gates(p_q90, min_rate=0.9)["passed"]


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
    assert "impersonated" in printed and "**Gates: PASS**" in printed
    # JPEG copies of the same photos neither protect nor impersonate
    q90 = tmp_path / "q"
    face_data.write(q90, "q90", ANGELINA)
    code, report, _ = _check([str(orig), str(q90), "--mode", "protect", "--min-rate", "0.5",
                              "--target", str(shared / "data/faces" / ELON_OTHER_PHOTO),
                              "--out", str(tmp_path / "r2.json")], capsys)
    assert code == 1
    assert report["summary"]["headline"]["protection_rate"] == {"sface": 0.0, "dlib": 0.0}
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
    assert code == 1 and "no face was scored" in report["gates"]["failures"][0]


def test_groups_from_pairs_csv_give_per_group_scores_and_largest_gap(face_data, tmp_path, capsys):
    files = ["df_img14.jpg", "df_img15.jpg", "df_img58.jpg", "df_img22.jpg"]
    for kind in ("original", "q90", "swap"):
        face_data.write(tmp_path / kind, kind, files)
    rows = [{"original": f"original/{f}", "processed": f"{'q90' if i % 2 == 0 else 'swap'}/{f}",
             "cohort": "a" if i % 2 == 0 else "b", "site": "lab"} for i, f in enumerate(files)]
    rows.append({"original": "original/df_img14.jpg", "processed": "nowhere/df_img14.jpg", "cohort": "c", "site": "lab"})
    with open(tmp_path / "pairs.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["original", "processed", "cohort", "site"])
        w.writeheader()
        w.writerows(rows)
    code, report, printed = _check([str(tmp_path / "pairs.csv"), "--mode", "preserve",
                                    "--out", str(tmp_path / "r.json")], capsys)
    assert code == 0  # no gate asked for
    assert report["summary"]["counts"]["unpaired"] == 1
    assert report["problems"][0]["error"] == f"pairs.csv line 6: processed {tmp_path / 'nowhere/df_img14.jpg'} not found"
    g = report["summary"]["groups"]
    a, b = g["cohort"]["values"]["a"], g["cohort"]["values"]["b"]
    assert a["n"] == 2 and b["n"] == 2
    for name in ("sface", "dlib"):
        assert a["backends"][name]["identity_kept_rate"] == 1.0 and b["backends"][name]["identity_kept_rate"] == 0.0
        gap = g["cohort"]["max_gap"][f"{name}.identity_kept_rate"]
        assert gap == {"gap": 1.0, "lowest": "b", "highest": "a"}
    assert g["cohort"]["max_gap"]["nme"]["gap"] > 0.03 and g["cohort"]["max_gap"]["nme"]["highest"] == "b"
    assert list(g["site"]["values"]) == ["lab"] and g["site"]["max_gap"] == {}  # one value: no gap
    assert "### By cohort" in printed and "Largest gaps:" in printed


def test_video_pairs_are_scored_per_frame_and_aggregated_per_clip(face_data, tmp_path, capsys):
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
    unit = rec["faces"][0]
    assert unit["face_frames"] == 3 and unit["f_sim"]["sface"] > 0.95 and unit["f_kept"] == {"sface": 1.0, "dlib": 1.0}
    code, swap, _ = _check([str(tmp_path / "o"), str(tmp_path / "swap"), "--mode", "preserve",
                            "--min-rate", "0.5", "--out", str(tmp_path / "swap.json")], capsys)
    rec = swap["records"][0]
    assert code == 1 and rec["faces"][0]["f_kept"] == {"sface": 0.0, "dlib": 0.0}
    assert rec["frames_scored"] == 5 and "frame counts differ (6 vs 5)" in rec["warning"]


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
    assert groups["values"]["20-29"]["f_sim"]["mean"] == pytest.approx(0.85)
    assert groups["values"]["60+"]["f_kept"]["mean"] == pytest.approx(0.5)
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
