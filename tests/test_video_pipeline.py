"""End-to-end video runs: mini-video through real codecs, the real clip as a user clip, resume, and errors."""
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tfbench.cli import main
from tfbench.errors import AdapterError, ManifestError
from tfbench.protocol import Adapter, AdapterInfo
from tfbench.records import read_records
from tfbench.registry import create_adapter
from tfbench.suites import load_suite
from tfbench.video.io import VideoLoadError, write_video
from tfbench.video.manifest import SCHEMA, load_video_suite_file
from tfbench.pipeline import evaluate


@pytest.fixture(scope="module")
def mini_video(_cache):
    return load_suite("mini-video")


def test_mini_video_fills_every_video_bucket(mini_video):
    from tfbench.buckets import bucket_of

    assert mini_video.modality == "video" and len(mini_video.clips) == 4
    for res in ("256", "480"):
        te, fe = mini_video.edges("text", res), mini_video.edges("face", res)
        words = [w for c in mini_video.clips for a in c.annotations for w in a.record.words]
        faces = [f for c in mini_video.clips for a in c.annotations for f in a.record.faces]
        assert {bucket_of(w.ratio, te) for w in words} >= {0, 1, 2}, res
        assert {bucket_of(f.ratio, fe) for f in faces} >= {0, 1, 2}, res
    assert mini_video.edges("text", "256") == (0.01, 0.02, 0.03, 1.0)
    assert mini_video.edges("face", "480") == (0.02, 0.05, 0.1, 1.0)


def test_mini_video_frames_are_deterministic():
    import json as _json

    from tfbench.mini_v1 import face_sources, mini_recipe_path
    from tfbench.video.mini import RECIPE, face_clip

    mini = _json.loads(mini_recipe_path().read_text())
    cfg = RECIPE["face_clips"][0]
    a = face_clip(cfg, np.random.default_rng(5), face_sources(mini), 1.6, 320, 180, 3, 0)
    b = face_clip(cfg, np.random.default_rng(5), face_sources(mini), 1.6, 320, 180, 3, 0)
    assert all(np.array_equal(x, y) for x, y in zip(a[0], b[0])) and a[1] == b[1]
    assert a[1][0][0]["landmarks"] != a[1][2][0]["landmarks"]  # the face moves/zooms between frames


@pytest.fixture(scope="module")
def cli_runs(mini_video, tmp_path_factory):
    out = tmp_path_factory.mktemp("video-cli")
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["run", "--suite", "mini-video", "-a", "h264:crf=23", "-a", "h264:crf=45", "-a", "identity",
                     "--out", str(out), "--json", "--no-progress"])
    assert code == 0
    return {r["adapter"]["spec"]: r for r in json.loads(buf.getvalue())}, out


def test_scores_fall_with_crf_on_mini_video(cli_runs):
    runs, _ = cli_runs
    lo, hi = runs["h264:crf=23"], runs["h264:crf=45"]
    for kind, metric in (("text", "t_acc"), ("text", "t_ned"), ("face", "f_sim")):
        assert lo["metrics"][kind][metric]["mean"] > hi["metrics"][kind][metric]["mean"] + 0.1, metric
        assert runs["identity"]["metrics"][kind][metric]["mean"] >= lo["metrics"][kind][metric]["mean"] - 0.02
    assert lo["metrics"]["text"]["t_acc"]["mean"] > 0.9 and hi["metrics"]["text"]["t_acc"]["mean"] < 0.5
    assert lo["adapter"]["bits_per_pixel"] > 3 * hi["adapter"]["bits_per_pixel"] > 0
    assert runs["identity"]["adapter"]["bits_per_pixel"] == 24.0


def test_video_results_schema_and_extras(cli_runs):
    runs, out = cli_runs
    r = runs["h264:crf=45"]
    assert r["schema"] == "tfbench.results/1"
    assert r["suite"] == {"name": "mini-video", "version": "1", "resolution": "256", "modality": "video",
                          "manifest_sha256": load_suite("mini-video").manifest_sha256}
    assert r["adapter"]["modality"] == "video" and r["counts"]["clips"] == 4 and r["counts"]["annotated_frames"] == 16
    assert all(r["metrics"]["text"]["n"][b] > 0 for b in ("small", "medium", "large"))
    v = r["video"]
    assert v["chunk_frames"] == 33 and set(v["clips"]) == {"text_slow", "text_fast", "faces_large", "faces_small"}
    assert v["clips"]["faces_small"]["n_faces"] > 0 and v["clips"]["text_slow"]["n_words"] > 0
    t = v["temporal"]
    assert t["face"]["tracks"] >= 6 and 0 < t["face"]["f_sim_std"] < 0.5
    assert t["flicker"]["pairs"] == 4 * 15  # every consecutive frame pair of the four 16-frame clips
    ident = runs["identity"]["video"]["temporal"]["flicker"]
    assert ident["excess_mean_abs_diff"] == 0.0 and ident["rec_over_orig"] == pytest.approx(1.0)
    assert t["flicker"]["excess_mean_abs_diff"] > 1.0  # a crf 45 stream flickers/smears where the original does not
    recs = read_records(out / "mini-video" / "h264_crf=45@256" / "records.jsonl")
    face = next(f for rec in recs for f in rec["faces"] if "f_sim" in f)
    assert {"frame", "track", "ratio", "f_sim", "psnr"} <= set(face)
    from tfbench.rescore import rescore

    scored = rescore(out / "mini-video" / "h264_crf=45@256", "256")  # one aggregation: `tfbench score` agrees
    assert json.dumps(scored["metrics"], sort_keys=True) == json.dumps(r["metrics"], sort_keys=True)
    clip = v["clips"]["text_slow"]
    assert clip["instance_mean"]["t_acc"] is not None and set(clip["instance_mean"]) == {"t_acc", "t_ned", "f_sim"}


def test_rerun_resumes_per_clip(mini_video, scorers, tmp_path):
    a = create_adapter("h264:crf=35")
    sel = lambda c: c.id in ("text_slow", "faces_small")  # noqa: E731
    first = evaluate(mini_video, a, "256", scorers, tmp_path, select=sel)
    journal = next(tmp_path.rglob("records.jsonl"))
    lines = journal.read_text().splitlines()
    journal.write_text(lines[0] + "\n" + lines[1][:50])  # a kill in the middle of the second record
    second = evaluate(mini_video, a, "256", scorers, tmp_path, select=sel)
    assert second["budget"]["clips_evaluated"] == 1 and second["budget"]["clips_resumed"] == 1
    assert second["metrics"] == first["metrics"]
    assert len(read_records(journal)) == 2


# ---------------------------------------------------------------- small synthetic clips for the error paths

def _tiny_clip(path, n=5):
    frames = []
    from tfbench.mini_v1 import load_font

    for t in range(n):
        img = Image.new("RGB", (192, 108), (235, 230, 220))
        ImageDraw.Draw(img).text((20 + t, 30), "Video", font=load_font("DejaVuSans-Bold.ttf", 36), fill=(20, 20, 30))
        frames.append(np.asarray(img))
    write_video(path, iter(frames), fps=25)


def _manifest(root, frames_declared=5, annotated=(0, 2, 4), file="clip.mp4"):
    data = {"schema": SCHEMA, "name": "tiny", "version": "1", "modality": "video",
            "clips": [{"id": "c", "file": file, "width": 192, "height": 108, "frames": frames_declared,
                       "annotations": [{"frame": f, "words": [{"text": "Video", "box": [14 + f, 24, 136 + f, 80],
                                                                "track": "w0"}]} for f in annotated]}]}
    (root / "manifest.json").write_text(json.dumps(data))
    return root / "manifest.json"


class DropLastFrame(Adapter):
    info = AdapterInfo(family="drop-last", kind="reference", modality="video", frame_rule="4n+1")

    def encode(self, batch):
        assert batch.shape[1] % 4 == 1, "the pipeline must pad to the frame rule"
        return batch

    def decode(self, latent):
        return latent[:, :-1]


class FourNPlusOne(DropLastFrame):
    info = AdapterInfo(family="4n+1", kind="reference", modality="video", frame_rule="4n+1")
    max_frames = 3  # chunks of 1 frame: with 5 frames, each is reconstructed alone

    def decode(self, latent):
        return latent * 0.5 + 0.25


def test_frame_rule_padding_in_the_pipeline(tmp_path, scorers):
    _tiny_clip(tmp_path / "clip.mp4")
    suite = load_video_suite_file(_manifest(tmp_path))
    a = FourNPlusOne()
    a.spec = "4n+1"
    r = evaluate(suite, a, "256", scorers, tmp_path / "out", max_frames=6)  # chunk of 5 frames, padded to 5
    assert r["video"]["chunk_frames"] == 5 and r["counts"]["annotated_frames"] == 3 and r["failures"]["images"] == 0


def test_adapter_frame_count_mismatch_is_one_clear_error(tmp_path, scorers):
    _tiny_clip(tmp_path / "clip.mp4")
    suite = load_video_suite_file(_manifest(tmp_path))
    a = DropLastFrame()
    a.spec = "drop-last"
    with pytest.raises(AdapterError, match=r"clip 'c': drop-last: decode\(\) returned 4 frames for a chunk of 5 frames"):
        evaluate(suite, a, "256", scorers, tmp_path / "out")
    r = evaluate(suite, a, "256", scorers, tmp_path / "out", on_error="skip")
    assert r["failures"]["images"] == 1 and "returned 4 frames" in r["failures"]["examples"][0]["error"]


def test_undecodable_clip_is_one_clear_error(tmp_path, scorers, capsys):
    (tmp_path / "clip.mp4").write_bytes(b"not a video at all" * 100)
    manifest = _manifest(tmp_path)
    with pytest.raises(VideoLoadError, match=r"clip 'c': cannot open video .*clip.mp4"):
        evaluate(load_video_suite_file(manifest), create_adapter("h264:crf=30"), "256", scorers, tmp_path / "o")
    assert main(["run", "--suite", str(manifest), "-a", "h264", "--out", str(tmp_path / "o2"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tfbench: error: clip 'c': cannot open video") and err.count("\n") == 1


def test_annotation_for_a_frame_that_does_not_exist(tmp_path, scorers):
    with pytest.raises(ManifestError, match=r"annotations\[1\]\.frame: frame 7 does not exist: clip 'c' has 5 frames"):
        load_video_suite_file(_manifest(tmp_path, annotated=(0, 7)))
    _tiny_clip(tmp_path / "clip.mp4", n=5)  # the manifest claims 9 frames, the file has 5
    suite = load_video_suite_file(_manifest(tmp_path, frames_declared=9, annotated=(0, 6)))
    with pytest.raises(VideoLoadError, match=r"has 5 frames but clip 'c' is annotated at frame 6"):
        evaluate(suite, create_adapter("h264:crf=30"), "256", scorers, tmp_path / "o")


def test_video_resolution_must_be_256_or_480(tmp_path, capsys):
    _tiny_clip(tmp_path / "clip.mp4")
    code = main(["run", "--suite", str(_manifest(tmp_path)), "-a", "h264", "-r", "512", "--out", str(tmp_path / "o")])
    assert code == 2 and "video suites run at 256 or 480" in capsys.readouterr().err


# ---------------------------------------------------------------- the real clip as a user clip

def test_real_clip_imports_with_detected_faces_and_runs(shared, scorers, tmp_path):
    from tfbench.datasets.clip import import_clip

    clip = shared / "data" / "video" / "facenet_pytorch_video.mp4"
    manifest, report = import_clip(clip, tmp_path / "suite", every=15)
    suite = load_video_suite_file(manifest)
    c = suite.clips[0]
    assert (c.width, c.height, c.frames) == (1920, 1080, 105)
    assert [a.frame for a in c.annotations] == [0, 15, 30, 45, 60, 75, 90]
    assert report.landmarks_detected == c.n_faces >= 35  # a crowd: several faces found in every sampled frame
    assert min(len(a.record.faces) for a in c.annotations) >= 4
    r = evaluate(suite, create_adapter("h264:crf=30"), "256", scorers, tmp_path / "out")
    f = r["metrics"]["face"]
    assert sum(f["n"].values()) > 0 and 0.2 < f["f_sim"]["instance_mean"] < 0.99  # small faces: some buckets empty
    assert r["video"]["temporal"]["flicker"]["pairs"] == 104 and r["video"]["temporal"]["face"]["tracks"] >= 1
    assert 0 < r["adapter"]["bits_per_pixel"] < 1
