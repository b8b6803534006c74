"""Property-based tests: every malformed manifest, adapter spec, shard spec, records journal, results
file or shard folder gives one clear TfbenchError (never a traceback from deep inside)."""
import copy
import os
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tfbench.cli import main
from tfbench.errors import ManifestError, ResultsError, TfbenchError
from tfbench.manifest import Suite, load_suite_file, parse_suite
from tfbench.merge import merge_paths
from tfbench.protocol import Adapter
from tfbench.records import read_records
from tfbench.run_identity import identify
from tfbench.registry import create_adapter
from tfbench.results import build_results, load_results
from tfbench.sharding import Shard, ShardError, parse_shard, shard_from_env

SETTINGS = settings(max_examples=int(os.environ.get("TFBENCH_HYPOTHESIS_EXAMPLES", 150)), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = (st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**400)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12))
json_values = st.recursive(scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                           max_leaves=12)

LANDMARKS = [[40, 50], [60, 50], [50, 60], [42, 70], [58, 70]]
MANIFEST = {
    "schema": "tfbench.suite/1", "name": "p", "version": "1", "modality": "image",
    "resolutions": ["256", "native"], "buckets": {"text": {"256": [0.02, 0.03, 0.04, 1.0]}},
    "images": [
        {"id": "t", "file": "t.png", "width": 200, "height": 100, "subset": "a",
         "words": [{"text": "Hello", "box": [10, 10, 90, 40]},
                   {"text": "poly", "polygon": [[10, 50], [90, 50], [90, 80], [10, 80]], "ratio": 0.05}]},
        {"id": "f", "file": "f.png", "width": 100, "height": 120,
         "faces": [{"box": [30, 30, 70, 90], "landmarks": LANDMARKS, "identity": "x", "groups": {"age": "30"}}]},
    ],
}


def _paths(obj, prefix=()):
    yield prefix
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for key, value in items:
        yield from _paths(value, prefix + (key,))


def _mutate(data, draw):
    """Replace the value at one random path by random JSON, or delete it."""
    data = copy.deepcopy(data)
    path = draw(st.sampled_from([p for p in _paths(data) if p]))
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if draw(st.booleans()):
        parent[path[-1]] = draw(json_values)
    elif isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent.pop(path[-1])
    return data


def test_the_base_manifest_is_valid(tmp_path):
    suite = parse_suite(MANIFEST, tmp_path)
    assert [len(i.words) + len(i.faces) for i in suite.images] == [2, 1]


@SETTINGS
@given(st.data())
def test_mutated_manifests_parse_or_fail_clearly(tmp_path, data):
    mutated = _mutate(MANIFEST, data.draw)
    try:
        suite = parse_suite(mutated, tmp_path, source="m.json")
    except ManifestError as exc:
        assert str(exc).startswith("m.json: ")
        return
    assert isinstance(suite, Suite)
    for kind in ("text", "face"):
        for res in suite.resolutions:
            try:
                edges = suite.edges(kind, res)
            except ManifestError:
                continue
            assert len(edges) == 4


@SETTINGS
@given(json_values)
def test_any_json_as_manifest_parses_or_fails_clearly(tmp_path, value):
    try:
        parse_suite(value, tmp_path)
    except ManifestError:
        pass


@SETTINGS
@given(st.binary(max_size=300) | st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")))
def test_manifest_files_with_any_bytes_fail_clearly(tmp_path, raw):
    path = tmp_path / "manifest.json"
    path.write_bytes(raw)
    with pytest.raises(ManifestError, match=str(path)):
        load_suite_file(path)


FAMILIES = ["identity", "jpeg", "webp", "avif", "python:tests.plugin_adapters:Posterize",
            "python:tests.plugin_adapters:not_an_adapter", "python:tests.plugin_adapters:Nope",
            "python:tfbench.no_such_module:X", "python:.relative:X", "python:a..b:X", "python:tests..x:Y",
            "python:tfbench.errors:TfbenchError", "jpg", "python:", "python:x", ""]
kwargs_text = st.lists(st.tuples(st.text("qualityspedbitsx_", max_size=8), st.sampled_from(["=", ""]),
                                 st.text("0123456789.-eEnaifTrueFlsNo ,:=", max_size=6)), max_size=3)


@SETTINGS
@given(st.sampled_from(FAMILIES), st.sampled_from([":", "", "::"]), kwargs_text)
def test_adapter_specs_build_or_fail_clearly(family, sep, kwargs):
    spec = family + sep + ",".join(k + eq + v for k, eq, v in kwargs)
    try:
        adapter = create_adapter(spec)
    except TfbenchError as exc:
        assert str(exc)
        return
    # the spec as written recreates it; its identity drops execution settings and an empty argument list
    assert isinstance(adapter, Adapter) and adapter.source_spec == spec.strip()
    assert adapter.spec == identify(spec)[0] and adapter.spec == identify(adapter.spec)[0]


@SETTINGS
@given(st.text(max_size=40))
def test_any_text_as_adapter_spec_builds_or_fails_clearly(spec):
    assume(not spec.strip().startswith("python:"))  # would import arbitrary modules; covered above
    try:
        create_adapter(spec)
    except TfbenchError:
        pass


@SETTINGS
@given(st.text(max_size=12), st.dictionaries(st.sampled_from(["RANK", "WORLD_SIZE", "SLURM_PROCID", "SLURM_NTASKS"]),
                                              st.text("0123456789 -x", max_size=4), max_size=4))
def test_shard_specs_and_environments_parse_or_fail_clearly(text, env):
    for call in (lambda: parse_shard(text), lambda: shard_from_env(env)):
        try:
            shard = call()
        except ShardError:
            continue
        assert shard is None or (isinstance(shard, Shard) and 0 <= shard.index < shard.count)


@SETTINGS
@given(st.lists(st.binary(max_size=60) | json_values.map(lambda v: json.dumps(v).encode()), max_size=6))
def test_any_journal_reads_or_fails_clearly(tmp_path, lines):
    path = tmp_path / "records.jsonl"
    path.write_bytes(b"\n".join(lines))
    try:
        records = read_records(path, repair=True)
    except ResultsError as exc:
        assert str(path) in str(exc)
        return
    assert all(isinstance(r, dict) and "image" in r for r in records)
    assert read_records(path) == records  # after repair the journal reads the same


def _record(image: str, value: float) -> dict:
    return {"image": image, "subset": "", "status": "ok", "compression": {"bits_per_pixel": 1.5},
            "words": [{"i": 0, "gt": "a", "ratio": 0.05, "t_acc": value, "t_ned": value, "psnr": 20.0, "ssim": 0.5}],
            "faces": [{"i": 0, "ratio": 0.5, "f_sim": value, "psnr": 30.0, "ssim": 0.9}]}


def _results(records: list[dict], config: dict) -> dict:
    return build_results(adapter={"spec": "jpeg:quality=30", "family": "jpeg", "kind": "codec"},
                         suite={"name": "p", "version": "1", "resolution": "256", "modality": "image"},
                         backends={"text": {"backend": "rapidocr"}, "face": {"backend": "sface"}}, records=records,
                         text_edges=(0.02, 0.03, 0.04, 1.0), face_edges=(0.1, 0.2, 0.3, 1.0),
                         budget={"wall_s": 1.0, "peak_rss_mb": 10.0, "device": "cpu", "stages": {"ocr": 0.5}},
                         config=config)


VALID = _results([_record("a", 1.0)], {"suite": "p"})


def test_the_base_results_file_shows(tmp_path, capsys):
    (tmp_path / "results.json").write_text(json.dumps(VALID))
    assert main(["show", str(tmp_path)]) == 0 and "jpeg:quality=30" in capsys.readouterr().out


@SETTINGS
@given(st.data())
def test_malformed_results_files_load_and_show_or_fail_clearly(tmp_path, capsys, data):
    value = _mutate(VALID, data.draw) if data.draw(st.booleans()) else data.draw(json_values)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(value))
    try:
        load_results(path)
    except ResultsError as exc:
        assert str(path) in str(exc)
    capsys.readouterr()
    code = main(["show", str(path)])
    err = capsys.readouterr().err
    assert code == 0 or (code == 2 and err.startswith("tfbench: error: ") and err.count("\n") == 1)


def _write_shards(root: Path) -> None:
    ids = [f"img{i}" for i in range(8)]
    for k in (0, 1):
        folder = root / "p" / "jpeg_quality=30@256" / f"shard-{k}-of-2"
        folder.mkdir(parents=True)
        config = {"suite": "p", "adapter": "jpeg:quality=30", "resolution": "256", "shard": f"{k}/2"}
        recs = [_record(i, n / 8) for n, i in enumerate(ids) if Shard(k, 2).contains(i)]
        (folder / "run.json").write_text(json.dumps(config))
        (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
        (folder / "results.json").write_text(json.dumps(_results(recs, config)))


def test_the_base_shards_merge(tmp_path):
    _write_shards(tmp_path)
    merged = merge_paths([tmp_path])[0]
    assert merged["metrics"] == _results([_record(f"img{i}", i / 8) for i in range(8)], {})["metrics"]


@SETTINGS
@given(st.data())
def test_malformed_shard_folders_merge_or_fail_clearly(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("shards")
    _write_shards(root)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    target = data.draw(st.sampled_from(files))
    if target.suffix == ".jsonl":
        lines = target.read_text().splitlines()
        i = data.draw(st.integers(0, len(lines) - 1))
        lines[i] = json.dumps(_mutate(json.loads(lines[i]), data.draw))
        target.write_text("\n".join(lines) + "\n")
    else:
        target.write_text(json.dumps(_mutate(json.loads(target.read_text()), data.draw)))
    try:
        merge_paths([root])
    except TfbenchError as exc:
        assert str(exc)
