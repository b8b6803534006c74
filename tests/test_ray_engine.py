"""`--engine ray`: the same records and identical metrics as one process and as merged shards, resume,
and failures reported per image (real Ray Data in local mode, real models)."""
import json
import sys
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'tfbench[ray]'")

from tfbench.cli import main  # noqa: E402
from tfbench.engine.ray import RayOptions, evaluate_ray  # noqa: E402
from tfbench.errors import AdapterError  # noqa: E402
from tfbench.merge import merge_paths  # noqa: E402
from tfbench.pipeline import evaluate, run_dir  # noqa: E402
from tfbench.records import read_records  # noqa: E402
from tfbench.registry import create_adapter  # noqa: E402
from tfbench.sharding import Shard  # noqa: E402

from tests.small_suites import mini_subset  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SPEC = "jpeg:quality=30"
KEEP = ("text_01", "text_02", "text_03", "text_04", "face_00", "face_01", "face_02", "face_03")


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray for the module (2 CPUs); workers can import tests.* adapters."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}})
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def small(mini_v1, tmp_path_factory):
    """8 images of mini v1 (4 text, 4 face) as a manifest suite, to keep Ray tests short."""
    return mini_subset(mini_v1, tmp_path_factory.mktemp("mini8"), KEEP, "mini8")


@pytest.fixture(scope="module")
def three_ways(ray_session, small, scorers, tmp_path_factory):
    """The same run in one process, as two merged shards, and on Ray (CLI, local, 2 workers per pool)."""
    tmp = tmp_path_factory.mktemp("three")
    single = evaluate(small, create_adapter(SPEC), "256", scorers, tmp / "single")
    for k in (0, 1):
        evaluate(small, create_adapter(SPEC), "256", scorers, tmp / "shards", shard=Shard(k, 2))
    merged = merge_paths([tmp / "shards"])[0]
    assert main(["run", "--suite", str(small.source), "--data-root", str(small.root), "-a", SPEC, "--engine", "ray",
                 "--workers", "2", "--out", str(tmp / "ray"), "--json"]) == 0
    on_ray = json.loads((run_dir(tmp / "ray", "mini8", SPEC, "256") / "results.json").read_text())
    return single, merged, on_ray, tmp / "ray"


def test_ray_equals_one_process_and_merged_shards(three_ways):
    single, merged, on_ray, ray_out = three_ways
    assert single["counts"]["images"] == 8 and single["metrics"]["face"]["n"]["small"] > 0
    assert on_ray["metrics"] == merged["metrics"] == single["metrics"]  # every digit
    assert on_ray["counts"] == single["counts"] and on_ray["failures"]["images"] == 0
    assert on_ray["adapter"]["bits_per_pixel"] == single["adapter"]["bits_per_pixel"]
    assert on_ray["backends"] == single["backends"] and on_ray["config"] == single["config"]
    assert on_ray["budget"]["engine"]["workers"] == 2 and on_ray["budget"]["stages"]["ocr"] > 0
    recs = {r["image"]: r for r in read_records(run_dir(ray_out, "mini8", SPEC, "256") / "records.jsonl")}
    ref = {r["image"]: r for r in read_records(Path(single["_path"]).with_name("records.jsonl"))}
    assert recs == ref  # the same per-image records, whatever order they streamed in
    from tfbench.rescore import rescore

    scored = rescore(run_dir(ray_out, "mini8", SPEC, "256"), "256")  # `tfbench score` of the Ray journal
    assert json.dumps(scored["metrics"], sort_keys=True) == json.dumps(on_ray["metrics"], sort_keys=True)


def test_ray_resumes_a_killed_run_without_duplicates(three_ways, small):
    _, _, first, ray_out = three_ways
    journal = run_dir(ray_out, "mini8", SPEC, "256") / "records.jsonl"
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[:5]) + "\n" + lines[5][:20])  # a kill: 2 records lost, one torn
    second = evaluate_ray(small, create_adapter(SPEC), "256", ray_out, RayOptions(workers=2))
    assert second["budget"]["images_evaluated"] == 3 and second["budget"]["images_resumed"] == 5
    assert second["metrics"] == first["metrics"]
    images = [r["image"] for r in read_records(journal)]
    assert len(images) == len(set(images)) == 8


def test_ray_skip_mode_counts_an_adapter_failure(ray_session, small, tmp_path):
    spec = "python:tests.fault_adapters:Flaky:fail_on=2,how=raise"
    r = evaluate_ray(small, create_adapter(spec), "256", tmp_path, RayOptions(workers=1), on_error="skip")
    assert r["failures"]["images"] == 1 and r["counts"]["images"] == 8
    assert "RuntimeError: flaky adapter failed on batch 2" in r["failures"]["examples"][0]["error"]
    errors = [x for x in read_records(Path(r["_path"]).with_name("records.jsonl")) if x["status"] == "error"]
    assert len(errors) == 1 and errors[0]["stage"] == "adapter"


def test_ray_stop_mode_stops_with_a_clear_error(ray_session, mini_v1, tmp_path):
    two = mini_subset(mini_v1, tmp_path / "suite", ("text_01", "face_01"), "mini2")
    spec = "python:tests.fault_adapters:Flaky:fail_on=1,how=inf"
    with pytest.raises(AdapterError, match=r"contains 1 NaN/Inf values .*Records so far are kept"):
        evaluate_ray(two, create_adapter(spec), "256", tmp_path, RayOptions(workers=1))


def test_ray_missing_is_one_clear_line(small, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` does without the extra installed
    assert main(["run", "--suite", str(small.source), "--data-root", str(small.root), "-a", SPEC,
                 "--engine", "ray", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'tfbench[ray]'" in err[0] and err[0].startswith("tfbench: error:")
