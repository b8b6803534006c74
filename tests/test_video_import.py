"""Importers: TokBench video layout (fixture mimicking the published files) and user clips with annotations."""
import json

import numpy as np
import pytest

from tfbench.datasets.tokbench_video import import_tokbench_video
from tfbench.errors import ManifestError
from tfbench.registry import create_adapter
from tfbench.datasets.clip import import_clip
from tfbench.video.io import iter_frames, write_video
from tfbench.video.manifest import load_video_suite_file
from tfbench.pipeline import evaluate


def _clip(path, n, w=128, h=96):
    rng = np.random.default_rng(n)
    write_video(path, iter([(rng.random((h, w, 3)) * 255).astype(np.uint8) for _ in range(n)]), fps=25)


KPS = [[40, 40], [60, 40], [50, 50], [42, 60], [58, 60]]


def _tokbench(root, text_frame_a="clipA-frame6.jpg", face_anns=None):
    (root / "videos" / "sub").mkdir(parents=True)
    (root / "video_annotations").mkdir()
    _clip(root / "videos" / "sub" / "clipA.mp4", 6)
    _clip(root / "videos" / "clipB.mp4", 4)
    ch3 = [{"file_name": "clipA-frame1.jpg", "video_name": "clipA.mp4", "height": 96, "width": 128,
            "annotations": [{"rec": "Open", "bbox": [10, 10, 60, 30], "ratio": 0.0123}]},
           {"file_name": text_frame_a, "video_name": "clipA", "height": 96, "width": 128,
            "annotations": [{"rec": "Late", "bbox": [[10, 50], [70, 52], [69, 70], [9, 68]], "ratio": 0.02}]}]
    ds = [{"file_name": "clipB-frame2.png", "video_name": "clipB.mp4", "height": 96, "width": 128,
           "annotations": [{"rec": "Exit", "bbox": [5, 5, 50, 25], "ratio": 0.05}]}]
    face = [{"video_name": "clipB.mp4", "video_height": 96, "video_width": 128,
             "frame_anns": face_anns if face_anns is not None else [[{"kps": KPS, "ratio": 0.11}], [], [{"kps": KPS, "ratio": 0.12}], []]}]
    for name, data in (("text_ch3", ch3), ("text_ds", ds), ("videoface_meta", face)):
        (root / "video_annotations" / f"{name}.json").write_text(json.dumps(data))
    return root


def test_tokbench_video_layout_imports_and_runs(tmp_path, scorers):
    manifest, report = import_tokbench_video(_tokbench(tmp_path))
    assert manifest == tmp_path / "tokbench-video.json"
    suite = load_video_suite_file(manifest)
    clips = {c.id: c for c in suite.clips}
    assert set(clips) == {"text_ch3/clipA", "text_ds/clipB", "face/clipB"}
    a = clips["text_ch3/clipA"]
    assert a.file == "videos/sub/clipA.mp4" and a.frames == 6 and [x.frame for x in a.annotations] == [0, 5]
    assert a.annotations[0].record.words[0].ratio == 0.0123  # shipped ratio kept
    assert a.annotations[1].record.words[0].polygon is not None
    assert [x.frame for x in clips["text_ds/clipB"].annotations] == [1]
    f = clips["face/clipB"]
    assert [x.frame for x in f.annotations] == [0, 2] and f.annotations[1].record.faces[0].ratio == 0.12
    assert np.allclose(f.annotations[0].record.faces[0].landmarks, KPS)
    assert report.words == 3 and report.faces == 2 and set(report.per_subset) == {"text_ch3", "text_ds", "face"}
    r = evaluate(suite, create_adapter("identity"), "480", scorers, tmp_path / "out", score_all=True)
    assert r["counts"]["clips"] == 3 and r["failures"]["images"] == 0
    assert r["suite"]["resolution"] == "480" and r["buckets"]["text"] == [0.005, 0.01, 0.02, 1.0]


@pytest.mark.parametrize("frame_name, message", [
    ("clipA-frame7.jpg", r"text_ch3.json: \[1\].file_name: 'clipA-frame7.jpg' annotates frame 7 \(1-based\) but .*clipA.mp4 has only 6 frames"),
    ("clipA-frame0.jpg", r"frame numbers are 1-based, got 0"),
    ("clipA_7.jpg", r"does not end in -frame<N>"),
])
def test_tokbench_text_frame_errors(tmp_path, frame_name, message):
    with pytest.raises(ManifestError, match=message):
        import_tokbench_video(_tokbench(tmp_path, text_frame_a=frame_name))


def test_tokbench_face_annotation_past_the_last_frame(tmp_path):
    anns = [[], [], [], [], [], [{"kps": KPS, "ratio": 0.1}]]  # clipB has 4 frames
    with pytest.raises(ManifestError, match=r"videoface_meta.json: \[0\].frame_anns: faces are annotated up to frame 5 .*only 4 frames"):
        import_tokbench_video(_tokbench(tmp_path, face_anns=anns))


def test_tokbench_missing_video_and_folder(tmp_path):
    root = _tokbench(tmp_path)
    (root / "videos" / "clipB.mp4").unlink()
    with pytest.raises(ManifestError, match=r"text_ds.json: \[0\].video_name: video 'clipB.mp4' not found"):
        import_tokbench_video(root)
    with pytest.raises(ManifestError, match="video_annotations/ folder"):
        import_tokbench_video(tmp_path / "elsewhere")


def _rewrite(path, fn):
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("file, breakage, message", [
    ("videoface_meta", lambda d: d[0].update(video_height=100),
     r"videoface_meta.json: \[0\].width/height: annotations are for 128x100 but .*clipB.mp4 is 128x96"),
    ("text_ds", lambda d: d[0].update(width=64),
     r"text_ds.json: \[0\].width/height: annotations are for 64x96 but .*clipB.mp4 is 128x96"),
    ("videoface_meta", lambda d: d[0].update(video_width=0), r"videoface_meta.json: \[0\].video_width: expected a positive"),
    ("videoface_meta", lambda d: d.__setitem__(0, "clipB.mp4"), r"videoface_meta.json: \[0\]: expected an object"),
])
def test_tokbench_video_entry_errors(tmp_path, file, breakage, message):
    root = _tokbench(tmp_path)
    _rewrite(root / "video_annotations" / f"{file}.json", breakage)
    with pytest.raises(ManifestError, match=message):
        import_tokbench_video(root)


def test_tokbench_video_file_that_is_not_a_list(tmp_path):
    root = _tokbench(tmp_path)
    (root / "video_annotations" / "videoface_meta.json").write_text("{}")
    with pytest.raises(ManifestError, match=r"videoface_meta.json: expected a list of \{video_name, video_height, "
                                            r"video_width, frame_anns\}"):
        import_tokbench_video(root)


@pytest.fixture(scope="module")
def face_clip(tmp_path_factory):
    """A 4-frame clip of the astronaut photo's face (shipped by scikit-image) drifting right, and its true box."""
    from tfbench.images import load_rgb
    from tfbench.mini import package_file

    photo = load_rgb(package_file("skimage", "data/astronaut.png"))  # 512 x 512, face around (180..300, 40..200)
    root = tmp_path_factory.mktemp("face-clip")
    frames = [np.ascontiguousarray(photo[0:320, 60 + 4 * t:380 + 4 * t]) for t in range(4)]
    write_video(root / "astro.mp4", iter(frames), fps=25, options={"crf": "10", "preset": "veryfast"})
    return root / "astro.mp4"


def test_user_clip_faces_without_landmarks_get_them_at_import(face_clip, tmp_path, scorers):
    from tfbench.metrics.face import YuNetDetector

    det = YuNetDetector().detect(next(iter_frames(face_clip)))
    assert det, "YuNet must find the astronaut's face"
    x0, y0, x1, y1 = det[0]["box"]
    ann = {"annotations": [
        {"frame": 0, "faces": [{"box": [x0, y0, x1, y1]}, {"box": [2, 2, 40, 40]}]},  # the second box holds no face
        {"frame": 3, "faces": [{"box": [x0 - 12, y0, x1 - 12, y1]}], "words": []},
    ]}
    (tmp_path / "ann.json").write_text(json.dumps(ann))
    manifest, report = import_clip(face_clip, tmp_path / "suite", annotations=tmp_path / "ann.json")
    clip = load_video_suite_file(manifest).clips[0]
    assert report.landmarks_detected == 2 and report.faces_without_landmarks == 1 and report.dropped == {}
    assert [len(a.record.faces) for a in clip.annotations] == [1, 1]
    assert [len(a.record.excluded_faces) for a in clip.annotations] == [1, 0]  # kept, marked, not scored
    r = evaluate(load_video_suite_file(manifest), create_adapter("identity"), "256", scorers, tmp_path / "out",
                 score_all=True)
    assert sum(r["metrics"]["face"]["n"].values()) == 2 and r["counts"]["faces_without_landmarks"] == 1
    lm0, lm3 = (a.record.faces[0].landmarks for a in clip.annotations)
    assert np.allclose(lm0, det[0]["landmarks"], atol=0.01)
    assert -18 < float((lm3 - lm0)[:, 0].mean()) < -6  # the face moved 12 px left between frames 0 and 3


def test_user_annotation_for_a_missing_frame(face_clip, tmp_path):
    (tmp_path / "ann.json").write_text(json.dumps({"annotations": [{"frame": 4, "faces": []}]}))
    with pytest.raises(ManifestError, match=r"ann.json: annotations\[0\].frame: frame 4 does not exist: the clip has 4 frames"):
        import_clip(face_clip, tmp_path / "suite", annotations=tmp_path / "ann.json")


def test_cli_imports_tokbench_video_and_runs_it(tmp_path, capsys):
    from tfbench.cli import main

    root = _tokbench(tmp_path)
    assert main(["data", "import", "tokbench-video", str(root)]) == 0
    assert "wrote" in capsys.readouterr().out
    out = tmp_path / "runs"
    assert main(["run", "--suite", str(root / "tokbench-video.json"), "-a", "vp9:crf=40", "-r", "480", "--out", str(out),
                 "--score-all", "--no-progress", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)[0]
    assert r["suite"]["name"] == "tokbench-video" and r["suite"]["modality"] == "video" and r["counts"]["clips"] == 3
