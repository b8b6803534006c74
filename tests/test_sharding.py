"""Sharding: a stable image -> shard map, --shard and RANK/WORLD_SIZE/SLURM, and `tfbench merge`
giving exactly the results of one process (real pipeline, real models, 8 images of the mini suite)."""
import json
import subprocess
import sys

import pytest

from tfbench.cli import main
from tfbench.merge import MergeError, merge_paths
from tfbench.pipeline import evaluate, run_dir
from tfbench.records import read_records
from tfbench.registry import create_adapter
from tfbench.sharding import Shard, ShardError, parse_shard, resolve_shard, shard_from_env, shard_index

from tests.small_suites import mini_subset

SPEC = "jpeg:quality=30"
IDS = ("text_01", "text_02", "text_03", "text_04", "face_00", "face_01", "face_02", "face_03")


def test_shard_index_is_a_stable_sha256_not_pythons_salted_hash():
    # values fixed forever: changing them would silently reshuffle every user's shards
    assert [shard_index(i, 7) for i in ("face_01", "text_001", "é/ü")] == [1, 3, 6]
    code = "from tfbench.sharding import shard_index; print([shard_index(str(i), 5) for i in range(50)])"
    runs = {subprocess.run([sys.executable, "-c", code], env={"PYTHONHASHSEED": seed}, capture_output=True,
                           text=True, check=True).stdout for seed in ("1", "2")}
    assert len(runs) == 1


def test_shards_partition_ids_exactly_and_evenly():
    ids = [f"img_{i:05d}" for i in range(4000)]
    owners = [[k for k in range(4) if Shard(k, 4).contains(i)] for i in ids]
    assert all(len(o) == 1 for o in owners)
    sizes = [sum(o == [k] for o in owners) for k in range(4)]
    assert sum(sizes) == 4000 and min(sizes) > 900, sizes


@pytest.mark.parametrize("text,expected", [("0/2", Shard(0, 2)), (" 3 / 4 ", Shard(3, 4)), ("0/1", None)])
def test_parse_shard(text, expected):
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text,message", [("2/2", "numbered 0..N-1"), ("1/0", "numbered 0..N-1"),
                                          ("a/b", "expected K/N"), ("1", "expected K/N"), ("-1/2", "expected K/N")])
def test_bad_shard_specs_are_clear_errors(text, message):
    with pytest.raises(ShardError, match=message):
        parse_shard(text)


def test_environment_selects_the_shard():
    assert shard_from_env({"RANK": "1", "WORLD_SIZE": "3"}) == Shard(1, 3)
    assert shard_from_env({"SLURM_PROCID": "2", "SLURM_NTASKS": "4"}) == Shard(2, 4)
    assert shard_from_env({"RANK": "0", "WORLD_SIZE": "1", "SLURM_PROCID": "1", "SLURM_NTASKS": "2"}) is None
    assert shard_from_env({}) is None
    assert resolve_shard("0/1", {"RANK": "1", "WORLD_SIZE": "2"}) is None  # --shard wins over the environment
    with pytest.raises(ShardError, match="WORLD_SIZE"):
        shard_from_env({"RANK": "x", "WORLD_SIZE": "2"})
    with pytest.raises(ShardError, match="RANK=5 with WORLD_SIZE=2"):
        shard_from_env({"RANK": "5", "WORLD_SIZE": "2"})


@pytest.fixture(scope="module")
def small(mini_v1, tmp_path_factory):
    return mini_subset(mini_v1, tmp_path_factory.mktemp("mini8s"), IDS, "mini8")


@pytest.fixture(scope="module")
def runs(small, scorers, tmp_path_factory):
    """One process, and the same run as two shards (one by --shard, one by RANK/WORLD_SIZE) merged."""
    single = evaluate(small, create_adapter(SPEC), "256", scorers, tmp_path_factory.mktemp("single"))
    out = tmp_path_factory.mktemp("sharded")
    shard0 = evaluate(small, create_adapter(SPEC), "256", scorers, out, shard=Shard(0, 2))
    mp = pytest.MonkeyPatch()
    mp.setenv("RANK", "1")
    mp.setenv("WORLD_SIZE", "2")
    try:
        assert main(["run", "--suite", str(small.source), "--data-root", str(small.root), "-a", SPEC,
                     "--out", str(out), "--no-progress", "--json"]) == 0
    finally:
        mp.undo()
    assert main(["merge", str(out)]) == 0
    merged = json.loads((run_dir(out, "mini8", SPEC, "256") / "results.json").read_text())
    return {"single": single, "shard0": shard0, "merged": merged, "out": out}


def test_two_merged_shards_equal_one_process(runs):
    single, merged = runs["single"], runs["merged"]
    assert merged["metrics"] == single["metrics"]  # every digit
    assert merged["counts"] == single["counts"] and single["counts"]["images"] == 8
    assert merged["failures"] == single["failures"] and merged["failures"]["images"] == 0
    assert merged["adapter"]["bits_per_pixel"] == single["adapter"]["bits_per_pixel"]
    assert merged["budget"]["shards"] == 2 and merged["config"] == single["config"]
    assert 0 < runs["shard0"]["counts"]["images"] < 8


def test_shards_write_disjoint_journals_that_cover_the_suite(runs, small):
    base = run_dir(runs["out"], "mini8", SPEC, "256")
    ids = [{r["image"] for r in read_records(base / f"shard-{k}-of-2" / "records.jsonl")} for k in (0, 1)]
    assert not ids[0] & ids[1] and ids[0] | ids[1] == {r.id for r in small.images}
    assert all(Shard(k, 2).contains(i) for k in (0, 1) for i in ids[k])
    assert json.loads((base / "shard-1-of-2" / "run.json").read_text())["shard"] == "1/2"
    merged = read_records(base / "records.jsonl")
    single = {r["image"]: r for r in read_records(runs["single"]["_path"].replace("results.json", "records.jsonl"))}
    assert {r["image"]: r for r in merged} == single and len(merged) == 8


def test_merge_is_repeatable(runs):
    again = merge_paths([runs["out"]])
    assert len(again) == 1 and again[0]["metrics"] == runs["single"]["metrics"]


def test_merge_refuses_incomplete_or_mixed_shards(runs, tmp_path, capsys):
    import shutil

    base = run_dir(runs["out"], "mini8", SPEC, "256")
    only0 = tmp_path / "only0"
    shutil.copytree(base / "shard-0-of-2", only0 / "shard-0-of-2")
    with pytest.raises(MergeError, match=r"shard\(s\) 1/2 missing"):
        merge_paths([only0])
    unfinished = tmp_path / "unfinished"
    shutil.copytree(base, unfinished)
    (unfinished / "shard-1-of-2" / "results.json").unlink()
    with pytest.raises(MergeError, match="shard 1/2 .* has no results.json: it has not finished"):
        merge_paths([unfinished])
    # the folder already holds an unsharded run's journal: never overwritten
    clash = tmp_path / "clash"
    shutil.copytree(base, clash)
    (clash / "run.json").unlink()
    (clash / "records.jsonl").write_text('{"image": "x", "status": "ok", "words": [], "faces": []}\n')
    with pytest.raises(MergeError, match="already holds an unsharded run's records"):
        merge_paths([clash])
    assert (clash / "records.jsonl").read_text().count("\n") == 1
    assert main(["merge", str(tmp_path / "nothing-here")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tfbench: error: no such folder")
    assert main(["run", "-a", SPEC, "--shard", "2/2"]) == 2
    assert "shards are numbered 0..N-1" in capsys.readouterr().err
