"""Declared schemas: one error line per violation naming the file and JSON path (one test per file kind), the
published schemas/*.json equal what the models generate, and they validate the example files (README and
files written by real tfbench code paths)."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest

from tfbench.cli import main
from tfbench.errors import ManifestError, ResultsError, TfbenchError
from tfbench.schemas import KINDS, kind, validate
from tfbench.schemas.export import json_schema, stale

REPO = Path(__file__).resolve().parents[1]
PUBLISHED = REPO / "schemas"

LANDMARKS = [[50, 20], [70, 20], [60, 30], [52, 38], [68, 38]]
IMAGE = {"id": "a", "file": "a.png", "width": 100, "height": 50,
         "words": [{"text": "Hi", "box": [10, 10, 30, 20]}],
         "faces": [{"box": [40, 5, 80, 45], "landmarks": LANDMARKS}]}
SUITE = {"schema": "tfbench.suite/1", "name": "t", "version": "1", "images": [IMAGE]}
VIDEO = {"schema": "tfbench.video-suite/1", "name": "v", "version": "1",
         "clips": [{"id": "c", "file": "c.mp4", "width": 100, "height": 50, "frames": 5, "fps": 25,
                    "annotations": [{"frame": 0, "words": [{"text": "Hi", "box": [10, 10, 30, 20], "track": 1}],
                                     "faces": [{"box": [40, 5, 80, 45], "landmarks": LANDMARKS, "track": "f0"}]}]}]}
RECORD = {"image": "a", "subset": "", "status": "ok", "compression": {"bits_per_pixel": 1.5},
          "words": [{"i": 0, "gt": "Hi", "ratio": 0.1, "pred": "Hi", "t_acc": 1.0, "t_ned": 1.0, "psnr": 30.0, "ssim": 0.9}],
          "faces": [{"i": 0, "ratio": 0.4, "f_sim": 0.9, "f_kept": 1.0, "psnr": 31.0, "ssim": 0.8}]}


def _block(v):
    return {"small": v, "medium": v, "large": v, "mean": v, "instance_mean": v}


# made-up numbers: the shape of a results file, not a measurement
RESULTS = {"schema": "tfbench.results/1", "tfbench_version": "0.1.0", "adapter": {"spec": "jpeg:quality=30"},
           "suite": {"name": "mini", "version": "1", "resolution": "256", "modality": "image"},
           "buckets": {"text": [0.02, 0.03, 0.04, 1.0], "face": [0.1, 0.2, 0.3, 1.0]},
           "metrics": {"text": {"t_acc": _block(0.5), "n": {"small": 1, "medium": 1, "large": 1}, "n_counted": 3,
                                "uncounted": 0},
                       "face": {"f_sim": _block(0.7), "n": {"small": 1, "medium": 1, "large": 1}}}}
GOLDEN = {"schema": "tfbench.golden/1", "adapter": "jpeg:quality=30", "suite": "mini", "results": [RESULTS]}
FACECHECK = {"schema": "tfbench.facecheck/2", "mode": "preserve", "backends": {"sface": {"threshold": 0.363}},
             "summary": {}, "gates": {"passed": True}, "records": [{"status": "ok", "faces": []}]}
FOLDER = [{"file": "a.png", "words": [{"text": "Hi", "bbox": [10, 10, 30, 20]}], "faces": [{"bbox": [40, 5, 80, 45]}]}]
CLIP = {"annotations": [{"frame": 0, "words": [{"text": "Hi", "polygon": [10, 10, 30, 10, 30, 20]}]}]}

EXAMPLES = {"suite": SUITE, "video-suite": VIDEO, "record": RECORD, "results": RESULTS, "golden": GOLDEN,
            "submission": RESULTS, "facecheck": FACECHECK, "folder-annotations": FOLDER, "clip-annotations": CLIP}

# one violation per kind and the exact line it must give
VIOLATIONS = [
    ("suite", lambda d: d["images"][0]["words"][0].update(box=[1, 2, 3]),
     "x.json: images[0].words[0].box: expected a list of 4 numbers [x0, y0, x1, y1], got [1, 2, 3]"),
    ("video-suite", lambda d: d["clips"][0]["annotations"][0].update(frame=7),
     "x.json: clips[0].annotations[0].frame: frame 7 does not exist: clip 'c' has 5 frames (0..4); fix the index "
     "(0-based) or the clip's `frames`"),
    ("record", lambda d: d["words"][0].update(ratio="0.1"),
     "x.json: words[0].ratio: expected a number, got '0.1'"),
    ("results", lambda d: d["metrics"]["face"]["f_sim"].update(mean="high"),
     "x.json: metrics.face.f_sim.mean: expected a number, got 'high'"),
    ("golden", lambda d: d["results"][0]["suite"].update(resolution="../256"),
     "x.json: results[0].suite.resolution: expected a number of pixels or 'native', got '../256'"),
    ("submission", lambda d: d.pop("buckets"),
     "x.json: buckets: missing: the results carry no bucket edges; rerun them with this tfbench"),
    ("facecheck", lambda d: d["records"][0].update(status="fine"),
     "x.json: records[0].status: expected text matching ^(ok|no_face|unpaired|size_mismatch|unsupported|error)$, got 'fine'"),
    ("folder-annotations", lambda d: d[0]["faces"][0].update(bbox=[1, 2, "3", 4]),
     "x.json: [0].faces[0].bbox[2]: expected finite numbers, got '3'"),
    ("clip-annotations", lambda d: d["annotations"][0]["words"][0].update(polygon=[1, 2, 3, 4]),
     "x.json: annotations[0].words[0].polygon: expected a polygon of at least 3 [x, y] points, got [[1, 2], [3, 4]]"),
]


def test_every_kind_has_an_example_and_a_violation():
    assert {k.name for k in KINDS} == set(EXAMPLES) == {v[0] for v in VIOLATIONS}


@pytest.mark.parametrize("name,mutate,line", VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_a_violation_is_one_line_naming_the_file_and_json_path(name, mutate, line, tmp_path, capsys):
    data = copy.deepcopy(EXAMPLES[name])
    validate(kind(name).model, data, "x.json")
    mutate(data)
    with pytest.raises(TfbenchError) as e:
        validate(kind(name).model, data, "x.json")
    assert str(e.value) == line and "\n" not in str(e.value)
    path = tmp_path / "x.json"  # the same line from `tfbench schemas validate`, with the file's path
    path.write_text(json.dumps(data) if name != "record" else json.dumps(data) + "\n")
    assert main(["schemas", "validate", name, str(path)]) == 1
    shown = capsys.readouterr().out.strip()
    assert shown == line.replace("x.json", f"{path}:1" if name == "record" else str(path))


@pytest.mark.parametrize("tag,made_by,message", [
    ("tfbench.results/0", "0.0.9", r"x.json: schema: tfbench.results/0 \(written by tfbench 0.0.9\) is an older results "
                                   r"format; this tfbench reads 'tfbench.results/1': rescore the run from its records"),
    ("tfbench.results/2", "9.0.0", r"x.json: schema: tfbench.results/2 \(written by tfbench 9.0.0\) is newer than this "
                                   r"tfbench reads \('tfbench.results/1'\): upgrade tfbench"),
    ("other/1", None, r"x.json: schema: not a tfbench results file \(schema 'other/1', expected 'tfbench.results/1'\)"),
])
def test_results_of_another_version_are_refused_naming_the_version(tag, made_by, message):
    with pytest.raises(TfbenchError, match=message):
        validate(kind("results").model, {**RESULTS, "schema": tag, "tfbench_version": made_by}, "x.json")


def test_results_written_before_instance_means_existed_are_read():
    old = copy.deepcopy(RESULTS)
    for side in old["metrics"].values():
        for block in side.values():
            if isinstance(block, dict):
                block.pop("instance_mean", None)
        side.pop("n_counted", None)
    res = validate(kind("results").model, old, "old.json")
    assert res.metrics["text"].t_acc.mean == 0.5 and res.metrics["text"].t_acc.instance_mean is None


def test_published_schemas_equal_what_the_models_generate():
    assert stale(PUBLISHED) == [], "run `tfbench schemas export` and commit schemas/"
    assert main(["schemas", "check", "--dir", str(PUBLISHED)]) == 0


def test_a_drifted_schema_file_is_reported(tmp_path, capsys):
    assert main(["schemas", "export", "--out", str(tmp_path)]) == 0
    (tmp_path / "suite.v1.json").write_text("{}\n")
    assert main(["schemas", "check", "--dir", str(tmp_path)]) == 1
    assert "suite.v1.json: differs from the models" in capsys.readouterr().out


def test_published_schemas_are_versioned_like_the_files():
    for k in KINDS:
        schema = json.loads((PUBLISHED / k.filename).read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        if k.tag:
            assert schema["x-tfbench-schema"] == k.tag and k.tag.endswith(f"/{k.version}")
            if k.name != "submission":
                assert k.tag in json.dumps(schema["properties"]["schema"])


def _published(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads((PUBLISHED / kind(name).filename).read_text()))


def _assert_valid(name: str, data, where: str) -> None:
    errors = [f"{where}: {'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in _published(name).iter_errors(data)]
    assert not errors, errors[:5]
    validate(kind(name).model, data, where)  # and the model that reads it agrees


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_published_schemas_validate_the_test_examples(name):
    _assert_valid(name, EXAMPLES[name], f"example {name}")


def test_published_schemas_refuse_what_the_models_refuse_in_shape():
    assert list(_published("suite").iter_errors({**SUITE, "images": {}}))
    assert list(_published("results").iter_errors({**RESULTS, "schema": "tfbench.results/0"}))
    bad_box = copy.deepcopy(SUITE)
    bad_box["images"][0]["words"][0]["box"] = [1, 2, 3]
    assert list(_published("suite").iter_errors(bad_box))


def readme_examples() -> list[tuple[str, object]]:
    """```json blocks of the README preceded by a `<!-- schema: KIND -->` line."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return [(m.group(1), json.loads(m.group(2)))
            for m in re.finditer(r"<!-- schema: ([\w-]+) -->\s*```json\n(.*?)```", text, re.S)]


def test_published_schemas_validate_the_readme_examples():
    examples = readme_examples()
    assert len(examples) >= 3
    for name, data in examples:
        _assert_valid(name, data, f"README {name} example")


def test_published_schemas_validate_the_shared_annotations(shared):
    for folder in ("text", "faces"):
        _assert_valid("folder-annotations", json.loads((shared / "data" / folder / "manifest.json").read_text()),
                      f"shared/data/{folder}/manifest.json")


def test_published_schemas_validate_files_tfbench_writes(mini, scorers, tmp_path):
    """A real run (identity on two mini images), its records, a golden file of it and the mini manifest."""
    from tests.small_suites import mini_subset
    from tfbench.golden import make_golden
    from tfbench.pipeline import evaluate
    from tfbench.records import read_records
    from tfbench.registry import create_adapter

    _assert_valid("suite", json.loads((mini.root / "manifest.json").read_text()), "mini manifest")
    suite = mini_subset(mini, tmp_path / "suite", ("text_00", "face_00"), "two")
    results = evaluate(suite, create_adapter("identity"), "256", scorers, tmp_path / "out")
    written = json.loads(Path(results["_path"]).read_text())
    _assert_valid("results", written, "results.json")
    _assert_valid("submission", written, "results.json as a submission")
    records = read_records(Path(results["_path"]).parent / "records.jsonl")
    assert len(records) == 2
    for rec in records:
        _assert_valid("record", rec, "records.jsonl")
    _assert_valid("golden", make_golden("identity", "two", [written]), "golden")


def test_validation_errors_of_readers_are_tfbench_errors():
    assert issubclass(ManifestError, TfbenchError) and issubclass(ResultsError, TfbenchError)
    with pytest.raises(ManifestError, match=r"^m.json: top level: expected an object, got list$"):
        validate(kind("suite").model, [], "m.json", ManifestError)


def test_json_schema_of_a_kind_names_it():
    schema = json_schema(kind("results"))
    assert schema["$schema"].endswith("2020-12/schema") and schema["title"] == "tfbench results.json"


def test_published_schemas_validate_the_mini_video_manifest(_cache):
    from tfbench.suites import load_suite

    suite = load_suite("mini-video")  # built once per session (the video tests use it too)
    _assert_valid("video-suite", json.loads(Path(suite.source).read_text()), "mini-video manifest")


def test_the_readers_validate_through_the_models(tmp_path):
    """load_suite_file, load_results and read_golden refuse a violation with the model's one line (file, JSON
    path, expectation); an older results file is refused naming its version."""
    from tfbench.golden import read_golden
    from tfbench.manifest import load_suite_file
    from tfbench.results import load_results

    def write(name, data):
        (tmp_path / name).write_text(json.dumps(data))
        return tmp_path / name

    suite = copy.deepcopy(SUITE)
    suite["images"][0]["faces"][0]["landmarks"][2] = [60, float("inf")]
    path = write("suite.json", suite)
    with pytest.raises(ManifestError) as e:
        load_suite_file(path)
    assert str(e.value) == f"{path}: images[0].faces[0].landmarks[2][1]: expected finite numbers, got inf"
    path = write("results.json", {**RESULTS, "schema": "tfbench.results/0", "tfbench_version": "0.0.9"})
    with pytest.raises(ResultsError, match=rf"^{re.escape(str(path))}: schema: tfbench.results/0 \(written by tfbench "
                                           r"0.0.9\) is an older results format"):
        load_results(path)
    golden = copy.deepcopy(GOLDEN)
    golden["results"][0]["metrics"]["text"]["n"]["small"] = -1
    path = write("golden.json", golden)
    with pytest.raises(ResultsError) as e:
        read_golden(path)
    assert str(e.value) == f"{path}: results[0].metrics.text.n.small: expected a number >= 0, got -1"
    assert read_golden(write("golden-ok.json", GOLDEN))["results"][0]["_path"] == f"{tmp_path / 'golden-ok.json'}#0"


@pytest.mark.parametrize("mutate,line", [
    # the video reader's own checks (before it read through the model) let these two through
    (lambda clip: clip.update(annotations={}), "clips[0].annotations: expected a list of {frame, words, faces}"),
    (lambda clip: clip.update(sha256="z" * 64), "clips[0].sha256: expected 64 hex characters, got '" + "z" * 64 + "'"),
    (lambda clip: clip["annotations"][0]["words"][0].update(track=1.5),
     "clips[0].annotations[0].words[0].track: expected a string or integer, got 1.5"),
    (lambda clip: clip["annotations"][0].update(frame=7),
     "clips[0].annotations[0].frame: frame 7 does not exist: clip 'c' has 5 frames (0..4); fix the index (0-based) "
     "or the clip's `frames`"),
], ids=["annotations-object", "sha256-not-hex", "track-float", "frame-past-the-end"])
def test_the_video_reader_refuses_with_the_schemas_line(mutate, line, tmp_path, capsys):
    """A video manifest is read through VideoManifest: `tfbench run` refuses exactly what `tfbench schemas
    validate` refuses, with the same line."""
    from tfbench.video.manifest import load_video_suite_file

    data = copy.deepcopy(VIDEO)
    mutate(data["clips"][0])
    path = tmp_path / "video.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ManifestError) as e:
        load_video_suite_file(path)
    assert str(e.value) == f"{path}: {line}"
    assert main(["schemas", "validate", "video-suite", str(path)]) == 1
    assert capsys.readouterr().out.strip() == str(e.value)


@pytest.mark.parametrize("name", ["suite", "video-suite"])
def test_a_resolution_name_that_cannot_be_run_is_refused(name):
    """Resolutions are a number of pixels or 'native', in manifests as in results (one pattern)."""
    data = copy.deepcopy(EXAMPLES[name])
    validate(kind(name).model, {**data, "resolutions": ["256", 480, "native"]}, "x.json")
    with pytest.raises(TfbenchError) as e:
        validate(kind(name).model, {**data, "resolutions": ["256", "abc"]}, "x.json")
    assert str(e.value) == "x.json: resolutions[1]: expected a resolution name such as \"256\" or \"native\", got 'abc'"
