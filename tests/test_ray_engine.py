"""`--engine ray`: the same records and identical metrics as one process and as merged shards, resume,
and failures reported per image (real Ray Data in local mode, real models)."""
import json
import shutil
import sys
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'tfbench[ray]'")

from tfbench.cli import main  # noqa: E402
from tfbench.engines.ray_engine import RayOptions, evaluate_ray  # noqa: E402
from tfbench.errors import AdapterError  # noqa: E402
from tfbench.manifest import load_suite_file  # noqa: E402
from tfbench.merge import merge_paths  # noqa: E402
from tfbench.pipeline import evaluate, run_dir  # noqa: E402
from tfbench.records import read_records  # noqa: E402
from tfbench.registry import create_adapter  # noqa: E402
from tfbench.sharding import Shard  # noqa: E402

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
def small(mini, tmp_path_factory):
    """8 images of mini (4 text, 4 face) as a manifest suite, to keep Ray tests short."""
    data = json.loads((mini.root / "manifest.json").read_text())
    data["name"], data["images"] = "mini8", [im for im in data["images"] if im["id"] in KEEP]
    path = tmp_path_factory.mktemp("mini8") / "manifest.json"
    path.write_text(json.dumps(data))
    return load_suite_file(path, mini.root)


def test_ray_equals_one_process_and_merged_shards(ray_session, small, scorers, tmp_path):
    single = evaluate(small, create_adapter(SPEC), "256", scorers, tmp_path / "single")
    for k in (0, 1):
        evaluate(small, create_adapter(SPEC), "256", scorers, tmp_path / "shards", shard=Shard(k, 2))
    merged = merge_paths([tmp_path / "shards"])[0]
    assert main(["run", "--suite", str(small.source), "--data-root", str(small.root), "-a", SPEC, "--engine", "ray",
                 "--workers", "2", "--out", str(tmp_path / "ray"), "--json"]) == 0
    on_ray = json.loads((run_dir(tmp_path / "ray", "mini8", SPEC, "256") / "results.json").read_text())
    assert single["counts"]["images"] == 8 and single["metrics"]["face"]["n"]["small"] > 0
    assert on_ray["metrics"] == merged["metrics"] == single["metrics"]  # every digit
    assert on_ray["counts"] == single["counts"] and on_ray["failures"]["images"] == 0
    assert on_ray["adapter"]["bits_per_pixel"] == single["adapter"]["bits_per_pixel"]
    assert on_ray["backends"] == single["backends"] and on_ray["config"] == single["config"]
    assert on_ray["budget"]["engine"]["workers"] == 2 and on_ray["budget"]["stages"]["ocr"] > 0
    recs = {r["image"]: r for r in read_records(run_dir(tmp_path / "ray", "mini8", SPEC, "256") / "records.jsonl")}
    ref = {r["image"]: r for r in read_records(Path(single["_path"]).with_name("records.jsonl"))}
    assert recs == ref  # the same per-image records, whatever order they streamed in


def test_ray_resumes_and_retries_failures(ray_session, small, tmp_path):
    spec = "python:tests.fault_adapters:Flaky:fail_on=2,how=raise"
    opts = RayOptions(workers=1)
    first = evaluate_ray(small, create_adapter(spec), "256", tmp_path, opts, on_error="skip")
    assert first["failures"]["images"] == 1 and first["counts"]["images"] == 8
    assert "RuntimeError: flaky adapter failed on batch 2" in first["failures"]["examples"][0]["error"]
    journal = Path(first["_path"]).with_name("records.jsonl")
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[:5]) + "\n" + lines[5][:20])  # a kill: 3 records lost, one torn
    # the rerun redoes the lost images and the failed one (fail_on=9: this time nothing fails)
    again = evaluate_ray(small, create_adapter(spec.replace("fail_on=2", "fail_on=9")), "256", tmp_path / "x", opts)
    assert again["failures"]["images"] == 0
    shutil.rmtree(tmp_path / "x")
    cfg = tmp_path / "mini8"
    second = evaluate_ray(small, create_adapter(spec), "256", tmp_path, opts, on_error="skip")
    failed_before = first["failures"]["examples"][0]["image"]
    lost = {json.loads(x)["image"] for x in lines[5:]}
    assert second["budget"]["images_evaluated"] == len(lost | {failed_before}) >= 4
    assert cfg.is_dir()
    latest = {r["image"]: r for r in read_records(journal)}
    assert len(latest) == 8


def test_ray_stop_mode_stops_with_a_clear_error(ray_session, small, tmp_path):
    spec = "python:tests.fault_adapters:Flaky:fail_on=1,how=inf"
    with pytest.raises(AdapterError, match=r"contains 1 NaN/Inf values .*Records so far are kept"):
        evaluate_ray(small, create_adapter(spec), "256", tmp_path, RayOptions(workers=1))


def test_ray_missing_is_one_clear_line(small, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` does without the extra installed
    assert main(["run", "--suite", str(small.source), "--data-root", str(small.root), "-a", SPEC,
                 "--engine", "ray", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'tfbench[ray]'" in err[0] and err[0].startswith("tfbench: error:")
