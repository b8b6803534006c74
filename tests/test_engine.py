"""The image-major engine: several adapters in one pass give exactly the records and metrics of one adapter at a
time, each image is decoded once per resolution, budgets and feedback (real pipeline, real models)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tfbench.engine.images as engine_images
from tfbench.cache import build_once
from tfbench.cli import main
from tfbench.engine import RunOptions, run_suite
from tfbench.pipeline import evaluate
from tfbench.records import read_records
from tfbench.registry import create_adapter

from tests.small_suites import mini_subset

REPO = Path(__file__).resolve().parents[1]
IDS = ("text_00", "text_01", "text_02", "face_00", "face_01", "face_02")
# one image per call (identity, jpeg, Slow), batches of 4 and of 3 (end at different images)
SPECS = ("identity", "jpeg:quality=30", "python:tests.fault_adapters:Slow:quality=50",
         "python:tests.engine_models:Batched:bits=2,batch=4", "python:tests.engine_models:Batched:bits=3,batch=3")


@pytest.fixture(scope="module")
def small(mini_v1, tmp_path_factory):
    return mini_subset(mini_v1, tmp_path_factory.mktemp("mini6"), IDS, "mini6")


@pytest.fixture(scope="module")
def both(small, scorers, tmp_path_factory):
    """All adapters in one image-major run (counting decodes), and each adapter alone."""
    decoded = []
    real = engine_images.load_rgb
    mp = pytest.MonkeyPatch()
    mp.setattr(engine_images, "load_rgb", lambda path: decoded.append(path) or real(path))
    adapters = [create_adapter(s) for s in SPECS]
    try:
        together = run_suite(small, adapters, ["256", "512"], scorers, tmp_path_factory.mktemp("together"))
    finally:
        mp.undo()
    alone_out = tmp_path_factory.mktemp("alone")
    alone = []
    for spec in SPECS:
        alone += [evaluate(small, create_adapter(spec), res, scorers, alone_out) for res in ("256", "512")]
    return together, alone, decoded


def test_one_pass_equals_one_adapter_at_a_time(both):
    together, alone, _ = both
    assert [r["adapter"]["spec"] for r in together] == [r["adapter"]["spec"] for r in alone]
    assert [r["suite"]["resolution"] for r in together] == ["256", "512"] * len(SPECS)
    for a, b in zip(together, alone):
        assert a["metrics"] == b["metrics"] and a["counts"] == b["counts"] and a["failures"] == b["failures"]
        assert a["adapter"] == b["adapter"]
        ra = read_records(Path(a["_path"]).with_name("records.jsonl"))
        rb = read_records(Path(b["_path"]).with_name("records.jsonl"))
        assert ra == rb  # the same lines in the same order: batches formed exactly as alone
    assert together[0]["counts"]["images"] == len(IDS) and together[0]["metrics"]["face"]["n"]["large"] > 0


def test_each_image_is_decoded_once_per_resolution(both, small):
    *_, decoded = both
    assert sorted(map(str, decoded)) == sorted(str(small.path_of(r)) for r in small.images for _ in range(2))


def test_budget_records_the_pass_and_the_execution(both):
    together, alone, _ = both
    b = together[1]["budget"]
    assert b["engine"] == {"name": "local", "order": "image-major"}
    assert b["pass"]["adapters"] == len(SPECS) and b["pass"]["model_s"] >= b["model_s"] > 0
    assert b["overhead"] == b["pass"]["overhead"] and b["wall_s"] == pytest.approx(b["pass"]["wall_s"], abs=0.05)
    assert "pass" not in alone[1]["budget"] and alone[1]["budget"]["overhead"] > 0
    assert {"ocr", "face", "fidelity", "reconstruct", "write"} <= set(b["stages"])


def test_a_resumed_multi_adapter_run_redoes_only_what_is_missing(small, scorers, tmp_path, both):
    together, *_ = both
    specs = SPECS[:2]
    first = run_suite(small, [create_adapter(s) for s in specs], ["256"], scorers, tmp_path)
    journal = Path(first[1]["_path"]).with_name("records.jsonl")
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[:2]) + "\n" + lines[2][:30])  # a kill: jpeg lost 4 records, one torn
    again = run_suite(small, [create_adapter(s) for s in specs], ["256"], scorers, tmp_path)
    assert again[0]["budget"]["images_evaluated"] == 0 and again[1]["budget"]["images_evaluated"] == 4
    assert [r["metrics"] for r in again] == [together[0]["metrics"], together[2]["metrics"]]


def test_progress_lines_go_to_a_redirected_stderr(small, tmp_path):
    log = tmp_path / "stderr.txt"
    env = {**os.environ, "PYTHONPATH": str(REPO), "TFBENCH_PROGRESS_INTERVAL": "0.5"}
    env.pop("CI", None)
    cmd = [str(Path(sys.executable).with_name("tfbench")), "run", "--suite", str(small.source), "--data-root",
           str(small.root), "-a", "python:tests.fault_adapters:Slow:quality=30,delay=0.6", "--out", str(tmp_path / "o")]
    with open(log, "w") as err:
        done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True, timeout=600)
    assert done.returncode == 0
    lines = [x for x in log.read_text().splitlines() if "adapter-images done" in x]
    assert len(lines) >= 2, log.read_text()
    assert lines[0].startswith("tfbench: mini6 @256: 1 adapter(s) x 6 image(s): ") and "/6 adapter-images" in lines[0]
    assert "ETA" in lines[-1] and "/s" in lines[-1]
    assert "Next: `tfbench show" in done.stdout and "tfbench leaderboard import" in done.stdout


# onnxruntime's telemetry client stays off when it sees one of these CI variables (names read from its binary;
# ``CI=true`` is set by most CI services, ours included): the home tests below drop them so that they test
# tfbench's switch, not the CI service's.
ORT_CI_VARIABLES = ("CI", "TF_BUILD", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "CIRCLECI", "TRAVIS",
                    "BUILDKITE", "TEAMCITY_VERSION", "CODEBUILD_BUILD_ID", "BITBUCKET_BUILD_NUMBER")


def _fresh_home_env(home: Path) -> dict[str, str]:
    """The test environment with a fresh HOME and nothing else that keeps onnxruntime's telemetry off."""
    home.mkdir()
    dropped = {"ORT_DISABLE_TELEMETRY", *ORT_CI_VARIABLES}
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_") and k not in dropped}
    env.update(HOME=str(home), PYTHONPATH=str(REPO), TFBENCH_CACHE=os.environ["TFBENCH_CACHE"])
    return env


def _written(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in home.rglob("*"))


def test_a_run_writes_nothing_into_the_users_home(small, tmp_path):
    """A whole run with OCR and faces (onnxruntime, OpenCV, torch) leaves a fresh home empty."""
    home = tmp_path / "home"
    env = _fresh_home_env(home)
    cmd = [str(Path(sys.executable).with_name("tfbench")), "run", "--suite", str(small.source), "--data-root",
           str(small.root), "-a", "jpeg:quality=30", "--out", str(tmp_path / "o"), "--no-progress"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert _written(home) == []


def test_onnxruntime_is_imported_with_its_telemetry_off(tmp_path):
    """onnxruntime's Linux wheel (1.32) writes a telemetry device id and event database under ~/.cache on import
    unless ORT_DISABLE_TELEMETRY is set; tfbench's import (tfbench/metrics/ort.py) sets it."""
    plain = _fresh_home_env(tmp_path / "plain")
    subprocess.run([sys.executable, "-c", "import onnxruntime"], env=plain, check=True, timeout=120)
    if not _written(tmp_path / "plain"):
        pytest.skip("the installed onnxruntime writes no telemetry files into a fresh home: nothing to keep out")
    assert (tmp_path / "plain" / ".cache" / "Microsoft").is_dir()
    ours = _fresh_home_env(tmp_path / "ours")
    code = "from tfbench.metrics.ort import load_onnxruntime; load_onnxruntime()"
    subprocess.run([sys.executable, "-c", code], env=ours, check=True, timeout=120)
    assert _written(tmp_path / "ours") == []


def test_building_a_suite_says_so(tmp_path, capsys):
    def build(folder):
        (folder / "manifest.json").write_text("{}")

    build_once(tmp_path / "suites" / "demo-v1", build)
    err = capsys.readouterr().err
    assert "building the suite demo-v1" in err and "built demo-v1 in" in err
    build_once(tmp_path / "suites" / "demo-v1", build)
    assert capsys.readouterr().err == ""  # built once


def test_deprecated_video_import_spelling_still_works(tmp_path, capsys):
    assert main(["video", "import-tokbench", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "`tfbench video import-tokbench` is deprecated" in err and "tfbench data import tokbench-video" in err
    assert main(["data", "import", "tokbench-video", str(tmp_path / "missing")]) == 2
    assert "is deprecated" not in capsys.readouterr().err


def test_run_options_reject_an_unknown_on_error(small, scorers, tmp_path):
    from tfbench.errors import TfbenchError

    with pytest.raises(TfbenchError, match="--on-error must be one of"):
        run_suite(small, [create_adapter("identity")], ["256"], scorers, tmp_path, RunOptions(on_error="ignore"))
    assert not list(tmp_path.rglob("records.jsonl"))


def test_the_curation_check_does_not_wait_for_the_ocr_model(scorers):
    from tfbench.pipeline import Scorers

    pending = Scorers.start()  # the models load in a thread; the curation check only needs the backend's identity
    assert pending.curation_scorer().describe() == scorers.text.describe() == pending.text.describe()
